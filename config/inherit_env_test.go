package config

import "testing"

func TestLoadInheritEnv(t *testing.T) {
	clearOverrides(t)
	tests := []struct {
		name, file, content string
		want                map[string]bool // server -> InheritEnv
		top                 bool
	}{
		{"default is the default set", "c.yaml", "servers:\n  a: {command: x}\n", map[string]bool{"a": false}, false},
		{"per server", "c.yaml", "servers:\n  a: {command: x, inherit_env: true}\n  b: {command: x}\n", map[string]bool{"a": true, "b": false}, false},
		{"top level default", "c.yaml", "inherit_env: true\nservers:\n  a: {command: x}\n  b: {command: x, inherit_env: false}\n", map[string]bool{"a": true, "b": false}, true},
		{"json, desktop clients' shape", "c.json", `{"inherit_env": true, "mcpServers": {"a": {"command": "x"}, "b": {"command": "x", "inherit_env": false}}}`, map[string]bool{"a": true, "b": false}, true},
		{"toml", "c.toml", "inherit_env = false\n[servers.a]\ncommand = \"x\"\ninherit_env = true\n", map[string]bool{"a": true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustLoad(t, writeConfig(t, tt.file, tt.content))
			if cfg.InheritEnv != tt.top {
				t.Errorf("top-level InheritEnv = %t, want %t", cfg.InheritEnv, tt.top)
			}
			for _, s := range cfg.Servers {
				if s.InheritEnv != tt.want[s.Name] {
					t.Errorf("server %s: InheritEnv = %t, want %t", s.Name, s.InheritEnv, tt.want[s.Name])
				}
			}
			for _, w := range cfg.Warnings {
				t.Errorf("unexpected warning: %s", w)
			}
		})
	}
}

func TestLoadInheritEnvErrors(t *testing.T) {
	clearOverrides(t)
	tests := []struct{ name, content, key, problem string }{
		{"top level not a bool", "inherit_env: yes please\nservers:\n  a: {command: x}\n", "inherit_env", "expected true or false, got a string"},
		{"server not a bool", "servers:\n  a: {command: x, inherit_env: 1}\n", "servers.a.inherit_env", "expected true or false"},
		{"url server", "servers:\n  a: {url: 'http://h/mcp', inherit_env: true}\n", "servers.a.inherit_env", "a url server cannot have inherit_env"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkError(t, writeConfig(t, "c.yaml", tt.content), tt.key, tt.problem)
		})
	}
}
