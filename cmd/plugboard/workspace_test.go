package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// attachClient starts `plugboard attach` with args and initializes a
// session through it.
func attachClient(t *testing.T, socket string, args ...string) *client {
	t.Helper()
	c := launchCommand(t, plugboardBin, append([]string{"attach", "--socket", socket}, args...)...)
	res := c.call("initialize", map[string]any{
		"protocolVersion": "2025-06-18",
		"capabilities":    map[string]any{"roots": map[string]any{"listChanged": true}},
		"clientInfo":      map[string]any{"name": "ws-test", "version": "1"},
	})
	if res.Error != nil {
		t.Fatalf("initialize through attach %v: %s", args, res.raw)
	}
	c.notify("notifications/initialized", nil)
	return c
}

// prefixes are the server prefixes of the tools a client lists.
func (c *client) prefixes() map[string]bool {
	out := map[string]bool{}
	for _, name := range names(c.t, c.listAll("tools/list", "tools"), "name") {
		if p, _, ok := strings.Cut(name, "__"); ok {
			out[p] = true
		}
	}
	return out
}

func samePrefixes(got map[string]bool, want ...string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		if !got[w] {
			return false
		}
	}
	return true
}

func TestWorkspacesChooseServersStartThemOnDemandAndSwitch(t *testing.T) {
	needLinux(t)
	socket := shortSocket(t)
	path := writeConfig(t, "servers:\n"+fixtureServer("alpha")+fixtureServer("beta")+fixtureServer("gamma")+
		"workspaces:\n  dev: [alpha, beta]\n  ops: [\"gam*\"]\nworkspace: dev\nidle_grace: 1s\n")
	d := startServe(t, path, "--socket", socket)

	a := attachClient(t, socket) // the default workspace: dev
	eventually(t, 15*time.Second, "dev's servers listed", func() bool { return samePrefixes(a.prefixes(), "alpha", "beta") })
	if pids := serverPIDs(t, d.cmd.Process.Pid); pids["gamma"] != 0 {
		t.Errorf("gamma runs although no workspace in use holds it: %v", pids)
	}
	if res := a.call("tools/call", map[string]any{"name": "gamma__echo", "arguments": map[string]any{"text": "x"}}); res.Error == nil ||
		!strings.Contains(res.Error.Message, "not in workspace dev") {
		t.Errorf("a call outside the session's workspace got %s", res.raw)
	}

	// A session of ops starts gamma on demand.
	b := attachClient(t, socket, "--workspace", "ops")
	if got := b.prefixes(); !samePrefixes(got, "gamma") {
		t.Errorf("ops session lists %v, want gamma alone", got)
	}
	b.mustCall("tools/call", map[string]any{"name": "gamma__echo", "arguments": map[string]any{"text": "x"}})
	if pids := serverPIDs(t, d.cmd.Process.Pid); pids["gamma"] == 0 {
		t.Errorf("gamma not started for the ops session: %v", pids)
	}

	// Over HTTP, by path; an unknown workspace is a 404.
	h := newHTTPSession(t, d.url+"/w/ops")
	h.initialize(nil)
	listed, _ := h.call("tools/list", nil)
	if strings.Contains(string(listed.Result), `"alpha__`) || !strings.Contains(string(listed.Result), `"gamma__echo"`) {
		t.Errorf("/w/ops/mcp lists %.200s", listed.Result)
	}
	resp, err := http.Post(d.url+"/w/nosuch/mcp", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/w/nosuch/mcp: HTTP %d, want 404", resp.StatusCode)
	}
	_, stderr, code := plugboardCommand(t, "attach", "--socket", socket, "--workspace", "nosuch")
	if code != 1 || !strings.Contains(stderr, `no workspace "nosuch"`) {
		t.Errorf("attach --workspace nosuch: exit %d, %q", code, stderr)
	}

	// Switching the default tells the default's sessions, not the others.
	c := attachClient(t, socket) // a second session of the default
	a.drain(300 * time.Millisecond)
	b.drain(300 * time.Millisecond)
	c.drain(300 * time.Millisecond)
	if stdout, stderr, code := plugboardCommand(t, "workspace", "use", "ops", "--socket", socket); code != 0 {
		t.Fatalf("workspace use ops: exit %d, %q %q", code, stdout, stderr)
	}
	for _, s := range []*client{a, c} {
		s.waitNotification("notifications/tools/list_changed", 10*time.Second)
		if got := s.prefixes(); !samePrefixes(got, "gamma") {
			t.Errorf("after the switch a default session lists %v, want gamma", got)
		}
	}
	b.noMore("notifications/tools/list_changed", time.Second)

	// Nobody needs alpha and beta now: they stop after idle_grace.
	eventually(t, 15*time.Second, "alpha and beta stopped", func() bool {
		pids := serverPIDs(t, d.cmd.Process.Pid)
		return pids["alpha"] == 0 && pids["beta"] == 0 && pids["gamma"] != 0
	})
	stdout, _, code := plugboardCommand(t, "workspace", "list", "--socket", socket, "--json")
	var ws workspacesJSON
	if code != 0 || json.Unmarshal([]byte(stdout), &ws) != nil || ws.Default != "ops" || len(ws.Workspaces) != 2 || ws.Workspaces[1].Sessions != 4 {
		t.Errorf("workspace list --json: exit %d, %s", code, stdout)
	}
	stdout, _, _ = plugboardStatus(t, "--socket", socket)
	if !strings.Contains(stdout, "idle") {
		t.Errorf("status does not show the stopped servers as idle:\n%s", stdout)
	}
	stdout, _, _ = plugboardStatus(t, "--socket", socket, "--json")
	var st statusJSON
	chose := 0
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatalf("status --json: %v", err)
	}
	for _, s := range st.Sessions {
		if s.Workspace == "ops" {
			chose++
		}
	}
	if chose != 2 { // b, and the HTTP session of /w/ops
		t.Errorf("status shows %d sessions in workspace ops, want 2: %+v", chose, st.Sessions)
	}

	// Back to dev: its servers start again, and a call waits for them.
	if _, stderr, code := plugboardCommand(t, "workspace", "use", "dev", "--socket", socket); code != 0 {
		t.Fatalf("workspace use dev: exit %d, %q", code, stderr)
	}
	a.mustCall("tools/call", map[string]any{"name": "alpha__echo", "arguments": map[string]any{"text": "back"}})
	if _, _, code := plugboardCommand(t, "workspace", "use", "nosuch", "--socket", socket); code != 1 {
		t.Errorf("workspace use nosuch: exit %d, want 1", code)
	}
}

func TestStdioWorkspaceFlagStartsOnlyItsServers(t *testing.T) {
	needLinux(t)
	path := writeConfig(t, "servers:\n"+fixtureServer("alpha")+fixtureServer("beta")+
		"workspaces:\n  one: [alpha]\n")
	c := startPlugboard(t, path, "--workspace", "one")
	if got := c.prefixes(); !samePrefixes(got, "alpha") {
		t.Errorf("stdio --workspace one lists %v", got)
	}
	if pids := serverPIDs(t, c.cmd.Process.Pid); pids["beta"] != 0 || pids["alpha"] == 0 {
		t.Errorf("servers running: %v, want alpha alone", pids)
	}
	code, _, stderr := runPlugboard(t, t.TempDir(), "--config", path, "--workspace", "nosuch", "tools")
	if code != 2 || !strings.Contains(stderr, `no workspace "nosuch"`) {
		t.Errorf("an unknown --workspace: exit %d, %q", code, stderr)
	}
}

// A switch away and back within the idle grace finds the servers running:
// a list answers at once. (The router once took a server that was no
// longer needed for stopped at the switch, and on the way back waited
// for it to start, which it never did.)
func TestWorkspaceSwitchBackWithinTheIdleGraceListsAtOnce(t *testing.T) {
	needLinux(t)
	socket := shortSocket(t)
	path := writeConfig(t, "servers:\n"+fixtureServer("alpha", "--demo")+fixtureServer("beta", "--demo")+"workspaces:\n  focus: [alpha]\n")
	startServe(t, path, "--socket", socket)
	c := attachClient(t, socket)
	eventually(t, 15*time.Second, "both servers listed", func() bool { return samePrefixes(c.prefixes(), "alpha", "beta") })
	for _, args := range [][]string{{"use", "focus"}, {"use", "--default"}} {
		c.drain(300 * time.Millisecond)
		if _, stderr, code := plugboardCommand(t, append(append([]string{"workspace"}, args...), "--socket", socket)...); code != 0 {
			t.Fatalf("workspace %v: exit %d, %q", args, code, stderr)
		}
		c.waitNotification("notifications/tools/list_changed", 10*time.Second)
	}
	id, answer := c.send("tools/list", nil)
	select {
	case m := <-answer:
		if got := c.prefixes(); m.Error != nil || !samePrefixes(got, "alpha", "beta") {
			t.Errorf("back on every server the client lists %v (%s)", got, m.raw)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("tools/list (id %s) unanswered 10 s after switching back", id)
	}
}
