package main

import (
	"errors"
	"strings"
	"testing"
)

func TestWalkObjectFindsTopLevelMembers(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{"empty", `{}`, map[string]string{}},
		{"spaced empty", " { \n} ", map[string]string{}},
		{"scalars", `{"a":1,"b":true,"c":null,"d":-2.5e3}`,
			map[string]string{"a": "1", "b": "true", "c": "null", "d": "-2.5e3"}},
		{"whitespace everywhere", "{ \"a\" :\t\"x\" ,\r\n \"b\" : [ 1 , 2 ] }",
			map[string]string{"a": `"x"`, "b": "[ 1 , 2 ]"}},
		{"nested values are spans", `{"id":7,"result":{"content":[{"text":"}]{["}],"id":99},"z":0}`,
			map[string]string{"id": "7", "result": `{"content":[{"text":"}]{["}],"id":99}`, "z": "0"}},
		{"escaped quotes", `{"s":"a\"b\\","t":"\\\""}`,
			map[string]string{"s": `"a\"b\\"`, "t": `"\\\""`}},
		{"escaped key kept raw", `{"a\"b":1}`, map[string]string{`a\"b`: "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]string{}
			err := walkObject([]byte(tt.in), func(key, value []byte) bool {
				got[string(key)] = string(value)
				return true
			})
			if err != nil {
				t.Fatalf("walkObject(%s): %v", tt.in, err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("walkObject(%s) = %v, want %v", tt.in, got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("walkObject(%s)[%q] = %q, want %q", tt.in, k, got[k], v)
				}
			}
		})
	}
}

func TestWalkObjectStopsWhenAsked(t *testing.T) {
	var keys []string
	err := walkObject([]byte(`{"a":1,"b":2,"c":3}`), func(key, _ []byte) bool {
		keys = append(keys, string(key))
		return string(key) != "b"
	})
	if err != nil || len(keys) != 2 {
		t.Fatalf("walked %v, %v; want [a b], nil", keys, err)
	}
}

func TestWalkObjectRejectsMalformed(t *testing.T) {
	for _, in := range []string{
		``, `[]`, `"x"`, `{`, `{"a"}`, `{"a":}`, `{"a":1`, `{"a":1,}`, `{"a":1 "b":2}`,
		`{"a":"unterminated}`, `{"a":{"b":1}`, `{"a":[1,2}`, `{a:1}`,
	} {
		err := walkObject([]byte(in), func(_, _ []byte) bool { return true })
		if !errors.Is(err, errMalformed) {
			t.Errorf("walkObject(%q) = %v, want errMalformed", in, err)
		}
	}
}

// A member's array is counted in the walk that skips it.
func TestWalkObjectCountsAnArrayMember(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{`[]`, 0},
		{` [ ] `, 0},
		{`[1]`, 1},
		{`[{"name":"a","x":[1,2,{"y":"]"}]},{"name":"b"}]`, 2},
		{`["a,b","c"]`, 2},
	}
	for _, tt := range tests {
		got := -1
		var seen []byte
		err := walkObjectCounting([]byte(`{"tools":`+tt.in+`,"after":1}`), "tools", &got, func(key, value []byte) bool {
			if string(key) == "tools" {
				seen = value
			}
			return true
		})
		if err != nil || got != tt.want || string(seen) != strings.TrimSpace(tt.in) {
			t.Errorf("tools %s: counted %d (value %s), %v; want %d", tt.in, got, seen, err, tt.want)
		}
	}
	for _, in := range []string{`[1,`, `[1 2]`, `[`} {
		n := 0
		if err := walkObjectCounting([]byte(`{"tools":`+in+`}`), "tools", &n, func(_, _ []byte) bool { return true }); !errors.Is(err, errMalformed) {
			t.Errorf("tools %q: %v, want errMalformed", in, err)
		}
	}
}
