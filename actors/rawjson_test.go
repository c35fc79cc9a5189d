package actors

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestReplaceField(t *testing.T) {
	tests := []struct {
		name  string
		obj   string
		key   string
		value string
		want  string
	}{
		{"first", `{"name":"a","x":1}`, "name", `"B"`, `{"name":"B","x":1}`},
		{"last", `{"x":1,"name":"a"}`, "name", `"B"`, `{"x":1,"name":"B"}`},
		{"middle", `{"x":1,"name":"a","y":[1,2]}`, "name", `"B"`, `{"x":1,"name":"B","y":[1,2]}`},
		{"only field", `{"name":"a"}`, "name", `"longer__a"`, `{"name":"longer__a"}`},
		{"shorter value", `{"name":"a_very_long_name","z":null}`, "name", `"s"`, `{"name":"s","z":null}`},
		{
			"spaces around the colon",
			`{ "x" : 1 , "name" : "a" , "y" : 2 }`, "name", `"B"`,
			`{ "x" : 1 , "name" : "B" , "y" : 2 }`,
		},
		{
			"newlines and tabs around the colon",
			"{\n\t\"x\": 1,\n\t\"name\"\n\t:\r\n\t\"a\"\n\t,\n\t\"y\": 2\n}", "name", `"B"`,
			"{\n\t\"x\": 1,\n\t\"name\"\n\t:\r\n\t\"B\"\n\t,\n\t\"y\": 2\n}",
		},
		{"whitespace around the object", "  \n{\"name\":\"a\"}\n  ", "name", `"B"`, "  \n{\"name\":\"B\"}\n  "},
		{
			"nested name before the top-level one",
			`{"meta":{"name":"inner","list":[{"name":"deep"}]},"name":"outer"}`, "name", `"B"`,
			`{"meta":{"name":"inner","list":[{"name":"deep"}]},"name":"B"}`,
		},
		{
			"nested name after the top-level one",
			`{"name":"outer","inputSchema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}}`, "name", `"B"`,
			`{"name":"B","inputSchema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}}`,
		},
		{
			"a value that spells the key",
			`{"title":"name","tags":["name"],"name":"a"}`, "name", `"B"`,
			`{"title":"name","tags":["name"],"name":"B"}`,
		},
		{
			"escaped quotes and braces in strings",
			`{"description":"say \"name\": {\"name\":1}} \\\" }","name":"a\"b{}","after":"}"}`, "name", `"B"`,
			`{"description":"say \"name\": {\"name\":1}} \\\" }","name":"B","after":"}"}`,
		},
		{
			"numbers and unknown fields kept as spelled",
			`{"price":2.50,"big":1e400,"neg":-0.0,"name":"a","x-future":{"k":[true,false,null]}}`, "name", `"B"`,
			`{"price":2.50,"big":1e400,"neg":-0.0,"name":"B","x-future":{"k":[true,false,null]}}`,
		},
		{
			"unicode in keys and values",
			`{"описание":"naïve ☃ \u00e9 😀","name":"ü"}`, "name", `"p__ü"`,
			`{"описание":"naïve ☃ \u00e9 😀","name":"p__ü"}`,
		},
		{"escaped key", `{"na\u006de":"a"}`, "name", `"B"`, `{"na\u006de":"B"}`},
		{"non-string value replaced whole", `{"name":{"a":[1,{"b":2}]},"x":1}`, "name", `"B"`, `{"name":"B","x":1}`},
		{"other key", `{"name":"a","uri":"x://1"}`, "uri", `"x://2"`, `{"name":"a","uri":"x://2"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := replaceField(json.RawMessage(tt.obj), tt.key, []byte(tt.value))
			if err != nil {
				t.Fatalf("replaceField(%s, %q) failed: %v", tt.obj, tt.key, err)
			}
			if string(got) != tt.want {
				t.Errorf("replaceField(%s, %q, %s)\n got %s\nwant %s", tt.obj, tt.key, tt.value, got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("result is not valid JSON: %s", got)
			}
		})
	}
}

func TestReplaceFieldLeavesInputAlone(t *testing.T) {
	obj := json.RawMessage(`{"x":1,"name":"a","y":2}`)
	before := string(obj)
	if _, err := replaceField(obj, "name", []byte(`"a_much_longer_value"`)); err != nil {
		t.Fatal(err)
	}
	if string(obj) != before {
		t.Errorf("input changed from %s to %s", before, obj)
	}
}

func TestReplaceFieldMissing(t *testing.T) {
	tests := []struct {
		name string
		obj  string
	}{
		{"empty object", `{}`},
		{"other fields", `{"title":"x","n":1}`},
		{"only nested", `{"meta":{"name":"inner"},"list":[{"name":"deep"}]}`},
		{"only as a value", `{"title":"name"}`},
		{"different case", `{"Name":"x","NAME":"y"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := replaceField(json.RawMessage(tt.obj), "name", []byte(`"B"`))
			if !errors.Is(err, errNoField) {
				t.Errorf("replaceField(%s) = %s, %v; want errNoField", tt.obj, got, err)
			}
		})
	}
}

func TestReplaceFieldNotAnObject(t *testing.T) {
	tests := []struct {
		name string
		obj  string
	}{
		{"empty", ``},
		{"blank", "  \n"},
		{"array", `[{"name":"a"}]`},
		{"string", `"name"`},
		{"number", `42`},
		{"null", `null`},
		{"true", `true`},
		{"broken value", `{"name":}`},
		{"broken before the field", `{"x":tru,"name":"a"}`},
		{"missing colon", `{"x" 1,"name":"a"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := replaceField(json.RawMessage(tt.obj), "name", []byte(`"B"`))
			if err == nil {
				t.Fatalf("replaceField(%q) = %s, want an error", tt.obj, got)
			}
			if errors.Is(err, errNoField) {
				t.Errorf("replaceField(%q) = errNoField, want an error saying the input is not an object", tt.obj)
			}
		})
	}
}

func TestQuoteJSON(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", `""`},
		{"github__create_issue", `"github__create_issue"`},
		{`say "hi"`, `"say \"hi\""`},
		{`back\slash`, `"back\\slash"`},
		{"line\nbreak\ttab", `"line\nbreak\ttab"`},
		{"naïve ☃ 😀", `"naïve ☃ 😀"`},
		{"\x01", `"\u0001"`},
	}
	for _, tt := range tests {
		got := quoteJSON(tt.in)
		if string(got) != tt.want {
			t.Errorf("quoteJSON(%q) = %s, want %s", tt.in, got, tt.want)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil || back != tt.in {
			t.Errorf("quoteJSON(%q) = %s, which decodes to %q, %v", tt.in, got, back, err)
		}
	}
}

func TestWithoutModernMeta(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"name":"t","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"c"},"io.modelcontextprotocol/logLevel":"info","progressToken":7}}`,
			`{"name":"t","_meta":{"progressToken":7}}`},
		{`{"name":"t","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"arguments":{"a":1.50}}`, `{"name":"t","_meta":{},"arguments":{"a":1.50}}`},
		{`{"name":"t"}`, `{"name":"t"}`},
	} {
		if got := string(withoutModernMeta(json.RawMessage(tc.in))); got != tc.want {
			t.Errorf("withoutModernMeta(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
