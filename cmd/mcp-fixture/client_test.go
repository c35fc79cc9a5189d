package main

// A minimal MCP client over the fixture's stdio, for the end-to-end tests.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// readTimeout bounds every wait for the fixture, so a missing frame fails
// the test instead of hanging it.
const readTimeout = 10 * time.Second

// fixtureProcess is one running fixture and the client end of its stdio.
type fixtureProcess struct {
	t      *testing.T
	stdin  io.WriteCloser
	frames chan string // stdout lines, closed at EOF
	stderr *lockedBuffer
	exited chan struct{} // closed once the process has been waited for
	code   int           // exit code, valid once exited is closed
	nextID int
}

func startFixture(t *testing.T, bin string, args ...string) *fixtureProcess {
	t.Helper()
	cmd := exec.Command(bin, args...)
	f := &fixtureProcess{t: t, frames: make(chan string, 1024), stderr: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = f.stderr
	var err error
	if f.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	go func() {
		r := bufio.NewReader(stdout)
		for {
			line, err := r.ReadString('\n')
			if line != "" {
				f.frames <- line
			}
			if err != nil {
				break
			}
		}
		close(f.frames)
		// Wait only after stdout is drained, as os/exec requires.
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
		for range f.frames {
		}
		<-f.exited
	})
	return f
}

// startInitialized starts a fixture and completes the initialize handshake
// with the given client capabilities.
func startInitialized(t *testing.T, bin, capabilities string, args ...string) *fixtureProcess {
	t.Helper()
	f := startFixture(t, bin, args...)
	resp := f.call("initialize", map[string]any{
		"protocolVersion": "2025-11-25", "capabilities": json.RawMessage(capabilities),
		"clientInfo": map[string]any{"name": "fixture-test", "version": "0"},
	})
	if resp.Error != nil {
		t.Fatalf("initialize: %s", resp.raw)
	}
	f.send(map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"})
	return f
}

func (f *fixtureProcess) sendLine(line string) {
	f.t.Helper()
	if _, err := io.WriteString(f.stdin, line+"\n"); err != nil {
		f.t.Fatalf("writing to fixture: %v", err)
	}
}

func (f *fixtureProcess) send(v any) {
	f.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		f.t.Fatal(err)
	}
	f.sendLine(string(b))
}

// request sends a request with a fresh integer id and returns the id.
func (f *fixtureProcess) request(method string, params any) int {
	f.t.Helper()
	f.nextID++
	msg := map[string]any{"jsonrpc": "2.0", "id": f.nextID, "method": method}
	if params != nil {
		msg["params"] = params
	}
	f.send(msg)
	return f.nextID
}

// next returns the next stdout frame, failing the test if none comes in
// time or if the line is not a JSON-RPC 2.0 message.
func (f *fixtureProcess) next() wireFrame {
	f.t.Helper()
	select {
	case line, ok := <-f.frames:
		if !ok {
			f.t.Fatalf("fixture closed stdout; stderr:\n%s", f.stderr.String())
		}
		return parseFrame(f.t, line)
	case <-time.After(readTimeout):
		f.t.Fatalf("no frame from fixture within %v", readTimeout)
	}
	panic("unreachable")
}

// awaitResponse reads frames until the response to id and returns it with
// the frames that came before it.
func (f *fixtureProcess) awaitResponse(id int) (wireFrame, []wireFrame) {
	f.t.Helper()
	var before []wireFrame
	for {
		fr := f.next()
		if fr.isResponseTo(id) {
			return fr, before
		}
		before = append(before, fr)
	}
}

// awaitRequest reads frames until a server-to-client request for method.
func (f *fixtureProcess) awaitRequest(method string) wireFrame {
	f.t.Helper()
	for {
		if fr := f.next(); fr.Method == method && len(fr.ID) > 0 {
			return fr
		}
	}
}

func (f *fixtureProcess) call(method string, params any) wireFrame {
	f.t.Helper()
	resp, _ := f.awaitResponse(f.request(method, params))
	return resp
}

func (f *fixtureProcess) callTool(name string, args any) toolResultView {
	f.t.Helper()
	return f.call("tools/call", map[string]any{"name": name, "arguments": args}).toolResult(f.t)
}

// listAll follows nextCursor through every page of a list method and
// returns the items of field in order.
func (f *fixtureProcess) listAll(method, field string) []json.RawMessage {
	f.t.Helper()
	var items []json.RawMessage
	var cursor string
	for pages := 0; ; pages++ {
		if pages > 1000 {
			f.t.Fatalf("%s: no end of pages", method)
		}
		var params any
		if cursor != "" {
			params = map[string]any{"cursor": cursor}
		}
		var page map[string]json.RawMessage
		f.call(method, params).decodeResult(f.t, &page)
		var pageItems []json.RawMessage
		if err := json.Unmarshal(page[field], &pageItems); err != nil {
			f.t.Fatalf("%s: field %s: %v", method, field, err)
		}
		items = append(items, pageItems...)
		if page["nextCursor"] == nil {
			return items
		}
		if err := json.Unmarshal(page["nextCursor"], &cursor); err != nil {
			f.t.Fatalf("%s: nextCursor: %v", method, err)
		}
	}
}

func (f *fixtureProcess) waitExit() int {
	f.t.Helper()
	select {
	case <-f.exited:
		return f.code
	case <-time.After(readTimeout):
		f.t.Fatalf("fixture did not exit within %v", readTimeout)
	}
	panic("unreachable")
}

func (f *fixtureProcess) closeAndWait() int {
	f.t.Helper()
	f.stdin.Close()
	return f.waitExit()
}

// remainingFrames returns what the fixture wrote before it exited; call it
// only after waitExit.
func (f *fixtureProcess) remainingFrames() []wireFrame {
	f.t.Helper()
	var frames []wireFrame
	for line := range f.frames {
		frames = append(frames, parseFrame(f.t, line))
	}
	return frames
}

// wireFrame is a JSON-RPC message as read off the fixture's stdout.
type wireFrame struct {
	raw     string
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

func parseFrame(t *testing.T, line string) wireFrame {
	t.Helper()
	fr := wireFrame{raw: strings.TrimSuffix(line, "\n")}
	if err := json.Unmarshal([]byte(fr.raw), &fr); err != nil || fr.JSONRPC != "2.0" {
		t.Fatalf("stdout line is not a JSON-RPC 2.0 message: %q", line)
	}
	return fr
}

func (fr wireFrame) String() string { return fr.raw }

func (fr wireFrame) isResponseTo(id int) bool {
	return fr.Method == "" && string(fr.ID) == strconv.Itoa(id)
}

func (fr wireFrame) decodeResult(t *testing.T, v any) {
	t.Helper()
	if fr.Error != nil || fr.Result == nil {
		t.Fatalf("expected a result, got %s", fr.raw)
	}
	if err := json.Unmarshal(fr.Result, v); err != nil {
		t.Fatalf("decoding result %s: %v", fr.Result, err)
	}
}

func (fr wireFrame) decodeParams(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(fr.Params, v); err != nil {
		t.Fatalf("decoding params %s: %v", fr.Params, err)
	}
}

// toolResultView is the part of a CallToolResult the tests look at.
type toolResultView struct {
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
	StructuredContent json.RawMessage `json:"structuredContent"`
	IsError           bool            `json:"isError"`
}

func (fr wireFrame) toolResult(t *testing.T) toolResultView {
	t.Helper()
	var r toolResultView
	fr.decodeResult(t, &r)
	return r
}

// text is the text of the first content block.
func (r toolResultView) text() string {
	if len(r.Content) == 0 {
		return ""
	}
	return r.Content[0].Text
}

// lockedBuffer collects stderr, which os/exec writes from its own goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
