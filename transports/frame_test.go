package transports

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/plugboard/plugboard/messages"
)

func TestParseFrame(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   Frame
		kind   string // "request", "notification" or "response"
		rawArg string // the exact bytes Params (or Result/Error) must hold
	}{
		{
			name: "request with a number id",
			in:   `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}`,
			want: Frame{ID: json.RawMessage(`1`), Method: "tools/call", Params: json.RawMessage(`{"name":"x"}`)},
			kind: "request",
		},
		{
			name: "request with a string id",
			in:   `{"jsonrpc":"2.0","id":"abc-1","method":"tools/list"}`,
			want: Frame{ID: json.RawMessage(`"abc-1"`), Method: "tools/list"},
			kind: "request",
		},
		{
			name: "request with a negative, large id",
			in:   `{"jsonrpc":"2.0","id":-9007199254740993,"method":"ping"}`,
			want: Frame{ID: json.RawMessage(`-9007199254740993`), Method: "ping"},
			kind: "request",
		},
		{
			name: "request with an empty string id",
			in:   `{"jsonrpc":"2.0","id":"","method":"ping"}`,
			want: Frame{ID: json.RawMessage(`""`), Method: "ping"},
			kind: "request",
		},
		{
			name: "members in another order, with whitespace",
			in:   "\n  { \"params\" : [1, 2.50] ,\n \"method\":\"m\", \"id\" : 7 , \"jsonrpc\" : \"2.0\" }\r\n",
			want: Frame{ID: json.RawMessage(`7`), Method: "m", Params: json.RawMessage(`[1, 2.50]`)},
			kind: "request",
		},
		{
			name: "params kept byte for byte",
			in:   "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{ \"name\" : \"t\",\n\"arguments\":{\"price\":2.50,\"big\":1e400,\"s\":\"\\u00e9\\\"}\"},\"_meta\":{\"progressToken\":\"p\"}, \"x-new\":[] }}",
			want: Frame{ID: json.RawMessage(`2`), Method: "tools/call", Params: json.RawMessage("{ \"name\" : \"t\",\n\"arguments\":{\"price\":2.50,\"big\":1e400,\"s\":\"\\u00e9\\\"}\"},\"_meta\":{\"progressToken\":\"p\"}, \"x-new\":[] }")},
			kind: "request",
		},
		{
			name: "notification",
			in:   `{"jsonrpc":"2.0","method":"notifications/initialized"}`,
			want: Frame{Method: "notifications/initialized"},
			kind: "notification",
		},
		{
			name: "notification with params",
			in:   `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":0.50}}`,
			want: Frame{Method: "notifications/progress", Params: json.RawMessage(`{"progressToken":1,"progress":0.50}`)},
			kind: "notification",
		},
		{
			name: "response with a result",
			in:   `{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"2.50"}],"n":2.50}}`,
			want: Frame{ID: json.RawMessage(`3`), Result: json.RawMessage(`{"content":[{"type":"text","text":"2.50"}],"n":2.50}`)},
			kind: "response",
		},
		{
			name: "response with an empty result",
			in:   `{"jsonrpc":"2.0","id":"s","result":{}}`,
			want: Frame{ID: json.RawMessage(`"s"`), Result: json.RawMessage(`{}`)},
			kind: "response",
		},
		{
			name: "response with an error",
			in:   `{"jsonrpc":"2.0","id":4,"error":{"code":-32601,"message":"no","data":{"x":1}}}`,
			want: Frame{ID: json.RawMessage(`4`), Error: json.RawMessage(`{"code":-32601,"message":"no","data":{"x":1}}`)},
			kind: "response",
		},
		{
			name: "error response with a null id",
			in:   `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}`,
			want: Frame{ID: json.RawMessage(`null`), Error: json.RawMessage(`{"code":-32700,"message":"parse error"}`)},
			kind: "response",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFrame([]byte(tt.in))
			if err != nil {
				t.Fatalf("ParseFrame(%s) failed: %v", tt.in, err)
			}
			check := func(field string, got, want json.RawMessage) {
				t.Helper()
				if (got == nil) != (want == nil) || !bytes.Equal(got, want) {
					t.Errorf("%s = %q, want %q", field, got, want)
				}
			}
			check("ID", got.ID, tt.want.ID)
			check("Params", got.Params, tt.want.Params)
			check("Result", got.Result, tt.want.Result)
			check("Error", got.Error, tt.want.Error)
			if got.Method != tt.want.Method {
				t.Errorf("Method = %q, want %q", got.Method, tt.want.Method)
			}
			if got.IsRequest() != (tt.kind == "request") || got.IsNotification() != (tt.kind == "notification") {
				t.Errorf("IsRequest = %v, IsNotification = %v; want a %s", got.IsRequest(), got.IsNotification(), tt.kind)
			}
		})
	}
}

func TestParseFrameRejects(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		code   int
		wantID string // "" for a nil ID
	}{
		{"empty", ``, messages.CodeParseError, ""},
		{"blank", " \r\n", messages.CodeParseError, ""},
		{"truncated", `{"jsonrpc":"2.0","id":1,"method":"x"`, messages.CodeParseError, ""},
		{"not JSON", `hello`, messages.CodeParseError, ""},
		{"trailing garbage", `{"jsonrpc":"2.0","id":1,"method":"x"} x`, messages.CodeParseError, ""},
		{"single quotes", `{'jsonrpc':'2.0'}`, messages.CodeParseError, ""},
		{"invalid batch", `[{"jsonrpc":"2.0","id":1,"method":"x"},`, messages.CodeParseError, ""},

		{"number", `42`, messages.CodeInvalidRequest, ""},
		{"string", `"tools/list"`, messages.CodeInvalidRequest, ""},
		{"true", `true`, messages.CodeInvalidRequest, ""},
		{"null", `null`, messages.CodeInvalidRequest, ""},
		{"batch", `[{"jsonrpc":"2.0","id":1,"method":"x"}]`, messages.CodeInvalidRequest, ""},
		{"empty batch", ` [] `, messages.CodeInvalidRequest, ""},
		{"empty object", `{}`, messages.CodeInvalidRequest, ""},
		{"no jsonrpc", `{"id":1,"method":"x"}`, messages.CodeInvalidRequest, "1"},
		{"jsonrpc 1.0", `{"jsonrpc":"1.0","id":"a","method":"x"}`, messages.CodeInvalidRequest, `"a"`},
		{"jsonrpc 2.0 as a number", `{"jsonrpc":2.0,"id":7,"method":"x"}`, messages.CodeInvalidRequest, "7"},
		{"method not a string", `{"jsonrpc":"2.0","id":8,"method":5}`, messages.CodeInvalidRequest, "8"},
		{"empty method", `{"jsonrpc":"2.0","id":9,"method":""}`, messages.CodeInvalidRequest, "9"},
		{"empty method, notification", `{"jsonrpc":"2.0","method":""}`, messages.CodeInvalidRequest, ""},
		{"id is an object", `{"jsonrpc":"2.0","id":{"a":1},"method":"x"}`, messages.CodeInvalidRequest, ""},
		{"id is an array", `{"jsonrpc":"2.0","id":[1],"method":"x"}`, messages.CodeInvalidRequest, ""},
		{"id is a boolean", `{"jsonrpc":"2.0","id":true,"method":"x"}`, messages.CodeInvalidRequest, ""},
		// MCP: "Unlike base JSON-RPC, the ID MUST NOT be null." Treating it as
		// a notification would leave the client waiting for an answer.
		{"request with a null id", `{"jsonrpc":"2.0","id":null,"method":"tools/list"}`, messages.CodeInvalidRequest, ""},
		{"response without result or error", `{"jsonrpc":"2.0","id":10}`, messages.CodeInvalidRequest, "10"},
		{"response without an id", `{"jsonrpc":"2.0","result":{}}`, messages.CodeInvalidRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFrame([]byte(tt.in))
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("ParseFrame(%s) = %+v, %v; want a *FrameError", tt.in, got, err)
			}
			if fe.Code != tt.code {
				t.Errorf("code = %d, want %d (%s)", fe.Code, tt.code, fe.Message)
			}
			if string(fe.ID) != tt.wantID || (tt.wantID == "") != (fe.ID == nil) {
				t.Errorf("ID = %q, want %q", fe.ID, tt.wantID)
			}
			if fe.Message == "" || fe.Error() == "" {
				t.Errorf("FrameError has no message: %+v", fe)
			}
		})
	}
}

func TestParseFrameDoesNotAliasInput(t *testing.T) {
	in := []byte(`{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1}}`)
	f, err := ParseFrame(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = 'x'
	}
	if string(f.Params) != `{"a":1}` || string(f.ID) != `1` {
		t.Errorf("frame changed with its input buffer: ID %s, Params %s", f.ID, f.Params)
	}
}

func TestResultFrame(t *testing.T) {
	tests := []struct {
		name   string
		id     json.RawMessage
		result json.RawMessage
		want   string
	}{
		{"number id", json.RawMessage(`1`), json.RawMessage(`{}`), `{"jsonrpc":"2.0","id":1,"result":{}}`},
		{"string id", json.RawMessage(`"a\"b"`), json.RawMessage(`{"x":2.50}`), `{"jsonrpc":"2.0","id":"a\"b","result":{"x":2.50}}`},
		{"nil id", nil, json.RawMessage(`{}`), `{"jsonrpc":"2.0","id":null,"result":{}}`},
		{
			"result kept byte for byte", json.RawMessage(`42`),
			json.RawMessage("{ \"content\" : [ {\"type\":\"text\",\"text\":\"\\u00e9 ☃\"} ], \"_meta\":{\"z\":1,\"a\":2}, \"n\":1e400 }"),
			"{\"jsonrpc\":\"2.0\",\"id\":42,\"result\":{ \"content\" : [ {\"type\":\"text\",\"text\":\"\\u00e9 ☃\"} ], \"_meta\":{\"z\":1,\"a\":2}, \"n\":1e400 }}",
		},
		{
			// A frame is one line: a pretty-printed result is compacted, and
			// only its white space changes.
			"pretty-printed result made one line", json.RawMessage(`42`),
			json.RawMessage("{\n  \"n\": 2.50,\n  \"s\": \"a\\nb\"\n}"),
			`{"jsonrpc":"2.0","id":42,"result":{"n":2.50,"s":"a\nb"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ResultFrame(tt.id, tt.result)
			if string(got) != tt.want {
				t.Errorf("ResultFrame(%s, %s)\n got %s\nwant %s", tt.id, tt.result, got, tt.want)
			}
			if !json.Valid(got) {
				t.Fatalf("not valid JSON: %s", got)
			}
			f, err := ParseFrame(got)
			if err != nil {
				t.Fatalf("rendered frame does not parse: %v", err)
			}
			if !bytes.Equal(f.Result, oneLine(tt.result)) {
				t.Errorf("result round-trips as %s, want %s", f.Result, oneLine(tt.result))
			}
		})
	}
}

func TestErrorFrame(t *testing.T) {
	tests := []struct {
		name string
		id   json.RawMessage
		err  messages.RPCError
		want string
	}{
		{
			"nil id", nil, messages.RPCError{Code: messages.CodeParseError, Message: "parse error"},
			`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}`,
		},
		{
			"string id and quotes in the message", json.RawMessage(`"x"`),
			messages.RPCError{Code: messages.CodeServerUnavailable, Message: `server "fs" exited`},
			`{"jsonrpc":"2.0","id":"x","error":{"code":-32000,"message":"server \"fs\" exited"}}`,
		},
		{
			"data kept", json.RawMessage(`5`),
			messages.RPCError{Code: messages.CodeInvalidParams, Message: "bad", Data: json.RawMessage(`{"n":2.50}`)},
			`{"jsonrpc":"2.0","id":5,"error":{"code":-32602,"message":"bad","data":{"n":2.50}}}`,
		},
		{
			"invalid data left out", json.RawMessage(`6`),
			messages.RPCError{Code: messages.CodeInternalError, Message: "oops", Data: json.RawMessage(`{broken`)},
			`{"jsonrpc":"2.0","id":6,"error":{"code":-32603,"message":"oops"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.err
			got := ErrorFrame(tt.id, &e)
			if string(got) != tt.want {
				t.Errorf("ErrorFrame\n got %s\nwant %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Fatalf("not valid JSON: %s", got)
			}
			f, err := ParseFrame(got)
			if err != nil {
				t.Fatalf("rendered frame does not parse: %v", err)
			}
			if f.Error == nil || f.Result != nil {
				t.Errorf("parsed back as %+v", f)
			}
		})
	}
}

func TestNotificationFrame(t *testing.T) {
	tests := []struct {
		name   string
		method string
		params json.RawMessage
		want   string
	}{
		{"no params", "notifications/tools/list_changed", nil, `{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`},
		{
			"params kept byte for byte", "notifications/progress", json.RawMessage(`{ "progressToken" : "t", "progress": 0.50 }`),
			`{"jsonrpc":"2.0","method":"notifications/progress","params":{ "progressToken" : "t", "progress": 0.50 }}`,
		},
		{"method quoted", `odd"method`, nil, `{"jsonrpc":"2.0","method":"odd\"method"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NotificationFrame(tt.method, tt.params)
			if string(got) != tt.want {
				t.Errorf("NotificationFrame\n got %s\nwant %s", got, tt.want)
			}
			f, err := ParseFrame(got)
			if err != nil {
				t.Fatalf("rendered frame does not parse: %v", err)
			}
			if !f.IsNotification() || f.Method != tt.method || !bytes.Equal(f.Params, tt.params) {
				t.Errorf("parsed back as %+v", f)
			}
		})
	}
}
