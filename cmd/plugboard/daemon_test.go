package main

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// attachTo starts `plugboard attach` on socket and initializes a session.
func attachTo(t *testing.T, socket string, args ...string) *client {
	t.Helper()
	c := launchCommand(t, plugboardBin, append([]string{"attach", "--socket", socket}, args...)...)
	if res := c.call("initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "daemon-e2e", "version": "1"}}); res.Error != nil {
		t.Fatalf("initialize through attach: %s", res.raw)
	}
	c.notify("notifications/initialized", nil)
	return c
}

// sendRaw writes a request with a raw id (a JSON string, say) and returns
// the channel its response arrives on.
func (c *client) sendRaw(id, method, params string) chan *message {
	ch := make(chan *message, 1)
	c.mu.Lock()
	c.waiting[id] = ch
	c.mu.Unlock()
	c.writeLine([]byte(`{"jsonrpc":"2.0","id":` + id + `,"method":"` + method + `","params":` + params + `}`))
	return ch
}

// exitCode waits for a command started by launchCommand to exit.
func exitCode(t *testing.T, c *client, within time.Duration) int {
	t.Helper()
	select {
	case <-c.exited:
	case <-time.After(within):
		t.Fatalf("%s still running after %s", c.cmd.Path, within)
	}
	err := c.cmd.Wait()
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

func TestAttachAnswersCallsInFlightWhenTheDaemonDies(t *testing.T) {
	socket := shortSocket(t)
	d := startServe(t, writeConfig(t, "servers:\n"+fixtureServer("slow")), "--socket", socket)
	c := attachTo(t, socket)

	byString := c.sendRaw(`"call-one"`, "tools/call", `{"name":"slow__sleep","arguments":{"ms":60000}}`)
	byNumber := c.sendRaw(`7`, "tools/call", `{"name":"slow__sleep","arguments":{"ms":60000}}`)
	// The daemon reads a session's frames in order: once the ping is
	// answered, it has the calls.
	if m := c.call("ping", nil); m.Error != nil {
		t.Fatalf("ping: %s", m.raw)
	}
	if err := d.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for what, ch := range map[string]chan *message{"the call with a string id": byString, "the call with a number id": byNumber} {
		m := c.wait(ch, what)
		if m.Error == nil || !strings.Contains(m.Error.Message, "gone") {
			t.Errorf("%s: got %s, want an error saying the daemon is gone", what, m.raw)
		}
	}
	if code := exitCode(t, c, 10*time.Second); code == 0 {
		t.Errorf("attach exited 0 after its daemon died")
	}
	if lines := strings.Split(strings.TrimSpace(c.stderr.String()), "\n"); len(lines) != 1 || !strings.Contains(lines[0], socket) {
		t.Errorf("attach's stderr: want one line naming the socket, got %q", c.stderr.String())
	}
}
