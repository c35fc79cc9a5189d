package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// The plugged.in App's endpoints that plugboard calls (issue 12).
const (
	appServersPath  = "/api/mcp-servers"
	appToolsPath    = "/api/tools"
	appDiscoverPath = "/api/discover/" // followed by "all" or a server's uuid
	appActivityPath = "/api/notifications/mcp-activity"
)

// standInApp is a plugged.in App for the tests: a real HTTP server on
// loopback that answers the App's API for one API key, records every
// request, and can be made to fail, stall or vanish.
type standInApp struct {
	t   *testing.T
	key string
	srv *httptest.Server

	closing chan struct{} // closed when the test ends, to release stalled handlers

	mu          sync.Mutex
	serversBody []byte
	inactive    []appTool
	status      map[string]int           // path (or "" for every path) → forced HTTP status
	delay       map[string]time.Duration // path → stall before answering
	down        bool
	requests    []appRequest
}

// appRequest is one request the App received.
type appRequest struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
	At     time.Time
}

// bearer reports whether the request carried the App's key as a bearer
// token.
func (r appRequest) bearer(key string) bool {
	return r.Header.Get("Authorization") == "Bearer "+key
}

// decode unmarshals the request's JSON body into v, failing the test if it
// is not JSON.
func (r appRequest) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("%s %s: the body is not the JSON expected (%v): %s", r.Method, r.Path, err, r.Body)
	}
}

// appServer is one item of the App's GET /api/mcp-servers answer, with
// the App's field names. Fields the App leaves empty it sends as null.
type appServer struct {
	UUID                  string                `json:"uuid"`
	Name                  string                `json:"name"`
	Description           string                `json:"description"`
	Slug                  string                `json:"slug"`
	Type                  string                `json:"type"`
	Command               *string               `json:"command"`
	Args                  []string              `json:"args"`
	Env                   map[string]string     `json:"env"`
	URL                   *string               `json:"url"`
	StreamableHTTPOptions *streamableHTTPOption `json:"streamableHTTPOptions"`
	Status                string                `json:"status,omitempty"` // omitted: a server without a status counts as active
}

type streamableHTTPOption struct {
	Headers   map[string]string `json:"headers"`
	SessionID *string           `json:"sessionId"`
}

// appTool is one item of the App's GET /api/tools answer.
type appTool struct {
	Name       string `json:"name"`
	ServerUUID string `json:"_serverUuid"`
	Status     string `json:"status"`
}

// newStandInApp starts an App that accepts key and serves no servers
// until told to.
func newStandInApp(t *testing.T, key string) *standInApp {
	t.Helper()
	a := &standInApp{t: t, key: key, closing: make(chan struct{}), serversBody: []byte("[]"),
		status: map[string]int{}, delay: map[string]time.Duration{}}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serveHTTP))
	t.Cleanup(func() {
		close(a.closing)
		a.srv.CloseClientConnections()
		a.srv.Close()
	})
	return a
}

// url is the App's base URL, as --pluggedin-api-base-url takes it.
func (a *standInApp) url() string { return a.srv.URL }

// flags are the command-line flags that point plugboard at this App.
func (a *standInApp) flags(extra ...string) []string {
	return append([]string{"--pluggedin-api-key", a.key, "--pluggedin-api-base-url", a.url()}, extra...)
}

// servers sets the App's server list to items.
func (a *standInApp) servers(items ...appServer) {
	a.t.Helper()
	if items == nil {
		items = []appServer{}
	}
	b, err := json.Marshal(items)
	if err != nil {
		a.t.Fatal(err)
	}
	a.serversJSON(string(b))
}

// serversJSON sets the body of the App's server list as it is, so that
// malformed answers can be served.
func (a *standInApp) serversJSON(body string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.serversBody = []byte(body)
}

// inactiveTools sets the tools the App marks inactive.
func (a *standInApp) inactiveTools(tools ...appTool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inactive = tools
}

// failWith makes the App answer HTTP code to requests for paths (each a
// path, or a prefix ending in "/"), or to every request when no path is
// given; code 0 lifts it.
func (a *standInApp) failWith(code int, paths ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(paths) == 0 {
		paths = []string{""}
	}
	for _, p := range paths {
		if code == 0 {
			delete(a.status, p)
		} else {
			a.status[p] = code
		}
	}
}

// stall makes the App wait d before answering requests for path (a path,
// or a prefix ending in "/"); the wait ends early if the client goes away.
func (a *standInApp) stall(path string, d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.delay[path] = d
}

// setDown makes the App drop every connection without answering (true),
// as an unreachable App does, or answer again (false).
func (a *standInApp) setDown(down bool) {
	a.mu.Lock()
	a.down = down
	a.mu.Unlock()
	if down {
		a.srv.CloseClientConnections()
	}
}

// stop closes the App's listener for good: connections are refused.
func (a *standInApp) stop() {
	a.srv.CloseClientConnections()
	a.srv.Listener.Close()
}

// requestsTo returns the requests received so far for path (a path, or a
// prefix ending in "/"), in order.
func (a *standInApp) requestsTo(path string) []appRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []appRequest
	for _, r := range a.requests {
		if pathMatches(path, r.Path) {
			out = append(out, r)
		}
	}
	return out
}

// waitFor waits up to 20 s for a request to path for which cond holds,
// and returns the first such request.
func (a *standInApp) waitFor(path string, cond func(appRequest) bool) appRequest {
	a.t.Helper()
	var found appRequest
	eventually(a.t, 20*time.Second, "a request to the App's "+path, func() bool {
		for _, r := range a.requestsTo(path) {
			if cond(r) {
				found = r
				return true
			}
		}
		return false
	})
	return found
}

// pathMatches reports whether path falls under pattern: the same path, or
// under a pattern ending in "/"; "" matches every path.
func pathMatches(pattern, path string) bool {
	if strings.HasSuffix(pattern, "/") || pattern == "" {
		return strings.HasPrefix(path, pattern)
	}
	return path == pattern
}

func (a *standInApp) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	a.requests = append(a.requests, appRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(),
		Header: r.Header.Clone(), Body: body, At: time.Now()})
	down := a.down
	code := a.forcedStatus(r.URL.Path)
	delay := a.delayFor(r.URL.Path)
	a.mu.Unlock()

	if down {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		case <-a.closing:
			return
		}
	}
	if r.Header.Get("Authorization") != "Bearer "+a.key {
		writeAppJSON(w, http.StatusUnauthorized, map[string]any{"error": "Unauthorized"})
		return
	}
	if code != 0 {
		writeAppJSON(w, code, map[string]any{"error": http.StatusText(code)})
		return
	}
	a.answer(w, r, body)
}

// forcedStatus and delayFor are called with a.mu held.
func (a *standInApp) forcedStatus(path string) int {
	for p, code := range a.status {
		if pathMatches(p, path) {
			return code
		}
	}
	return 0
}

func (a *standInApp) delayFor(path string) time.Duration {
	for p, d := range a.delay {
		if pathMatches(p, path) {
			return d
		}
	}
	return 0
}

// answer answers an authorized request as the App does.
func (a *standInApp) answer(w http.ResponseWriter, r *http.Request, body []byte) {
	route := r.Method + " " + r.URL.Path
	switch {
	case route == "GET "+appServersPath:
		a.mu.Lock()
		servers := a.serversBody
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(servers)
	case route == "GET "+appToolsPath:
		if r.URL.Query().Get("status") != "INACTIVE" {
			writeAppJSON(w, http.StatusBadRequest, map[string]any{"error": "the stand-in App answers only status=INACTIVE"})
			return
		}
		a.mu.Lock()
		tools := append([]appTool{}, a.inactive...)
		a.mu.Unlock()
		writeAppJSON(w, http.StatusOK, map[string]any{"tools": tools})
	case route == "POST "+appToolsPath:
		var report struct {
			Tools []json.RawMessage `json:"tools"`
		}
		if json.Unmarshal(body, &report) != nil || report.Tools == nil {
			writeAppJSON(w, http.StatusBadRequest, map[string]any{"error": "Request body must contain a tools array"})
			return
		}
		writeAppJSON(w, http.StatusOK, map[string]any{"message": fmt.Sprintf("Successfully processed %d tools", len(report.Tools))})
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, appDiscoverPath) && len(r.URL.Path) > len(appDiscoverPath):
		writeAppJSON(w, http.StatusOK, map[string]any{"message": "Discovery process initiated"})
	case route == "POST "+appActivityPath:
		if !json.Valid(body) {
			writeAppJSON(w, http.StatusBadRequest, map[string]any{"error": "Invalid JSON"})
			return
		}
		writeAppJSON(w, http.StatusOK, map[string]any{"success": true})
	default:
		writeAppJSON(w, http.StatusNotFound, map[string]any{"error": "Not found: " + route})
	}
}

func writeAppJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// appUUID is a stable, UUID-shaped id for a server of the stand-in App.
func appUUID(slug string) string {
	h := sha256.Sum256([]byte("stand-in app server " + slug))
	s := hex.EncodeToString(h[:16])
	return s[0:8] + "-" + s[8:12] + "-4" + s[13:16] + "-8" + s[17:20] + "-" + s[20:32]
}

// appName is the human name the App gives the server with slug.
func appName(slug string) string { return "App server " + slug }

func ptr(s string) *string { return &s }

// stdioItem is an App server of type STDIO running the fixture as
// "--name SLUG" plus extra arguments.
func stdioItem(slug string, extra ...string) appServer {
	return appServer{UUID: appUUID(slug), Name: appName(slug), Description: "fixture " + slug + " over stdio", Slug: slug,
		Type: "STDIO", Command: ptr(fixtureBin), Args: append([]string{"--name", slug}, extra...),
		Env: map[string]string{"FIXTURE_SHOW_APP": slug}, Status: "ACTIVE"}
}

// sseItem is an App server of type SSE: a fixture listening on loopback,
// reached at its legacy SSE endpoint.
func sseItem(t *testing.T, slug string) appServer {
	t.Helper()
	f := startRemoteFixture(t, slug, "127.0.0.1:0")
	return appServer{UUID: appUUID(slug), Name: appName(slug), Description: "fixture " + slug + " over SSE", Slug: slug,
		Type: "SSE", Args: []string{}, Env: map[string]string{}, URL: ptr(f.url + "/sse"), Status: "ACTIVE"}
}

// streamableItem is an App server of type STREAMABLE_HTTP: a fixture
// listening on loopback, reached at its Streamable HTTP endpoint through
// a proxy that records the request headers, so a test can check the
// item's streamableHTTPOptions.headers arrive.
func streamableItem(t *testing.T, slug string, headers map[string]string) (appServer, *headerLog) {
	t.Helper()
	f := startRemoteFixture(t, slug, "127.0.0.1:0")
	target, err := url.Parse(f.url)
	if err != nil {
		t.Fatal(err)
	}
	log := &headerLog{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.add(r.Header)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		front.CloseClientConnections()
		front.Close()
	})
	return appServer{UUID: appUUID(slug), Name: appName(slug), Description: "fixture " + slug + " over Streamable HTTP", Slug: slug,
		Type: "STREAMABLE_HTTP", Args: []string{}, Env: map[string]string{}, URL: ptr(front.URL + "/mcp"),
		StreamableHTTPOptions: &streamableHTTPOption{Headers: headers}, Status: "ACTIVE"}, log
}

// headerLog is the request headers a server received.
type headerLog struct {
	mu   sync.Mutex
	seen []http.Header
}

func (l *headerLog) add(h http.Header) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, h.Clone())
}

// has reports whether any request carried header name with value.
func (l *headerLog) has(name, value string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, h := range l.seen {
		if h.Get(name) == value {
			return true
		}
	}
	return false
}

// count is how many requests there were.
func (l *headerLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.seen)
}

// activity is the body of one POST /api/notifications/mcp-activity.
type activity struct {
	Action        string   `json:"action"`
	ServerName    string   `json:"serverName"`
	ServerUUID    string   `json:"serverUuid"`
	ItemName      string   `json:"itemName"`
	Success       *bool    `json:"success"`
	ErrorMessage  *string  `json:"errorMessage"`
	ExecutionTime *float64 `json:"executionTime"`
}

// activities decodes every activity report received so far.
func (a *standInApp) activities() []activity {
	a.t.Helper()
	var out []activity
	for _, r := range a.requestsTo(appActivityPath) {
		var act activity
		r.decode(a.t, &act)
		out = append(out, act)
	}
	return out
}

// toolReport is the body of one POST /api/tools.
type toolReport struct {
	Tools []struct {
		Name          string          `json:"name"`
		Description   *string         `json:"description"`
		ToolSchema    json.RawMessage `json:"toolSchema"`
		MCPServerUUID string          `json:"mcp_server_uuid"`
	} `json:"tools"`
}

// reportedNames is the tool names of a report for server uuid, or nil if
// the report has no tool of that server.
func (r toolReport) reportedNames(uuid string) []string {
	var out []string
	for _, tool := range r.Tools {
		if tool.MCPServerUUID == uuid {
			out = append(out, tool.Name)
		}
	}
	return out
}

// jsonEqual reports whether two JSON texts hold the same value.
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

// The stand-in App itself, so that a failure of the tests above is
// plugboard's and not the stand-in's.
func TestStandInAppAnswersAsTheAppDoes(t *testing.T) {
	app := newStandInApp(t, testAppKey)
	app.servers(stdioItem("alpha"))
	app.inactiveTools(appTool{Name: "add", ServerUUID: appUUID("alpha"), Status: "INACTIVE"})
	do := func(method, path, key, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, app.url()+path, strings.NewReader(body))
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	if code, _ := do("GET", appServersPath, "", ""); code != http.StatusUnauthorized {
		t.Errorf("no key: HTTP %d, want 401", code)
	}
	if code, _ := do("GET", appServersPath, strings.ToUpper(testAppKey), ""); code != http.StatusUnauthorized {
		t.Errorf("another key: HTTP %d, want 401", code)
	}
	code, body := do("GET", appServersPath, testAppKey, "")
	var servers []map[string]any
	if code != http.StatusOK || json.Unmarshal([]byte(body), &servers) != nil || len(servers) != 1 ||
		servers[0]["slug"] != "alpha" || servers[0]["type"] != "STDIO" || servers[0]["command"] != fixtureBin || servers[0]["url"] != nil {
		t.Errorf("servers: HTTP %d: %s", code, body)
	}
	if code, body := do("GET", appToolsPath+"?status=INACTIVE", testAppKey, ""); code != http.StatusOK || !strings.Contains(body, `"_serverUuid":"`+appUUID("alpha")+`"`) {
		t.Errorf("inactive tools: HTTP %d: %s", code, body)
	}
	for _, path := range []string{appToolsPath, appDiscoverPath + "all", appDiscoverPath + appUUID("alpha"), appActivityPath} {
		if code, body := do("POST", path, testAppKey, `{"tools":[]}`); code != http.StatusOK {
			t.Errorf("POST %s: HTTP %d: %s", path, code, body)
		}
	}
	if got := len(app.requestsTo(appDiscoverPath)); got != 2 {
		t.Errorf("%d discover requests recorded, want 2", got)
	}
	if r := app.requestsTo(appActivityPath); len(r) != 1 || string(r[0].Body) != `{"tools":[]}` || !r[0].bearer(testAppKey) {
		t.Errorf("activity recorded as %+v", r)
	}

	app.failWith(http.StatusForbidden, appServersPath)
	if code, _ := do("GET", appServersPath, testAppKey, ""); code != http.StatusForbidden {
		t.Errorf("forced 403: HTTP %d", code)
	}
	if code, _ := do("GET", appToolsPath+"?status=INACTIVE", testAppKey, ""); code != http.StatusOK {
		t.Errorf("a status forced on one path changed another: HTTP %d", code)
	}
	app.failWith(0, appServersPath)
	app.serversJSON(`{"not": "an array"}`)
	if _, body := do("GET", appServersPath, testAppKey, ""); body != `{"not": "an array"}` {
		t.Errorf("raw servers answer: %s", body)
	}

	app.stall(appActivityPath, 300*time.Millisecond)
	start := time.Now()
	do("POST", appActivityPath, testAppKey, `{}`)
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("a stalled endpoint answered in %s", took)
	}

	app.setDown(true)
	if code, _ := do("GET", appServersPath, testAppKey, ""); code != 0 {
		t.Errorf("a down App answered HTTP %d", code)
	}
	app.setDown(false)
	if code, _ := do("GET", appServersPath, testAppKey, ""); code != http.StatusOK {
		t.Errorf("the App back up: HTTP %d", code)
	}
	app.stop()
	if code, msg := do("GET", appServersPath, testAppKey, ""); code != 0 || !strings.Contains(msg, "refused") {
		t.Errorf("a stopped App: HTTP %d, %s; want the connection refused", code, msg)
	}
}

// The network items lead to a fixture that answers, and the Streamable
// HTTP one records the headers it gets.
func TestStandInAppItemsReachTheirFixtures(t *testing.T) {
	beta := sseItem(t, "beta")
	resp, err := http.Get(*beta.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Errorf("GET %s: HTTP %d, %s", *beta.URL, resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	gamma, headers := streamableItem(t, "gamma", map[string]string{"X-Gamma-Token": "v"})
	req, _ := http.NewRequest(http.MethodPost, *gamma.URL, strings.NewReader(
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("X-Gamma-Token", "v")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"serverInfo"`) {
		t.Errorf("initialize through the recording proxy: HTTP %d: %s", resp.StatusCode, body)
	}
	if !headers.has("X-Gamma-Token", "v") || headers.has("X-Gamma-Token", "other") {
		t.Errorf("headers recorded: %d requests", headers.count())
	}
}
