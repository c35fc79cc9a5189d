package main

import (
	"strings"
	"testing"
)

// A stdio server gets the SDKs' default set of plugboard's environment
// plus its own env; inherit_env gives it the rest, but never PLUGBOARD_*
// other than PLUGBOARD_NESTING, which plugboard sets.
func TestServersGetTheDefaultEnvironmentPlusTheirOwn(t *testing.T) {
	t.Setenv("PLUGBOARD_AUTH_TOKEN", "plug-token-in-env")
	t.Setenv("PLANTED_SECRET", "planted")
	t.Setenv("TERM", "xterm")
	cfg := writeConfig(t, "servers:\n"+
		fixtureServer("plain")+"    env:\n      FIXTURE_SHOW_OWN: mine\n"+
		fixtureServer("inherits")+"    inherit_env: true\n")
	c := startPlugboard(t, cfg)
	envOf := func(server string) []string {
		return strings.Split(textOf(t, c.mustCall("tools/call", map[string]any{"name": server + "__env", "arguments": map[string]any{}})), "\n")
	}

	plain := envOf("plain")
	for _, name := range plain {
		switch name {
		case "HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER", "FIXTURE_SHOW_OWN=mine", "PLUGBOARD_NESTING":
		default:
			t.Errorf("a server without inherit_env got %s from plugboard's environment; all it got: %q", name, plain)
		}
	}
	for _, want := range []string{"PATH", "TERM", "FIXTURE_SHOW_OWN=mine", "PLUGBOARD_NESTING"} {
		if !contains(plain, want) {
			t.Errorf("a server without inherit_env lacks %s: %q", want, plain)
		}
	}

	inherits := envOf("inherits")
	if !contains(inherits, "PLANTED_SECRET") || !contains(inherits, "PATH") {
		t.Errorf("a server with inherit_env lacks PLANTED_SECRET or PATH: %q", inherits)
	}
	for _, name := range inherits {
		if strings.HasPrefix(name, "PLUGBOARD_") && name != "PLUGBOARD_NESTING" {
			t.Errorf("a server with inherit_env got %s", name)
		}
	}
}
