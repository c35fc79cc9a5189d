package main

import (
	"slices"
	"strings"
)

// demoTools are the tools a --demo fixture offers: the ones the README's
// demo calls or that show something without a test to steer them.
func demoTools() []string {
	return []string{"echo", "add", "sleep", "crash", "progress"}
}

// keepDemoItems cuts the session's lists down to what a person trying
// plugboard should see: the demo tools, the greeting prompt and the
// fixture's own resources, whose URIs name the server. The conformance
// and fault items are left out, and with them the test:// resources that
// every copy of the fixture offers alike (plugboard would warn that two
// servers offer them). An item left out cannot be called either.
func (s *session) keepDemoItems() {
	s.tools = slices.DeleteFunc(s.tools, func(t tool) bool { return !slices.Contains(demoTools(), t.name) })
	s.prompts = slices.DeleteFunc(s.prompts, func(p prompt) bool { return p.definition.Name != "greeting" })
	s.resources = slices.DeleteFunc(s.resources, func(r staticResource) bool { return !strings.HasPrefix(r.definition.URI, "fixture://") })
	s.templates = slices.DeleteFunc(s.templates, func(t templateResource) bool {
		return !strings.HasPrefix(t.definition.URITemplate, "fixture://")
	})
}
