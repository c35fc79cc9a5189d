package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/config"
)

func TestDisabledToolsStayDisabledAcrossADaemonRestart(t *testing.T) {
	d, socket, path, s := serveOnSocket(t, "servers:\n"+fixtureServer("alpha"), "alpha__echo")

	stdout, stderr, code := plugboardCommand(t, "tools", "disable", "alpha__echo", "alpha__add", "--socket", socket)
	if code != 0 {
		t.Fatalf("tools disable: exit %d, %q %q", code, stdout, stderr)
	}
	res, _ := s.call("tools/call", map[string]any{"name": "alpha__echo", "arguments": map[string]any{"text": "hi"}})
	if res.Error == nil || !strings.Contains(res.Error.Message, "disabled") {
		t.Errorf("a call to a disabled tool got %s, want an error saying it is disabled", res.raw)
	}
	listed, _ := s.call("tools/list", nil)
	if strings.Contains(string(listed.Result), `"alpha__echo"`) || !strings.Contains(string(listed.Result), `"alpha__sleep"`) {
		t.Errorf("tools/list after disabling alpha__echo: %.300s", listed.Result)
	}
	info, err := os.Stat(config.StatePath(path))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v, mode %v; want 0600", err, info)
	}

	// The live catalog shows them as disabled, by server.
	stdout, _, code = plugboardCommand(t, "tools", "--socket", socket, "--server", "alpha")
	if code != 0 || !strings.Contains(stdout, "(disabled: plugboard tools enable alpha__echo)") {
		t.Errorf("tools --server alpha: exit %d\n%s", code, stdout)
	}
	stdout, _, _ = plugboardCommand(t, "tools", "--socket", socket, "--json")
	var cat catalogJSON
	if err := json.Unmarshal([]byte(stdout), &cat); err != nil {
		t.Fatalf("tools --json: %v\n%s", err, stdout)
	}
	disabled := 0
	for _, e := range cat.Tools {
		if e.Disabled {
			disabled++
		}
	}
	if disabled != 2 {
		t.Errorf("tools --json lists %d disabled tools, want 2", disabled)
	}

	// A new daemon on the same configuration keeps them disabled.
	d.stop()
	d = startServe(t, path, "--socket", socket)
	s = newHTTPSession(t, d.url)
	s.initialize(nil)
	eventually(t, 15*time.Second, "alpha ready again", func() bool { // its echo is disabled
		res, _ := s.call("tools/call", map[string]any{"name": "alpha__sleep", "arguments": map[string]any{"ms": 1}})
		return res.Error == nil
	})
	if res, _ := s.call("tools/call", map[string]any{"name": "alpha__add", "arguments": map[string]any{"a": 1, "b": 2}}); res.Error == nil {
		t.Errorf("alpha__add is callable after a restart: %s", res.raw)
	}
	stdout, stderr, code = plugboardCommand(t, "tools", "enable", "alpha__add", "--socket", socket, "--json")
	if code != 0 {
		t.Fatalf("tools enable: exit %d, %q %q", code, stdout, stderr)
	}
	if res, _ := s.call("tools/call", map[string]any{"name": "alpha__add", "arguments": map[string]any{"a": 1, "b": 2}}); res.Error != nil {
		t.Errorf("alpha__add after enable: %s", res.raw)
	}
	st, err := config.LoadState(config.StatePath(path))
	if err != nil || len(st.DisabledTools) != 1 || st.DisabledTools[0] != "alpha__echo" {
		t.Errorf("state after enable: %+v, %v", st, err)
	}
}

func TestRestartRestartsOneServer(t *testing.T) {
	d, socket, _, s := serveOnSocket(t, "servers:\n"+fixtureServer("alpha")+fixtureServer("beta"), "alpha__echo", "beta__echo")
	before := serverPIDs(t, d.cmd.Process.Pid)
	stdout, stderr, code := plugboardCommand(t, "restart", "alpha", "--socket", socket)
	if code != 0 || !strings.Contains(stdout, "restarted alpha") {
		t.Fatalf("restart alpha: exit %d, %q %q", code, stdout, stderr)
	}
	eventually(t, 15*time.Second, "alpha back", func() bool {
		a, _ := s.call("tools/call", map[string]any{"name": "alpha__echo", "arguments": map[string]any{"text": "hi"}})
		return a.Error == nil
	})
	after := serverPIDs(t, d.cmd.Process.Pid)
	if after["alpha"] == before["alpha"] || after["beta"] != before["beta"] {
		t.Errorf("pids before %v, after %v: only alpha should change", before, after)
	}
	_, stderr, code = plugboardCommand(t, "restart", "nosuch", "--socket", socket)
	if code != 1 || !strings.Contains(stderr, `no server "nosuch"`) {
		t.Errorf("restart of an unknown server: exit %d, %q", code, stderr)
	}
}
