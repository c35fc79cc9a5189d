package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// replaceConfig writes a new configuration the way editors that save
// atomically do: a temporary file renamed over the old one.
func replaceConfig(t *testing.T, path, yaml string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), ".plugboard.yaml.swp")
	if err := os.WriteFile(tmp, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// serverPIDs maps each child of plugboard to a name: the fixture's
// --name, or "sdk" for the Go SDK server.
func serverPIDs(t *testing.T, plugboard int) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, pid := range childrenOf(plugboard) {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		switch {
		case filepath.Base(args[0]) == filepath.Base(sdkFixtureBin):
			out["sdk"] = pid
		case len(args) > 2 && args[1] == "--name":
			out[args[2]] = pid
		}
	}
	return out
}

// noMore fails if a notification of method arrives within d.
func (c *client) noMore(method string, d time.Duration) {
	c.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m := <-c.notifications:
			if m.Method == method {
				c.t.Fatalf("a second %s after one reload", method)
			}
		case <-deadline:
			return
		}
	}
}

// drain drops the notifications received so far, waiting until none has
// come for quiet.
func (c *client) drain(quiet time.Duration) {
	for {
		select {
		case <-c.notifications:
		case <-time.After(quiet):
			return
		}
	}
}

func TestEditingTheConfigRestartsOnlyWhatChanged(t *testing.T) {
	needLinux(t)
	sdk := "  sdk:\n    command: " + strconvQuote(sdkFixtureBin) + "\n"
	path := writeConfig(t, "servers:\n"+fixtureServer("alpha")+fixtureServer("beta")+sdk)
	c := startPlugboard(t, path)
	eventually(t, 15*time.Second, "three servers listed", func() bool {
		tools := names(t, c.listAll("tools/list", "tools"), "name")
		return contains(tools, "alpha__echo") && contains(tools, "beta__echo") && contains(tools, "sdk__ask")
	})
	before := serverPIDs(t, c.cmd.Process.Pid)
	if before["alpha"] == 0 || before["beta"] == 0 || before["sdk"] == 0 {
		t.Fatalf("server processes: %v", before)
	}
	c.drain(500 * time.Millisecond)
	_, sleeping := c.send("tools/call", map[string]any{"name": "alpha__sleep", "arguments": map[string]any{"ms": 60000}})
	time.Sleep(200 * time.Millisecond) // the call reaches alpha

	// alpha removed, beta changed, sdk unchanged, delta added; the two
	// that start take their time, so that one notification has to wait
	// for them.
	replaceConfig(t, path, "servers:\n"+fixtureServer("beta", "--extra-tools", "1", "--startup-delay", "1s")+sdk+fixtureServer("delta", "--startup-delay", "500ms"))

	answer := c.wait(sleeping, "the call in flight to the removed server")
	if answer.Error == nil || !strings.Contains(answer.Error.Message, "alpha") {
		t.Fatalf("the call to a removed server got %s, want an error naming alpha", answer.raw)
	}
	c.waitNotification("notifications/tools/list_changed", 15*time.Second)
	c.noMore("notifications/tools/list_changed", 2*time.Second)
	tools := names(t, c.listAll("tools/list", "tools"), "name")
	for _, want := range []string{"beta__tool_000", "delta__echo", "sdk__ask"} {
		if !contains(tools, want) {
			t.Errorf("after the reload %s is not listed: %v", want, tools)
		}
	}
	if contains(tools, "alpha__echo") {
		t.Errorf("the removed server's tools are still listed: %v", tools)
	}
	after := serverPIDs(t, c.cmd.Process.Pid)
	if after["sdk"] != before["sdk"] {
		t.Errorf("the unchanged server was restarted: pid %d, then %d", before["sdk"], after["sdk"])
	}
	if after["beta"] == 0 || after["beta"] == before["beta"] {
		t.Errorf("the changed server kept pid %d (now %d): it should restart", before["beta"], after["beta"])
	}
	if after["alpha"] != 0 || after["delta"] == 0 {
		t.Errorf("servers after the reload: %v", after)
	}
	if res := c.mustCall("tools/call", map[string]any{"name": "sdk__ask", "arguments": map[string]any{}}); res == nil {
		t.Error("no answer from the unchanged server")
	}
	if !strings.Contains(c.stderr.String(), "configuration reloaded") {
		t.Errorf("no reload logged:\n%s", c.stderr.String())
	}
}

func strconvQuote(s string) string { return strconv.Quote(s) }

func TestAnInvalidEditKeepsServingAndReloadSaysWhy(t *testing.T) {
	d, socket, path, s := serveOnSocket(t, "servers:\n"+fixtureServer("alpha"), "alpha__echo")

	replaceConfig(t, path, "servers:\n  beta:\n    comand: nothing\n")
	eventually(t, 10*time.Second, "the rejection logged", func() bool {
		return strings.Contains(d.stderr.String(), "configuration rejected; the running one stays")
	})
	stdout, stderr, code := plugboardCommand(t, "reload", "--socket", socket)
	if code != 1 || !strings.Contains(stderr, "servers.beta") || !strings.Contains(stderr, path) {
		t.Errorf("reload of an invalid config: exit %d, stdout %q, stderr %q; want 1 and the file and key named", code, stdout, stderr)
	}
	if res, _ := s.call("tools/call", map[string]any{"name": "alpha__echo", "arguments": map[string]any{"text": "still"}}); res.Error != nil {
		t.Fatalf("after an invalid edit alpha is gone: %s", res.raw)
	}

	// A valid edit, not watched this time: SIGHUP, then `plugboard reload`.
	if err := os.WriteFile(path, []byte("servers:\n"+fixtureServer("alpha")+fixtureServer("beta")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "beta added", func() bool {
		res, _ := s.call("tools/call", map[string]any{"name": "beta__echo", "arguments": map[string]any{"text": "hi"}})
		return res.Error == nil
	})
	if err := d.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("SIGHUP ended plugboard serve: %v", err)
	}
	stdout, stderr, code = plugboardCommand(t, "reload", "--socket", socket)
	if code != 0 || !strings.Contains(stdout, "2 unchanged") {
		t.Errorf("reload with nothing changed: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	stdout, _, code = plugboardCommand(t, "reload", "--socket", socket, "--json")
	if code != 0 || !strings.Contains(stdout, `"unchanged":["alpha","beta"]`) {
		t.Errorf("reload --json: exit %d, %q", code, stdout)
	}
}

// serveOnSocket starts plugboard serve on the configuration yaml with a
// unix socket, opens a Streamable HTTP session and waits until each of
// tools (names taking {"text"}) answers.
func serveOnSocket(t *testing.T, yaml string, tools ...string) (d *daemon, socket, path string, s *httpSession) {
	t.Helper()
	needLinux(t)
	socket = shortSocket(t)
	path = writeConfig(t, yaml)
	d = startServe(t, path, "--socket", socket)
	s = newHTTPSession(t, d.url)
	s.initialize(nil)
	s.waitCallable(tools...)
	return d, socket, path, s
}

// waitCallable waits until each tool (taking {"text"}) answers.
func (s *httpSession) waitCallable(tools ...string) {
	s.t.Helper()
	for _, tool := range tools {
		eventually(s.t, 15*time.Second, tool+" answering", func() bool {
			res, _ := s.call("tools/call", map[string]any{"name": tool, "arguments": map[string]any{"text": "hi"}})
			return res.Error == nil
		})
	}
}
