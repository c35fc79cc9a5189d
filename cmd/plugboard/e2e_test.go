package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// twoServers is a configuration with two fixture servers, one under a
// custom prefix.
func twoServers(t *testing.T, extra string) string {
	return writeConfig(t, "servers:\n"+fixtureServer("alpha", "--stderr-lines", "2")+fixtureServer("beta")+"    prefix: b\n"+extra)
}

func TestListsToolsOfEveryServerUnderItsPrefix(t *testing.T) {
	c := startPlugboard(t, twoServers(t, ""))
	tools := names(t, c.listAll("tools/list", "tools"), "name")
	for _, want := range []string{"alpha__echo", "alpha__add", "b__echo", "b__crash", "alpha__weird"} {
		if !contains(tools, want) {
			t.Errorf("tools/list lacks %s; got %v", want, tools)
		}
	}
	prompts := names(t, c.listAll("prompts/list", "prompts"), "name")
	if !contains(prompts, "alpha__greeting") || !contains(prompts, "b__greeting") {
		t.Errorf("prompts/list lacks the greetings: %v", prompts)
	}
	resources := names(t, c.listAll("resources/list", "resources"), "uri")
	if !contains(resources, "fixture://alpha/static") || !contains(resources, "fixture://beta/static") {
		t.Errorf("resources/list lacks the static resources: %v", resources)
	}
	templates := names(t, c.listAll("resources/templates/list", "resourceTemplates"), "uriTemplate")
	if !contains(templates, "fixture://alpha/items/{id}") {
		t.Errorf("resources/templates/list lacks alpha's template: %v", templates)
	}
	for _, name := range tools {
		if len(name) > 64 || strings.ContainsAny(name, " ./:") {
			t.Errorf("client-facing name %q breaks ^[a-zA-Z0-9_-]{1,64}$", name)
		}
	}
}

func TestCallsReachTheRightServer(t *testing.T) {
	c := startPlugboard(t, twoServers(t, ""))
	for _, tc := range []struct{ tool, server string }{{"alpha__echo", "alpha"}, {"b__echo", "beta"}} {
		res := c.mustCall("tools/call", map[string]any{"name": tc.tool, "arguments": map[string]any{"text": "hi"}})
		var r struct {
			StructuredContent struct{ Server, Text string } `json:"structuredContent"`
		}
		json.Unmarshal(res, &r)
		if r.StructuredContent.Server != tc.server || r.StructuredContent.Text != "hi" {
			t.Errorf("%s answered by %q with %q, want %s: %s", tc.tool, r.StructuredContent.Server, r.StructuredContent.Text, tc.server, res)
		}
	}
	if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "b__add", "arguments": map[string]any{"a": 2, "b": 40}})); got != "42" {
		t.Errorf("b__add(2, 40) = %q", got)
	}
}

func TestFiftyConcurrentCallsEachGetTheirOwnAnswer(t *testing.T) {
	c := startPlugboard(t, twoServers(t, ""))
	c.mustCall("tools/list", nil)
	type call struct {
		want string
		ch   chan *message
	}
	calls := make([]call, 50)
	for i := range calls {
		tool := []string{"alpha__echo", "b__echo"}[i%2]
		want := fmt.Sprintf("call-%d", i)
		_, ch := c.send("tools/call", map[string]any{"name": tool, "arguments": map[string]any{"text": want}})
		calls[i] = call{want, ch}
	}
	for _, cl := range calls {
		m := c.wait(cl.ch, "tools/call")
		if m.Error != nil {
			t.Errorf("call for %s failed: %s", cl.want, m.raw)
			continue
		}
		if got := textOf(t, m.Result); got != cl.want {
			t.Errorf("got %q, want %q", got, cl.want)
		}
	}
}

func TestPromptsAndResourcesAreRouted(t *testing.T) {
	c := startPlugboard(t, twoServers(t, ""))
	res := c.mustCall("prompts/get", map[string]any{"name": "b__greeting", "arguments": map[string]any{"name": "Ada"}})
	if !bytes.Contains(res, []byte("Hello, Ada!")) {
		t.Errorf("prompts/get b__greeting: %s", res)
	}
	res = c.mustCall("resources/read", map[string]any{"uri": "fixture://beta/static"})
	if !bytes.Contains(res, []byte("static resource of beta")) {
		t.Errorf("resources/read of beta's static resource: %s", res)
	}
	res = c.mustCall("resources/read", map[string]any{"uri": "fixture://alpha/items/42"})
	if !bytes.Contains(res, []byte("item 42 of alpha")) {
		t.Errorf("resources/read through alpha's template: %s", res)
	}
	m := c.call("resources/read", map[string]any{"uri": "nowhere://x"})
	if m.Error == nil || m.Error.Code != -32002 {
		t.Errorf("reading an unknown resource: %s", m.raw)
	}
}

func TestUnknownToolIsAnInvalidParamsError(t *testing.T) {
	c := startPlugboard(t, twoServers(t, ""))
	m := c.call("tools/call", map[string]any{"name": "alpha__nope", "arguments": map[string]any{}})
	if m.Error == nil || m.Error.Code != -32602 || !strings.Contains(m.Error.Message, "alpha__nope") {
		t.Fatalf("unknown tool: got %s, want error -32602 naming it", m.raw)
	}
	m = c.call("no/such/method", nil)
	if m.Error == nil || m.Error.Code != -32601 {
		t.Fatalf("unknown method: got %s, want -32601", m.raw)
	}
}

func TestMalformedInputGetsSpecErrorsAndTheSessionGoesOn(t *testing.T) {
	c := startPlugboard(t, twoServers(t, ""))
	for _, tc := range []struct {
		line string
		code int
	}{
		{`{"jsonrpc":"2.0","id":1,"method":`, -32700},
		{`not json at all`, -32700},
		{`{"jsonrpc":"1.0","id":7,"method":"ping"}`, -32600},
		{`[{"jsonrpc":"2.0","id":8,"method":"ping"}]`, -32600},
	} {
		answer := c.waitingFor(tc.line) // before writing: the answer may be quick
		c.writeLine([]byte(tc.line))
		var m *message
		select {
		case m = <-answer:
		case <-time.After(10 * time.Second):
			t.Fatalf("no answer to %s", tc.line)
		}
		if m.Error == nil || m.Error.Code != tc.code {
			t.Errorf("%s: got %s, want code %d", tc.line, m.raw, tc.code)
		}
	}
	if m := c.call("ping", nil); m.Error != nil {
		t.Fatalf("session did not go on: %s", m.raw)
	}
}

// waitingFor registers for the response to a hand-written line: one with
// id 7 or 8 answers under that id, the others under null.
func (c *client) waitingFor(line string) chan *message {
	id := "null"
	for _, n := range []string{"7", "8"} {
		if strings.Contains(line, `"id":`+n) && !strings.HasPrefix(line, "[") {
			id = n
		}
	}
	ch := make(chan *message, 1)
	c.mu.Lock()
	c.waiting[id] = ch
	c.mu.Unlock()
	return ch
}

func TestRawFieldsReachTheClientUnchanged(t *testing.T) {
	c := startPlugboard(t, twoServers(t, ""))
	var weird json.RawMessage
	for _, tool := range c.listAll("tools/list", "tools") {
		if bytes.Contains(tool, []byte(`"alpha__weird"`)) {
			weird = tool
		}
	}
	if weird == nil {
		t.Fatal("alpha__weird not listed")
	}
	for _, want := range []string{`"x-future-field"`, `"unevaluatedProperties"`, `"$defs"`, `2.50`, `"x-vendor"`, `"icons"`, `"vendor/key"`, `"uri-reference"`} {
		if !bytes.Contains(weird, []byte(want)) {
			t.Errorf("the weird tool lost %s through plugboard: %s", want, weird)
		}
	}
	if bytes.Contains(weird, []byte(`"required":[]`)) {
		t.Errorf("plugboard added a required list to the schema: %s", weird)
	}
	res := c.mustCall("tools/call", map[string]any{"name": "alpha__weird", "arguments": map[string]any{}})
	for _, want := range []string{`12345678901234567890`, `1.50`, `"x-unknown-result-field"`, `"x-unknown-content-field"`, `"vendor/trace"`, `"priority":0.5`} {
		if !bytes.Contains(bytes.ReplaceAll(res, []byte(" "), nil), []byte(want)) {
			t.Errorf("the weird result lost %s through plugboard: %s", want, res)
		}
	}
}

func TestListsArePaginated(t *testing.T) {
	c := startPlugboard(t, twoServers(t, ""), "--page-size", "3")
	first := c.mustCall("tools/list", nil)
	if !bytes.Contains(first, []byte(`"nextCursor"`)) {
		t.Fatalf("first page of 3 has no nextCursor: %s", first)
	}
	tools := names(t, c.listAll("tools/list", "tools"), "name")
	seen := map[string]bool{}
	for _, n := range tools {
		if seen[n] {
			t.Errorf("%s listed twice across pages", n)
		}
		seen[n] = true
	}
	if !seen["alpha__echo"] || !seen["b__weird"] {
		t.Errorf("pages lack tools: %v", tools)
	}
	m := c.call("tools/list", map[string]any{"cursor": "garbage"})
	if m.Error == nil || m.Error.Code != -32602 {
		t.Errorf("a bad cursor: got %s, want -32602", m.raw)
	}
}

func TestFollowsDownstreamPagination(t *testing.T) {
	c := startPlugboard(t, writeConfig(t, "servers:\n"+fixtureServer("paged", "--page-size", "2", "--extra-tools", "7")))
	tools := names(t, c.listAll("tools/list", "tools"), "name")
	for _, want := range []string{"paged__echo", "paged__tool_000", "paged__tool_006"} {
		if !contains(tools, want) {
			t.Errorf("tools fetched across the server's pages lack %s: %v", want, tools)
		}
	}
}

func TestCrashMidCallFailsInFlightAndRestarts(t *testing.T) {
	c := startPlugboard(t, twoServers(t, ""))
	c.mustCall("tools/list", nil)
	_, slow := c.send("tools/call", map[string]any{"name": "alpha__sleep", "arguments": map[string]any{"ms": 20000}})
	_, crash := c.send("tools/call", map[string]any{"name": "alpha__crash", "arguments": map[string]any{"code": 3}})
	for _, ch := range []chan *message{slow, crash} {
		m := c.wait(ch, "a call to the crashing server")
		if m.Error == nil || !strings.Contains(m.Error.Message, "alpha") || !strings.Contains(m.Error.Message, "status 3") {
			t.Errorf("in-flight call: got %s, want an error naming alpha and its exit status 3", m.raw)
		}
	}
	// The other server never notices.
	if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "b__echo", "arguments": map[string]any{"text": "still here"}})); got != "still here" {
		t.Errorf("beta answered %q", got)
	}
	eventually(t, 15*time.Second, "alpha restarted", func() bool {
		m := c.call("tools/call", map[string]any{"name": "alpha__echo", "arguments": map[string]any{"text": "back"}})
		return m.Error == nil && textOf(t, m.Result) == "back"
	})
	if !strings.Contains(c.stderr.String(), "restarting") {
		t.Errorf("plugboard did not log the restart:\n%s", c.stderr.String())
	}
}

func TestSlowServerIsAnnouncedWhenItArrives(t *testing.T) {
	cfg := writeConfig(t, "startup_timeout: 500ms\nservers:\n"+fixtureServer("quick")+fixtureServer("slow", "--startup-delay", "3s"))
	c := startPlugboard(t, cfg)
	start := time.Now()
	tools := names(t, c.listAll("tools/list", "tools"), "name")
	if !contains(tools, "quick__echo") || contains(tools, "slow__echo") {
		t.Fatalf("first list should hold quick's tools only: %v", tools)
	}
	if waited := time.Since(start); waited > 2500*time.Millisecond {
		t.Errorf("tools/list waited %s for the slow server, past the 500ms start-up deadline", waited)
	}
	// quick's own arrival may be announced too; wait for the one that
	// brings slow's tools.
	deadline := time.Now().Add(15 * time.Second)
	for !contains(tools, "slow__echo") {
		c.waitNotification("notifications/tools/list_changed", time.Until(deadline))
		tools = names(t, c.listAll("tools/list", "tools"), "name")
	}
}

func TestListWaitsForServersStillStarting(t *testing.T) {
	cfg := writeConfig(t, "startup_timeout: 20s\nservers:\n"+fixtureServer("late", "--startup-delay", "1s"))
	c := startPlugboard(t, cfg)
	if tools := names(t, c.listAll("tools/list", "tools"), "name"); !contains(tools, "late__echo") {
		t.Fatalf("tools/list did not wait for a server within the start-up deadline: %v", tools)
	}
}

func TestToolListChangesReachTheClient(t *testing.T) {
	c := startPlugboard(t, twoServers(t, ""))
	if contains(names(t, c.listAll("tools/list", "tools"), "name"), "alpha__extra_tool") {
		t.Fatal("extra_tool listed before the switch")
	}
	c.mustCall("tools/call", map[string]any{"name": "alpha__toggle_tools", "arguments": map[string]any{}})
	// The notification may be one from start-up (the second server
	// arriving) that comes late: the list is asked until it changes.
	c.waitNotification("notifications/tools/list_changed", 10*time.Second)
	eventually(t, 10*time.Second, "extra_tool listed after the switch", func() bool {
		return contains(names(t, c.listAll("tools/list", "tools"), "name"), "alpha__extra_tool")
	})
}

func TestFailingServersNeverStopTheOthers(t *testing.T) {
	cfg := writeConfig(t, "servers:\n"+fixtureServer("good")+fixtureServer("dies", "--exit-at-start", "4")+
		"  missing:\n    command: /nonexistent/mcp-server\n")
	c := startPlugboard(t, cfg)
	if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "good__echo", "arguments": map[string]any{"text": "ok"}})); got != "ok" {
		t.Fatalf("good__echo = %q", got)
	}
	eventually(t, 10*time.Second, "failures logged", func() bool {
		s := c.stderr.String()
		return strings.Contains(s, "server=dies") && strings.Contains(s, "status 4") && strings.Contains(s, "server=missing")
	})
}

func TestDownstreamStderrIsLoggedWithTheServerName(t *testing.T) {
	c := startPlugboard(t, twoServers(t, ""))
	c.mustCall("tools/list", nil)
	eventually(t, 10*time.Second, "downstream stderr in plugboard's log", func() bool {
		s := c.stderr.String()
		return strings.Contains(s, "server=alpha") && strings.Contains(s, "fixture alpha stderr line")
	})
}

func TestInitializeAnswersAtOnceAndNegotiates(t *testing.T) {
	cfg := writeConfig(t, "servers:\n"+fixtureServer("slow", "--startup-delay", "5s"))
	c := launch(t, cfg)
	start := time.Now()
	res := c.mustCall("initialize", map[string]any{"protocolVersion": "2024-11-05", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "e2e", "version": "1"}})
	if waited := time.Since(start); waited > 2*time.Second {
		t.Errorf("initialize took %s: it must not wait for downstreams", waited)
	}
	var r struct {
		ProtocolVersion string `json:"protocolVersion"`
		Capabilities    map[string]struct {
			ListChanged bool `json:"listChanged"`
		} `json:"capabilities"`
		ServerInfo struct{ Name string } `json:"serverInfo"`
	}
	json.Unmarshal(res, &r)
	if r.ProtocolVersion != "2024-11-05" || r.ServerInfo.Name != "plugboard" {
		t.Errorf("initialize: %s", res)
	}
	for _, k := range []string{"tools", "prompts", "resources"} {
		if !r.Capabilities[k].ListChanged {
			t.Errorf("capability %s lacks listChanged: %s", k, res)
		}
	}
}

func TestBadConfigExitsWithStatus2NamingFileAndKey(t *testing.T) {
	cfg := writeConfig(t, "servers:\n  broken:\n    command: x\n    timeout: soon\n")
	cmd := exec.Command(plugboardBin, "--config", cfg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	exitErr, ok := err.(*exec.ExitError)
	if !ok || exitErr.ExitCode() != 2 {
		t.Fatalf("exit: %v, want status 2", err)
	}
	msg := stderr.String()
	if !strings.Contains(msg, cfg) || !strings.Contains(msg, "servers.broken.timeout") {
		t.Errorf("message does not name the file and key: %q", msg)
	}
	if n := strings.Count(strings.TrimSpace(msg), "\n"); n != 0 {
		t.Errorf("want one line, got %d: %q", n+1, msg)
	}
}

func TestToolsCommandPrintsTheCatalog(t *testing.T) {
	cfg := writeConfig(t, "servers:\n"+fixtureServer("alpha")+"  missing:\n    command: /nonexistent/mcp-server\n")
	out, err := exec.Command(plugboardBin, "tools", "--config", cfg).Output()
	if exitErr, ok := err.(*exec.ExitError); !ok || exitErr.ExitCode() != 1 {
		t.Errorf("with a failed server, want exit status 1, got %v", err)
	}
	text := string(out)
	for _, want := range []string{"alpha__echo", "alpha", "echo", "missing", "down", "/nonexistent/mcp-server"} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q:\n%s", want, text)
		}
	}
	out, _ = exec.Command(plugboardBin, "tools", "--json", "--config", cfg).Output()
	var cat catalogJSON
	if err := json.Unmarshal(out, &cat); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	found := false
	for _, tool := range cat.Tools {
		if tool.Name == "alpha__echo" && tool.Server == "alpha" && tool.Original == "echo" && tool.Description != "" {
			found = true
		}
	}
	if !found {
		t.Errorf("--json lacks alpha__echo with its server, original name and description: %s", out)
	}
	if len(cat.Servers) != 2 || cat.Servers[1].Name != "missing" || cat.Servers[1].Status != "down" || cat.Servers[1].Reason == "" {
		t.Errorf("--json servers: %+v", cat.Servers)
	}
}

func TestDesktopClientConfigLoadsAsIs(t *testing.T) {
	path := writeConfig(t, "")
	path = strings.TrimSuffix(path, ".yaml") + ".json"
	desktop := fmt.Sprintf(`{"mcpServers": {"notes": {"command": %q, "args": ["--name", "notes"], "env": {"X": "1"}}}}`, fixtureBin)
	if err := os.WriteFile(path, []byte(desktop), 0o600); err != nil {
		t.Fatal(err)
	}
	c := startPlugboard(t, path)
	if !contains(names(t, c.listAll("tools/list", "tools"), "name"), "notes__echo") {
		t.Fatal("a Claude Desktop style config did not load")
	}
}

func TestCallsToOneServerAreNeverSerialized(t *testing.T) {
	// Five calls that sleep far longer than the test's patience are in
	// flight on alpha; an echo on alpha must still be answered.
	c := startPlugboard(t, twoServers(t, ""))
	c.mustCall("tools/list", nil)
	for i := 0; i < 5; i++ {
		c.send("tools/call", map[string]any{"name": "alpha__sleep", "arguments": map[string]any{"ms": 600000}})
	}
	if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "alpha__echo", "arguments": map[string]any{"text": "not queued"}})); got != "not queued" {
		t.Errorf("echo behind five sleeps answered %q", got)
	}
}

func TestOversizedFrameFromAServerIsRefusedAndTheServerRestarted(t *testing.T) {
	c := startPlugboard(t, twoServers(t, ""))
	c.mustCall("tools/list", nil)
	m := c.call("tools/call", map[string]any{"name": "alpha__large", "arguments": map[string]any{"bytes": 17 << 20}})
	if m.Error == nil || !strings.Contains(m.Error.Message, "frame too large") || !strings.Contains(m.Error.Message, "alpha") {
		t.Fatalf("a 17 MiB answer: got %.300s, want an error naming alpha and the frame limit", m.raw)
	}
	eventually(t, 15*time.Second, "alpha restarted", func() bool {
		m := c.call("tools/call", map[string]any{"name": "alpha__echo", "arguments": map[string]any{"text": "back"}})
		return m.Error == nil && textOf(t, m.Result) == "back"
	})
}

// TestCallToAServerStillStartingSaysSo: past startup_timeout, a call to a
// tool of a server that has not listed its tools yet is answered as that
// server still starting, not as an unknown tool; once the server is up the
// same call works (issue 11).
func TestCallToAServerStillStartingSaysSo(t *testing.T) {
	cfg := writeConfig(t, "startup_timeout: 300ms\nservers:\n"+fixtureServer("quick")+fixtureServer("slow", "--startup-delay", "4s"))
	c := startPlugboard(t, cfg)
	m := c.call("tools/call", map[string]any{"name": "slow__echo", "arguments": map[string]any{"text": "hi"}})
	if m.Error == nil || m.Error.Code != -32000 || m.Error.Message != "server slow is still starting" {
		t.Fatalf("calling a tool of a server still starting: got %s, want error -32000 \"server slow is still starting\"", m.raw)
	}
	m = c.call("tools/call", map[string]any{"name": "nobody__echo", "arguments": map[string]any{}})
	if m.Error == nil || m.Error.Code != -32602 {
		t.Errorf("a name no server's prefix starts: got %s, want -32602", m.raw)
	}
	eventually(t, 20*time.Second, "slow__echo answers once slow is ready", func() bool {
		m := c.call("tools/call", map[string]any{"name": "slow__echo", "arguments": map[string]any{"text": "hi"}})
		return m.Error == nil
	})
}

func TestToolsCommandSaysWhichServersAreStillStarting(t *testing.T) {
	cfg := writeConfig(t, "startup_timeout: 300ms\nservers:\n"+fixtureServer("quick")+fixtureServer("slow", "--startup-delay", "4s"))
	out, err := exec.Command(plugboardBin, "tools", "--config", cfg).Output()
	if exitErr, ok := err.(*exec.ExitError); !ok || exitErr.ExitCode() != 1 {
		t.Errorf("with a server still starting, want exit status 1, got %v", err)
	}
	if !regexp.MustCompile(`(?m)^  slow +still starting after 300ms: raise startup_timeout$`).Match(out) {
		t.Errorf("the table does not say slow is still starting and what to do:\n%s", out)
	}
}

// TestDemoConfigIsQuiet: the README's demo prints its catalog with no
// warning at the default log level and none of the fixture's test items.
func TestDemoConfigIsQuiet(t *testing.T) {
	demo, err := os.ReadFile(filepath.Join("..", "..", "examples", "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, strings.ReplaceAll(string(demo), "bin/mcp-fixture", fixtureBin))
	cmd := exec.Command(plugboardBin, "tools", "--config", cfg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("plugboard tools on the demo: %v\n%s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), "level=WARN") || strings.Contains(stderr.String(), "level=ERROR") {
		t.Errorf("the demo logs warnings:\n%s", stderr.String())
	}
	for _, unwanted := range []string{"test_", "test://", "hang", "json_schema"} {
		if strings.Contains(string(out), unwanted) {
			t.Errorf("the demo's catalog shows %q:\n%s", unwanted, out)
		}
	}
	for _, want := range []string{"calc__add", "calc__crash", "notes__echo"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the demo's catalog lacks %s, which the README calls:\n%s", want, out)
		}
	}
}
