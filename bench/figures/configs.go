package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// fixtureServer is one downstream in a plugboard configuration: the
// fixture under a name, with its own flags, and optionally only the tools
// matching include.
type fixtureServer struct {
	name    string
	args    []string
	include []string // globs of tool names; none for all
}

// fixtureServers names count fixtures fx01, fx02, ... (fx001, ... from
// 100 on) with the same flags.
func fixtureServers(count int, args ...string) []fixtureServer {
	servers := make([]fixtureServer, count)
	digits := len(fmt.Sprint(count))
	for i := range servers {
		servers[i] = fixtureServer{name: fmt.Sprintf("fx%0*d", max(digits, 2), i+1), args: args}
	}
	return servers
}

// configYAML is a plugboard configuration that starts each server as
// the fixture binary at fixture, speaking the handshake era only. Lists wait up to a generous
// startup_timeout, so that a slow start is measured rather than cut
// short.
func configYAML(fixture string, servers []fixtureServer) string {
	var b strings.Builder
	b.WriteString("startup_timeout: 60s\nservers:\n")
	for _, s := range servers {
		// --legacy-only: the fixture then does the same work per call as
		// for mcp-bench directly, a client of the handshake era.
		args := append([]string{"--name", s.name, "--legacy-only"}, s.args...)
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = fmt.Sprintf("%q", a)
		}
		fmt.Fprintf(&b, "  %s:\n    command: %q\n    args: [%s]\n", s.name, fixture, strings.Join(quoted, ", "))
		if len(s.include) > 0 {
			globs := make([]string, len(s.include))
			for i, g := range s.include {
				globs[i] = fmt.Sprintf("%q", g)
			}
			fmt.Fprintf(&b, "    tools: {include: [%s]}\n", strings.Join(globs, ", "))
		}
	}
	return b.String()
}

// writeConfig writes a configuration into the work directory and
// returns its path.
func (r *runner) writeConfig(name string, servers []fixtureServer) (string, error) {
	path := filepath.Join(r.work, name)
	if err := os.WriteFile(path, []byte(configYAML(r.path("mcp-fixture"), servers)), 0o644); err != nil {
		return "", fmt.Errorf("writing %s: %w", name, err)
	}
	return path, nil
}
