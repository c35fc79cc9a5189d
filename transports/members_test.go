package transports

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode"
)

func TestReadMembers(t *testing.T) {
	tests := []struct {
		name, obj string
		names     []string
		want      []string // raw values, "" for absent
		ambiguous string   // the ambiguous member's name, when refused
		notObject bool
	}{
		{name: "exact", obj: `{"name":"a","uri":"u"}`, names: []string{"name", "uri"}, want: []string{`"a"`, `"u"`}},
		{name: "absent", obj: `{"x":1}`, names: []string{"name"}, want: []string{""}},
		{name: "nested members are not members", obj: `{"arguments":{"name":"b","Name":"c"},"name":"a"}`, names: []string{"name"}, want: []string{`"a"`}},
		{name: "escaped name is the name", obj: `{"n\u0061me":"a"}`, names: []string{"name"}, want: []string{`"a"`}},
		{name: "white space", obj: " { \"name\" :\t[1, {\"}\":\"]\"}] } ", names: []string{"name"}, want: []string{`[1, {"}":"]"}]`}},
		{name: "other members may differ in case", obj: `{"name":"a","Title":"t","title":"u"}`, names: []string{"name"}, want: []string{`"a"`}},
		// the smuggle of issue 10: plugboard read "Name", the server "name"
		{name: "Name beside name", obj: `{"name":"secret_delete","Name":"allowed"}`, names: []string{"name"}, ambiguous: "name"},
		{name: "Name before name", obj: `{"Name":"allowed","name":"secret_delete"}`, names: []string{"name"}, ambiguous: "name"},
		{name: "Name alone", obj: `{"Name":"allowed"}`, names: []string{"name"}, ambiguous: "name"},
		{name: "NAME", obj: `{"name":"a","NAME":"b"}`, names: []string{"name"}, ambiguous: "name"},
		{name: "twice", obj: `{"name":"a","name":"b"}`, names: []string{"name"}, ambiguous: "name"},
		{name: "twice, once escaped", obj: `{"name":"a","\u006eame":"b"}`, names: []string{"name"}, ambiguous: "name"},
		{name: "escaped case-variant", obj: `{"name":"a","\u004eame":"b"}`, names: []string{"name"}, ambiguous: "name"},
		{name: "Kelvin sign is a k", obj: `{"token":"a","to\u212aen":"b"}`, names: []string{"token"}, ambiguous: "token"},
		{name: "long s is an s", obj: `{"progre\u017fsToken":"b"}`, names: []string{"progressToken"}, ambiguous: "progressToken"},
		{name: "dotted I is an i", obj: `{"\u0130d":1}`, names: []string{"id"}, ambiguous: "id"},
		{name: "URI", obj: `{"uri":"a","URI":"b"}`, names: []string{"uri"}, ambiguous: "uri"},
		{name: "requestId twice", obj: `{"requestId":1,"requestId":2}`, names: []string{"requestId", "reason"}, ambiguous: "requestId"},
		{name: "invalid UTF-8 in a key", obj: "{\"na\xffme\":1,\"name\":2}", names: []string{"name"}, want: []string{"2"}},
		{name: "array", obj: `[{"name":"a"}]`, names: []string{"name"}, notObject: true},
		{name: "string", obj: `"name"`, names: []string{"name"}, notObject: true},
		{name: "invalid", obj: `{"name":}`, names: []string{"name"}, notObject: true},
		{name: "trailing garbage", obj: `{"name":"a"}x`, names: []string{"name"}, notObject: true},
		{name: "empty", obj: ``, names: []string{"name"}, notObject: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := make([]json.RawMessage, len(tt.names))
			err := ReadMembers([]byte(tt.obj), tt.names, values)
			var amb *AmbiguousMemberError
			switch {
			case tt.notObject:
				if !errors.Is(err, ErrNotObject) {
					t.Fatalf("err = %v, want ErrNotObject", err)
				}
			case tt.ambiguous != "":
				if !errors.As(err, &amb) || amb.Name != tt.ambiguous {
					t.Fatalf("err = %v, want %q ambiguous", err, tt.ambiguous)
				}
			case err != nil:
				t.Fatalf("err = %v", err)
			default:
				for i, want := range tt.want {
					if string(values[i]) != want {
						t.Errorf("%s = %s, want %s", tt.names[i], values[i], want)
					}
				}
			}
		})
	}
}

// TestReadMembersValuesAreCapped: a value is a slice of the object that an
// append cannot write through.
func TestReadMembersValuesAreCapped(t *testing.T) {
	obj := []byte(`{"name":"a","uri":"b"}`)
	values := make([]json.RawMessage, 2)
	if err := ReadMembers(obj, []string{"name", "uri"}, values); err != nil {
		t.Fatal(err)
	}
	_ = append(values[0], 'x')
	if string(obj) != `{"name":"a","uri":"b"}` {
		t.Errorf("an append to a value changed the object: %s", obj)
	}
}

// referenceMembers reads obj's top-level members with encoding/json's
// decoder: each name's values, and whether another key is the same letters
// up to case (per rune: Unicode simple folding, lower- or upper-casing).
func referenceMembers(obj []byte, name string) (values []json.RawMessage, variant, ok bool) {
	if !json.Valid(obj) {
		return nil, false, false
	}
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false, false
		}
		key := tok.(string)
		var raw json.RawMessage
		if dec.Decode(&raw) != nil {
			return nil, false, false
		}
		switch {
		case key == name:
			values = append(values, raw)
		case sameLettersReference(key, name):
			variant = true
		}
	}
	return values, variant, true
}

func sameLettersReference(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	if len(ra) != len(rb) {
		return false
	}
	for i := range ra {
		x, y := ra[i], rb[i]
		if !strings.EqualFold(string(x), string(y)) && unicode.ToLower(x) != unicode.ToLower(y) && unicode.ToUpper(x) != unicode.ToUpper(y) {
			return false
		}
	}
	return true
}

// FuzzReadMembers checks the exact-key reader against encoding/json's
// decoder: it refuses what is not an object, refuses a name given twice
// or beside a case-variant, and otherwise returns exactly the one member
// of that name, byte for byte.
func FuzzReadMembers(f *testing.F) {
	for _, in := range envelopeCases {
		f.Add([]byte(in), "id")
	}
	f.Add([]byte(`{"name":"secret_delete","Name":"allowed"}`), "name")
	f.Add([]byte(`{"ref":{"type":"ref/prompt","name":"a"},"Ref":{}}`), "ref")
	f.Add([]byte(`{"_meta":{"progressToken":1},"name":"x"}`), "_meta")
	f.Add([]byte(`{"progre\u017fsToken":"b"}`), "progressToken")
	f.Add([]byte("{}\f"), "0") // a form feed is white space to Go, not to JSON
	f.Add([]byte("\v{}"), "0") // so is a vertical tab
	f.Fuzz(func(t *testing.T, obj []byte, name string) {
		var got [1]json.RawMessage
		err := ReadMembers(obj, []string{name}, got[:])
		want, variant, ok := referenceMembers(bytes.Trim(obj, " \t\r\n"), name) // JSON's white space
		var amb *AmbiguousMemberError
		switch {
		case !ok:
			if !errors.Is(err, ErrNotObject) {
				t.Fatalf("ReadMembers(%q) = %v on what is not an object", obj, err)
			}
		case len(want) > 1 || variant:
			if !errors.As(err, &amb) || amb.Name != name {
				t.Fatalf("ReadMembers(%q, %q) = %v, %q; want it refused as ambiguous", obj, name, err, got[0])
			}
		case err != nil:
			t.Fatalf("ReadMembers(%q, %q) = %v", obj, name, err)
		case len(want) == 0:
			if got[0] != nil {
				t.Fatalf("ReadMembers(%q, %q) = %q, want absent", obj, name, got[0])
			}
		case !bytes.Equal(got[0], want[0]):
			t.Fatalf("ReadMembers(%q, %q) = %q, want %q", obj, name, got[0], want[0])
		}
	})
}

// ExactMembers must read what encoding/json reads when it decodes the
// object into a map: the catalog relies on it to name items as before.
func TestExactMembersAgreeWithDecodingIntoAMap(t *testing.T) {
	names := []string{"name", "uri", "nextCursor", "é"}
	for _, obj := range []string{
		`{"name":"a","uri":"x"}`,
		` {"name":"a","name":"b"} `,
		`{"Name":"upper","name":"lower","NAME":3}`,
		`{"n\u0061me":"escaped","nextCursor":null}`,
		`{"\u00e9":{"deep":[1,{"name":"not top level"}]},"uri":"u"}`,
		`{"description":"no names here"}`,
		`{}`,
		`{"name":"a\"quoted\\"}`,
	} {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(obj), &m); err != nil {
			t.Fatalf("%s: %v", obj, err)
		}
		values := make([]json.RawMessage, len(names))
		if err := ExactMembers([]byte(obj), names, values); err != nil {
			t.Fatalf("%s: %v", obj, err)
		}
		for i, name := range names {
			if !bytes.Equal(values[i], m[name]) {
				t.Errorf("%s: %s is %s, encoding/json reads %s", obj, name, values[i], m[name])
			}
		}
	}
	for _, bad := range []string{`[1]`, `"s"`, `{"name":`, `{"name":"a"} x`, ``, `null`} {
		if err := ExactMembers([]byte(bad), names, make([]json.RawMessage, len(names))); !errors.Is(err, ErrNotObject) {
			t.Errorf("%q: %v, want ErrNotObject", bad, err)
		}
	}
}

func TestArrayElementsAgreeWithDecodingIntoRawMessages(t *testing.T) {
	for _, arr := range []string{
		`[]`,
		` [ ] `,
		`[1]`,
		`[{"name":"a","inputSchema":{"type":"object","properties":{"x":{"enum":["]","[",","]}}}}, {"name":"b"}]`,
		"[\n  \"a\\\"]\" ,\t null,true , false,-1.5e3,[[],[{}]] ]",
		`[{"name":"\u00e9\\"}]`,
	} {
		var want []json.RawMessage
		if err := json.Unmarshal([]byte(arr), &want); err != nil {
			t.Fatalf("%s: %v", arr, err)
		}
		in := []byte(arr)
		got, err := ArrayElements(in)
		if err != nil {
			t.Fatalf("%s: %v", arr, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d elements, encoding/json reads %d", arr, len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("%s: element %d is %s, encoding/json reads %s", arr, i, got[i], want[i])
			}
		}
		// The elements are a copy: the caller's buffer may be reused.
		for i := range in {
			in[i] = 'X'
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("%s: element %d changed with the input's bytes", arr, i)
			}
		}
	}
	for _, bad := range []string{`{}`, `"s"`, `[1,`, `[1] x`, `[1,]`, ``, `null`} {
		if _, err := ArrayElements([]byte(bad)); !errors.Is(err, ErrNotArray) {
			t.Errorf("%q: %v, want ErrNotArray", bad, err)
		}
	}
}

func TestValueOffsetFindsAMembersValueInItsObject(t *testing.T) {
	obj := []byte(` {"a":1, "name" : "fx__echo","b":{"name":"x"}}`)
	var v [2]json.RawMessage
	if err := ReadMembers(obj, []string{"name", "b"}, v[:]); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{`"fx__echo"`, `{"name":"x"}`} {
		off, ok := ValueOffset(obj, v[i])
		if !ok || string(obj[off:off+len(v[i])]) != want {
			t.Errorf("value %d: offset %d, %v; want the place of %s", i, off, ok, want)
		}
	}
	copied := bytes.Clone(v[0])
	if off, ok := ValueOffset(obj, copied); ok {
		t.Errorf("a copy of a value found at %d", off)
	}
	if _, ok := ValueOffset(obj[:10], v[0]); ok {
		t.Error("a value beyond the object's end found in it")
	}
	if _, ok := ValueOffset(obj[20:], v[0]); ok {
		t.Error("a value before the object's start found in it")
	}
	if _, ok := ValueOffset(obj, nil); ok {
		t.Error("no value found")
	}
}
