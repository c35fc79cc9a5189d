package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// attachAs starts `plugboard attach` on socket and initializes a session
// for a client named name that offers sampling, answering it with a
// fixed text.
func attachAs(t *testing.T, socket, name string) *client {
	t.Helper()
	c := launchCommand(t, plugboardBin, "attach", "--socket", socket)
	c.answer = func(m *message) (any, string) {
		if m.Method != "sampling/createMessage" {
			return nil, "this client answers only sampling"
		}
		return map[string]any{"role": "assistant", "model": "test", "content": map[string]any{"type": "text", "text": "from " + name}}, ""
	}
	res := c.call("initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{"sampling": map[string]any{}},
		"clientInfo": map[string]any{"name": name, "version": "1"}})
	if res.Error != nil {
		t.Fatalf("%s: initialize through attach: %s", name, res.raw)
	}
	c.notify("notifications/initialized", nil)
	return c
}

// daemonStatus runs `plugboard status --json` on socket.
func daemonStatus(t *testing.T, socket string) statusJSON {
	t.Helper()
	out, errOut, code := plugboardStatus(t, "--socket", socket, "--json")
	var st statusJSON
	if code != 0 {
		t.Fatalf("plugboard status --json exited %d: %s", code, errOut)
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("plugboard status --json: %v: %s", err, out)
	}
	return st
}

// oneProcessEach waits until the daemon's children are exactly one
// process of each named server, and returns their pids by name.
func oneProcessEach(t *testing.T, daemonPID int, servers ...string) map[string]int {
	t.Helper()
	var pids map[string]int
	var children []int
	eventually(t, 15*time.Second, fmt.Sprintf("exactly one process each of %v under plugboard serve", servers), func() bool {
		children = childrenOf(daemonPID)
		pids = serverPIDs(t, daemonPID)
		if len(children) != len(servers) || len(pids) != len(servers) {
			return false
		}
		for _, s := range servers {
			if pids[s] == 0 {
				return false
			}
		}
		return true
	})
	return pids
}

// TestOneDaemonForThreeClients is the "done means": one daemon,
// three clients through attach, one set of servers; an edit restarts only
// what changed and every client hears of it; status tells why a server
// went down.
func TestOneDaemonForThreeClients(t *testing.T) {
	needLinux(t)
	socket := shortSocket(t)
	sdk := "  sdk:\n    command: " + strconvQuote(sdkFixtureBin) + "\n"
	path := writeConfig(t, "servers:\n"+fixtureServer("alpha")+fixtureServer("beta")+sdk)
	d := startServe(t, path, "--socket", socket)
	daemonPID := d.cmd.Process.Pid

	clientNames := []string{"desk-one", "desk-two", "desk-three"}
	clients := make([]*client, len(clientNames))
	for i, name := range clientNames {
		clients[i] = attachAs(t, socket, name)
	}
	for i, c := range clients {
		eventually(t, 15*time.Second, clientNames[i]+" listing every server's tools", func() bool {
			tools := toolNames(t, c)
			return contains(tools, "alpha__echo") && contains(tools, "beta__echo") && contains(tools, "sdk__ask")
		})
		for _, server := range []string{"alpha", "beta"} {
			text := fmt.Sprintf("%s to %s", clientNames[i], server)
			if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": server + "__echo", "arguments": map[string]any{"text": text}})); got != text {
				t.Fatalf("%s: %s__echo answered %q, want %q", clientNames[i], server, got, text)
			}
		}
		// The Go SDK server asks this very client's model: the answer
		// proves the server's request found its way back to the session.
		if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "sdk__ask", "arguments": map[string]any{"question": "who?"}})); got != "answer: from "+clientNames[i] {
			t.Fatalf("%s: sdk__ask answered %q", clientNames[i], got)
		}
	}

	// Three clients, one set of servers.
	before := oneProcessEach(t, daemonPID, "alpha", "beta", "sdk")

	// beta changes; alpha and sdk do not.
	for _, c := range clients {
		c.drain(300 * time.Millisecond)
	}
	replaceConfig(t, path, "servers:\n"+fixtureServer("alpha")+fixtureServer("beta", "--extra-tools", "1")+sdk)
	for i, c := range clients {
		c.waitNotification("notifications/tools/list_changed", 15*time.Second)
		c.noMore("notifications/tools/list_changed", time.Second)
		if !contains(toolNames(t, c), "beta__tool_000") {
			t.Errorf("%s: after list_changed, the changed server's new tool is not listed", clientNames[i])
		}
	}
	after := oneProcessEach(t, daemonPID, "alpha", "beta", "sdk")
	for _, same := range []string{"alpha", "sdk"} {
		if after[same] != before[same] {
			t.Errorf("the unchanged server %s was restarted: pid %d, then %d", same, before[same], after[same])
		}
	}
	if after["beta"] == before["beta"] {
		t.Errorf("the changed server beta kept pid %d: it should have restarted", before["beta"])
	}
	text := textOf(t, clients[1].mustCall("tools/call", map[string]any{"name": "beta__tool_000", "arguments": map[string]any{"text": "new"}}))
	if text != "new" {
		t.Errorf("beta__tool_000 answered %q", text)
	}

	// status: every server ready, under the pids the processes have, and
	// the three sessions on the socket.
	st := daemonStatus(t, socket)
	if st.PID != daemonPID {
		t.Errorf("status names daemon pid %d, want %d", st.PID, daemonPID)
	}
	var states []string
	for _, s := range st.Servers {
		states = append(states, fmt.Sprintf("%s=%s/%d", s.Name, s.State, s.PID))
		if s.State != "ready" || s.PID != after[s.Name] {
			t.Errorf("status shows %s %s with pid %d; want ready with pid %d", s.Name, s.State, s.PID, after[s.Name])
		}
	}
	if len(st.Servers) != 3 {
		t.Errorf("status shows %d servers, want 3: %v", len(st.Servers), states)
	}
	var sessions []string
	for _, s := range st.Sessions {
		sessions = append(sessions, s.Transport+":"+s.ClientName)
	}
	sort.Strings(sessions)
	if want := []string{"socket:desk-one", "socket:desk-three", "socket:desk-two"}; strings.Join(sessions, " ") != strings.Join(want, " ") {
		t.Errorf("status sessions %v, want %v", sessions, want)
	}

	// alpha crashes: the caller gets an error naming it, the others go on,
	// and status says it restarted and why.
	crash := clients[0].call("tools/call", map[string]any{"name": "alpha__crash", "arguments": map[string]any{"code": 3}})
	if crash.Error == nil || !strings.Contains(crash.Error.Message, "alpha") {
		t.Fatalf("the call that crashed alpha got %s, want an error naming alpha", crash.raw)
	}
	if got := textOf(t, clients[2].mustCall("tools/call", map[string]any{"name": "beta__echo", "arguments": map[string]any{"text": "still"}})); got != "still" {
		t.Errorf("beta while alpha restarts: %q", got)
	}
	var alpha *serverStatusJSON
	eventually(t, 15*time.Second, "status showing alpha ready again after one restart", func() bool {
		alpha = statusOf(daemonStatus(t, socket), "alpha")
		return alpha != nil && alpha.State == "ready" && alpha.Restarts == 1
	})
	if !strings.Contains(alpha.LastFailure, "exited with status 3") {
		t.Errorf("status gives alpha's last failure as %q, want its exit status 3", alpha.LastFailure)
	}
	final := oneProcessEach(t, daemonPID, "alpha", "beta", "sdk")
	if alpha.PID != final["alpha"] || final["alpha"] == after["alpha"] {
		t.Errorf("alpha's pid: %d before the crash, %d now, status says %d", after["alpha"], final["alpha"], alpha.PID)
	}
	if final["beta"] != after["beta"] || final["sdk"] != after["sdk"] {
		t.Errorf("alpha's crash moved other servers: %v, then %v", after, final)
	}
	table, _, _ := plugboardStatus(t, "--socket", socket)
	if !strings.Contains(table, "1 restart") || !strings.Contains(table, "exited with status 3") {
		t.Errorf("plugboard status does not say alpha restarted and why:\n%s", table)
	}
}

// toolNames lists the client-facing tool names c sees.
func toolNames(t *testing.T, c *client) []string {
	t.Helper()
	return names(t, c.listAll("tools/list", "tools"), "name")
}
