package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A client that goes away takes its calls with it: they are cancelled
// downstream at once, not left running until the server's timeout, and
// their slots serve the next client. And one client cannot take a busy
// server's capacity from the others.

// cancellations counts the calls the fixture saw cancelled.
func cancellations(d *daemon) int {
	return strings.Count(d.stderr.String(), "no response for cancelled request")
}

// longCall is a call that runs for 1000 s unless cancelled, and sends a
// progress notification at once, which shows it is running downstream.
// The map is new each time: postCall adds to its _meta.
func longCall(token string) map[string]any {
	return map[string]any{"name": "fx__progress", "arguments": map[string]any{"steps": 1000, "delay_ms": 1000},
		"_meta": map[string]any{"progressToken": token}}
}

// postCall posts a tools/call from a goroutine, on a Streamable HTTP
// session, or without one (s.id "") as a 2026-07-28 request, and returns
// the function that drops its connection. With started, it returns only
// once the call's first progress notification arrived.
func postCall(t *testing.T, s *httpSession, id int, params map[string]any, started bool) (drop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if s.id == "" {
		meta := params["_meta"].(map[string]any)
		meta["io.modelcontextprotocol/protocolVersion"] = "2026-07-28"
		meta["io.modelcontextprotocol/clientCapabilities"] = map[string]any{}
		meta["io.modelcontextprotocol/clientInfo"] = map[string]any{"name": "e2e", "version": "1"}
	}
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/mcp", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if s.id != "" {
		req.Header.Set("Mcp-Session-Id", s.id)
		req.Header.Set("MCP-Protocol-Version", "2025-11-25")
	} else {
		req.Header.Set("MCP-Protocol-Version", "2026-07-28")
		req.Header.Set("Mcp-Method", "tools/call")
		req.Header.Set("Mcp-Name", params["name"].(string))
	}
	running := make(chan struct{})
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		once := false
		eachSSE(t, resp.Body, func(data []byte) bool {
			if !once && bytes.Contains(data, []byte("notifications/progress")) {
				once = true
				close(running)
			}
			return true
		})
	}()
	if started {
		select {
		case <-running:
		case <-time.After(15 * time.Second):
			t.Fatalf("call %d: no progress: it is not running", id)
		}
	}
	return cancel
}

// callWithin calls a tool on a new Streamable HTTP session and fails the
// test unless it is answered with a result within the time given.
func callWithin(t *testing.T, base string, within time.Duration, params any) {
	t.Helper()
	answered := make(chan *message, 1)
	go func() {
		s := newHTTPSession(t, base)
		s.initialize(nil)
		m, _ := s.call("tools/call", params)
		answered <- m
	}()
	select {
	case m := <-answered:
		if m.Error != nil {
			t.Fatalf("another session's call failed: %s", m.raw)
		}
	case <-time.After(within):
		t.Fatalf("another session's call was not served within %s", within)
	}
}

// A Streamable HTTP POST whose connection drops, in a handshake-era
// session or as a 2026-07-28 request.
func TestDroppedStreamableHTTPCallsAreCancelledAndFreeTheServer(t *testing.T) {
	for _, session := range []bool{true, false} {
		name := "2026-07-28"
		if session {
			name = "session"
		}
		t.Run(name, func(t *testing.T) { droppedStreamableHTTPCalls(t, session) })
	}
}

func droppedStreamableHTTPCalls(t *testing.T, session bool) {
	d := startServe(t, writeConfig(t, "servers:\n"+fixtureServer("fx")+"    max_inflight: 2\n    max_queued: 2\n"))
	s := newHTTPSession(t, d.url)
	if session {
		s.initialize(nil)
	}
	// Two calls hold the server's two slots, two more fill its queue;
	// then the client's connections drop.
	var drops []func()
	for i := range 2 {
		drops = append(drops, postCall(t, s, 10+i, longCall(fmt.Sprint("running-", i)), true))
	}
	for i := range 2 {
		drops = append(drops, postCall(t, s, 20+i, longCall(fmt.Sprint("queued-", i)), false))
	}
	for _, drop := range drops {
		drop()
	}
	// The server hears of each call that was running, well before its
	// 60 s timeout...
	eventually(t, 10*time.Second, "the dropped calls cancelled downstream", func() bool { return cancellations(d) >= 2 })
	// ...and another session's call gets a slot at once.
	callWithin(t, d.url, 10*time.Second, map[string]any{"name": "fx__echo", "arguments": map[string]any{"text": "next"}})
}

// A WebSocket or legacy SSE session that closes cancels its calls.
func TestClosedSessionsCancelTheirCalls(t *testing.T) {
	for _, front := range []struct {
		name string
		dial func(*testing.T, string) *client
	}{
		{"websocket", dialWebSocket},
		{"legacy SSE", dialLegacySSE},
	} {
		t.Run(front.name, func(t *testing.T) {
			d := startServe(t, writeConfig(t, "servers:\n"+fixtureServer("fx")+"    max_inflight: 2\n"))
			c := front.dial(t, d.url)
			initializeClient(c)
			for i := range 2 {
				c.send("tools/call", longCall(fmt.Sprint("ws-", i)))
				c.waitNotification("notifications/progress", 15*time.Second)
			}
			c.close()
			eventually(t, 10*time.Second, "the closed session's calls cancelled downstream", func() bool { return cancellations(d) >= 2 })
			callWithin(t, d.url, 10*time.Second, map[string]any{"name": "fx__echo", "arguments": map[string]any{"text": "next"}})
		})
	}
}

func initializeClient(c *client) {
	c.t.Helper()
	m := c.call("initialize", map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "e2e", "version": "1"}})
	if m.Error != nil {
		c.t.Fatalf("initialize: %s", m.raw)
	}
	c.notify("notifications/initialized", nil)
}

// Session A holds every slot of a server and has a long queue; session
// B's one call goes out when the first slot frees, before A's queue. A's
// calls all hang, so that the order shows: with the queue served first in
// first out, B's call would wait for 20 more slots to free.
func TestABusyServerIsSharedAmongSessions(t *testing.T) {
	d := startServe(t, writeConfig(t, "servers:\n"+fixtureServer("fx")+"    max_inflight: 4\n"+fixtureServer("gx")))
	a, b := dialWebSocket(t, d.url), dialWebSocket(t, d.url)
	initializeClient(a)
	initializeClient(b)
	// A listing waits for start-up to end: after it, no call is held for
	// a server still starting, and calls reach fx in the order sent.
	a.mustCall("tools/list", map[string]any{})
	hang := map[string]any{"name": "fx__hang", "arguments": map[string]any{}}
	var running []string
	for range 4 {
		id, _ := a.send("tools/call", hang)
		running = append(running, id)
	}
	const queued = 20
	var aQueue []chan *message
	for range queued {
		_, ch := a.send("tools/call", hang)
		aQueue = append(aQueue, ch)
	}
	// A call to another server answered after them means the router has
	// passed everything before it to fx, in order; the same for B.
	a.mustCall("tools/call", map[string]any{"name": "gx__echo", "arguments": map[string]any{"text": "a"}})
	_, bCall := b.send("tools/call", map[string]any{"name": "fx__echo", "arguments": map[string]any{"text": "b"}})
	b.mustCall("tools/call", map[string]any{"name": "gx__echo", "arguments": map[string]any{"text": "b"}})
	select {
	case m := <-bCall:
		t.Fatalf("B's call was answered while every slot was taken: %s", m.raw)
	default:
	}

	// One slot frees: it is B's.
	var first int
	fmt.Sscan(running[0], &first)
	a.notify("notifications/cancelled", map[string]any{"requestId": first, "reason": "done waiting"})
	if m := b.wait(bCall, "B's call after one slot freed"); m.Error != nil {
		t.Fatalf("B's call failed: %s", m.raw)
	}
	for i, ch := range aQueue {
		select {
		case m := <-ch:
			t.Errorf("A's queued call %d was answered: %s", i, m.raw)
		default:
		}
	}
}

// When a server's queue is full of one session's calls, a newcomer's call
// takes a place: the session over its share has its newest call refused,
// with an error naming the server.
func TestAFullQueueRefusesTheSessionOverItsShare(t *testing.T) {
	d := startServe(t, writeConfig(t, "servers:\n"+fixtureServer("fx")+"    max_inflight: 1\n    max_queued: 2\n"+fixtureServer("gx")))
	a, b := dialWebSocket(t, d.url), dialWebSocket(t, d.url)
	initializeClient(a)
	initializeClient(b)
	a.mustCall("tools/list", map[string]any{}) // start-up over: nothing held (see above)
	hang := map[string]any{"name": "fx__hang", "arguments": map[string]any{}}
	running, _ := a.send("tools/call", hang)
	_, oldest := a.send("tools/call", hang)
	_, newest := a.send("tools/call", hang)
	a.mustCall("tools/call", map[string]any{"name": "gx__echo", "arguments": map[string]any{"text": "a"}})

	_, bCall := b.send("tools/call", map[string]any{"name": "fx__echo", "arguments": map[string]any{"text": "b"}})
	m := a.wait(newest, "A's newest queued call")
	if m.Error == nil || !strings.Contains(m.Error.Message, "server fx is overloaded") {
		t.Fatalf("A's newest queued call: %s; want an overload error naming fx", m.raw)
	}
	var first int
	fmt.Sscan(running, &first)
	a.notify("notifications/cancelled", map[string]any{"requestId": first, "reason": "done waiting"})
	if m := b.wait(bCall, "B's call"); m.Error != nil {
		t.Fatalf("B's call failed: %s", m.raw)
	}
	select {
	case m := <-oldest:
		t.Errorf("A's oldest queued call was answered before B's: %s", m.raw)
	default:
	}
}
