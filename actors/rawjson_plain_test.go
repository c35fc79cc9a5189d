package actors

import (
	"encoding/json"
	"testing"
)

// The fast ways of quoteJSON and stringMember give what encoding/json
// gives, for plain strings and for every kind that needs escaping.
func TestPlainStringsMatchEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "echo", "fx__echo", "a b-c_d.e/f:g", `quote"d`, `back\slash`, "<tag>", "a&b",
		"tab\there", "newline\n", "\x7f", "é", "日本", "\u2028", "\xff"} {
		want, _ := json.Marshal(s)
		if got := quoteJSON(s); string(got) != string(want) {
			t.Errorf("quoteJSON(%q) = %s, want %s", s, got, want)
		}
		var decoded string
		if err := json.Unmarshal(want, &decoded); err != nil {
			t.Fatal(err)
		}
		got, rpcErr := stringMember("tools/call", "params.name", want)
		if rpcErr != nil || got != decoded {
			t.Errorf("stringMember(%s) = %q, %v; want %q", want, got, rpcErr, decoded)
		}
	}
	for _, raw := range []string{`"a\u0062c"`, `"a\"b"`, `"\/"`, `null`} {
		var want string
		_ = json.Unmarshal([]byte(raw), &want)
		if got, rpcErr := stringMember("tools/call", "params.name", json.RawMessage(raw)); rpcErr != nil || got != want {
			t.Errorf("stringMember(%s) = %q, %v; want %q", raw, got, rpcErr, want)
		}
	}
	if _, rpcErr := stringMember("tools/call", "params.name", json.RawMessage(`12`)); rpcErr == nil {
		t.Error("stringMember(12) accepted a number")
	}
}
