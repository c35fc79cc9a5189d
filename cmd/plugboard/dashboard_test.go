package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The dashboard, driven in a real browser: headless Chromium from
// Debian's packages (.ci/run installs it).

const dashboardToken = "dashboard-test-token-0123456789"

// chromiumPath finds Chromium; without it the test skips, unless
// PLUGBOARD_REQUIRE_INTEROP=1 (CI) makes that a failure.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("PLUGBOARD_REQUIRE_INTEROP") == "1" {
		t.Fatal("Chromium is required (PLUGBOARD_REQUIRE_INTEROP=1) but not found: apt-get install chromium")
	}
	t.Skip("Chromium not found (apt-get install chromium): the dashboard's browser tests skip")
	return ""
}

// browser is a headless Chromium tab with the console messages it saw.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// newBrowser starts Chromium with a fresh profile; it stops with the test.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 760),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no deadline (chromedp.Run)
		t.Fatalf("starting Chromium: %v", err)
	}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	return b
}

// do runs actions with a deadline.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// evalIn evaluates a JavaScript expression in the page, awaiting a
// promise.
func evalIn[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// waitFor waits until a JavaScript expression is truthy in the page,
// through navigations.
func (b *browser) waitFor(what, expr string, within time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
			cancel()
			b.t.Fatalf("waiting for %s (%v): %v\nthe page shows:\n%s", what, within, err, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// consoleErrors are the errors and exceptions the page wrote to the
// console so far.
func (b *browser) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.console {
		if m.Type == chromedp.ConsoleError || m.IsException() {
			out = append(out, m.String()+" ("+m.URL+")")
		}
	}
	return out
}

// screenshot saves the page as docs/NAME.png (for the README) when
// PLUGBOARD_UPDATE_SCREENSHOTS=1.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	if os.Getenv("PLUGBOARD_UPDATE_SCREENSHOTS") != "1" {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join("..", "..", "docs", name+".png")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("saved %s (%d bytes)", path, len(png))
}

// dashboardState asks the dashboard's API for the state, with the token.
func dashboardState(t *testing.T, base string) map[string]json.RawMessage {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/ui/api/state", nil)
	req.Header.Set("Authorization", "Bearer "+dashboardToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /ui/api/state: HTTP %d, %v", resp.StatusCode, err)
	}
	return out
}

// dashboardConfig has two fixture servers (the demo's items) and a
// server on the official Go SDK, and two workspaces.
func dashboardConfig(t *testing.T) string {
	return writeConfig(t, "servers:\n"+fixtureServer("alpha", "--demo")+fixtureServer("beta", "--demo")+
		"  sdk:\n    command: "+strconvQuote(sdkFixtureBin)+"\n"+
		"workspaces:\n  focus: [alpha]\n  all: [alpha, beta, sdk]\n")
}

func TestDashboardShowsAndControlsTheDaemon(t *testing.T) {
	needLinux(t)
	b := newBrowser(t)
	socket := shortSocket(t)
	d := startServe(t, dashboardConfig(t), "--auth-token", dashboardToken, "--socket", socket)

	// plugboard ui prints the address and, with no browser to open, a
	// login link that works once.
	code, stdout, stderr := runWithEnv(t, []string{"BROWSER=", "DISPLAY=", "WAYLAND_DISPLAY="}, "ui", "--socket", socket)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || lines[0] != d.url+"/ui/" || !strings.HasPrefix(lines[len(lines)-1], d.url+"/ui/login?code=") {
		t.Fatalf("plugboard ui: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	login := lines[len(lines)-1]
	if strings.Contains(d.stderr.String(), dashboardToken) || strings.Contains(d.stderr.String(), strings.TrimPrefix(login, d.url+"/ui/login?code=")) {
		t.Errorf("the daemon's log holds the token or the login code:\n%s", d.stderr.String())
	}

	// The page loads, with every server and its state.
	b.do("opening the login link", chromedp.Navigate(login))
	b.waitFor("three servers ready", `["alpha","beta","sdk"].every(n => document.querySelector('tr[data-server="'+n+'"][data-state="ready"]'))`, 20*time.Second)
	if _, again, _ := runWithEnv(t, []string{"BROWSER=", "DISPLAY="}, "ui", "--socket", socket); again == "" {
		t.Fatal("plugboard ui printed nothing the second time")
	}
	resp, err := http.Get(login) // the code was spent
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a used login link: HTTP %d, want 401", resp.StatusCode)
	}
	if rev := evalIn[string](b, `document.querySelector('tr[data-server="sdk"] td:nth-child(3)').textContent`); !strings.HasPrefix(rev, "20") {
		t.Errorf("the sdk server's revision shows %q", rev)
	}

	// A client: its session shows, with its client name and transport.
	c := attachClient(t, socket)
	c.mustCall("tools/call", map[string]any{"name": "alpha__echo", "arguments": map[string]any{"text": "hi"}})
	b.do("opening the sessions", chromedp.Click(chromedp.CSS(`nav a[data-view="sessions"]`)))
	b.waitFor("the session of ws-test over the socket", `[...document.querySelectorAll('#session-rows tr')].some(r => r.innerText.includes("ws-test") && r.innerText.includes("socket"))`, 10*time.Second)

	// Calls show as calls per second and latency (the metrics' counts).
	b.do("opening the servers", chromedp.Click(chromedp.CSS(`nav a[data-view="servers"]`)))
	rateShown := `(() => { const r = document.querySelector('tr[data-server="beta"]'); return r && parseFloat(r.children[7].textContent) > 0 && r.children[8].textContent.endsWith(" ms") })()`
	for deadline := time.Now().Add(10 * time.Second); !evalIn[bool](b, rateShown); {
		if time.Now().After(deadline) {
			t.Fatalf("beta's calls per second and latency never showed; its row: %s",
				evalIn[string](b, `document.querySelector('tr[data-server="beta"]').innerText`))
		}
		for range 5 {
			c.mustCall("tools/call", map[string]any{"name": "beta__echo", "arguments": map[string]any{"text": "rate"}})
		}
		time.Sleep(200 * time.Millisecond)
	}

	// A crash, then the restart, show on the page as they happen.
	c.call("tools/call", map[string]any{"name": "alpha__crash", "arguments": map[string]any{"code": 3}})
	b.waitFor("alpha restarted once and ready", `(() => { const r = document.querySelector('tr[data-server="alpha"]'); return r && r.dataset.state === "ready" && r.children[4].textContent.startsWith("1") && r.children[5].textContent.includes("status 3") })()`, 15*time.Second)
	b.do("opening the activity", chromedp.Click(chromedp.CSS(`nav a[data-view="activity"]`)))
	b.waitFor("the restart in the activity", `document.getElementById("activity-rows").innerText.includes("alpha restarted")`, 5*time.Second)
	b.do("opening the servers", chromedp.Click(chromedp.CSS(`nav a[data-view="servers"]`)))
	b.do("showing alpha's stderr", chromedp.Click(chromedp.CSS(`tr[data-server="alpha"] button`)))
	b.waitFor("alpha's stderr", `document.getElementById("log-lines").textContent.includes("crashing")`, 5*time.Second)
	b.screenshot("dashboard-servers")

	// Disabling a tool: the client no longer lists it, and a call fails.
	b.do("opening the catalog", chromedp.Click(chromedp.CSS(`nav a[data-view="catalog"]`)),
		chromedp.SendKeys(chromedp.ID("search"), "echo"))
	b.waitFor("the search keeps the echo tools", `document.querySelectorAll('#tool-rows tr').length === 2 && document.querySelector('tr[data-tool="beta__echo"] td:nth-child(3)').textContent === "echo"`, 5*time.Second)
	c.drain(300 * time.Millisecond)
	b.do("switching beta__echo off", chromedp.Click(chromedp.CSS(`tr[data-tool="beta__echo"] input`)))
	c.waitNotification("notifications/tools/list_changed", 10*time.Second)
	if contains(names(t, c.listAll("tools/list", "tools"), "name"), "beta__echo") {
		t.Error("the client still lists beta__echo after the dashboard disabled it")
	}
	if res := c.call("tools/call", map[string]any{"name": "beta__echo", "arguments": map[string]any{"text": "x"}}); res.Error == nil {
		t.Errorf("a call of the disabled beta__echo got %s", res.raw)
	}
	b.waitFor("beta__echo shown off", `!document.querySelector('tr[data-tool="beta__echo"] input').checked && document.querySelector('tr[data-tool="beta__echo"]').classList.contains("disabled")`, 5*time.Second)
	stdout, _, _ = plugboardCommand(t, "tools", "--socket", socket)
	if !strings.Contains(stdout, "disabled: plugboard tools enable beta__echo") {
		t.Errorf("plugboard tools does not show the dashboard's change:\n%s", stdout)
	}
	evalIn[bool](b, `(() => { const s = document.getElementById("search"); s.value = ""; s.dispatchEvent(new Event("input")); return true })()`)
	b.waitFor("the whole catalog", `document.querySelectorAll('#tool-rows tr').length === 11`, 5*time.Second)
	b.screenshot("dashboard-catalog")
	c.drain(300 * time.Millisecond)
	b.do("switching beta__echo on", chromedp.Click(chromedp.CSS(`tr[data-tool="beta__echo"] input`)))
	c.waitNotification("notifications/tools/list_changed", 10*time.Second)
	c.mustCall("tools/call", map[string]any{"name": "beta__echo", "arguments": map[string]any{"text": "back"}})

	// Switching workspace: the client gets list_changed and the new catalog.
	c.drain(300 * time.Millisecond)
	b.do("opening the workspaces", chromedp.Click(chromedp.CSS(`nav a[data-view="workspaces"]`)))
	b.do("using workspace focus", chromedp.Click(chromedp.CSS(`button[data-workspace="focus"]`)))
	c.waitNotification("notifications/tools/list_changed", 10*time.Second)
	eventually(t, 10*time.Second, "the client lists focus's servers", func() bool { return samePrefixes(c.prefixes(), "alpha") })
	b.waitFor("focus shown as the default", `document.querySelector('tr[data-workspace-row="focus"]').innerText.includes("default")`, 5*time.Second)
	c.drain(300 * time.Millisecond)
	b.do("back to every server", chromedp.Click(chromedp.CSS(`button[data-workspace=""]`)))
	c.waitNotification("notifications/tools/list_changed", 10*time.Second)
	eventually(t, 20*time.Second, "the client lists every server again", func() bool { return samePrefixes(c.prefixes(), "alpha", "beta", "sdk") })

	// Restart: the server runs as a new process.
	sdkPID := func() int {
		var st statusJSON
		if err := json.Unmarshal(dashboardState(t, d.url)["status"], &st); err != nil {
			t.Fatal(err)
		}
		if s := statusOf(st, "sdk"); s != nil && s.State == "ready" {
			return s.PID
		}
		return 0
	}
	var before int
	eventually(t, 20*time.Second, "sdk ready", func() bool { before = sdkPID(); return before != 0 })
	b.do("opening the servers", chromedp.Click(chromedp.CSS(`nav a[data-view="servers"]`)),
		chromedp.Click(chromedp.CSS(`button[data-restart="sdk"]`)))
	eventually(t, 20*time.Second, "sdk restarted as a new process", func() bool { pid := sdkPID(); return pid != 0 && pid != before })

	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("the page wrote errors to the console:\n%s", strings.Join(errs, "\n"))
	}
}

func TestDashboardGivesStrangersOnlyTheLoginAndRefusesCrossSitePosts(t *testing.T) {
	needLinux(t)
	b := newBrowser(t)
	d := startServe(t, dashboardConfig(t), "--auth-token", dashboardToken)

	// Without the token: the login page, and nothing else.
	b.do("opening the dashboard", chromedp.Navigate(d.url+"/ui/"))
	b.waitFor("the login form", `document.getElementById("login") !== null`, 5*time.Second)
	if text := evalIn[string](b, `document.documentElement.outerHTML`); strings.Contains(text, "alpha") || strings.Contains(text, "server-rows") {
		t.Errorf("the login page shows more than the login:\n%s", text)
	}
	for _, path := range []string{"/ui/app.js", "/ui/api/state", "/ui/api/session", "/ui/api/events", "/ui/api/logs?server=alpha", "/ui/nosuch"} {
		status := evalIn[int](b, `fetch(`+jsString(d.url+path)+`).then(r => r.status)`)
		if status != http.StatusUnauthorized {
			t.Errorf("GET %s without logging in: HTTP %d, want 401", path, status)
		}
	}
	b.do("a wrong token", chromedp.SendKeys(chromedp.ID("token"), "not-the-token"), chromedp.Submit(chromedp.ID("token")))
	b.waitFor("the refusal", `document.querySelector(".problem") && document.querySelector(".problem").textContent.includes("not the token")`, 5*time.Second)

	// With it: the dashboard, and the cookie is out of the page's reach.
	b.do("the token", chromedp.SendKeys(chromedp.ID("token"), dashboardToken), chromedp.Submit(chromedp.ID("token")))
	b.waitFor("the servers", `document.querySelector('tr[data-server="alpha"]') !== null`, 20*time.Second)
	if cookie := evalIn[string](b, `document.cookie`); cookie != "" {
		t.Errorf("the page can read its cookie: %q", cookie)
	}

	// A page of another origin posts a form to the dashboard: refused, and
	// nothing changes. (It is the same site, 127.0.0.1 on another port, so
	// the browser sends the cookie: the origin and CSRF checks refuse it.)
	evil := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<form id="f" method="post" action="%s/ui/api/tools"><input name="names" value="alpha__echo"><input name="enabled" value="false"></form><script>document.getElementById("f").submit()</script>`, d.url)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go evil.Serve(ln)
	t.Cleanup(func() { evil.Close() })
	b.do("visiting the other site", chromedp.Navigate("http://"+ln.Addr().String()+"/"))
	b.waitFor("the dashboard's refusal", `location.href.startsWith(`+jsString(d.url)+`) && document.body.innerText.includes("refused")`, 10*time.Second)
	var catalog struct {
		Tools []entryJSON `json:"tools"`
	}
	if err := json.Unmarshal(dashboardState(t, d.url)["catalog"], &catalog); err != nil {
		t.Fatal(err)
	}
	for _, tool := range catalog.Tools {
		if tool.Disabled {
			t.Errorf("the cross-site post disabled %s", tool.Name)
		}
	}

	// The same request from the dashboard's own page, with its CSRF token,
	// is what changes state; without the token it is refused too.
	b.do("back to the dashboard", chromedp.Navigate(d.url+"/ui/"))
	b.waitFor("the servers", `document.querySelector('tr[data-server="alpha"]') !== null`, 20*time.Second)
	status := evalIn[int](b, `fetch("/ui/api/tools", {method: "POST", headers: {"Content-Type": "application/json"}, body: '{"names":["alpha__echo"],"enabled":false}'}).then(r => r.status)`)
	if status != http.StatusForbidden {
		t.Errorf("a POST without the CSRF header: HTTP %d, want 403", status)
	}
	status = evalIn[int](b, `fetch("/ui/api/session").then(r => r.json()).then(s => fetch("/ui/api/tools", {method: "POST", headers: {"Content-Type": "application/json", "X-Plugboard-CSRF": s.csrf}, body: '{"names":["alpha__echo"],"enabled":false}'})).then(r => r.status)`)
	if status != http.StatusOK {
		t.Errorf("a POST with the CSRF header: HTTP %d, want 200", status)
	}
	for _, e := range b.consoleErrors() {
		// The browser logs the 401s and 403s asked for above, and its own
		// request for the icon of the refusal (a JSON body, no page).
		if !strings.Contains(e, "status of 401") && !strings.Contains(e, "status of 403") && !strings.HasSuffix(e, "/favicon.ico)") {
			t.Errorf("the page wrote an error to the console: %s", e)
		}
	}
}

// jsString quotes s as a JavaScript string.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// With --no-auth the dashboard asks for no login, but a change still
// needs the session's CSRF token: another local page cannot make one.
func TestDashboardWithoutAuthStillNeedsItsCSRFToken(t *testing.T) {
	d := startServe(t, writeConfig(t, "servers:\n"+fixtureServer("alpha", "--demo")))
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(d.url + "/ui/")
	if err != nil {
		t.Fatal(err)
	}
	page := string(mustRead(t, resp.Body))
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(page, `src="/ui/app.js"`) {
		t.Fatalf("GET /ui/ with --no-auth: HTTP %d\n%s", resp.StatusCode, page)
	}
	cookie := resp.Header.Get("Set-Cookie")
	for _, attr := range []string{"plugboard_ui=", "HttpOnly", "SameSite=Strict", "Path=/ui"} {
		if !strings.Contains(cookie, attr) {
			t.Errorf("the session cookie %q lacks %s", cookie, attr)
		}
	}
	resp, err = browser.Get(d.url + "/ui/api/session")
	if err != nil {
		t.Fatal(err)
	}
	var session struct{ CSRF, Auth string }
	if err := json.NewDecoder(resp.Body).Decode(&session); err != nil || session.CSRF == "" || session.Auth != "none" {
		t.Fatalf("GET /ui/api/session: %v %+v", err, session)
	}
	resp.Body.Close()

	disable := func(csrf string) int {
		req, _ := http.NewRequest("POST", d.url+"/ui/api/tools", strings.NewReader(`{"names":["alpha__echo"],"enabled":false}`))
		req.Header.Set("Content-Type", "application/json")
		if csrf != "" {
			req.Header.Set("X-Plugboard-CSRF", csrf)
		}
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status := disable(""); status != http.StatusForbidden {
		t.Errorf("a change without the CSRF token: HTTP %d, want 403", status)
	}
	if status := disable("0123"); status != http.StatusForbidden {
		t.Errorf("a change with a wrong CSRF token: HTTP %d, want 403", status)
	}
	if status := disable(session.CSRF); status != http.StatusOK {
		t.Errorf("a change with the CSRF token: HTTP %d, want 200", status)
	}
	var catalog struct {
		Tools []entryJSON `json:"tools"`
	}
	resp, err = browser.Get(d.url + "/ui/api/state")
	if err != nil {
		t.Fatal(err)
	}
	var state map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&state); err != nil || json.Unmarshal(state["catalog"], &catalog) != nil {
		t.Fatalf("GET /ui/api/state: %v", err)
	}
	resp.Body.Close()
	for _, tool := range catalog.Tools {
		if tool.Disabled != (tool.Name == "alpha__echo") {
			t.Errorf("after one accepted change, %s disabled: %v", tool.Name, tool.Disabled)
		}
	}
}
