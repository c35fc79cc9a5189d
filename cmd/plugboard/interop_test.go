package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serverEverything is the published reference server the interop tests
// run behind plugboard.
const serverEverything = "@modelcontextprotocol/server-everything@2026.8.31"

// everythingConfig installs the reference server and returns a config with
// it (started through a shell that records its pid, so that a test can
// kill it) and one fixture server.
func everythingConfig(t *testing.T) (config, pidFile string) {
	dir := npmInstall(t, serverEverything)
	bin := filepath.Join(dir, "node_modules", ".bin", "mcp-server-everything")
	pidFile = filepath.Join(t.TempDir(), "everything.pid")
	script := fmt.Sprintf("echo $$ > %q; exec %q", pidFile, bin)
	config = writeConfig(t, fmt.Sprintf("servers:\n  everything:\n    command: /bin/sh\n    args: [\"-c\", %q]\n", script)+fixtureServer("fx"))
	return config, pidFile
}

func TestReferenceServerJourney(t *testing.T) {
	cfg, pidFile := everythingConfig(t)
	c := startPlugboard(t, cfg, "--startup-timeout", "30s")

	tools := names(t, c.listAll("tools/list", "tools"), "name")
	for _, want := range []string{"everything__echo", "everything__get-sum", "everything__trigger-long-running-operation", "fx__echo"} {
		if !contains(tools, want) {
			t.Fatalf("tools/list lacks %s: %v", want, tools)
		}
	}
	if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "everything__echo", "arguments": map[string]any{"message": "hi"}})); !strings.Contains(got, "hi") {
		t.Errorf("everything__echo answered %q", got)
	}
	if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "everything__get-sum", "arguments": map[string]any{"a": 2, "b": 3}})); !strings.Contains(got, "5") {
		t.Errorf("everything__get-sum(2, 3) answered %q", got)
	}

	// 50 concurrent calls, each answered with its own text.
	chans := make([]chan *message, 50)
	for i := range chans {
		_, chans[i] = c.send("tools/call", map[string]any{"name": "everything__echo", "arguments": map[string]any{"message": fmt.Sprintf("m%d", i)}})
	}
	for i, ch := range chans {
		m := c.wait(ch, "everything__echo")
		if m.Error != nil || !strings.HasSuffix(textOf(t, m.Result), fmt.Sprintf("m%d", i)) {
			t.Errorf("concurrent call %d: %s", i, m.raw)
		}
	}

	prompts := names(t, c.listAll("prompts/list", "prompts"), "name")
	if !contains(prompts, "everything__simple-prompt") {
		t.Fatalf("prompts/list lacks everything__simple-prompt: %v", prompts)
	}
	if res := c.mustCall("prompts/get", map[string]any{"name": "everything__args-prompt", "arguments": map[string]any{"city": "Lisbon"}}); !bytes.Contains(res, []byte("Lisbon")) {
		t.Errorf("prompts/get everything__args-prompt: %s", res)
	}
	resources := names(t, c.listAll("resources/list", "resources"), "uri")
	if len(resources) == 0 {
		t.Fatal("no resources listed")
	}
	if res := c.mustCall("resources/read", map[string]any{"uri": resources[0]}); !bytes.Contains(res, []byte(resources[0])) {
		t.Errorf("resources/read %s: %s", resources[0], res)
	}
	if res := c.mustCall("resources/read", map[string]any{"uri": "demo://resource/dynamic/text/7"}); !bytes.Contains(res, []byte("contents")) {
		t.Errorf("resources/read through a template: %s", res)
	}
	m := c.call("tools/call", map[string]any{"name": "everything__nope", "arguments": map[string]any{}})
	if m.Error == nil || m.Error.Code != -32602 {
		t.Errorf("unknown tool: %s", m.raw)
	}

	// Kill the reference server mid-call: the call fails at once naming
	// it, the fixture goes on, and the server comes back.
	_, slow := c.send("tools/call", map[string]any{"name": "everything__trigger-long-running-operation", "arguments": map[string]any{"duration": 30, "steps": 5}})
	pid := readPid(t, pidFile)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	m = c.wait(slow, "the call in flight to the killed server")
	if m.Error == nil || !strings.Contains(m.Error.Message, "everything") || !strings.Contains(m.Error.Message, "killed") {
		t.Errorf("in-flight call to a killed server: %s", m.raw)
	}
	if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "fx__echo", "arguments": map[string]any{"text": "unaffected"}})); got != "unaffected" {
		t.Errorf("fixture answered %q", got)
	}
	eventually(t, 30*time.Second, "the reference server restarted", func() bool {
		m := c.call("tools/call", map[string]any{"name": "everything__echo", "arguments": map[string]any{"message": "back"}})
		return m.Error == nil
	})
	if readPid(t, pidFile) == pid {
		t.Error("the server answered but its pid did not change")
	}
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	var pid int
	eventually(t, 10*time.Second, "the server's pid file", func() bool {
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	})
	return pid
}

// TestReferenceServerSchemasArriveIntact checks the reference server's tool list reaches the
// client with its schemas intact.
func TestReferenceServerSchemasArriveIntact(t *testing.T) {
	cfg, _ := everythingConfig(t)
	c := startPlugboard(t, cfg, "--startup-timeout", "30s")
	for _, tool := range c.listAll("tools/list", "tools") {
		var tl struct {
			Name        string          `json:"name"`
			InputSchema json.RawMessage `json:"inputSchema"`
		}
		json.Unmarshal(tool, &tl)
		if tl.Name == "everything__echo" {
			if !bytes.Contains(tl.InputSchema, []byte(`"$schema"`)) || !bytes.Contains(tool, []byte(`"annotations"`)) {
				t.Errorf("everything__echo lost schema fields or annotations: %s", tool)
			}
			return
		}
	}
	t.Fatal("everything__echo not listed")
}
