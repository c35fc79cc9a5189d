package main

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Every front (stdio, Streamable HTTP, legacy SSE, WebSocket) against
// every downstream transport (stdio, Streamable HTTP, SSE, WebSocket):
// list, call, progress, a server-to-client request, and a server that
// drops and comes back.

var fixtureListening = regexp.MustCompile(`listening on (http://[0-9.:]+)`)

// remoteFixture is a fixture serving its network endpoints.
type remoteFixture struct {
	url    string
	cmd    *exec.Cmd
	stderr *lockedBuffer
}

// startRemoteFixture starts a fixture on a loopback port. A fixed port
// lets a test start it again at the same address after it crashes.
func startRemoteFixture(t *testing.T, name, addr string, args ...string) *remoteFixture {
	t.Helper()
	f := &remoteFixture{stderr: &lockedBuffer{}}
	f.cmd = exec.Command(fixtureBin, append([]string{"--name", name, "--listen", addr}, args...)...)
	f.cmd.Stderr = f.stderr
	stdin, err := f.cmd.StdinPipe() // the fixture stops when it closes
	if err != nil {
		t.Fatal(err)
	}
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { f.cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			f.cmd.Process.Signal(syscall.SIGKILL)
		}
	})
	eventually(t, 10*time.Second, "the fixture listening", func() bool {
		m := fixtureListening.FindStringSubmatch(f.stderr.String())
		if m != nil {
			f.url = m[1]
		}
		return m != nil
	})
	return f
}

// downstreamEntry renders the config entry for server "fx" reached over
// the given transport.
func downstreamEntry(t *testing.T, transport string) (entry string, fixture *remoteFixture) {
	if transport == "stdio" {
		return fixtureServer("fx"), nil
	}
	f := startRemoteFixture(t, "fx", "127.0.0.1:0")
	url := map[string]string{
		"streamable-http": f.url + "/mcp",
		"sse":             f.url + "/sse",
		"websocket":       "ws" + strings.TrimPrefix(f.url, "http") + "/ws",
	}[transport]
	return fmt.Sprintf("  fx:\n    url: %q\n    transport: %s\n", url, transport), f
}

// connectFront starts what a client of the front needs and connects.
func connectFront(t *testing.T, front, cfg string) *client {
	t.Helper()
	if front == "stdio" {
		return startPlugboardAs(t, cfg, fullClientCaps, answerAsClient)
	}
	d := startServe(t, cfg)
	var c *client
	switch front {
	case "streamable-http":
		c = dialStreamable(t, d.url)
	case "sse":
		c = dialLegacySSE(t, d.url)
	case "websocket":
		c = dialWebSocket(t, d.url)
	}
	c.answer = answerAsClient
	res := c.call("initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": fullClientCaps, "clientInfo": map[string]any{"name": "e2e", "version": "1"}})
	if res.Error != nil {
		t.Fatalf("initialize over %s: %s", front, res.raw)
	}
	c.notify("notifications/initialized", nil)
	return c
}

func TestEveryFrontWithEveryDownstream(t *testing.T) {
	transports := []string{"stdio", "streamable-http", "sse", "websocket"}
	for _, front := range transports {
		for _, down := range transports {
			t.Run(front+"_to_"+down, func(t *testing.T) {
				entry, _ := downstreamEntry(t, down)
				c := connectFront(t, front, writeConfig(t, "startup_timeout: 30s\nservers:\n"+entry))
				if !contains(names(t, c.listAll("tools/list", "tools"), "name"), "fx__echo") {
					t.Fatal("fx__echo not listed")
				}
				if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "fx__echo", "arguments": map[string]any{"text": "hi " + front}})); got != "hi "+front {
					t.Errorf("echo: %q", got)
				}
				_, ch := c.send("tools/call", map[string]any{"name": "fx__progress", "arguments": map[string]any{"steps": 2}, "_meta": map[string]any{"progressToken": "m-1"}})
				n := c.waitNotification("notifications/progress", 10*time.Second)
				if !strings.Contains(string(n.raw), `"progressToken":"m-1"`) {
					t.Errorf("progress under another token: %s", n.raw)
				}
				if m := c.wait(ch, "progress"); m.Error != nil {
					t.Errorf("progress call: %s", m.raw)
				}
				if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "fx__test_sampling", "arguments": map[string]any{"prompt": "ping"}})); got != "LLM response: sampled ping" {
					t.Errorf("sampling: %q", got)
				}
			})
		}
	}
}

// TestRemoteServerDropsAndComesBack crashes a remote fixture and starts it
// again at the same address: the call in flight fails at once naming the
// server, and plugboard reconnects on its own.
func TestRemoteServerDropsAndComesBack(t *testing.T) {
	for _, down := range []string{"streamable-http", "sse", "websocket"} {
		t.Run(down, func(t *testing.T) {
			entry, f := downstreamEntry(t, down)
			c := startPlugboardAs(t, writeConfig(t, "startup_timeout: 30s\nservers:\n"+entry+fixtureServer("local")), fullClientCaps, answerAsClient)
			c.mustCall("tools/list", nil)
			_, slow := c.send("tools/call", map[string]any{"name": "fx__sleep", "arguments": map[string]any{"ms": 30000}})
			c.call("tools/call", map[string]any{"name": "fx__crash", "arguments": map[string]any{}})
			m := c.wait(slow, "the call in flight to the dropped server")
			if m.Error == nil || !strings.Contains(m.Error.Message, "fx") {
				t.Errorf("call in flight: %s", m.raw)
			}
			if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "local__echo", "arguments": map[string]any{"text": "fine"}})); got != "fine" {
				t.Errorf("the other server: %q", got)
			}
			addr := strings.TrimPrefix(f.url, "http://")
			startRemoteFixture(t, "fx", addr)
			eventually(t, 30*time.Second, "plugboard reconnected", func() bool {
				m := c.call("tools/call", map[string]any{"name": "fx__echo", "arguments": map[string]any{"text": "back"}})
				return m.Error == nil && textOf(t, m.Result) == "back"
			})
		})
	}
}
