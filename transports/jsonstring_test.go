package transports

import (
	"encoding/json"
	"testing"
)

func TestAppendJSONStringWritesWhatJSONMarshalWrites(t *testing.T) {
	for _, s := range []string{"", "tools/call", "notifications/progress", "a b", `quo"te`, `back\slash`, "tab\t", "<html>&", "é", "\u2028", "\x00", "\xff"} {
		want, _ := json.Marshal(s)
		if got := AppendJSONString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("AppendJSONString(%q) = %s, want x%s", s, got, want)
		}
	}
}
