package main

import (
	"bufio"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestStreamableHTTP(t *testing.T) {
	f := startListening(t, "--name", "remote")

	t.Run("a session from initialize to DELETE", func(t *testing.T) {
		t.Parallel()
		c := newStreamableClient(t, f)
		exerciseSession(t, c)
		if status := c.status(http.MethodDelete, nil, nil); status != http.StatusOK {
			t.Errorf("DELETE: %d, want 200", status)
		}
		if status := c.status(http.MethodPost, requestFrame(99, "ping", nil), nil); status != http.StatusNotFound {
			t.Errorf("POST after DELETE: %d, want 404", status)
		}
		if status := c.status(http.MethodGet, nil, http.Header{"Accept": {"text/event-stream"}}); status != http.StatusNotFound {
			t.Errorf("GET after DELETE: %d, want 404", status)
		}
	})

	t.Run("requests the transport refuses", func(t *testing.T) {
		t.Parallel()
		c := newStreamableClient(t, f)
		ping := requestFrame(1, "ping", nil)
		if status := c.status(http.MethodPost, ping, nil); status != http.StatusBadRequest {
			t.Errorf("ping without a session: %d, want 400", status)
		}
		c.sessionID = "no-such-session"
		if status := c.status(http.MethodPost, ping, nil); status != http.StatusNotFound {
			t.Errorf("ping in an unknown session: %d, want 404", status)
		}
		c.sessionID = ""
		call(c, "initialize", map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{}})
		tests := []struct {
			name   string
			method string
			body   any
			header http.Header
			want   int
		}{
			{"a POST that accepts no SSE", http.MethodPost, ping, http.Header{"Accept": {"application/json"}}, http.StatusNotAcceptable},
			{"a GET that accepts no SSE", http.MethodGet, nil, http.Header{"Accept": {"application/json"}}, http.StatusNotAcceptable},
			{"an unsupported protocol version", http.MethodPost, ping, http.Header{versionHeader: {"1999-01-01"}}, http.StatusBadRequest},
			{"a body that is no JSON-RPC message", http.MethodPost, map[string]any{"hello": 1}, nil, http.StatusBadRequest},
			{"a second initialize", http.MethodPost, requestFrame(2, "initialize", map[string]any{}), nil, http.StatusBadRequest},
			{"PUT", http.MethodPut, ping, nil, http.StatusMethodNotAllowed},
			{"a notification", http.MethodPost, map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"}, nil, http.StatusAccepted},
			{"a response to nothing", http.MethodPost, map[string]any{"jsonrpc": "2.0", "id": "x", "result": map[string]any{}}, nil, http.StatusAccepted},
			{"a GET with an unknown Last-Event-ID", http.MethodGet, nil,
				http.Header{"Accept": {"text/event-stream"}, lastEventIDKey: {"77-0"}}, http.StatusBadRequest},
		}
		for _, tt := range tests {
			if got := c.status(tt.method, tt.body, tt.header); got != tt.want {
				t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
			}
		}
	})

	t.Run("the standalone stream carries list changes to every session", func(t *testing.T) {
		// Not parallel: the extra_tool switch is shared by the process.
		toggler, other := newStreamableClient(t, f), newStreamableClient(t, f)
		for _, c := range []*streamableClient{toggler, other} {
			call(c, "initialize", map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{}})
		}
		togglerEvents, otherEvents := toggler.listen(), other.listen()

		id, in := toggler.request("tools/call", map[string]any{"name": "toggle_tools", "arguments": map[string]any{}})
		resp, before := in.awaitResponse(id)
		if got := resp.toolResult(t).text(); got != "extra_tool on" {
			t.Fatalf("toggle_tools = %q", got)
		}
		if len(before) != 0 {
			t.Errorf("the toggle_tools stream carried %v; list changes belong on the standalone stream", before)
		}
		for name, events := range map[string]inbox{"toggling": togglerEvents, "other": otherEvents} {
			if fr := events.next(); fr.Method != "notifications/tools/list_changed" {
				t.Errorf("%s session's standalone stream got %s, want tools/list_changed", name, fr)
			}
		}
		if !strings.Contains(call(other, "tools/list", nil).raw, `"name":"extra_tool"`) {
			t.Error("the other session does not list extra_tool")
		}
		call(toggler, "tools/call", map[string]any{"name": "toggle_tools", "arguments": map[string]any{}})
	})

	t.Run("test_reconnection closes its stream and resumes with Last-Event-ID", func(t *testing.T) {
		t.Parallel()
		c := newStreamableClient(t, f)
		call(c, "initialize", map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{}})
		resp := c.do(http.MethodPost, requestFrame(7, "tools/call", map[string]any{"name": "test_reconnection", "arguments": map[string]any{}}), nil)
		events := readAllEvents(t, resp)
		if len(events) == 0 || events[0].id == "" || events[0].data != "" || !events[0].hasData || events[0].retry == "" {
			t.Fatalf("first event = %+v, want a priming event: an id, a retry field and empty data", events)
		}
		for _, ev := range events {
			if ev.data != "" {
				t.Errorf("the POST stream carried %q before it was cut", ev.data)
			}
		}

		resumed := c.do(http.MethodGet, nil, http.Header{"Accept": {"text/event-stream"}, lastEventIDKey: {events[0].id}})
		frames := readAllEvents(t, resumed)
		if i := slices.IndexFunc(frames, func(ev testEvent) bool { return ev.data != "" }); i < 0 ||
			!strings.Contains(frames[i].data, `"id":7,"result"`) || !strings.Contains(frames[i].data, "Reconnection test completed") {
			t.Errorf("resumed stream = %+v, want the test_reconnection response", frames)
		}
		if status := c.status(http.MethodGet, nil, http.Header{"Accept": {"text/event-stream"}, lastEventIDKey: {events[0].id}}); status != http.StatusBadRequest {
			t.Errorf("resuming a delivered stream again: %d, want 400", status)
		}
	})
}

// readAllEvents reads an SSE response to its end, or for readTimeout.
func readAllEvents(t *testing.T, resp *http.Response) []testEvent {
	t.Helper()
	defer resp.Body.Close()
	defer time.AfterFunc(readTimeout, func() { resp.Body.Close() }).Stop()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s", resp.Request.Method, resp.Request.URL, resp.Status)
	}
	r := bufio.NewReader(resp.Body)
	var events []testEvent
	for {
		ev, err := readEvent(r)
		if err != nil {
			return events
		}
		events = append(events, ev)
	}
}
