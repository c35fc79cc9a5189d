package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServersThatArePlugboardAreSkipped(t *testing.T) {
	clearOverrides(t)
	self := executable()
	if self == "" {
		t.Skip("this system does not tell a process its executable")
	}
	dir := t.TempDir()
	// A link with another name to this very executable, as to a renamed
	// or relocated plugboard.
	alias := filepath.Join(dir, "proxy")
	if err := os.Symlink(self, alias); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	path := writeConfig(t, "config.json", `{"mcpServers": {
		"itself":   {"command": "`+self+`"},
		"aliased":  {"command": "proxy"},
		"relative": {"command": "./proxy", "cwd": "`+dir+`"},
		"attach":   {"command": "plugboard", "args": ["attach"]},
		"pathed":   {"command": "/opt/plugboard/bin/plugboard", "args": ["--config", "x.yaml"]},
		"fs":       {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]},
		"plugboard-docs": {"command": "plugboard-docs-server"}
	}}`)
	cfg := mustLoad(t, path)
	var names []string
	for _, s := range cfg.Servers {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "fs,plugboard-docs" {
		t.Errorf("servers kept: %v, want fs and plugboard-docs", names)
	}
	warnings := strings.Join(cfg.Warnings, "\n")
	for _, name := range []string{"itself", "aliased", "relative", "attach", "pathed"} {
		want := `server "` + name + `" is plugboard itself (command `
		if !strings.Contains(warnings, want) {
			t.Errorf("no warning %q in:\n%s", want, warnings)
		}
	}
	if strings.Contains(warnings, "x.yaml") {
		t.Errorf("a warning shows a skipped server's arguments:\n%s", warnings)
	}
}

func TestANestedPlugboardStartsServersUpToTwoLevels(t *testing.T) {
	clearOverrides(t)
	path := writeConfig(t, "config.yaml", "servers:\n  fs:\n    command: npx\n")
	for _, c := range []struct {
		nesting string
		servers int
	}{{"", 1}, {"1", 1}, {"junk", 1}, {"2", 0}, {"7", 0}} {
		t.Setenv("PLUGBOARD_NESTING", c.nesting)
		cfg := mustLoad(t, path)
		if len(cfg.Servers) != c.servers {
			t.Errorf("PLUGBOARD_NESTING=%q: %d servers, want %d", c.nesting, len(cfg.Servers), c.servers)
		}
		warned := strings.Contains(strings.Join(cfg.Warnings, "\n"), "starting none of its servers")
		if warned != (c.servers == 0) {
			t.Errorf("PLUGBOARD_NESTING=%q: warnings %q", c.nesting, cfg.Warnings)
		}
	}
}
