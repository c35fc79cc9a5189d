package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// plugboardsUnder counts the running plugboard processes in the tree rooted
// at pid, pid included.
func plugboardsUnder(pid int) int {
	n := 0
	if exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "exe")); err == nil && exe == plugboardBin {
		n++
	}
	for _, child := range childrenOf(pid) {
		n += plugboardsUnder(child)
	}
	return n
}

// A desktop client's config lists plugboard itself: plugboard skips those
// entries, says so, and serves the others.
func TestPlugboardNeverStartsItself(t *testing.T) {
	needLinux(t)
	path := filepath.Join(t.TempDir(), "claude_desktop_config.json")
	config := fmt.Sprintf(`{"mcpServers": {
		"fx": {"command": %q, "args": ["--name", "fx"]},
		"self": {"command": %q, "args": ["--config", %q]},
		"shared": {"command": "plugboard", "args": ["attach"]}
	}}`, fixtureBin, plugboardBin, path)
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	// "plugboard" on the PATH is this plugboard too.
	pathEnv := "PATH=" + filepath.Dir(plugboardBin) + string(os.PathListSeparator) + os.Getenv("PATH")

	c := launchCommandEnv(t, []string{pathEnv}, plugboardBin, "--config", path)
	c.mustCall("initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "e2e", "version": "1"}})
	c.notify("notifications/initialized", nil)
	for _, tool := range names(t, c.listAll("tools/list", "tools"), "name") {
		if !strings.HasPrefix(tool, "fx__") {
			t.Errorf("tool %s is not the fixture's", tool)
		}
	}
	for _, name := range []string{"self", "shared"} {
		want := fmt.Sprintf(`server \"%s\" is plugboard itself`, name)
		if !strings.Contains(c.stderr.String(), want) {
			t.Errorf("stderr lacks %s", want)
		}
	}
	// Copies of plugboard would start within a few milliseconds of each
	// other; watch the process tree for two seconds.
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if n := plugboardsUnder(c.cmd.Process.Pid); n != 1 {
			t.Fatalf("%d plugboard processes, want 1", n)
		}
	}

	cmd := exec.Command(plugboardBin, "tools", "--config", path)
	cmd.Env = append(os.Environ(), pathEnv)
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), "fx__echo") || strings.Contains(string(out), "self") || strings.Contains(string(out), "shared") {
		t.Errorf("plugboard tools: %v\n%s", err, out)
	}
}

// A configuration that starts plugboard through a wrapper the command
// check cannot see through: the nesting count stops it at three levels.
func TestPlugboardThroughAWrapperStopsNesting(t *testing.T) {
	needLinux(t)
	path := filepath.Join(t.TempDir(), "plugboard.yaml")
	config := fmt.Sprintf("servers:\n  fx:\n    command: %q\n    args: [--name, fx]\n  wrapped:\n    command: sh\n    args: [-c, %q]\n",
		fixtureBin, "exec '"+plugboardBin+"' --config '"+path+"'")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	c := startPlugboard(t, path)
	eventually(t, 10*time.Second, "the third plugboard to start", func() bool { return plugboardsUnder(c.cmd.Process.Pid) == 3 })
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if n := plugboardsUnder(c.cmd.Process.Pid); n != 3 {
			t.Fatalf("%d plugboard processes, want 3", n)
		}
	}
	if !strings.Contains(c.stderr.String(), "starting none of its servers") {
		t.Errorf("no warning from the innermost plugboard")
	}
	if tools := names(t, c.listAll("tools/list", "tools"), "name"); !contains(tools, "fx__echo") {
		t.Errorf("tools: %v", tools)
	}
}
