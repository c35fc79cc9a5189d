package main

// Minimal MCP clients over the fixture's network transports, for the
// end-to-end tests of --listen.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fixtureBuild is the fixture binary, built once for every test that
// runs one, in a directory TestMain removes.
var fixtureBuild struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureBuild.dir != "" {
		os.RemoveAll(fixtureBuild.dir)
	}
	os.Exit(code)
}

func fixtureBinary(t *testing.T) string {
	t.Helper()
	fixtureBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "mcp-fixture-test-")
		if err != nil {
			fixtureBuild.err = err
			return
		}
		fixtureBuild.dir = dir
		fixtureBuild.path = filepath.Join(dir, "mcp-fixture")
		if out, err := exec.Command("go", "build", "-o", fixtureBuild.path, ".").CombinedOutput(); err != nil {
			fixtureBuild.err = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if fixtureBuild.err != nil {
		t.Fatal(fixtureBuild.err)
	}
	return fixtureBuild.path
}

// listeningFixture is one fixture process in network mode.
type listeningFixture struct {
	t      *testing.T
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:PORT
	stdin  io.WriteCloser
	stderr *lockedBuffer
	exited chan struct{} // closed once the process has been waited for
	code   int           // exit code, valid once exited is closed
}

// startListening starts the fixture with --listen 127.0.0.1:0 and waits
// for the line that announces its address.
func startListening(t *testing.T, args ...string) *listeningFixture {
	t.Helper()
	cmd := exec.Command(fixtureBinary(t), append([]string{"--listen", "127.0.0.1:0"}, args...)...)
	f := &listeningFixture{t: t, cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	var err error
	if f.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the fixture: %v", err)
	}
	announced := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(stderr)
		for lines.Scan() {
			f.stderr.Write(append(lines.Bytes(), '\n'))
			if addr, ok := strings.CutPrefix(lines.Text(), "listening on "); ok && len(announced) == 0 {
				announced <- addr
			}
		}
		// Wait only after stderr is drained, as os/exec requires.
		err := cmd.Wait()
		var exitErr *exec.ExitError
		switch {
		case errors.As(err, &exitErr):
			f.code = exitErr.ExitCode()
		case err != nil:
			f.code = -1
		}
		close(f.exited)
	}()
	t.Cleanup(func() {
		f.stdin.Close()
		kill := time.AfterFunc(readTimeout, func() { cmd.Process.Kill() })
		defer kill.Stop()
		<-f.exited
	})
	select {
	case f.base = <-announced:
	case <-f.exited:
		t.Fatalf("the fixture exited before listening; stderr:\n%s", f.stderr.String())
	case <-time.After(readTimeout):
		t.Fatalf("the fixture announced no address within %v; stderr:\n%s", readTimeout, f.stderr.String())
	}
	return f
}

func (f *listeningFixture) waitExit() int {
	f.t.Helper()
	select {
	case <-f.exited:
		return f.code
	case <-time.After(readTimeout):
		f.t.Fatalf("the fixture did not exit within %v", readTimeout)
	}
	panic("unreachable")
}

// inbox is where the frames a client receives on one stream or
// connection arrive, in order; its channel closes when the stream ends.
type inbox struct {
	t      *testing.T
	frames <-chan string
}

func (in inbox) next() wireFrame {
	in.t.Helper()
	select {
	case frame, ok := <-in.frames:
		if !ok {
			in.t.Fatal("the stream ended")
		}
		return parseFrame(in.t, frame)
	case <-time.After(readTimeout):
		in.t.Fatalf("no frame within %v", readTimeout)
	}
	panic("unreachable")
}

// awaitResponse reads frames until the response to id and returns it with
// the frames that came before it.
func (in inbox) awaitResponse(id int) (wireFrame, []wireFrame) {
	in.t.Helper()
	var before []wireFrame
	for {
		fr := in.next()
		if fr.isResponseTo(id) {
			return fr, before
		}
		before = append(before, fr)
	}
}

// awaitRequest reads frames until a server-to-client request for method.
func (in inbox) awaitRequest(method string) wireFrame {
	in.t.Helper()
	for {
		if fr := in.next(); fr.Method == method && len(fr.ID) > 0 {
			return fr
		}
	}
}

// ended reports whether the stream ends, with no frame left, within d.
func (in inbox) ended(d time.Duration) bool {
	in.t.Helper()
	select {
	case frame, ok := <-in.frames:
		if ok {
			in.t.Errorf("unexpected frame %s", frame)
		}
		return !ok
	case <-time.After(d):
		return false
	}
}

// mcpClient is one client session over a network transport.
type mcpClient interface {
	// request sends a request with a fresh id and returns the id and the
	// inbox where what the server sends about it arrives.
	request(method string, params any) (int, inbox)
	// send sends a notification or a response.
	send(msg any)
}

// streamableClient is a Streamable HTTP client: each request is a POST
// answered with its own SSE stream.
type streamableClient struct {
	t         *testing.T
	url       string
	ctx       context.Context // ends at cleanup, and every stream with it
	sessionID string
	version   string // the negotiated protocol version, sent once known
	nextID    int
}

func newStreamableClient(t *testing.T, f *listeningFixture) *streamableClient {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return &streamableClient{t: t, url: f.base + "/mcp", ctx: ctx}
}

// do sends an HTTP request to /mcp with the session's headers.
func (c *streamableClient) do(method string, body any, header http.Header) *http.Response {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(c.ctx, method, c.url, r)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json, text/event-stream")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.sessionID != "" {
		req.Header.Set(sessionHeader, c.sessionID)
	}
	if c.version != "" {
		req.Header.Set(versionHeader, c.version)
	}
	for name, values := range header {
		req.Header[name] = values
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, c.url, err)
	}
	return resp
}

func (c *streamableClient) request(method string, params any) (int, inbox) {
	c.t.Helper()
	c.nextID++
	resp := c.do(http.MethodPost, requestFrame(c.nextID, method, params), nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		c.t.Fatalf("POST %s: %s %s: %s", method, resp.Status, resp.Header.Get("Content-Type"), body)
	}
	if method == "initialize" {
		c.sessionID = resp.Header.Get(sessionHeader)
		if c.sessionID == "" {
			c.t.Fatal("initialize answered without " + sessionHeader)
		}
		c.version = "2025-11-25"
	}
	return c.nextID, inbox{t: c.t, frames: readSSE(resp.Body, nil)}
}

func (c *streamableClient) send(msg any) {
	c.t.Helper()
	resp := c.do(http.MethodPost, msg, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		c.t.Fatalf("POST of %v: %s, want 202 Accepted", msg, resp.Status)
	}
}

// listen opens the session's standalone stream.
func (c *streamableClient) listen() inbox {
	c.t.Helper()
	resp := c.do(http.MethodGet, nil, http.Header{"Accept": {"text/event-stream"}})
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		c.t.Fatalf("GET: %s, want 200", resp.Status)
	}
	return inbox{t: c.t, frames: readSSE(resp.Body, nil)}
}

// status sends an HTTP request and returns its status code.
func (c *streamableClient) status(method string, body any, header http.Header) int {
	c.t.Helper()
	resp := c.do(method, body, header)
	resp.Body.Close()
	return resp.StatusCode
}

// legacyClient is an HTTP+SSE (2024-11-05) client: one event stream for
// everything the server sends, one POST per client message.
type legacyClient struct {
	t        *testing.T
	endpoint string // the URL the endpoint event named
	in       inbox
	nextID   int
}

// dialLegacy opens /sse and reads its endpoint event.
func dialLegacy(t *testing.T, f *listeningFixture) *legacyClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.base+"/sse", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /sse: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /sse: %s", resp.Status)
	}
	endpoints := make(chan string, 1)
	frames := readSSE(resp.Body, endpoints)
	select {
	case path := <-endpoints:
		if !strings.HasPrefix(path, "/message?sessionId=") {
			t.Fatalf("endpoint event data = %q, want /message?sessionId=ID", path)
		}
		return &legacyClient{t: t, endpoint: f.base + path, in: inbox{t: t, frames: frames}}
	case <-time.After(readTimeout):
		t.Fatalf("no endpoint event within %v", readTimeout)
	}
	panic("unreachable")
}

func (c *legacyClient) post(msg any) int {
	c.t.Helper()
	b, err := json.Marshal(msg)
	if err != nil {
		c.t.Fatal(err)
	}
	resp, err := http.Post(c.endpoint, "application/json", bytes.NewReader(b))
	if err != nil {
		c.t.Fatalf("POST %s: %v", c.endpoint, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (c *legacyClient) request(method string, params any) (int, inbox) {
	c.t.Helper()
	c.nextID++
	c.send(requestFrame(c.nextID, method, params))
	return c.nextID, c.in
}

func (c *legacyClient) send(msg any) {
	c.t.Helper()
	if status := c.post(msg); status != http.StatusAccepted {
		c.t.Fatalf("POST of %v: %d, want 202", msg, status)
	}
}

// wsClient is a WebSocket client: one text message per frame.
type wsClient struct {
	t      *testing.T
	conn   *websocket.Conn
	in     inbox
	nextID int
}

func dialWebSocket(t *testing.T, f *listeningFixture) *wsClient {
	t.Helper()
	url := "ws" + strings.TrimPrefix(f.base, "http") + "/ws"
	dialer := websocket.Dialer{Subprotocols: []string{"mcp"}, HandshakeTimeout: readTimeout}
	conn, resp, err := dialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dialing %s: %v", url, err)
	}
	resp.Body.Close()
	t.Cleanup(func() { conn.Close() })
	if conn.Subprotocol() != "mcp" {
		t.Errorf("subprotocol = %q, want mcp", conn.Subprotocol())
	}
	frames := make(chan string, 1024)
	go func() {
		defer close(frames)
		for {
			kind, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			if kind == websocket.TextMessage {
				frames <- string(data)
			}
		}
	}()
	return &wsClient{t: t, conn: conn, in: inbox{t: t, frames: frames}}
}

func (c *wsClient) request(method string, params any) (int, inbox) {
	c.t.Helper()
	c.nextID++
	c.send(requestFrame(c.nextID, method, params))
	return c.nextID, c.in
}

func (c *wsClient) send(msg any) {
	c.t.Helper()
	if err := c.conn.WriteJSON(msg); err != nil {
		c.t.Fatalf("writing to the WebSocket: %v", err)
	}
}

func requestFrame(id int, method string, params any) map[string]any {
	msg := map[string]any{"jsonrpc": "2.0", "id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	return msg
}

// call sends a request and returns its response.
func call(c mcpClient, method string, params any) wireFrame {
	id, in := c.request(method, params)
	resp, _ := in.awaitResponse(id)
	return resp
}

// testEvent is one server-sent event as a test reads it.
type testEvent struct {
	id, name, data, retry string
	hasData               bool
}

// readEvent reads the next event; it returns io.EOF at the end of the
// stream. Data lines are joined as SSE does.
func readEvent(r *bufio.Reader) (testEvent, error) {
	var ev testEvent
	seen := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if seen && errors.Is(err, io.EOF) {
				return ev, io.ErrUnexpectedEOF
			}
			return ev, err
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line == "" {
			if seen {
				return ev, nil
			}
			continue
		}
		seen = true
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			ev.id = value
		case "event":
			ev.name = value
		case "retry":
			ev.retry = value
		case "data":
			if ev.hasData {
				ev.data += "\n"
			}
			ev.data += value
			ev.hasData = true
		}
	}
}

// readSSE delivers the data of each message event of body, skipping
// priming events, until body ends; endpoint events go to endpoints.
func readSSE(body io.ReadCloser, endpoints chan<- string) <-chan string {
	frames := make(chan string, 1024)
	go func() {
		defer close(frames)
		defer body.Close()
		r := bufio.NewReader(body)
		for {
			ev, err := readEvent(r)
			if err != nil {
				return
			}
			switch {
			case ev.name == "endpoint" && endpoints != nil:
				endpoints <- ev.data
			case (ev.name == "" || ev.name == "message") && ev.data != "":
				frames <- ev.data
			}
		}
	}()
	return frames
}
