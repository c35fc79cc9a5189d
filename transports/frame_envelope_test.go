package transports

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/messages"
)

// parseFrameByMap is ParseFrame as it was first written, decoding the whole
// frame into a map: the reference the envelope scan must agree with.
func parseFrameByMap(b []byte) (Frame, error) {
	b = bytes.TrimSpace(b)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		if !json.Valid(b) {
			return Frame{}, &FrameError{Code: messages.CodeParseError, Message: "parse error: invalid JSON"}
		}
		if len(b) > 0 && b[0] == '[' {
			return Frame{}, &FrameError{Code: messages.CodeInvalidRequest, Message: "invalid request: JSON-RPC batches are not supported"}
		}
		return Frame{}, &FrameError{Code: messages.CodeInvalidRequest, Message: "invalid request: a JSON-RPC message must be an object"}
	}
	if ambiguousEnvelope(b) {
		return Frame{}, errAmbiguousReference
	}
	id, hasID := m["id"]
	if hasID && !validID(id) {
		return Frame{}, &FrameError{Code: messages.CodeInvalidRequest, Message: "invalid request: id must be a number or a string of valid UTF-8"}
	}
	var version string
	if json.Unmarshal(m["jsonrpc"], &version) != nil || version != "2.0" {
		return Frame{}, &FrameError{Code: messages.CodeInvalidRequest, Message: `invalid request: "jsonrpc" must be "2.0"`, ID: id}
	}
	f := Frame{ID: id, Params: m["params"], Result: m["result"], Error: m["error"]}
	if rawMethod, ok := m["method"]; ok {
		if json.Unmarshal(rawMethod, &f.Method) != nil || f.Method == "" {
			return Frame{}, &FrameError{Code: messages.CodeInvalidRequest, Message: `invalid request: "method" must be a non-empty string`, ID: id}
		}
		if string(id) == "null" {
			return Frame{}, &FrameError{Code: messages.CodeInvalidRequest, Message: "invalid request: a request id must not be null"}
		}
		return f, nil
	}
	if !hasID || (f.Result == nil && f.Error == nil) {
		return Frame{}, &FrameError{Code: messages.CodeInvalidRequest, Message: "invalid request: neither a request, a notification nor a response", ID: id}
	}
	return f, nil
}

// errAmbiguousReference is the reference's verdict on a frame with an
// envelope member given twice or beside a case-variant of its name.
var errAmbiguousReference = errors.New("ambiguous envelope")

// ambiguousEnvelope reports, by a token walk of encoding/json's decoder and
// strings.EqualFold (independent of ReadMembers), whether the top-level
// object b names an envelope member twice, or under another case.
func ambiguousEnvelope(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // '{'
		return false
	}
	seen := map[string]int{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		key, _ := tok.(string)
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return false
		}
		for _, name := range []string{"id", "jsonrpc", "method", "params", "result", "error"} {
			if key == name {
				seen[name]++
			} else if strings.EqualFold(key, name) {
				seen[name] += 2
			}
		}
	}
	for _, n := range seen {
		if n > 1 {
			return true
		}
	}
	return false
}

// sameParse reports how ParseFrame and the map-decoding reference differ
// on in, or "" when they agree.
func sameParse(in []byte) string {
	got, gotErr := ParseFrame(in)
	want, wantErr := parseFrameByMap(in)
	var gfe, wfe *FrameError
	errors.As(gotErr, &gfe)
	errors.As(wantErr, &wfe)
	if errors.Is(wantErr, errAmbiguousReference) {
		// Refused as an invalid request, with the id only when it is a
		// single exact member.
		if gfe == nil || gfe.Code != messages.CodeInvalidRequest || !strings.Contains(gfe.Message, "member") {
			return "error " + errString(gotErr) + ", reference: refused as ambiguous"
		}
		if gfe.ID != nil && !bytes.Contains(in, gfe.ID) {
			return "error " + errString(gotErr) + " echoes an id the frame does not have"
		}
		return ""
	}
	switch {
	case (gotErr == nil) != (wantErr == nil):
		return "error " + errString(gotErr) + ", reference " + errString(wantErr)
	case gotErr != nil:
		if gfe == nil || wfe == nil || gfe.Code != wfe.Code || gfe.Message != wfe.Message || !sameRaw(gfe.ID, wfe.ID) {
			return "error " + errString(gotErr) + ", reference " + errString(wantErr)
		}
		return ""
	}
	if got.Method != want.Method || !sameRaw(got.ID, want.ID) || !sameRaw(got.Params, want.Params) ||
		!sameRaw(got.Result, want.Result) || !sameRaw(got.Error, want.Error) {
		return "frame " + frameString(got) + ", reference " + frameString(want)
	}
	return ""
}

func sameRaw(a, b json.RawMessage) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

func errString(err error) string {
	var fe *FrameError
	if errors.As(err, &fe) {
		return fe.Error() + " id " + string(fe.ID)
	}
	if err == nil {
		return "none"
	}
	return err.Error()
}

func frameString(f Frame) string {
	return "{id " + string(f.ID) + " method " + f.Method + " params " + string(f.Params) + " result " + string(f.Result) + " error " + string(f.Error) + "}"
}

// envelopeCases are frames whose envelope is easy to misread with a scan.
var envelopeCases = []string{
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}`,
	// member names with escapes are the names they spell
	`{"jsonrpc":"2.0","\u0069d":1,"method":"m"}`,
	`{"json\u0072pc":"2.0","id":1,"m\u0065thod":"m","para\u006ds":{"a":1}}`,
	`{"jsonrpc":"2\u002e0","id":1,"method":"tools\/call"}`,
	`{"jsonrpc":"2.0","id":"a\"b\\","method":"m\\\""}`,
	// other cases of the names are other members
	`{"JSONRPC":"2.0","id":1,"method":"m"}`,
	`{"jsonrpc":"2.0","Id":1,"method":"m"}`,
	`{"jsonrpc":"2.0","id":1,"Method":"m","result":{}}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","Params":{"a":1}}`,
	// a member given twice: refused
	`{"jsonrpc":"2.0","id":1,"id":2,"method":"m"}`,
	`{"jsonrpc":"1.0","jsonrpc":"2.0","id":1,"method":"m"}`,
	`{"jsonrpc":"2.0","id":1,"method":"a","method":""}`,
	// values that hold what looks like the envelope
	`{"params":{"id":{"}":"]"},"method":"x\"}","jsonrpc":"1.0"},"jsonrpc":"2.0","id":3,"method":"m"}`,
	`{"jsonrpc":"2.0","id":4,"result":["}",{"a":"\\"},[[]],{}],"x":"\"id\":5"}`,
	`{"jsonrpc":"2.0","id":5,"error":{"code":-1,"message":"a\\\\\"b"}}`,
	"{\"jsonrpc\" :\t\"2.0\" ,\n\"id\"\r: 6 , \"result\" : [ 1 , 2 ] }",
	`{"jsonrpc":"2.0","id":7,"result":null}`,
	`{"jsonrpc":"2.0","id":8,"method":"m","params":null}`,
	`{"jsonrpc":"2.0","id":-0.5e+10,"method":"m"}`,
	`{"jsonrpc":"2.0","id":1,"method":null}`,
	`{"jsonrpc":null,"id":1,"method":"m"}`,
	`{"jsonrpc":"2.0","id":false,"method":"m"}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","x":true,"y":false,"z":null}`,
	`{"jsonrpc":"2.0","id":1,"method":"\u00e9\ud83d\ude00"}`,
	`{"":1,"jsonrpc":"2.0","id":1,"method":"m"}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":"\u0000"}`,
	// not JSON, or not an object
	`{"jsonrpc":"2.0","id":1,"method":"m"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"m",}`,
	`{"jsonrpc":"2.0","id":01,"method":"m"}`,
	`{"jsonrpc":"2.0","id":1,"method":"m\x01"}`,
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}",
	`{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":}}`,
	` {} `, `[]`, `null`, `"x"`, `1`, `{`, `}`, ``,
}

func TestParseFrameAgreesWithDecodingIntoAMap(t *testing.T) {
	for _, in := range envelopeCases {
		if diff := sameParse([]byte(in)); diff != "" {
			t.Errorf("ParseFrame(%s): %s", in, diff)
		}
	}
}

func TestParseFrameNamesWithEscapes(t *testing.T) {
	f, err := ParseFrame([]byte(`{"json\u0072pc":"2\u002e0","\u0069d":"a","m\u0065thod":"tools\/call","params":{"\u006eame":"x"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.Method != "tools/call" || string(f.ID) != `"a"` || string(f.Params) != `{"\u006eame":"x"}` {
		t.Errorf("got %s", frameString(f))
	}
}

// TestParseFrameRefusesAmbiguousEnvelope: a member of the envelope given
// twice, or beside or instead of a case-variant of its name, is an invalid
// request, answered under the id only when the id is not what is
// ambiguous (issue 10, item 1).
func TestParseFrameRefusesAmbiguousEnvelope(t *testing.T) {
	tests := []struct {
		name, in string
		id       string // the id of the error; "" for null
	}{
		{"id twice", `{"jsonrpc":"2.0","id":1,"method":"a","id":2}`, ""},
		{"ID beside id", `{"jsonrpc":"2.0","id":1,"ID":2,"method":"a"}`, ""},
		{"ID alone", `{"jsonrpc":"2.0","ID":1,"method":"a"}`, ""},
		{"Method beside method", `{"jsonrpc":"2.0","id":3,"method":"ping","Method":"tools/call"}`, "3"},
		{"Method alone", `{"jsonrpc":"2.0","id":3,"Method":"ping"}`, "3"},
		{"method twice", `{"jsonrpc":"2.0","id":4,"method":"a","params":{},"method":"b"}`, "4"},
		{"params twice", `{"jsonrpc":"2.0","id":5,"method":"a","params":{"n":1},"params":{"n":2}}`, "5"},
		{"Params", `{"jsonrpc":"2.0","id":5,"method":"a","Params":{"n":2}}`, "5"},
		{"JSONRPC", `{"jsonrpc":"2.0","JSONRPC":"1.0","id":6,"method":"a"}`, "6"},
		{"invalid UTF-8 id beside Method", "{\"jsonrpc\":\"2.0\",\"id\":\"\xff\",\"Method\":\"a\"}", ""},
		{"escaped duplicate", `{"jsonrpc":"2.0","id":7,"method":"a","m\u0065thod":"b"}`, "7"},
		{"long s folds to s", `{"jsonrpc":"2.0","id":8,"method":"a","j\u017fonrpc":"2.0"}`, "8"},
		{"result twice", `{"jsonrpc":"2.0","id":9,"result":{},"result":{"x":1}}`, "9"},
		{"Error beside result", `{"jsonrpc":"2.0","id":9,"result":{},"Error":{"code":1,"message":"m"}}`, "9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFrame([]byte(tt.in))
			var fe *FrameError
			if !errors.As(err, &fe) || fe.Code != messages.CodeInvalidRequest {
				t.Fatalf("ParseFrame(%s) = %v, want an invalid request", tt.in, err)
			}
			if string(fe.ID) != tt.id {
				t.Errorf("error id = %q, want %q", fe.ID, tt.id)
			}
		})
	}
}

// TestParseFrameRefusesIDsNotEchoedAsSent: an id is echoed byte for byte,
// so only ids every client reads back as it sent them are taken; a string
// id with bytes that are not UTF-8 is refused under a null id (item 8).
func TestParseFrameRefusesIDsNotEchoedAsSent(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"number", `{"jsonrpc":"2.0","id":-1.5e3,"method":"a"}`, true},
		{"string", `{"jsonrpc":"2.0","id":"é\u00e9\ud83d\ude00","method":"a"}`, true},
		{"lone surrogate escape", `{"jsonrpc":"2.0","id":"\ud800","method":"a"}`, true},
		{"invalid UTF-8", "{\"jsonrpc\":\"2.0\",\"id\":\"a\xff\xfeb\",\"method\":\"a\"}", false},
		{"truncated UTF-8", "{\"jsonrpc\":\"2.0\",\"id\":\"\xe2\x82\",\"method\":\"a\"}", false},
		{"surrogate encoded in UTF-8", "{\"jsonrpc\":\"2.0\",\"id\":\"\xed\xa0\x80\",\"method\":\"a\"}", false},
		{"boolean", `{"jsonrpc":"2.0","id":true,"method":"a"}`, false},
		{"object", `{"jsonrpc":"2.0","id":{},"method":"a"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFrame([]byte(tt.in))
			if tt.ok {
				if err != nil {
					t.Fatalf("ParseFrame(%q): %v", tt.in, err)
				}
				if !bytes.Contains([]byte(tt.in), f.ID) {
					t.Errorf("id %q is not the frame's bytes", f.ID)
				}
				return
			}
			var fe *FrameError
			if !errors.As(err, &fe) || fe.Code != messages.CodeInvalidRequest || fe.ID != nil {
				t.Fatalf("ParseFrame(%q) = %v, want an invalid request with a null id", tt.in, err)
			}
		})
	}
}

func TestParseFrameValuesDoNotShareCapacity(t *testing.T) {
	f, err := ParseFrame([]byte(`{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1},"x":2}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = append(f.ID, 'x')
	_ = append(f.Params, 'y')
	if string(f.Params) != `{"a":1}` || string(f.ID) != "1" {
		t.Errorf("an append to one value changed another: ID %s, Params %s", f.ID, f.Params)
	}
}

func FuzzParseFrame(f *testing.F) {
	for _, in := range envelopeCases {
		f.Add([]byte(in))
	}
	f.Add(benchCall)
	f.Fuzz(func(t *testing.T, in []byte) {
		if diff := sameParse(in); diff != "" {
			t.Errorf("ParseFrame(%q): %s", in, diff)
		}
	})
}

// BenchmarkParseFrameByMap is the reference, for an A/B with
// BenchmarkParseFrame in the same run.
func BenchmarkParseFrameByMap(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseFrameByMap(benchCall); err != nil {
			b.Fatal(err)
		}
	}
}

func TestMemberBounds(t *testing.T) {
	tests := []struct {
		name, obj, member string
		want              string // the value; "" with err set
		err               error
	}{
		{"first", `{"name":"a","x":1}`, "name", `"a"`, nil},
		{"last", `{"x":1,"name":{"b":[1,"}"]}}`, "name", `{"b":[1,"}"]}`, nil},
		{"white space", " \n{ \"x\" : 1 , \"name\" :\t2.50 }\r\n", "name", `2.50`, nil},
		{"escaped name", `{"na\u006de":true}`, "name", `true`, nil},
		{"the last of two", `{"name":"a","name":"b"}`, "name", `"b"`, nil},
		{"nested names are not members", `{"meta":{"name":"inner"},"list":[{"name":"deep"}],"title":"name"}`, "name", "", ErrNoMember},
		{"other case", `{"Name":"a"}`, "name", "", ErrNoMember},
		// as encoding/json decodes it, an invalid byte in a name is U+FFFD
		{"invalid UTF-8 in a name", "{\"\x85\":1}", "\x85", "", ErrNoMember},
		{"invalid UTF-8 in a name, decoded", "{\"\x85\":1}", "\ufffd", "1", nil},
		{"empty object", `{}`, "name", "", ErrNoMember},
		{"array", `[{"name":"a"}]`, "name", "", ErrNotObject},
		{"invalid", `{"name":}`, "name", "", ErrNotObject},
		{"empty", ``, "name", "", ErrNotObject},
		{"trailing garbage", `{"name":"a"} x`, "name", "", ErrNotObject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, end, err := MemberBounds([]byte(tt.obj), tt.member)
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err == nil && tt.obj[start:end] != tt.want {
				t.Errorf("value = %s, want %s", tt.obj[start:end], tt.want)
			}
		})
	}
}

// FuzzMemberBounds checks MemberBounds against decoding into a map.
func FuzzMemberBounds(f *testing.F) {
	for _, in := range envelopeCases {
		f.Add([]byte(in), "id")
		f.Add([]byte(in), "params")
	}
	f.Fuzz(func(t *testing.T, obj []byte, name string) {
		start, end, err := MemberBounds(obj, name)
		var m map[string]json.RawMessage
		decodeErr := json.Unmarshal(obj, &m)
		want, present := m[name]
		switch {
		case decodeErr != nil || m == nil:
			if err == nil {
				t.Errorf("MemberBounds(%q, %q) found %q in what does not decode as an object", obj, name, obj[start:end])
			}
		case !present:
			if !errors.Is(err, ErrNoMember) {
				t.Errorf("MemberBounds(%q, %q) = %v, want ErrNoMember", obj, name, err)
			}
		case err != nil || !bytes.Equal(obj[start:end], want):
			t.Errorf("MemberBounds(%q, %q) = %q, %v; want %q", obj, name, obj[start:min(max(start, end), len(obj))], err, want)
		}
	})
}
