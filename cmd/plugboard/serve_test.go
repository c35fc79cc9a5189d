package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// daemon is a running `plugboard serve`.
type daemon struct {
	url        string // http://127.0.0.1:PORT
	runtimeDir string // its XDG_RUNTIME_DIR: its state directory is runtimeDir/plugboard
	stderr     *lockedBuffer
	cmd        *exec.Cmd
	stop       func() // SIGTERM, and wait until it is gone
}

var listeningURL = regexp.MustCompile(`msg=listening url=(http://[0-9.:]+)/mcp`)

// startServe starts plugboard serve on a free loopback port, with a state
// directory of its own, and without a bearer token (--no-auth) unless args
// give one: the tests of the token start it with startServeIn.
func startServe(t *testing.T, configPath string, args ...string) *daemon {
	t.Helper()
	if !slices.Contains(args, "--auth-token") {
		args = append([]string{"--no-auth"}, args...)
	}
	return startServeIn(t, t.TempDir(), configPath, args...)
}

// startServeIn starts plugboard serve with XDG_RUNTIME_DIR=runtimeDir and
// no unix socket unless args give one.
func startServeIn(t *testing.T, runtimeDir, configPath string, args ...string) *daemon {
	t.Helper()
	d := &daemon{stderr: &lockedBuffer{}, runtimeDir: runtimeDir}
	// A short grace: calls a test leaves in flight (a 2026-07-28 call
	// parked for its client's retry counts) must not outlast d.stop's wait.
	d.cmd = exec.Command(plugboardBin, append([]string{"serve", "--config", configPath, "--listen", "127.0.0.1:0", "--socket", "", "--grace", "3s"}, args...)...)
	d.cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+runtimeDir)
	d.cmd.Stderr = d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { d.cmd.Wait(); close(exited) }()
	stopped := false
	d.stop = func() {
		if stopped {
			return
		}
		stopped = true
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			d.cmd.Process.Kill()
			t.Errorf("plugboard serve did not stop on SIGTERM")
		}
	}
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			t.Logf("plugboard serve stderr:\n%s", d.stderr.String())
		}
	})
	eventually(t, 15*time.Second, "plugboard serve listening", func() bool {
		select {
		case <-exited:
			t.Fatalf("plugboard serve exited: %s", d.stderr.String())
		default:
		}
		m := listeningURL.FindStringSubmatch(d.stderr.String())
		if m != nil {
			d.url = m[1]
		}
		return m != nil
	})
	return d
}

// httpSession is a Streamable HTTP client session, by hand, so that every
// header and status can be checked.
type httpSession struct {
	t      *testing.T
	base   string
	id     string
	header http.Header
	nextID int
	answer func(*message) (any, string)
}

func (s *httpSession) post(body any) *http.Response {
	s.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, s.base+"/mcp", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if s.id != "" {
		req.Header.Set("Mcp-Session-Id", s.id)
	}
	for k, v := range s.header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp
}

// call posts a request and returns its response and the messages that
// came before it on the request's stream. Requests from plugboard on the
// stream are answered with s.answer, each as a POST of its own.
func (s *httpSession) call(method string, params any) (*message, []*message) {
	s.t.Helper()
	s.nextID++
	frame := map[string]any{"jsonrpc": "2.0", "id": s.nextID, "method": method}
	if params != nil {
		frame["params"] = params
	}
	resp := s.post(frame)
	defer resp.Body.Close()
	if method == "initialize" {
		s.id = resp.Header.Get("Mcp-Session-Id")
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		s.t.Fatalf("%s: HTTP %d: %s", method, resp.StatusCode, body)
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		m := decodeMessage(s.t, mustRead(s.t, resp.Body))
		return m, nil
	}
	var before []*message
	var response *message
	eachSSE(s.t, resp.Body, func(data []byte) bool {
		m := decodeMessage(s.t, data)
		switch {
		case m.Method != "" && m.ID != nil:
			s.reply(m)
			before = append(before, m)
		case m.Method != "":
			before = append(before, m)
		default:
			response = m
			return false
		}
		return true
	})
	if response == nil {
		s.t.Fatalf("%s: the stream ended without a response", method)
	}
	return response, before
}

func (s *httpSession) reply(m *message) {
	frame := map[string]any{"jsonrpc": "2.0", "id": m.ID}
	result, errMsg := s.answer(m)
	if errMsg != "" {
		frame["error"] = map[string]any{"code": -32603, "message": errMsg}
	} else {
		frame["result"] = result
	}
	resp := s.post(frame)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		s.t.Errorf("answering %s: HTTP %d, want 202", m.Method, resp.StatusCode)
	}
}

func (s *httpSession) notify(method string) {
	resp := s.post(map[string]any{"jsonrpc": "2.0", "method": method})
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		s.t.Errorf("%s: HTTP %d, want 202", method, resp.StatusCode)
	}
}

func mustRead(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeMessage(t *testing.T, data []byte) *message {
	t.Helper()
	var m message
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("not a JSON-RPC message: %q", data)
	}
	m.raw = data
	return &m
}

// eachSSE passes the data of each event of an SSE stream to f as it
// arrives, until the stream ends or f returns false.
func eachSSE(t *testing.T, r io.Reader, f func(data []byte) bool) {
	t.Helper()
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 64<<20)
	var data []byte
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "data: "):
			data = append(data, line[len("data: "):]...)
		case line == "" && data != nil:
			if !f(data) {
				return
			}
			data = nil
		}
	}
}

func newHTTPSession(t *testing.T, base string) *httpSession {
	s := &httpSession{t: t, base: base, header: http.Header{}, answer: answerAsClient}
	return s
}

func (s *httpSession) initialize(caps map[string]any) {
	s.t.Helper()
	m, _ := s.call("initialize", map[string]any{"protocolVersion": "2025-11-25", "capabilities": caps, "clientInfo": map[string]any{"name": "e2e", "version": "1"}})
	if m.Error != nil || s.id == "" {
		s.t.Fatalf("initialize: %s (session %q)", m.raw, s.id)
	}
	s.notify("notifications/initialized")
}

func TestServeStreamableHTTPSession(t *testing.T) {
	d := startServe(t, unprefixedFixture(t, ""))
	s := newHTTPSession(t, d.url)
	s.initialize(fullClientCaps)

	m, _ := s.call("tools/list", nil)
	if !bytes.Contains(m.Result, []byte(`"name":"echo"`)) {
		t.Fatalf("tools/list: %s", m.raw)
	}
	m, _ = s.call("tools/call", map[string]any{"name": "echo", "arguments": map[string]any{"text": "over http"}})
	if m.Error != nil || m.Result == nil {
		t.Fatalf("echo: %s", m.raw)
	}
	if got := textOf(t, m.Result); got != "over http" {
		t.Errorf("echo: %q", got)
	}

	// Progress goes on the request's own stream, before its response.
	m, before := s.call("tools/call", map[string]any{"name": "progress", "arguments": map[string]any{"steps": 2}, "_meta": map[string]any{"progressToken": "tok"}})
	if m.Error != nil || len(before) != 2 || before[0].Method != "notifications/progress" || !bytes.Contains(before[0].raw, []byte(`"progressToken":"tok"`)) {
		t.Errorf("progress over Streamable HTTP: result %s after %d messages", m.raw, len(before))
	}

	// A server's sampling request comes on the stream; its answer is a POST.
	m, before = s.call("tools/call", map[string]any{"name": "test_sampling", "arguments": map[string]any{"prompt": "hello"}})
	if got := textOf(t, m.Result); got != "LLM response: sampled hello" || len(before) != 1 || before[0].Method != "sampling/createMessage" {
		t.Errorf("sampling over Streamable HTTP: %q after %d messages", got, len(before))
	}

	// DELETE ends the session; its id is then unknown.
	req, _ := http.NewRequest(http.MethodDelete, d.url+"/mcp", nil)
	req.Header.Set("Mcp-Session-Id", s.id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %v %v", err, resp)
	}
	resp = s.post(map[string]any{"jsonrpc": "2.0", "id": 99, "method": "ping"})
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("a request on a deleted session: HTTP %d, want 404", resp.StatusCode)
	}
}

func TestServeStreamableHTTPRefusesWhatTheSpecRefuses(t *testing.T) {
	d := startServe(t, unprefixedFixture(t, ""), "--max-sessions", "1")
	anon := newHTTPSession(t, d.url)
	resp := anon.post(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a request without a session: HTTP %d, want 400", resp.StatusCode)
	}
	anon.id = "no-such-session"
	resp = anon.post(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown session: HTTP %d, want 404", resp.StatusCode)
	}
	s := newHTTPSession(t, d.url)
	s.initialize(map[string]any{})
	s.header.Set("MCP-Protocol-Version", "1999-01-01")
	resp = s.post(map[string]any{"jsonrpc": "2.0", "id": 5, "method": "ping"})
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an unsupported MCP-Protocol-Version: HTTP %d, want 400", resp.StatusCode)
	}
	second := newHTTPSession(t, d.url)
	resp = second.post(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "x", "version": "1"}}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a session past --max-sessions 1: HTTP %d (Retry-After %q), want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	resp = anon.postRaw("{not json")
	if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(mustRead(t, resp.Body), []byte("-32700")) {
		t.Errorf("malformed JSON: HTTP %d, want 400 with -32700", resp.StatusCode)
	}
}

func (s *httpSession) postRaw(body string) *http.Response {
	req, _ := http.NewRequest(http.MethodPost, s.base+"/mcp", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp
}

// getStatus GETs url with headers ("Host" sets the request's host) and
// returns the response's status.
func getStatus(t *testing.T, url string, headers map[string]string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestServeGuardsHostOriginAndToken(t *testing.T) {
	d := startServe(t, unprefixedFixture(t, ""), "--auth-token", "sesame")
	get := func(path string, headers map[string]string) int { return getStatus(t, d.url+path, headers) }
	bearer := "Bearer sesame"
	for _, tc := range []struct {
		name    string
		path    string
		headers map[string]string
		want    int
	}{
		{"health needs no token", "/healthz", nil, 200},
		{"no token", "/mcp", nil, 401},
		{"wrong token", "/mcp", map[string]string{"Authorization": "Bearer nope"}, 401},
		{"right token, no session", "/mcp", map[string]string{"Authorization": bearer}, 404},
		{"foreign Host (DNS rebinding)", "/mcp", map[string]string{"Authorization": bearer, "Host": "evil.example:80"}, 403},
		{"foreign Origin", "/mcp", map[string]string{"Authorization": bearer, "Origin": "http://evil.example"}, 403},
		{"loopback Origin", "/mcp", map[string]string{"Authorization": bearer, "Origin": "http://localhost:3000"}, 404},
	} {
		if got := get(tc.path, tc.headers); got != tc.want {
			t.Errorf("%s: HTTP %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestServeRefusesAnOpenAddressWithoutAToken(t *testing.T) {
	cmd := exec.Command(plugboardBin, "serve", "--config", unprefixedFixture(t, ""), "--listen", "0.0.0.0:0", "--socket", "", "--no-auth")
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if exitErr, ok := err.(*exec.ExitError); !ok || exitErr.ExitCode() != 2 || !strings.Contains(stderr.String(), "auth token") {
		t.Fatalf("got %v: %s", err, stderr.String())
	}
}

func TestServeLegacySSE(t *testing.T) {
	d := startServe(t, unprefixedFixture(t, ""))
	resp, err := http.Get(d.url + "/sse")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := make(chan [2]string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				event = v
			} else if v, ok := strings.CutPrefix(line, "data: "); ok {
				events <- [2]string{event, v}
			}
		}
		close(events)
	}()
	next := func() [2]string {
		select {
		case e := <-events:
			return e
		case <-time.After(10 * time.Second):
			t.Fatal("no SSE event")
			return [2]string{}
		}
	}
	endpoint := next()
	if endpoint[0] != "endpoint" || !strings.HasPrefix(endpoint[1], "/message?sessionId=") {
		t.Fatalf("first event: %v", endpoint)
	}
	post := func(body string) {
		r, err := http.Post(d.url+endpoint[1], "application/json", strings.NewReader(body))
		if err != nil || r.StatusCode != http.StatusAccepted {
			t.Fatalf("POST %s: %v %v", endpoint[1], err, r)
		}
		r.Body.Close()
	}
	post(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"e2e","version":"1"}}}`)
	if e := next(); !strings.Contains(e[1], `"protocolVersion":"2024-11-05"`) {
		t.Fatalf("initialize over SSE: %v", e)
	}
	post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	post(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"legacy"}}}`)
	if e := next(); e[0] != "message" || !strings.Contains(e[1], `"text":"legacy"`) {
		t.Fatalf("echo over SSE: %v", e)
	}
}

func TestServeSocketAndAttach(t *testing.T) {
	socket := fmt.Sprintf("%s/pb.sock", t.TempDir())
	cfg := unprefixedFixture(t, "")
	d := startServe(t, cfg, "--socket", socket)
	eventually(t, 10*time.Second, "the socket", func() bool { return strings.Contains(d.stderr.String(), "socket="+socket) })
	for i := 0; i < 2; i++ { // two clients share the daemon's servers
		c := launchCommand(t, plugboardBin, "attach", "--socket", socket)
		c.mustCall("initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "e2e", "version": "1"}})
		if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "echo", "arguments": map[string]any{"text": fmt.Sprint("attached ", i)}})); got != fmt.Sprint("attached ", i) {
			t.Errorf("echo through attach: %q", got)
		}
	}
	if n := strings.Count(d.stderr.String(), "server ready"); n != 1 {
		t.Errorf("the fixture started %d times; attached clients must share it", n)
	}
}

func TestServeExpiresIdleSessionsAndRefusesHugeMessages(t *testing.T) {
	d := startServe(t, unprefixedFixture(t, ""), "--session-idle", "1s")
	s := newHTTPSession(t, d.url)
	s.initialize(map[string]any{})
	// Waiting must not touch the session: the log says when it expired.
	eventually(t, 10*time.Second, "the idle session expired", func() bool {
		return strings.Contains(d.stderr.String(), "session expired")
	})
	resp := s.post(map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"})
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("an expired session: HTTP %d, want 404", resp.StatusCode)
	}

	huge := `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"` + strings.Repeat("x", 17<<20) + `"}}`
	resp = s.postRaw(huge)
	body := mustRead(t, resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !bytes.Contains(body, []byte("message over")) {
		t.Errorf("a 17 MiB message: HTTP %d %s, want 413", resp.StatusCode, body)
	}
}
