package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fixturesNamed lists the pids of plugboard's children that are the
// fixture started with --name name.
func fixturesNamed(t *testing.T, plugboard int, name string) []int {
	t.Helper()
	var out []int
	for _, pid := range childrenOf(plugboard) {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if i := slices.Index(args, "--name"); i >= 0 && i+1 < len(args) && args[i+1] == name {
			out = append(out, pid)
		}
	}
	slices.Sort(out)
	return out
}

func TestIsolationSessionGivesEachSessionItsOwnProcess(t *testing.T) {
	needLinux(t)
	socket := shortSocket(t)
	path := writeConfig(t, "servers:\n"+fixtureServer("alpha")+fixtureServer("browser")+"    isolation: session\n")
	d := startServe(t, path, "--socket", socket)
	a := attachClient(t, socket)
	eventually(t, 15*time.Second, "both servers listed", func() bool { return samePrefixes(a.prefixes(), "alpha", "browser") })
	catalogOnly := fixturesNamed(t, d.cmd.Process.Pid, "browser")
	if len(catalogOnly) != 1 {
		t.Fatalf("before any call: browser processes %v, want the one that lists its tools", catalogOnly)
	}

	a.mustCall("tools/call", map[string]any{"name": "browser__echo", "arguments": map[string]any{"text": "a"}})
	b := attachClient(t, socket)
	b.mustCall("tools/call", map[string]any{"name": "browser__echo", "arguments": map[string]any{"text": "b"}})
	a.mustCall("tools/call", map[string]any{"name": "browser__echo", "arguments": map[string]any{"text": "a again"}})
	b.mustCall("tools/call", map[string]any{"name": "alpha__echo", "arguments": map[string]any{"text": "shared"}})
	running := fixturesNamed(t, d.cmd.Process.Pid, "browser")
	if len(running) != 3 {
		t.Fatalf("after two sessions called browser: processes %v, want 3 (one to list, one per session)", running)
	}
	if alpha := fixturesNamed(t, d.cmd.Process.Pid, "alpha"); len(alpha) != 1 {
		t.Errorf("the shared server has processes %v, want one", alpha)
	}

	// A's own instance goes with A; B's stays and answers.
	a.close()
	eventually(t, 10*time.Second, "A's instance stopped", func() bool {
		return len(fixturesNamed(t, d.cmd.Process.Pid, "browser")) == 2
	})
	b.mustCall("tools/call", map[string]any{"name": "browser__echo", "arguments": map[string]any{"text": "b again"}})
	if got := fixturesNamed(t, d.cmd.Process.Pid, "browser"); len(got) != 2 {
		t.Errorf("after B's second call: %v, want B's instance reused", got)
	}
}
