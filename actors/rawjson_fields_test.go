package actors

import (
	"encoding/json"
	"testing"
)

func TestReplaceFieldReplacesTheLastOfADuplicate(t *testing.T) {
	// encoding/json, and so the router and the servers, read the last one.
	got, err := replaceField(json.RawMessage(`{"name":"a","x":1,"name":"b"}`), "name", []byte(`"B"`))
	if err != nil || string(got) != `{"name":"a","x":1,"name":"B"}` {
		t.Errorf("replaceField = %s, %v", got, err)
	}
}

func TestField(t *testing.T) {
	tests := []struct {
		name, obj, key, want string
	}{
		{"present", `{"_meta":{"progressToken":"p"},"name":"x"}`, "_meta", `{"progressToken":"p"}`},
		{"kept byte for byte", `{"n": 2.50 ,"m":1}`, "n", `2.50`},
		{"escaped key", `{"re\u0071uestId":7}`, "requestId", `7`},
		{"null", `{"a":null}`, "a", `null`},
		{"the last of a duplicate", `{"a":1,"a":2}`, "a", `2`},
		{"absent", `{"b":1}`, "a", ``},
		{"nested only", `{"b":{"a":1}}`, "a", ``},
		{"not an object", `[{"a":1}]`, "a", ``},
		{"invalid", `{"a":1`, "a", ``},
		{"nil", ``, "a", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := field(json.RawMessage(tt.obj), tt.key)
			if string(got) != tt.want || (tt.want == "") != (got == nil) {
				t.Errorf("field(%s, %s) = %q, want %q", tt.obj, tt.key, got, tt.want)
			}
		})
	}
}

func TestFieldDoesNotLetAppendsReachTheObject(t *testing.T) {
	obj := json.RawMessage(`{"a":1,"b":2}`)
	_ = append(field(obj, "a"), 'x')
	if string(obj) != `{"a":1,"b":2}` {
		t.Errorf("the object changed: %s", obj)
	}
}
