package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Clients of plugboard serve's network fronts, built on the stdio test
// client: each front's messages are turned into lines in and out, so that
// every journey runs unchanged over every front.

// lineSink collects whole messages from any number of goroutines into
// one stream of lines for client.read.
type lineSink struct {
	mu     sync.Mutex
	w      *io.PipeWriter
	closed bool
}

func newLineSink() (*lineSink, io.Reader) {
	r, w := io.Pipe()
	return &lineSink{w: w}, r
}

func (s *lineSink) put(data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		_, _ = s.w.Write(append(append([]byte(nil), data...), '\n'))
	}
}

func (s *lineSink) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		s.w.Close()
	}
}

// messageWriter sends each line written to it as one message.
type messageWriter struct {
	send    func([]byte) error
	onClose func()
	once    sync.Once
}

func (m *messageWriter) Write(p []byte) (int, error) {
	if err := m.send(bytes.TrimRight(p, "\n")); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (m *messageWriter) Close() error {
	m.once.Do(m.onClose)
	return nil
}

// newMessageClient is a client whose frames go out through send and come
// in through the sink.
func newMessageClient(t *testing.T, send func([]byte) error, onClose func()) (*client, *lineSink) {
	sink, lines := newLineSink()
	c := &client{t: t, stdin: &messageWriter{send: send, onClose: func() { onClose(); sink.close() }}, stderr: &lockedBuffer{},
		exited: make(chan struct{}), waiting: map[string]chan *message{}, notifications: make(chan *message, 1000), requests: make(chan *message, 100)}
	go c.read(lines)
	t.Cleanup(c.close)
	return c, sink
}

// dialWebSocket connects to plugboard serve's /ws.
func dialWebSocket(t *testing.T, base string) *client {
	t.Helper()
	dialer := websocket.Dialer{Subprotocols: []string{"mcp"}, HandshakeTimeout: 10 * time.Second}
	conn, resp, err := dialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws", nil)
	if err != nil {
		t.Fatalf("dialing /ws: %v", err)
	}
	if resp.Header.Get("Sec-WebSocket-Protocol") != "mcp" {
		t.Errorf("subprotocol %q, want mcp", resp.Header.Get("Sec-WebSocket-Protocol"))
	}
	var writeMu sync.Mutex
	c, sink := newMessageClient(t, func(b []byte) error {
		writeMu.Lock()
		defer writeMu.Unlock()
		return conn.WriteMessage(websocket.TextMessage, b)
	}, func() { conn.Close() })
	go func() {
		defer sink.close()
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			sink.put(data)
		}
	}()
	return c
}

// dialLegacySSE connects to plugboard serve's /sse and posts to the
// endpoint it names.
func dialLegacySSE(t *testing.T, base string) *client {
	t.Helper()
	resp, err := http.Get(base + "/sse")
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan [2]string, 1)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 64<<20)
		event := ""
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				event = v
			} else if v, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				events <- [2]string{event, v}
			}
		}
	}()
	var endpoint string
	select {
	case e := <-events:
		if e[0] != "endpoint" {
			t.Fatalf("first SSE event %v, want the endpoint", e)
		}
		endpoint = base + e[1]
	case <-time.After(10 * time.Second):
		t.Fatal("no endpoint event")
	}
	c, sink := newMessageClient(t, func(b []byte) error {
		r, err := http.Post(endpoint, "application/json", bytes.NewReader(b))
		if err != nil {
			return err
		}
		r.Body.Close()
		if r.StatusCode != http.StatusAccepted {
			t.Errorf("POST %s: HTTP %d", endpoint, r.StatusCode)
		}
		return nil
	}, func() { resp.Body.Close() })
	go func() {
		defer sink.close()
		for e := range events {
			sink.put([]byte(e[1]))
		}
	}()
	return c
}

// dialStreamable is a Streamable HTTP client: each message is a POST,
// answered as JSON or as an SSE stream, plus the session's GET stream.
func dialStreamable(t *testing.T, base string) *client {
	t.Helper()
	var (
		mu      sync.Mutex
		session string
		sink    *lineSink
	)
	pump := func(resp *http.Response) {
		defer resp.Body.Close()
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			body, _ := io.ReadAll(resp.Body)
			sink.put(body)
			return
		}
		eachSSE(t, resp.Body, func(data []byte) bool {
			sink.put(data)
			return true
		})
	}
	do := func(method string, body []byte) (*http.Response, error) {
		req, _ := http.NewRequest(method, base+"/mcp", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		mu.Lock()
		if session != "" {
			req.Header.Set("Mcp-Session-Id", session)
			req.Header.Set("MCP-Protocol-Version", "2025-11-25")
		}
		mu.Unlock()
		return http.DefaultClient.Do(req)
	}
	c, s := newMessageClient(t, func(b []byte) error {
		if bytes.Contains(b, []byte(`"method":"initialize"`)) {
			resp, err := do(http.MethodPost, b)
			if err != nil {
				return err
			}
			mu.Lock()
			session = resp.Header.Get("Mcp-Session-Id")
			mu.Unlock()
			pump(resp)
			if get, err := do(http.MethodGet, nil); err == nil && get.StatusCode == http.StatusOK {
				go pump(get)
			}
			return nil
		}
		go func() {
			resp, err := do(http.MethodPost, b)
			if err != nil {
				return
			}
			if resp.StatusCode == http.StatusAccepted {
				resp.Body.Close()
				return
			}
			pump(resp)
		}()
		return nil
	}, func() {
		if resp, err := do(http.MethodDelete, nil); err == nil {
			resp.Body.Close()
		}
	})
	sink = s
	return c
}
