package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

func TestWebSocket(t *testing.T) {
	f := startListening(t, "--name", "remote")

	t.Run("a session over /ws", func(t *testing.T) {
		t.Parallel()
		exerciseSession(t, dialWebSocket(t, f))
	})

	t.Run("the subprotocol mcp is required", func(t *testing.T) {
		t.Parallel()
		url := "ws" + strings.TrimPrefix(f.base, "http") + "/ws"
		conn, resp, err := websocket.DefaultDialer.Dial(url, nil)
		if err == nil {
			conn.Close()
			t.Fatal("dialing without a subprotocol succeeded")
		}
		if resp == nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("dialing without a subprotocol: %v, want HTTP 400", err)
		}
	})

	t.Run("a malformed message is answered and the session goes on", func(t *testing.T) {
		t.Parallel()
		c := dialWebSocket(t, f)
		if err := c.conn.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","id":1,"method":`)); err != nil {
			t.Fatal(err)
		}
		if got := c.in.next(); got.Error == nil || got.Error.Code != codeParseError {
			t.Errorf("malformed message answered with %s, want a parse error", got)
		}
		if resp := call(c, "ping", nil); string(resp.Result) != "{}" {
			t.Errorf("ping after a parse error = %s", resp)
		}
	})
}
