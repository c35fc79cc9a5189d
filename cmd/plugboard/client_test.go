package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Binaries built once for the whole test run, with the race detector when
// the tests run with it.
var (
	plugboardBin string
	fixtureBin   string
	// sdkFixtureBin is cmd/sdk-fixture, a server on the official Go SDK.
	sdkFixtureBin string
	// ndjsonFixtureBin is cmd/ndjson-fixture, a server on the official Go
	// SDK that answers in newline-delimited JSON.
	ndjsonFixtureBin string
	// conformanceClientBin is testdata/conformance-client, the harness
	// through which the suite's client scenarios drive plugboard.
	conformanceClientBin string
	raceEnabled          bool
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "plugboard-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	plugboardBin = filepath.Join(dir, "plugboard")
	fixtureBin = filepath.Join(dir, "mcp-fixture")
	sdkFixtureBin = filepath.Join(dir, "sdk-fixture")
	ndjsonFixtureBin = filepath.Join(dir, "ndjson-fixture")
	conformanceClientBin = filepath.Join(dir, "conformance-client")
	// Each run's plugboards share one era cache of their own, not the
	// user's (a test that is about the cache sets its own).
	os.Setenv("PLUGBOARD_ERA_CACHE", filepath.Join(dir, "eras.json"))
	// ... and one state directory (sockets, token, children records) of
	// their own, not the user's.
	runtimeDir := filepath.Join(dir, "run")
	if err := os.Mkdir(runtimeDir, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_RUNTIME_DIR", runtimeDir)
	for pkg, out := range map[string]string{".": plugboardBin, "../mcp-fixture": fixtureBin, "../sdk-fixture": sdkFixtureBin, "../ndjson-fixture": ndjsonFixtureBin, "./testdata/conformance-client": conformanceClientBin} {
		args := []string{"build", "-o", out, pkg}
		if raceEnabled {
			args = []string{"build", "-race", "-o", out, pkg}
		}
		cmd := exec.Command("go", args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building", pkg, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// message is any JSON-RPC message the client receives.
type message struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
	raw []byte
}

// client drives a real plugboard process over its stdin and stdout, as a
// desktop client does. Every line plugboard writes to stdout must be a
// JSON-RPC 2.0 frame; anything else fails the test.
type client struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *lockedBuffer
	exited chan struct{}

	mu            sync.Mutex
	nextID        int
	waiting       map[string]chan *message
	notifications chan *message
	writeMu       sync.Mutex

	// answer answers plugboard's requests to the client (sampling,
	// elicitation, roots); requests records them.
	answer   func(m *message) (result any, errMsg string)
	requests chan *message
}

// lockedBuffer collects a process's stderr.
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

// writeConfig writes a YAML configuration into a temporary directory.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plugboard.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fixtureServer renders one fixture server's YAML entry.
func fixtureServer(name string, extra ...string) string {
	args := append([]string{"--name", name}, extra...)
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = fmt.Sprintf("%q", a)
	}
	return fmt.Sprintf("  %s:\n    command: %q\n    args: [%s]\n", name, fixtureBin, strings.Join(quoted, ", "))
}

// startPlugboard starts plugboard in stdio mode on a configuration and
// initializes a session.
func startPlugboard(t *testing.T, configPath string, args ...string) *client {
	t.Helper()
	return startPlugboardAs(t, configPath, map[string]any{}, nil, args...)
}

// startPlugboardAs starts plugboard for a client that offers caps and
// answers plugboard's requests with answer.
func startPlugboardAs(t *testing.T, configPath string, caps map[string]any, answer func(*message) (any, string), args ...string) *client {
	t.Helper()
	c := launch(t, configPath, args...)
	c.answer = answer
	res := c.call("initialize", map[string]any{
		"protocolVersion": "2025-06-18",
		"capabilities":    caps,
		"clientInfo":      map[string]any{"name": "e2e", "version": "1"},
	})
	if res.Error != nil {
		t.Fatalf("initialize failed: %s", res.raw)
	}
	c.notify("notifications/initialized", nil)
	return c
}

// launch starts plugboard without initializing.
func launch(t *testing.T, configPath string, args ...string) *client {
	t.Helper()
	return launchCommand(t, plugboardBin, append([]string{"--config", configPath}, args...)...)
}

// launchCommand starts a command that speaks MCP on its stdio.
func launchCommand(t *testing.T, name string, args ...string) *client {
	t.Helper()
	return launchCommandEnv(t, nil, name, args...)
}

// launchCommandEnv is launchCommand with variables added to the
// environment ("NAME=value").
func launchCommandEnv(t *testing.T, env []string, name string, args ...string) *client {
	t.Helper()
	cmd := exec.Command(name, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, cmd: cmd, stdin: stdin, stderr: &lockedBuffer{}, exited: make(chan struct{}),
		waiting: map[string]chan *message{}, notifications: make(chan *message, 1000), requests: make(chan *message, 100)}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go c.read(stdout)
	t.Cleanup(func() {
		c.close()
		if t.Failed() {
			t.Logf("plugboard stderr:\n%s", c.stderr.String())
		}
	})
	return c
}

func (c *client) read(stdout io.Reader) {
	defer close(c.exited)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		line := append([]byte(nil), sc.Bytes()...)
		var m message
		var version struct {
			JSONRPC string `json:"jsonrpc"`
		}
		if err := json.Unmarshal(line, &m); err != nil || json.Unmarshal(line, &version) != nil || version.JSONRPC != "2.0" {
			c.t.Errorf("plugboard wrote a line to stdout that is not a JSON-RPC frame: %q", line)
			continue
		}
		m.raw = line
		if m.Method != "" && m.ID == nil {
			c.notifications <- &m
			continue
		}
		if m.Method != "" {
			c.requests <- &m
			go c.respond(&m)
			continue
		}
		c.mu.Lock()
		ch := c.waiting[string(m.ID)]
		delete(c.waiting, string(m.ID))
		c.mu.Unlock()
		if ch == nil {
			c.t.Errorf("response to no request: %s", line)
			continue
		}
		ch <- &m
	}
}

func (c *client) writeLine(b []byte) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if _, err := c.stdin.Write(append(b, '\n')); err != nil {
		c.t.Errorf("writing to plugboard: %v", err)
	}
}

// respond answers one of plugboard's requests with c.answer.
func (c *client) respond(m *message) {
	frame := map[string]any{"jsonrpc": "2.0", "id": m.ID}
	if c.answer == nil {
		frame["error"] = map[string]any{"code": -32601, "message": "this client answers no requests"}
	} else if result, errMsg := c.answer(m); errMsg != "" {
		frame["error"] = map[string]any{"code": -32603, "message": errMsg}
	} else {
		frame["result"] = result
	}
	b, _ := json.Marshal(frame)
	c.writeLine(b)
}

// send sends a request and returns the channel its response arrives on.
func (c *client) send(method string, params any) (id string, ch chan *message) {
	c.mu.Lock()
	c.nextID++
	id = fmt.Sprintf("%d", c.nextID)
	ch = make(chan *message, 1)
	c.waiting[id] = ch
	c.mu.Unlock()
	frame := map[string]any{"jsonrpc": "2.0", "id": c.nextIDValue(id), "method": method}
	if params != nil {
		frame["params"] = params
	}
	b, _ := json.Marshal(frame)
	c.writeLine(b)
	return id, ch
}

func (c *client) nextIDValue(id string) any {
	var n int
	fmt.Sscan(id, &n)
	return n
}

// call sends a request and waits for its response.
func (c *client) call(method string, params any) *message {
	c.t.Helper()
	_, ch := c.send(method, params)
	return c.wait(ch, method)
}

func (c *client) wait(ch chan *message, what string) *message {
	c.t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(30 * time.Second):
		c.t.Fatalf("no response to %s within 30s", what)
		return nil
	}
}

// mustCall is call that fails the test on an error response.
func (c *client) mustCall(method string, params any) json.RawMessage {
	c.t.Helper()
	m := c.call(method, params)
	if m.Error != nil {
		c.t.Fatalf("%s failed: %s", method, m.raw)
	}
	return m.Result
}

func (c *client) notify(method string, params any) {
	frame := map[string]any{"jsonrpc": "2.0", "method": method}
	if params != nil {
		frame["params"] = params
	}
	b, _ := json.Marshal(frame)
	c.writeLine(b)
}

// waitNotification waits for a notification with the method, skipping others.
func (c *client) waitNotification(method string, within time.Duration) *message {
	c.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case m := <-c.notifications:
			if m.Method == method {
				return m
			}
		case <-deadline:
			c.t.Fatalf("no %s within %s", method, within)
			return nil
		}
	}
}

func (c *client) close() {
	c.stdin.Close()
	select {
	case <-c.exited:
	case <-time.After(15 * time.Second):
		if c.cmd != nil {
			c.cmd.Process.Kill()
		}
	}
	if c.cmd != nil {
		_ = c.cmd.Wait()
	}
}

// listAll follows every page of a list and returns the items' raw JSON.
func (c *client) listAll(method, key string) []json.RawMessage {
	c.t.Helper()
	var all []json.RawMessage
	cursor := ""
	for page := 0; page < 1000; page++ {
		var params any
		if cursor != "" {
			params = map[string]any{"cursor": cursor}
		}
		res := c.mustCall(method, params)
		var p map[string]json.RawMessage
		if err := json.Unmarshal(res, &p); err != nil {
			c.t.Fatalf("%s: %v", method, err)
		}
		var items []json.RawMessage
		if err := json.Unmarshal(p[key], &items); err != nil {
			c.t.Fatalf("%s: %s is not a list: %s", method, key, res)
		}
		all = append(all, items...)
		cursor = ""
		if next, ok := p["nextCursor"]; ok {
			json.Unmarshal(next, &cursor)
		}
		if cursor == "" {
			return all
		}
	}
	c.t.Fatalf("%s: too many pages", method)
	return nil
}

// names returns the "name" (or "uri") of each item.
func names(t *testing.T, items []json.RawMessage, field string) []string {
	t.Helper()
	var out []string
	for _, it := range items {
		var m map[string]any
		if err := json.Unmarshal(it, &m); err != nil {
			t.Fatal(err)
		}
		s, _ := m[field].(string)
		out = append(out, s)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// textOf returns the first text content of a tool result.
func textOf(t *testing.T, result json.RawMessage) string {
	t.Helper()
	var r struct {
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
	}
	if err := json.Unmarshal(result, &r); err != nil || len(r.Content) == 0 {
		t.Fatalf("not a tool result with content: %s", result)
	}
	return r.Content[0].Text
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
