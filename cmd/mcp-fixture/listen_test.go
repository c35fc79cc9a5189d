package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// exerciseSession drives one session the way a client of a remote server
// would: handshake, list, call, progress, and a sampling round trip whose
// answer goes back as a separate message.
func exerciseSession(t *testing.T, c mcpClient) {
	t.Helper()
	init := call(c, "initialize", map[string]any{
		"protocolVersion": "2025-11-25", "capabilities": map[string]any{"sampling": map[string]any{}},
		"clientInfo": map[string]any{"name": "fixture-test", "version": "0"},
	})
	var result struct {
		ProtocolVersion string
		ServerInfo      struct{ Name string }
	}
	init.decodeResult(t, &result)
	if result.ProtocolVersion != "2025-11-25" || result.ServerInfo.Name != "remote" {
		t.Errorf("initialize = %s, want version 2025-11-25 and server remote", init.Result)
	}
	c.send(map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"})

	var list struct {
		Tools []struct{ Name string }
	}
	call(c, "tools/list", nil).decodeResult(t, &list)
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
	}
	for _, want := range []string{"echo", "progress", "test_sampling", "crash"} {
		if !slices.Contains(names, want) {
			t.Errorf("tools/list lacks %s: %v", want, names)
		}
	}

	echo := call(c, "tools/call", map[string]any{"name": "echo", "arguments": map[string]any{"text": "over the wire"}}).toolResult(t)
	if echo.text() != "over the wire" || string(echo.StructuredContent) != `{"server":"remote","text":"over the wire"}` {
		t.Errorf("echo = %+v", echo)
	}

	id, in := c.request("tools/call", map[string]any{
		"name": "progress", "arguments": map[string]any{"steps": 3, "delay_ms": 1},
		"_meta": map[string]any{"progressToken": "tok-net"},
	})
	resp, before := in.awaitResponse(id)
	if got := resp.toolResult(t).text(); got != "done" {
		t.Errorf("progress result = %q, want done", got)
	}
	var progress []float64
	for _, fr := range before {
		var p struct {
			ProgressToken string
			Progress      float64
		}
		fr.decodeParams(t, &p)
		if fr.Method != "notifications/progress" || p.ProgressToken != "tok-net" {
			t.Errorf("frame before the progress result: %s", fr)
		}
		progress = append(progress, p.Progress)
	}
	if !slices.Equal(progress, []float64{1, 2, 3}) {
		t.Errorf("progress before the result = %v, want [1 2 3]", progress)
	}

	id, in = c.request("tools/call", map[string]any{"name": "test_sampling", "arguments": map[string]any{"prompt": "2+2?"}})
	req := in.awaitRequest("sampling/createMessage")
	c.send(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": map[string]any{
		"role": "assistant", "content": map[string]any{"type": "text", "text": "4"}, "model": "m", "stopReason": "endTurn",
	}})
	resp, _ = in.awaitResponse(id)
	if got := resp.toolResult(t); got.IsError || got.text() != "LLM response: 4" {
		t.Errorf("test_sampling = %s", resp.Result)
	}
}

func TestListenAnnouncesOneLine(t *testing.T) {
	f := startListening(t)
	if !regexp.MustCompile(`^http://127\.0\.0\.1:[1-9][0-9]*$`).MatchString(f.base) {
		t.Errorf("announced address %q, want http://127.0.0.1:PORT", f.base)
	}
	resp, err := http.Get(f.base + "/nothing-here")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nothing-here: %s, want 404", resp.Status)
	}
	f.stdin.Close()
	f.waitExit()
	if n := strings.Count(f.stderr.String(), "listening on"); n != 1 {
		t.Errorf("stderr has %d listening lines, want 1:\n%s", n, f.stderr.String())
	}
}

func TestListenStops(t *testing.T) {
	t.Run("when stdin ends", func(t *testing.T) {
		t.Parallel()
		f := startListening(t)
		listening := newStreamableClient(t, f)
		call(listening, "initialize", map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{}})
		standalone := listening.listen()
		f.stdin.Close()
		if code := f.waitExit(); code != 0 {
			t.Errorf("exit code = %d, want 0; stderr:\n%s", code, f.stderr.String())
		}
		if !standalone.ended(readTimeout) {
			t.Error("the standalone stream outlived the process")
		}
	})
	t.Run("on SIGTERM", func(t *testing.T) {
		t.Parallel()
		f := startListening(t)
		if err := f.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := f.waitExit(); code != 0 {
			t.Errorf("exit code = %d, want 0; stderr:\n%s", code, f.stderr.String())
		}
	})
}

// TestListenCrash checks that the crash tool drops every connection, the
// way a remote server that dies looks to its clients.
func TestListenCrash(t *testing.T) {
	f := startListening(t)
	ws := dialWebSocket(t, f)
	call(ws, "initialize", map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{}})
	legacy := dialLegacy(t, f)
	call(legacy, "initialize", map[string]any{"protocolVersion": "2024-11-05", "capabilities": map[string]any{}})
	c := newStreamableClient(t, f)
	call(c, "initialize", map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{}})
	standalone := c.listen()

	_, crashing := c.request("tools/call", map[string]any{"name": "crash", "arguments": map[string]any{"code": 3}})
	if code := f.waitExit(); code != 3 {
		t.Errorf("exit code = %d, want 3", code)
	}
	for name, in := range map[string]inbox{"the crash call's stream": crashing, "the standalone stream": standalone,
		"the /sse stream": legacy.in, "the WebSocket": ws.in} {
		if !in.ended(readTimeout) {
			t.Errorf("%s did not end with the process", name)
		}
	}
}

func TestLocalOnly(t *testing.T) {
	hosts := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"LOCALHOST:8080", true},
		{"127.0.0.1:3001", true},
		{"127.1.2.3", true},
		{"[::1]:3001", true},
		{"::1", true},
		{"evil.example.com", false},
		{"evil.example.com:3001", false},
		{"localhost.evil.example.com", false},
		{"10.0.0.1:80", false},
		{"", false},
	}
	for _, tt := range hosts {
		if got := isLocalHost(tt.host); got != tt.want {
			t.Errorf("isLocalHost(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
	origins := []struct {
		origin string
		want   bool
	}{
		{"http://localhost:3000", true},
		{"https://127.0.0.1", true},
		{"http://[::1]:80", true},
		{"http://evil.example.com", false},
		{"null", false},
		{"file://localhost", false},
	}
	for _, tt := range origins {
		if got := isLocalOrigin(tt.origin); got != tt.want {
			t.Errorf("isLocalOrigin(%q) = %v, want %v", tt.origin, got, tt.want)
		}
	}
}

// TestListenRejectsForeignHostAndOrigin checks every endpoint against DNS
// rebinding: a foreign Host or Origin gets 403 before anything else.
func TestListenRejectsForeignHostAndOrigin(t *testing.T) {
	f := startListening(t)
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{}}}`
	for _, path := range []string{"/mcp", "/sse", "/message?sessionId=x", "/ws"} {
		for _, header := range []http.Header{
			{"Origin": {"http://evil.example.com"}},
			{"Host": {"evil.example.com"}},
		} {
			method := http.MethodPost
			if path == "/sse" || path == "/ws" {
				method = http.MethodGet
			}
			req, err := http.NewRequest(method, f.base+path, strings.NewReader(init))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("Content-Type", "application/json")
			for name, values := range header {
				req.Header[name] = values
			}
			if host := header.Get("Host"); host != "" {
				req.Host = host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				Error struct{ Message string }
				ID    json.RawMessage
			}
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden || err != nil || body.Error.Message == "" || body.ID != nil {
				t.Errorf("%s %s with %v: %s, want 403 with a JSON-RPC error without id", method, path, header, resp.Status)
			}
		}
	}

	c := newStreamableClient(t, f)
	id, in := c.request("initialize", map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{}})
	if resp, _ := in.awaitResponse(id); resp.Error != nil {
		t.Errorf("initialize from localhost: %s", resp)
	}
	if status := c.status(http.MethodPost, requestFrame(2, "ping", nil),
		http.Header{"Origin": {"http://localhost:5173"}}); status != http.StatusOK {
		t.Errorf("ping with a localhost Origin: %d, want 200", status)
	}
}
