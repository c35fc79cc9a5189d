package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestAppendFields(t *testing.T) {
	tests := []struct {
		obj    string
		fields []field
		want   string
	}{
		{`{}`, []field{{"resultType", json.RawMessage(`"complete"`)}}, `{"resultType":"complete"}`},
		{` { } `, []field{{"a", json.RawMessage(`1`)}, {"b", json.RawMessage(`2`)}}, `{"a":1,"b":2}`},
		{`{"x":2.50}`, []field{{"a", json.RawMessage(`1`)}}, `{"x":2.50,"a":1}`},
		{`{"x":1}`, nil, `{"x":1}`},
	}
	for _, tt := range tests {
		if got := string(appendFields(json.RawMessage(tt.obj), tt.fields)); got != tt.want {
			t.Errorf("appendFields(%s) = %s, want %s", tt.obj, got, tt.want)
		}
	}
}

func TestDecodeHeaderValue(t *testing.T) {
	tests := []struct {
		in, want string
		fails    bool
	}{
		{"us-west1", "us-west1", false},
		{"=?base64?SGVsbG8sIOS4lueVjA==?=", "Hello, 世界", false},
		{"=?base64?SGVsbG8?=", "", true},                  // missing padding
		{"=?base64?SGVs!!!bG8=?=", "", true},              // outside the alphabet
		{"=?base64?SGVsbG8=", "=?base64?SGVsbG8=", false}, // no suffix: literal
		{"SGVsbG8=?=", "SGVsbG8=?=", false},               // no prefix: literal
	}
	for _, tt := range tests {
		got, err := decodeHeaderValue(tt.in)
		if (err != nil) != tt.fails || got != tt.want {
			t.Errorf("decodeHeaderValue(%q) = %q, %v; want %q, failing %v", tt.in, got, err, tt.want, tt.fails)
		}
	}
}

func TestParamHeaders(t *testing.T) {
	schema := `{"type":"object","properties":{` +
		`"region":{"type":"string","x-mcp-header":"Region"},` +
		`"opts":{"type":"object","properties":{"tenant":{"type":"string","x-mcp-header":"Tenant"}}},` +
		`"list":{"type":"array","items":{"type":"string","x-mcp-header":"Item"}},` +
		`"any":{"anyOf":[{"type":"string","x-mcp-header":"Any"}]}}}`
	var got []string
	for _, h := range paramHeaders(json.RawMessage(schema)) {
		got = append(got, h.name+"="+strings.Join(h.path, "."))
	}
	if want := []string{"Tenant=opts.tenant", "Region=region"}; !slices.Equal(got, want) {
		t.Errorf("paramHeaders = %v, want %v (only marks reached through properties)", got, want)
	}

	args := json.RawMessage(`{"region":"eu","opts":{"tenant":"t1"},"n":42,"flag":true,"none":null}`)
	for _, tt := range []struct {
		path    []string
		header  string
		present bool
		same    bool
	}{
		{[]string{"region"}, "eu", true, true},
		{[]string{"opts", "tenant"}, "t1", true, true},
		{[]string{"n"}, "42.0", true, true},
		{[]string{"flag"}, "true", true, true},
		{[]string{"flag"}, "True", true, false},
		{[]string{"none"}, "", false, false},
		{[]string{"opts", "missing"}, "", false, false},
	} {
		value, present := argumentAt(args, tt.path)
		if present != tt.present || (present && sameArgument(tt.header, value) != tt.same) {
			t.Errorf("argument %v with header %q: present %v, same %v", tt.path, tt.header, present, present && sameArgument(tt.header, value))
		}
	}
}

func TestSubscriptionFilter(t *testing.T) {
	f := subscriptionFilter{ToolsListChanged: true, ResourceSubscriptions: []string{"test://a"}}
	for _, tt := range []struct {
		c    change
		want bool
	}{
		{change{kind: changeTools}, true},
		{change{kind: changePrompts}, false},
		{change{kind: changeResources}, false},
		{change{kind: changeResourceUpdated, uri: "test://a"}, true},
		{change{kind: changeResourceUpdated, uri: "test://b"}, false},
	} {
		if got := f.accepts(tt.c); got != tt.want {
			t.Errorf("accepts(%+v) = %v, want %v", tt.c, got, tt.want)
		}
	}
}
