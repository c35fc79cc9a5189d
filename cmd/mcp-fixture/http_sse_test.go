package main

import (
	"net/http"
	"strings"
	"testing"
)

func TestLegacySSE(t *testing.T) {
	f := startListening(t, "--name", "remote")

	t.Run("a session over /sse and /message", func(t *testing.T) {
		t.Parallel()
		exerciseSession(t, dialLegacy(t, f))
	})

	t.Run("each GET is a session of its own", func(t *testing.T) {
		t.Parallel()
		a, b := dialLegacy(t, f), dialLegacy(t, f)
		if a.endpoint == b.endpoint {
			t.Errorf("two streams share the endpoint %s", a.endpoint)
		}
		call(a, "logging/setLevel", map[string]any{"level": "error"})
		for c, want := range map[*legacyClient]int{a: 0, b: 1} {
			id, in := c.request("tools/call", map[string]any{"name": "log", "arguments": map[string]any{"level": "info", "message": "hi"}})
			if _, before := in.awaitResponse(id); len(before) != want {
				t.Errorf("info log sent %d notifications, want %d: the log level is per session", len(before), want)
			}
		}
	})

	t.Run("a POST names an open session", func(t *testing.T) {
		t.Parallel()
		c := dialLegacy(t, f)
		ping := requestFrame(1, "ping", nil)
		for endpoint, want := range map[string]int{
			f.base + "/message":                  http.StatusBadRequest,
			f.base + "/message?sessionId=nobody": http.StatusNotFound,
			c.endpoint:                           http.StatusAccepted,
		} {
			c.endpoint = endpoint
			if got := c.post(ping); got != want {
				t.Errorf("POST %s: %d, want %d", strings.TrimPrefix(endpoint, f.base), got, want)
			}
		}
	})
}
