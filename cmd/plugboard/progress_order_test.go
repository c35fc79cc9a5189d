package main

import (
	"bytes"
	"net/http"
	"testing"
)

// A call's progress goes on the call's own POST stream, ahead of its
// answer, even when a newer stream (the session's GET stream) opened while
// the call ran: a client that has its answer drops the call's progress
// handler, so progress sent on another stream can arrive too late.
func TestServeProgressStaysOnTheCallsStream(t *testing.T) {
	d := startServe(t, unprefixedFixture(t, ""))
	s := newHTTPSession(t, d.url)
	s.initialize(fullClientCaps)

	resp := s.post(map[string]any{"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": map[string]any{
		"name": "progress", "arguments": map[string]any{"steps": 3, "delay_ms": 300},
		"_meta": map[string]any{"progressToken": "mine"},
	}})
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("tools/call: HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	var onCall []*message
	getOpened := false
	eachSSE(t, resp.Body, func(data []byte) bool {
		m := decodeMessage(t, data)
		onCall = append(onCall, m)
		if !getOpened {
			// The first progress came; a GET stream opens now, before
			// the next one is sent.
			getOpened = true
			req, _ := http.NewRequest(http.MethodGet, d.url+"/mcp", nil)
			req.Header.Set("Accept", "text/event-stream")
			req.Header.Set("Mcp-Session-Id", s.id)
			get, err := http.DefaultClient.Do(req)
			if err != nil || get.StatusCode != http.StatusOK {
				t.Fatalf("GET stream: %v %v", err, get)
			}
			t.Cleanup(func() { get.Body.Close() })
		}
		return m.Method != ""
	})
	var progress int
	for _, m := range onCall {
		if m.Method == "notifications/progress" && bytes.Contains(m.raw, []byte(`"progressToken":"mine"`)) {
			progress++
		}
	}
	last := onCall[len(onCall)-1]
	if progress != 3 || last.Method != "" || last.Error != nil {
		t.Errorf("the call's stream carried %d of 3 progress notifications before its answer %s", progress, last.raw)
	}
}
