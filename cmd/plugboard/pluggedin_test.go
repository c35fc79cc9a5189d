package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// plugboard taking its servers from a plugged.in App account (issue 12),
// tested through the real binary against the stand-in App of
// pluggedin_app_test.go.

// testAppKey has the form of a plugged.in API key.
const testAppKey = "pg_in_0123456789abcdef0123456789abcdef"

// startWithApp starts plugboard over stdio with args, the user cache
// directory cacheDir and, unless configPath is "", that configuration
// file, and initializes a session.
func startWithApp(t *testing.T, cacheDir, configPath string, args ...string) *client {
	t.Helper()
	if configPath != "" {
		args = append([]string{"--config", configPath}, args...)
	}
	c := launchCommandEnv(t, []string{"XDG_CACHE_HOME=" + cacheDir}, plugboardBin, args...)
	initializeOrExit(c)
	return c
}

// initializeOrExit initializes a session, failing at once if plugboard
// exits instead (as on flags it does not take).
func initializeOrExit(c *client) {
	c.t.Helper()
	_, ch := c.send("initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "e2e", "version": "1"}})
	select {
	case m := <-ch:
		if m.Error != nil {
			c.t.Fatalf("initialize failed: %s", m.raw)
		}
	case <-c.exited:
		c.t.Fatalf("plugboard exited before answering initialize: %s", c.stderr.String())
	case <-time.After(30 * time.Second):
		c.t.Fatal("no answer to initialize within 30 s")
	}
	c.notify("notifications/initialized", nil)
}

// toolNames lists the client-facing tool names.
func (c *client) toolNames() []string {
	c.t.Helper()
	return names(c.t, c.listAll("tools/list", "tools"), "name")
}

// waitListed waits until every tool of want is listed.
func (c *client) waitListed(want ...string) {
	c.t.Helper()
	eventually(c.t, 30*time.Second, fmt.Sprintf("%v listed", want), func() bool {
		tools := c.toolNames()
		for _, w := range want {
			if !contains(tools, w) {
				return false
			}
		}
		return true
	})
}

// sessionToolNames lists the tool names an HTTP session sees.
func (s *httpSession) toolNames() []string {
	s.t.Helper()
	m, _ := s.call("tools/list", nil)
	if m.Error != nil {
		s.t.Fatalf("tools/list: %s", m.raw)
	}
	var r struct {
		Tools []json.RawMessage `json:"tools"`
	}
	if err := json.Unmarshal(m.Result, &r); err != nil {
		s.t.Fatalf("tools/list: %s", m.raw)
	}
	return names(s.t, r.Tools, "name")
}

// isErrorResult reports whether a tools/call result has isError set.
func isErrorResult(t *testing.T, result json.RawMessage) bool {
	t.Helper()
	var r struct {
		IsError bool `json:"isError"`
	}
	if err := json.Unmarshal(result, &r); err != nil {
		t.Fatalf("not a tool result: %s", result)
	}
	return r.IsError
}

// hasLine reports whether a line of text contains every one of parts.
func hasLine(text string, parts ...string) bool {
	for _, line := range strings.Split(text, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// hasLinePrefixed reports whether a line of text starts with prefix and
// contains part.
func hasLinePrefixed(text, prefix, part string) bool {
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, prefix) && strings.Contains(line, part) {
			return true
		}
	}
	return false
}

// appStatus is the "pluggedin" member of `plugboard status --json`.
type appStatus struct {
	BaseURL         string `json:"base_url"`
	State           string `json:"state"`
	LastError       string `json:"last_error"`
	Servers         int    `json:"servers"`
	ActivitySent    int    `json:"activity_sent"`
	ActivityDropped int    `json:"activity_dropped"`
	ToolsReported   int    `json:"tools_reported"`
}

// pluggedinStatus runs `plugboard status --json` against the serve on
// socket and returns its "pluggedin" member and the whole output.
func pluggedinStatus(t *testing.T, socket string) (appStatus, string) {
	t.Helper()
	stdout, stderr, code := plugboardStatus(t, "--json", "--socket", socket)
	if code != 0 {
		t.Fatalf("status --json: exit %d: %s%s", code, stdout, stderr)
	}
	var st struct {
		Pluggedin *appStatus `json:"pluggedin"`
	}
	if err := json.Unmarshal([]byte(stdout), &st); err != nil || st.Pluggedin == nil {
		t.Fatalf("status --json has no pluggedin member (%v): %s", err, stdout)
	}
	return *st.Pluggedin, stdout
}

// serveWithApp starts plugboard serve on a configuration of one local
// fixture server, with the App's flags, a unix socket and a user cache
// directory of its own, opens a session and waits until each of tools
// answers.
func serveWithApp(t *testing.T, app *standInApp, args []string, tools ...string) (d *daemon, socket string, s *httpSession) {
	t.Helper()
	needLinux(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	socket = shortSocket(t)
	d = startServe(t, writeConfig(t, "servers:\n"+fixtureServer("local")), append(append(app.flags(), args...), "--socket", socket)...)
	s = newHTTPSession(t, d.url)
	s.initialize(nil)
	s.waitCallable(tools...)
	return d, socket, s
}

func TestPluggedInServersOfEveryTypeRunNextToALocalOne(t *testing.T) {
	app := newStandInApp(t, testAppKey)
	alpha := stdioItem("alpha")
	beta := sseItem(t, "beta")
	beta.Status = "active" // the status is read in any case
	gamma, gammaHeaders := streamableItem(t, "gamma", map[string]string{"X-Gamma-Token": "gamma-header-value"})
	gamma.Status = "" // and a server without one counts as active
	delta := stdioItem("delta")
	delta.Status = "INACTIVE"
	app.servers(alpha, beta, gamma, delta)

	c := startWithApp(t, t.TempDir(), writeConfig(t, "servers:\n"+fixtureServer("local")), app.flags()...)
	c.waitListed("local__echo", "alpha__echo", "beta__echo", "gamma__echo")
	for _, slug := range []string{"local", "alpha", "beta", "gamma"} {
		if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": slug + "__echo", "arguments": map[string]any{"text": "hi " + slug}})); got != "hi "+slug {
			t.Errorf("%s__echo answered %q", slug, got)
		}
	}
	if tools := c.toolNames(); contains(tools, "delta__echo") {
		t.Errorf("the App's inactive server is listed: %v", tools)
	}
	if pids := serverPIDs(t, c.cmd.Process.Pid); pids["delta"] != 0 || pids["alpha"] == 0 {
		t.Errorf("server processes %v: want alpha running and the inactive delta not", pids)
	}
	if env := textOf(t, c.mustCall("tools/call", map[string]any{"name": "alpha__env"})); !strings.Contains(env, "FIXTURE_SHOW_APP=alpha") {
		t.Errorf("the STDIO server did not get the App's env: %q", env)
	}
	if !gammaHeaders.has("X-Gamma-Token", "gamma-header-value") {
		t.Errorf("none of the %d requests to the STREAMABLE_HTTP server carried its streamableHTTPOptions.headers", gammaHeaders.count())
	}
	for _, r := range app.requestsTo("") {
		if !r.bearer(testAppKey) {
			t.Errorf("%s %s without the bearer key: %v", r.Method, r.Path, r.Header)
		}
	}
}

func TestPluggedInKeyAloneServesTheAppServers(t *testing.T) {
	app := newStandInApp(t, testAppKey)
	app.servers(stdioItem("alpha"))
	home := t.TempDir() // no configuration file at the default path
	c := launchCommandEnv(t, []string{"XDG_CACHE_HOME=" + t.TempDir(), "XDG_CONFIG_HOME=" + home, "HOME=" + home},
		plugboardBin, "--pluggedin-api-key", testAppKey, "--pluggedin-api-base-url", app.url())
	initializeOrExit(c)
	c.waitListed("alpha__echo")
	if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "alpha__echo", "arguments": map[string]any{"text": "alone"}})); got != "alone" {
		t.Errorf("alpha__echo answered %q", got)
	}
}

func TestPluggedInInactiveToolIsHiddenAndRefused(t *testing.T) {
	app := newStandInApp(t, testAppKey)
	alpha, beta := stdioItem("alpha"), stdioItem("beta")
	app.servers(alpha, beta)
	app.inactiveTools(appTool{Name: "add", ServerUUID: alpha.UUID, Status: "INACTIVE"})

	c := startWithApp(t, t.TempDir(), writeConfig(t, "servers:\n"+fixtureServer("local")), app.flags()...)
	c.waitListed("alpha__echo", "beta__add", "local__add")
	if tools := c.toolNames(); contains(tools, "alpha__add") {
		t.Errorf("the inactive tool is listed: %v", tools)
	}
	m := c.call("tools/call", map[string]any{"name": "alpha__add", "arguments": map[string]any{"a": 1, "b": 2}})
	if m.Error == nil || m.Error.Code != -32602 {
		t.Errorf("a call to the inactive tool got %s, want a JSON-RPC error -32602", m.raw)
	}
	// The same tool of another server is not the inactive one.
	if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "beta__add", "arguments": map[string]any{"a": 1, "b": 2}})); got != "3" {
		t.Errorf("beta__add answered %q", got)
	}
	r := app.waitFor(appToolsPath, func(r appRequest) bool { return r.Method == http.MethodGet })
	if r.Query.Get("status") != "INACTIVE" || !r.bearer(testAppKey) {
		t.Errorf("the inactive tools were asked for with query %v and header %v", r.Query, r.Header)
	}
}

func TestPluggedInReportsToolsAndActivity(t *testing.T) {
	app := newStandInApp(t, testAppKey)
	alpha := stdioItem("alpha")
	app.servers(alpha)
	c := startWithApp(t, t.TempDir(), writeConfig(t, "servers:\n"+fixtureServer("local")), app.flags()...)
	c.waitListed("alpha__echo", "local__echo")

	// The tools discovered on alpha, by their own names, with their schemas.
	var report toolReport
	r := app.waitFor(appToolsPath, func(r appRequest) bool {
		if r.Method != http.MethodPost {
			return false
		}
		var rep toolReport
		r.decode(t, &rep)
		return contains(rep.reportedNames(alpha.UUID), "echo")
	})
	r.decode(t, &report)
	if !r.bearer(testAppKey) {
		t.Errorf("POST /api/tools without the bearer key: %v", r.Header)
	}
	reported := report.reportedNames(alpha.UUID)
	for _, want := range []string{"echo", "add", "crash", "toggle_tools"} {
		if !contains(reported, want) {
			t.Errorf("%s is not in alpha's report %v", want, reported)
		}
	}
	for _, tool := range report.Tools {
		if tool.MCPServerUUID != alpha.UUID {
			t.Errorf("alpha's report has a tool of server %q: %s", tool.MCPServerUUID, tool.Name)
		}
		if strings.Contains(tool.Name, "__") {
			t.Errorf("a tool is reported under its client-facing name: %s", tool.Name)
		}
		var schema map[string]any
		if json.Unmarshal(tool.ToolSchema, &schema) != nil {
			t.Errorf("%s: toolSchema is not an object: %s", tool.Name, tool.ToolSchema)
		}
		if tool.Name == "echo" && !jsonEqual(tool.ToolSchema, []byte(`{"type":"object","properties":{"text":{"type":"string","description":"Text to echo back"}},"required":["text"]}`)) {
			t.Errorf("echo's toolSchema is not its inputSchema: %s", tool.ToolSchema)
		}
		if tool.Name == "echo" && (tool.Description == nil || *tool.Description == "") {
			t.Errorf("echo is reported without its description")
		}
	}

	// Activity: a local server's calls are not the App's business.
	c.mustCall("tools/call", map[string]any{"name": "local__echo", "arguments": map[string]any{"text": "local"}})
	c.mustCall("tools/call", map[string]any{"name": "alpha__echo", "arguments": map[string]any{"text": "hi"}})
	c.mustCall("prompts/get", map[string]any{"name": "alpha__greeting", "arguments": map[string]any{"name": "Ada"}})
	c.mustCall("resources/read", map[string]any{"uri": "fixture://alpha/static"})
	if m := c.call("tools/call", map[string]any{"name": "alpha__crash", "arguments": map[string]any{"code": 3}}); m.Error == nil && !isErrorResult(t, m.Result) {
		t.Fatalf("alpha__crash succeeded: %s", m.raw)
	}

	find := func(action, item string) activity {
		t.Helper()
		var found activity
		eventually(t, 20*time.Second, action+" of "+item+" reported", func() bool {
			for _, a := range app.activities() {
				if a.Action == action && a.ItemName == item {
					found = a
					return true
				}
			}
			return false
		})
		return found
	}
	for _, ok := range []struct{ action, item string }{
		{"tool_call", "echo"}, {"prompt_get", "greeting"}, {"resource_read", "fixture://alpha/static"},
	} {
		a := find(ok.action, ok.item)
		if a.ServerName != appName("alpha") || a.ServerUUID != alpha.UUID {
			t.Errorf("%s %s reported for server %q (%s), want %q (%s)", ok.action, ok.item, a.ServerName, a.ServerUUID, appName("alpha"), alpha.UUID)
		}
		if a.Success == nil || !*a.Success || a.ErrorMessage != nil {
			t.Errorf("%s %s: success %v, errorMessage %v; want success and no errorMessage", ok.action, ok.item, a.Success, a.ErrorMessage)
		}
		if a.ExecutionTime == nil || *a.ExecutionTime < 0 || *a.ExecutionTime > 30000 {
			t.Errorf("%s %s: executionTime %v, want milliseconds", ok.action, ok.item, a.ExecutionTime)
		}
	}
	failed := find("tool_call", "crash")
	if failed.Success == nil || *failed.Success || failed.ErrorMessage == nil || *failed.ErrorMessage == "" {
		t.Errorf("the failed call reported success %v, errorMessage %v; want false and a message", failed.Success, failed.ErrorMessage)
	}
	echoes := 0
	for _, a := range app.activities() {
		if a.ServerUUID != alpha.UUID {
			t.Errorf("activity reported for a server not the App's: %+v", a)
		}
		if a.Action == "tool_call" && a.ItemName == "echo" {
			echoes++
		}
	}
	if echoes != 1 {
		t.Errorf("%d tool_call reports of echo, want 1 (alpha's; local's is not reported)", echoes)
	}
	for _, r := range app.requestsTo(appActivityPath) {
		if r.Method != http.MethodPost || !r.bearer(testAppKey) {
			t.Errorf("activity sent as %s with header %v", r.Method, r.Header)
		}
	}

	// A change of alpha's tools is reported with its whole set.
	eventually(t, 20*time.Second, "alpha answering again after its crash", func() bool {
		m := c.call("tools/call", map[string]any{"name": "alpha__echo", "arguments": map[string]any{"text": "back"}})
		return m.Error == nil && !isErrorResult(t, m.Result)
	})
	c.mustCall("tools/call", map[string]any{"name": "alpha__toggle_tools"})
	r = app.waitFor(appToolsPath, func(r appRequest) bool {
		if r.Method != http.MethodPost {
			return false
		}
		var rep toolReport
		r.decode(t, &rep)
		return contains(rep.reportedNames(alpha.UUID), "extra_tool")
	})
	var changed toolReport
	r.decode(t, &changed)
	if got := len(changed.reportedNames(alpha.UUID)); got != len(reported)+1 {
		t.Errorf("after a change alpha's report has %d tools, want its whole set of %d", got, len(reported)+1)
	}
}

func TestPluggedInPollingRestartsOnlyWhatChanged(t *testing.T) {
	needLinux(t)
	app := newStandInApp(t, testAppKey)
	alpha, beta := stdioItem("alpha"), stdioItem("beta")
	app.servers(alpha, beta)
	c := startWithApp(t, t.TempDir(), writeConfig(t, "servers:\n"+fixtureServer("local")), app.flags("--pluggedin-poll", "200ms")...)
	c.waitListed("alpha__echo", "beta__echo", "local__echo")
	before := serverPIDs(t, c.cmd.Process.Pid)
	if before["alpha"] == 0 || before["beta"] == 0 || before["local"] == 0 {
		t.Fatalf("server processes: %v", before)
	}
	polls := len(app.requestsTo(appServersPath))
	eventually(t, 10*time.Second, "the App polled again", func() bool { return len(app.requestsTo(appServersPath)) >= polls+3 })
	c.drain(500 * time.Millisecond)

	app.servers(alpha, stdioItem("gamma"))
	c.waitNotification("notifications/tools/list_changed", 20*time.Second)
	c.noMore("notifications/tools/list_changed", 2*time.Second)
	tools := c.toolNames()
	for _, want := range []string{"alpha__echo", "gamma__echo", "local__echo"} {
		if !contains(tools, want) {
			t.Errorf("after the App's change %s is not listed: %v", want, tools)
		}
	}
	if contains(tools, "beta__echo") {
		t.Errorf("the server the App dropped is still listed: %v", tools)
	}
	after := serverPIDs(t, c.cmd.Process.Pid)
	if after["alpha"] != before["alpha"] || after["local"] != before["local"] {
		t.Errorf("untouched servers restarted: before %v, after %v", before, after)
	}
	if after["beta"] != 0 || after["gamma"] == 0 {
		t.Errorf("servers after the App's change: %v", after)
	}

	// Inactive tools are read on each poll too.
	app.inactiveTools(appTool{Name: "echo", ServerUUID: alpha.UUID, Status: "INACTIVE"})
	c.waitNotification("notifications/tools/list_changed", 20*time.Second)
	if tools := c.toolNames(); contains(tools, "alpha__echo") || !contains(tools, "alpha__add") {
		t.Errorf("after alpha's echo was made inactive: %v", tools)
	}
	if pid := serverPIDs(t, c.cmd.Process.Pid)["alpha"]; pid != before["alpha"] {
		t.Errorf("hiding a tool restarted its server: pid %d, then %d", before["alpha"], pid)
	}
}

func TestPluggedInRefusedKeyStopsTheAppServers(t *testing.T) {
	for _, code := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			app := newStandInApp(t, testAppKey)
			app.servers(stdioItem("alpha"))
			d, socket, s := serveWithApp(t, app, []string{"--pluggedin-poll", "200ms"}, "alpha__echo", "local__echo")
			if st, out := pluggedinStatus(t, socket); st.State != "ok" || st.BaseURL != app.url() {
				t.Errorf("status before the refusal: %s", out)
			}

			app.failWith(code)
			eventually(t, 15*time.Second, "alpha stopped", func() bool {
				return serverPIDs(t, d.cmd.Process.Pid)["alpha"] == 0
			})
			if pids := serverPIDs(t, d.cmd.Process.Pid); pids["local"] == 0 {
				t.Errorf("the local server stopped too: %v", pids)
			}
			if tools := s.toolNames(); contains(tools, "alpha__echo") || !contains(tools, "local__echo") {
				t.Errorf("tools after the refusal: %v", tools)
			}
			eventually(t, 10*time.Second, "the refusal logged", func() bool {
				return hasLine(d.stderr.String(), "plugged.in", strconv.Itoa(code))
			})
			if !hasLine(strings.ToLower(d.stderr.String()), "plugged.in", "api key") {
				t.Errorf("no log line says the App refused the API key:\n%s", d.stderr.String())
			}
			st, out := pluggedinStatus(t, socket)
			if st.State != "unauthorized" || !strings.Contains(st.LastError, strconv.Itoa(code)) {
				t.Errorf("status --json after HTTP %d: %s", code, out)
			}
			table, _, _ := plugboardStatus(t, "--socket", socket)
			if !hasLinePrefixed(table, "plugged.in App:", "unauthorized") {
				t.Errorf("status shows no line \"plugged.in App: ... unauthorized\":\n%s", table)
			}
			if strings.Contains(out+table+d.stderr.String(), testAppKey) {
				t.Error("the key appears in status or the log")
			}
		})
	}
}

func TestPluggedInOutageStartsFromTheCache(t *testing.T) {
	app := newStandInApp(t, testAppKey)
	app.servers(stdioItem("alpha"))
	cache := t.TempDir()
	cfg := writeConfig(t, "servers:\n"+fixtureServer("local"))

	first := startWithApp(t, cache, cfg, app.flags()...)
	first.waitListed("alpha__echo")
	first.close()

	var files []string
	eventually(t, 5*time.Second, "a cache file under $XDG_CACHE_HOME/plugboard", func() bool {
		files = nil
		filepath.WalkDir(filepath.Join(cache, "plugboard"), func(path string, e fs.DirEntry, err error) error {
			if err == nil && e.Type().IsRegular() {
				files = append(files, path)
			}
			return nil
		})
		return len(files) > 0
	})
	for _, f := range files {
		info, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, info.Mode().Perm())
		}
		if strings.Contains(f, testAppKey) {
			t.Errorf("the cache file is named with the key: %s", f)
		}
	}

	app.stop()
	second := startWithApp(t, cache, cfg, app.flags()...)
	second.waitListed("alpha__echo", "local__echo")
	if got := textOf(t, second.mustCall("tools/call", map[string]any{"name": "alpha__echo", "arguments": map[string]any{"text": "cached"}})); got != "cached" {
		t.Errorf("the cached server answered %q", got)
	}

	// The cache is the key's: another account's plugboard does not get it.
	otherKey := strings.Replace(testAppKey, "0123", "9876", 1)
	third := startWithApp(t, cache, cfg, "--pluggedin-api-key", otherKey, "--pluggedin-api-base-url", app.url())
	third.waitListed("local__echo")
	if tools := third.toolNames(); contains(tools, "alpha__echo") {
		t.Errorf("another key's start used this key's cache: %v", tools)
	}
}

func TestPluggedInSlowAppDropsActivityButNotCalls(t *testing.T) {
	app := newStandInApp(t, testAppKey)
	app.servers(stdioItem("alpha"))
	app.stall(appActivityPath, time.Minute)
	d, socket, _ := serveWithApp(t, app, nil, "alpha__echo")

	// More calls than the queue of 1000 holds, from a few sessions at once.
	const workers, perWorker = 8, 150
	sessions := make([]*httpSession, workers)
	for i := range sessions {
		sessions[i] = newHTTPSession(t, d.url)
		sessions[i].initialize(nil)
	}
	var (
		mu      sync.Mutex
		slowest time.Duration
		errs    []error
		wg      sync.WaitGroup
	)
	for i, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range perWorker {
				took, err := timedEcho(d.url, s.id, 1000+n, fmt.Sprintf("call %d.%d", i, n))
				mu.Lock()
				slowest = max(slowest, took)
				if err != nil && len(errs) < 5 {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if slowest > 2*time.Second {
		t.Errorf("the slowest of %d calls took %s while the App stalled", workers*perWorker, slowest)
	}
	eventually(t, 15*time.Second, "dropped activity counted in status", func() bool {
		st, _ := pluggedinStatus(t, socket)
		return st.ActivityDropped > 0
	})
}

// timedEcho calls alpha__echo on a Streamable HTTP session and says how
// long the answer took; it is safe to call from any goroutine.
func timedEcho(base, sessionID string, id int, text string) (time.Duration, error) {
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": "tools/call",
		"params": map[string]any{"name": "alpha__echo", "arguments": map[string]any{"text": text}}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/mcp", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Session-Id", sessionID)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return time.Since(start), err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if err != nil {
		return took, err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(answer), `"result"`) || !strings.Contains(string(answer), text) {
		return took, fmt.Errorf("%s: HTTP %d: %s", text, resp.StatusCode, answer)
	}
	return took, nil
}

func TestPluggedInMalformedAnswerIsRejectedWhole(t *testing.T) {
	needLinux(t)
	app := newStandInApp(t, testAppKey)
	alpha, beta := stdioItem("alpha"), stdioItem("beta")
	app.servers(alpha, beta)
	c := startWithApp(t, t.TempDir(), writeConfig(t, "servers:\n"+fixtureServer("local")), app.flags("--pluggedin-poll", "200ms")...)
	c.waitListed("alpha__echo", "beta__echo")
	before := serverPIDs(t, c.cmd.Process.Pid)
	c.drain(500 * time.Millisecond)

	good, _ := json.Marshal([]appServer{alpha, beta})
	for _, tc := range []struct {
		name, field string // field: what the log line names
		spoil       func(items []map[string]any) any
	}{
		{"an item without uuid", "[1].uuid", func(items []map[string]any) any { delete(items[1], "uuid"); return items }},
		{"a type not among the three", "[1].type", func(items []map[string]any) any { items[1]["type"] = "WEBSOCKET"; return items }},
		{"STDIO without command", "[0].command", func(items []map[string]any) any { delete(items[0], "command"); return items }},
		{"SSE without url", "[1].url", func(items []map[string]any) any { items[1]["type"] = "SSE"; return items }},
		{"args of the wrong JSON type", "[0].args", func(items []map[string]any) any { items[0]["args"] = "--name alpha"; return items }},
		{"not an array", "array", func(items []map[string]any) any { return map[string]any{"servers": items} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var items []map[string]any
			json.Unmarshal(good, &items)
			body, _ := json.Marshal(tc.spoil(items))
			app.serversJSON(string(body))
			eventually(t, 10*time.Second, "a log line naming "+tc.field, func() bool {
				return hasLine(c.stderr.String(), "plugged.in", tc.field)
			})
			if tools := c.toolNames(); !contains(tools, "alpha__echo") || !contains(tools, "beta__echo") {
				t.Errorf("the last good list is gone: %v", tools)
			}
			if after := serverPIDs(t, c.cmd.Process.Pid); after["alpha"] != before["alpha"] || after["beta"] != before["beta"] {
				t.Errorf("servers restarted on a malformed answer: before %v, after %v", before, after)
			}
		})
	}
	select {
	case m := <-c.notifications:
		if m.Method == "notifications/tools/list_changed" {
			t.Errorf("a malformed answer changed the list")
		}
	default:
	}

	// A good answer after them is taken.
	app.servers(alpha)
	c.waitNotification("notifications/tools/list_changed", 20*time.Second)
	if tools := c.toolNames(); contains(tools, "beta__echo") || !contains(tools, "alpha__echo") {
		t.Errorf("the good answer after the malformed ones was not taken: %v", tools)
	}
}

// runWithEnv runs plugboard with args and the environment plus env, and
// returns its exit status and output; a run past 20 s fails the test.
func runWithEnv(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, plugboardBin, args...)
	cmd.Env = append(os.Environ(), append([]string{"XDG_CACHE_HOME=" + t.TempDir(), "XDG_RUNTIME_DIR=" + t.TempDir()}, env...)...)
	var out, errOut lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("plugboard %v did not end within 20 s; stderr:\n%s", args, errOut.String())
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

func TestPluggedInBadFlagsExitWithOneLine(t *testing.T) {
	cfg := writeConfig(t, "servers:\n"+fixtureServer("local"))
	const key = "pgKEY-badflags-0123456789abcdefghijkl"
	const shortKey = "pgSHORTkey-12345"
	serve := []string{"serve", "--config", cfg, "--listen", "127.0.0.1:0", "--socket", "", "--no-auth"}
	for _, tc := range []struct {
		name    string
		env     []string
		args    []string
		flag    string
		secrets []string
	}{
		{"a short key", nil, []string{"--config", cfg, "--pluggedin-api-key", shortKey}, "--pluggedin-api-key", []string{shortKey}},
		{"a key with a character keys never have", nil, []string{"--config", cfg, "--pluggedin-api-key", key + "!"}, "--pluggedin-api-key", []string{key}},
		{"a short key in the environment", []string{"PLUGGEDIN_API_KEY=" + shortKey}, []string{"--config", cfg}, "--pluggedin-api-key", []string{shortKey}},
		{"serve with a short key", nil, append(append([]string{}, serve...), "--pluggedin-api-key", shortKey), "--pluggedin-api-key", []string{shortKey}},
		{"tools with a short key", nil, []string{"tools", "--config", cfg, "--pluggedin-api-key", shortKey}, "--pluggedin-api-key", []string{shortKey}},
		{"http to another machine", nil, []string{"--config", cfg, "--pluggedin-api-key", key, "--pluggedin-api-base-url", "http://plugged.in"}, "--pluggedin-api-base-url", []string{key}},
		{"http to another machine in the environment", []string{"PLUGGEDIN_API_BASE_URL=http://plugged.in", "PLUGGEDIN_API_KEY=" + key}, []string{"--config", cfg}, "--pluggedin-api-base-url", []string{key}},
		{"credentials in the base URL", nil, []string{"--config", cfg, "--pluggedin-api-key", key, "--pluggedin-api-base-url", "https://user:pwSECRET77@plugged.in"}, "--pluggedin-api-base-url", []string{key, "pwSECRET77"}},
		{"credentials in a loopback base URL", nil, append(append([]string{}, serve...), "--pluggedin-api-key", key, "--pluggedin-api-base-url", "http://user:pwSECRET77@127.0.0.1:1"), "--pluggedin-api-base-url", []string{key, "pwSECRET77"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runWithEnv(t, tc.env, tc.args...)
			line := strings.TrimSuffix(stderr, "\n")
			// An unknown flag would also exit 2 naming it: the flag must be
			// known, and its value refused.
			if code != 2 || stdout != "" || strings.Contains(line, "\n") || !strings.HasPrefix(line, "plugboard: ") || !strings.Contains(line, tc.flag) ||
				strings.Contains(line, "unknown flag") {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and one line \"plugboard: ...\" naming %s", code, stdout, stderr, tc.flag)
			}
			for _, secret := range tc.secrets {
				if strings.Contains(stderr, secret) {
					t.Errorf("the error shows a secret: %q", stderr)
				}
			}
		})
	}
}

func TestPluggedInFlagsWinOverTheEnvironment(t *testing.T) {
	app := newStandInApp(t, testAppKey)
	app.servers(stdioItem("alpha"))
	cfg := writeConfig(t, "servers:\n"+fixtureServer("local"))
	code, stdout, stderr := runWithEnv(t, []string{"PLUGGEDIN_API_KEY=pgSHORTkey-12345", "PLUGGEDIN_API_BASE_URL=http://plugged.in"},
		append([]string{"tools", "--config", cfg}, app.flags()...)...)
	if code != 0 || !strings.Contains(stdout, "alpha__echo") || !strings.Contains(stdout, "local__echo") {
		t.Errorf("plugboard tools with good flags over bad environment: exit %d\n%s%s", code, stdout, stderr)
	}
	if len(app.requestsTo(appServersPath)) == 0 {
		t.Error("the App named by the flag was not asked")
	}
}

func TestPluggedInKeyNeverAppears(t *testing.T) {
	const key = "pgLEAKCANARY-0123456789-abcdefghij-KLMNOP"
	app := newStandInApp(t, key)
	alpha := stdioItem("alpha")
	gamma, _ := streamableItem(t, "gamma", map[string]string{"X-Gamma-Token": "gamma-header-value"})
	app.servers(alpha, gamma)
	var seen []string // everything plugboard said besides its log
	check := func(where, text string) {
		t.Helper()
		if strings.Contains(text, key) {
			t.Errorf("the key appears in %s:\n%s", where, text)
		}
	}

	t.Run("stdio", func(t *testing.T) {
		c := startWithApp(t, t.TempDir(), writeConfig(t, "servers:\n"+fixtureServer("local")), app.flags("--log-level", "debug")...)
		c.waitListed("alpha__echo", "gamma__echo")
		for _, call := range []map[string]any{
			{"name": "alpha__echo", "arguments": map[string]any{"text": "x"}},
			{"name": "pluggedin_discover_tools", "arguments": map[string]any{}},
			{"name": "alpha__crash", "arguments": map[string]any{}},
		} {
			seen = append(seen, string(c.call("tools/call", call).raw))
		}
		seen = append(seen, string(c.call("tools/list", nil).raw))
		app.waitFor(appActivityPath, func(r appRequest) bool { return true })
		c.close()
		check("stdio's stderr", c.stderr.String())
	})

	t.Run("serve", func(t *testing.T) {
		d, socket, s := serveWithApp(t, app, []string{"--log-level", "debug", "--pluggedin-poll", "200ms"}, "alpha__echo", "gamma__echo")
		m, _ := s.call("tools/call", map[string]any{"name": "alpha__crash", "arguments": map[string]any{}})
		seen = append(seen, string(m.raw))
		for _, args := range [][]string{{"status"}, {"status", "--json"}, {"tools", "--json"}} {
			stdout, stderr, _ := plugboardCommand(t, append(args, "--socket", socket)...)
			seen = append(seen, stdout, stderr)
		}
		// The App failing in each way it can.
		app.serversJSON(`[{"uuid": 1}]`)
		eventually(t, 10*time.Second, "the malformed answer logged", func() bool { return strings.Contains(d.stderr.String(), "[0].uuid") })
		app.failWith(http.StatusInternalServerError)
		eventually(t, 10*time.Second, "the App's HTTP 500 logged", func() bool { return hasLine(d.stderr.String(), "plugged.in", "500") })
		app.failWith(http.StatusUnauthorized)
		eventually(t, 10*time.Second, "the refusal in status", func() bool {
			st, out := pluggedinStatus(t, socket)
			seen = append(seen, out)
			return st.State == "unauthorized"
		})
		m, _ = s.call("tools/call", map[string]any{"name": "pluggedin_discover_tools", "arguments": map[string]any{}})
		seen = append(seen, string(m.raw))
		table, errOut, _ := plugboardStatus(t, "--socket", socket)
		seen = append(seen, table, errOut)
		d.stop()
		check("serve's stderr", d.stderr.String())
	})
	for _, out := range seen {
		check("what plugboard answered", out)
	}
}

func TestPluggedInDiscoverTool(t *testing.T) {
	cfg := writeConfig(t, "servers:\n"+fixtureServer("local"))
	without := startWithApp(t, t.TempDir(), cfg)
	without.waitListed("local__echo")
	if tools := without.toolNames(); contains(tools, "pluggedin_discover_tools") {
		t.Errorf("pluggedin_discover_tools is listed without a key: %v", tools)
	}

	app := newStandInApp(t, testAppKey)
	alpha := stdioItem("alpha")
	app.servers(alpha)
	c := startWithApp(t, t.TempDir(), cfg, app.flags()...) // polling every 30 s: only discovery re-reads the App
	c.waitListed("alpha__echo", "pluggedin_discover_tools")
	for _, raw := range c.listAll("tools/list", "tools") {
		var tool struct {
			Name        string `json:"name"`
			InputSchema struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"inputSchema"`
		}
		json.Unmarshal(raw, &tool)
		if tool.Name == "pluggedin_discover_tools" && (tool.InputSchema.Properties["server_uuid"] == nil || tool.InputSchema.Properties["force_refresh"] == nil) {
			t.Errorf("pluggedin_discover_tools takes no server_uuid or force_refresh: %s", raw)
		}
	}

	app.servers(alpha, stdioItem("beta"))
	res := c.mustCall("tools/call", map[string]any{"name": "pluggedin_discover_tools", "arguments": map[string]any{}})
	if isErrorResult(t, res) {
		t.Errorf("discovery the App accepted answered an error: %s", res)
	}
	r := app.waitFor(appDiscoverPath, func(r appRequest) bool { return r.Path == appDiscoverPath+"all" })
	var body map[string]any
	r.decode(t, &body)
	if r.Method != http.MethodPost || !r.bearer(testAppKey) || body["force_refresh"] != false {
		t.Errorf("discovery of all: %s with header %v and body %s; want POST, the bearer key, force_refresh false", r.Method, r.Header, r.Body)
	}
	c.waitListed("beta__echo") // well before the next poll, 30 s away

	c.mustCall("tools/call", map[string]any{"name": "pluggedin_discover_tools", "arguments": map[string]any{"server_uuid": alpha.UUID, "force_refresh": true}})
	r = app.waitFor(appDiscoverPath, func(r appRequest) bool { return r.Path == appDiscoverPath+alpha.UUID })
	body = nil
	r.decode(t, &body)
	if r.Method != http.MethodPost || !r.bearer(testAppKey) || body["force_refresh"] != true {
		t.Errorf("discovery of alpha: %s with header %v and body %s; want POST, the bearer key, force_refresh true", r.Method, r.Header, r.Body)
	}

	app.failWith(http.StatusInternalServerError, appDiscoverPath)
	res = c.mustCall("tools/call", map[string]any{"name": "pluggedin_discover_tools", "arguments": map[string]any{}})
	if !isErrorResult(t, res) || !strings.Contains(textOf(t, res), "500") {
		t.Errorf("discovery the App failed answered %s, want isError and the HTTP status", res)
	}
}
