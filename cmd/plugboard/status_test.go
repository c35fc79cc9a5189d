package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// shortSocket returns a socket path short enough for sun_path.
func shortSocket(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pbs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s.sock")
}

// plugboardStatus runs `plugboard status` and returns its stdout, stderr
// and exit status.
func plugboardStatus(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return plugboardCommand(t, append([]string{"status"}, args...)...)
}

// plugboardCommand runs plugboard with args and returns its stdout, stderr
// and exit status.
func plugboardCommand(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(plugboardBin, args...)
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

var restartingLine = regexp.MustCompile(`(?m)^crashy\s+restarting in \d+ s\s+stdio\s+\S+mcp-fixture\s+0\s+(\d+) restarts in \d+ (s|min)\s+\d+ s ago: .*status 3`)

func TestStatusShowsRestartsAndBackoff(t *testing.T) {
	socket := shortSocket(t)
	cfg := writeConfig(t, "servers:\n"+fixtureServer("ok")+fixtureServer("crashy", "--exit-at-start", "3"))
	startServe(t, cfg, "--socket", socket)

	var table string
	eventually(t, 20*time.Second, "status showing crashy restarting after a few restarts", func() bool {
		out, errOut, code := plugboardStatus(t, "--socket", socket)
		if code != 0 {
			t.Fatalf("plugboard status exited %d: %s", code, errOut)
		}
		table = out
		m := restartingLine.FindStringSubmatch(out)
		if m == nil {
			return false
		}
		n, _ := strconv.Atoi(m[1])
		return n >= 3
	})
	t.Logf("status:\n%s", table)
	if !regexp.MustCompile(`(?m)^ok\s+ready\s+stdio\s+\S+mcp-fixture\s+[1-9]\d*\s+-\s+-\s+\d+\s+\S+\s+\d+ s\s+0$`).MatchString(table) {
		t.Errorf("status does not show ok as ready with its tools:\n%s", table)
	}
	if strings.Contains(table, "--name") {
		t.Errorf("status shows a command's arguments, which may hold secrets:\n%s", table)
	}

	out, _, code := plugboardStatus(t, "--socket", socket, "--json")
	var st statusJSON
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != 0 {
		t.Fatalf("status --json: %v (exit %d): %s", err, code, out)
	}
	for _, s := range st.Servers {
		if s.Name == "crashy" && (s.State != "restarting" && s.State != "starting" || s.Restarts < 3 || !strings.Contains(s.LastFailure, "status 3")) {
			t.Errorf("status --json for crashy: %+v", s)
		}
	}

	// An MCP session on the same socket still works.
	c := launchCommand(t, plugboardBin, "attach", "--socket", socket)
	if res := c.call("initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "e2e", "version": "1"}}); res.Error != nil {
		t.Fatalf("initialize over the socket: %s", res.raw)
	}
}

func TestStatusWithoutADaemonSaysSo(t *testing.T) {
	_, errOut, code := plugboardStatus(t, "--socket", filepath.Join(t.TempDir(), "none.sock"))
	if code != exitFailure || !strings.Contains(errOut, "no plugboard serve of yours at") {
		t.Errorf("status without a daemon: exit %d, %q", code, errOut)
	}
}
