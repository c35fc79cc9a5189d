package config

import "testing"

func TestSuggestKey(t *testing.T) {
	tests := []struct {
		unknown string
		known   []string
		want    string
	}{
		{"comand", serverKeys(), "command"},
		{"commmand", serverKeys(), "command"},
		{"ulr", serverKeys(), "url"},
		{"uri", serverKeys(), "url"},
		{"evn", serverKeys(), "env"},
		{"Command", serverKeys(), "command"},
		{"inheritEnv", serverKeys(), "inherit_env"},
		{"max-queued", serverKeys(), "max_queued"},
		{"exlude", []string{"include", "exclude"}, "exclude"},
		{"includes", []string{"include", "exclude"}, "include"},
		{"mcp_servers", topLevelKeys(), "mcpServers"},
		{"server", topLevelKeys(), "servers"},
		{"startup_timout", topLevelKeys(), "startup_timeout"},

		// Too far from anything to be a typo: no suggestion.
		{"foo", serverKeys(), ""},
		{"cmnd", serverKeys(), ""},
		{"arguments", serverKeys(), ""},
		{"globalShortcut", topLevelKeys(), ""},
		{"preferences", topLevelKeys(), ""},
		{"only", []string{"include", "exclude"}, ""},
		{"", serverKeys(), ""},
	}
	for _, tt := range tests {
		if got := suggestKey(tt.unknown, tt.known); got != tt.want {
			t.Errorf("suggestKey(%q) = %q, want %q", tt.unknown, got, tt.want)
		}
	}
}
