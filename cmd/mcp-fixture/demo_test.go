package main

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestDemoOffersOnlyTheDemoItems: with --demo, the lists hold what the
// README's demo shows and nothing of the tests', and a left-out tool
// cannot be called either.
func TestDemoOffersOnlyTheDemoItems(t *testing.T) {
	f := startInitialized(t, fixtureBinary(t), "{}", "--name", "notes", "--demo")
	lists := []struct {
		method, field, key string
		want               []string
	}{
		{"tools/list", "tools", "name", demoTools()},
		{"prompts/list", "prompts", "name", []string{"greeting"}},
		{"resources/list", "resources", "uri", []string{"fixture://notes/static"}},
		{"resources/templates/list", "resourceTemplates", "uriTemplate", []string{"fixture://notes/items/{id}"}},
	}
	for _, l := range lists {
		var got []string
		for _, raw := range f.listAll(l.method, l.field) {
			var item map[string]any
			if err := json.Unmarshal(raw, &item); err != nil {
				t.Fatalf("%s item %s: %v", l.method, raw, err)
			}
			got = append(got, item[l.key].(string))
		}
		if !slices.Equal(got, l.want) {
			t.Errorf("%s = %v, want %v", l.method, got, l.want)
		}
	}
	if resp := f.call("tools/call", map[string]any{"name": "hang", "arguments": map[string]any{}}); resp.Error == nil {
		t.Errorf("calling a tool the demo leaves out: got %s, want an error", resp.Result)
	}
}
