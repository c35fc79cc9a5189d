package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests of plugboard's login to remote servers (issue 13), through the
// real binary, against the authorization server of oauth_server_test.go
// and the protected server of oauth_resource_test.go. Every command runs
// at debug level, and at the end of each test nothing plugboard printed
// may hold a token, code, verifier or client secret.

// oauthBrowserBin is testdata/oauth-browser, built on first use.
var (
	oauthBrowserOnce sync.Once
	oauthBrowserBin  string
	oauthBrowserErr  error
)

func buildOAuthBrowser(t *testing.T) string {
	t.Helper()
	oauthBrowserOnce.Do(func() {
		oauthBrowserBin = filepath.Join(filepath.Dir(plugboardBin), "oauth-browser")
		out, err := exec.Command("go", "build", "-o", oauthBrowserBin, "./testdata/oauth-browser").CombinedOutput()
		if err != nil {
			oauthBrowserErr = fmt.Errorf("building testdata/oauth-browser: %v: %s", err, out)
		}
	})
	if oauthBrowserErr != nil {
		t.Fatal(oauthBrowserErr)
	}
	return oauthBrowserBin
}

// oauthWorld is a protected server named prot, its authorization server,
// and a fixture server named local, in one configuration, with a state
// directory and a browser stand-in of the test's own.
type oauthWorld struct {
	t          *testing.T
	as         *authServer
	ps         *protectedServer
	config     string
	stateDir   string // XDG_STATE_HOME
	browserLog string

	mu      sync.Mutex
	printed []printedText // everything plugboard printed, for checkNoSecretsPrinted
	live    []liveOutput  // the stderr of processes still running
}

type printedText struct{ what, text string }

type liveOutput struct {
	what string
	buf  *lockedBuffer
}

// oauthWorldOptions are what tests vary in an oauthWorld.
type oauthWorldOptions struct {
	Protected protectedOptions
	// Auth is the YAML of prot's auth key, indented for it, if any.
	Auth string
	// TokenLifetime is the access tokens' lifetime (default an hour).
	TokenLifetime time.Duration
}

// withScopes is the usual world: WWW-Authenticate asks for scopes a and b.
var withScopes = oauthWorldOptions{Protected: protectedOptions{ChallengeScopes: []string{"a", "b"}, MetadataScopes: []string{"a", "b", "c"}}}

func newOAuthWorld(t *testing.T, opts oauthWorldOptions) *oauthWorld {
	t.Helper()
	browser := buildOAuthBrowser(t)
	w := &oauthWorld{t: t, stateDir: t.TempDir()}
	w.browserLog = filepath.Join(t.TempDir(), "browser.log")
	// Registered first, so it runs last: after every process has stopped.
	t.Cleanup(w.checkNoSecretsPrinted)
	w.as = startAuthServer(t)
	if opts.TokenLifetime != 0 {
		w.as.SetTokenLifetime(opts.TokenLifetime)
	}
	w.ps = startProtectedServer(t, w.as, opts.Protected)
	// The environment of every command the test runs.
	t.Setenv("XDG_STATE_HOME", w.stateDir)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("PLUGBOARD_LOG_LEVEL", "debug")
	t.Setenv("BROWSER", browser)
	t.Setenv("OAUTH_BROWSER_LOG", w.browserLog)
	w.config = w.configNaming("prot", opts.Auth)
	return w
}

// configNaming writes a configuration with the protected server under name.
func (w *oauthWorld) configNaming(name, auth string) string {
	yaml := fmt.Sprintf("servers:\n  %s:\n    url: %q\n", name, w.ps.URL)
	if auth != "" {
		yaml += "    auth:\n" + auth
	}
	return writeConfig(w.t, yaml+fixtureServer("local"))
}

// command runs plugboard with args, at most two minutes, and returns its
// stdout, stderr and exit status.
func (w *oauthWorld) command(args ...string) (string, string, int) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, plugboardBin, args...)
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	w.record("stdout of plugboard "+strings.Join(args, " "), stdout.String())
	w.record("stderr of plugboard "+strings.Join(args, " "), stderr.String())
	if ctx.Err() != nil {
		w.t.Fatalf("plugboard %v did not finish within 2 min\nstdout %s\nstderr %s", args, stdout.String(), stderr.String())
	}
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		w.t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func (w *oauthWorld) record(what, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.printed = append(w.printed, printedText{what, text})
}

// login runs plugboard login NAME on config and checks that it succeeded.
// It returns the authorization URL plugboard printed.
func (w *oauthWorld) login(name, config string) string {
	w.t.Helper()
	stdout, stderr, code := w.command("login", name, "--config", config)
	if code != 0 || !strings.Contains(stdout, "logged in to "+name) {
		w.t.Fatalf("plugboard login %s: exit %d, want 0 and %q\nstdout %s\nstderr %s\nbrowser %s", name, code, "logged in to "+name, stdout, stderr, w.browserSaw())
	}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "open this URL to log in: "); ok {
			return strings.TrimSpace(u)
		}
	}
	w.t.Fatalf("plugboard login %s printed no line %q:\n%s", name, "open this URL to log in: URL", stdout)
	return ""
}

func (w *oauthWorld) browserSaw() string {
	b, _ := os.ReadFile(w.browserLog)
	return string(b)
}

// stdio starts plugboard in stdio mode on config and initializes a session.
func (w *oauthWorld) stdio(config string) *client {
	w.t.Helper()
	c := startPlugboard(w.t, config, "--log-level", "debug")
	w.mu.Lock()
	w.live = append(w.live, liveOutput{"stderr of plugboard stdio", c.stderr})
	w.mu.Unlock()
	return c
}

// serve starts plugboard serve on w's configuration and a unix socket.
func (w *oauthWorld) serve(socket string) *daemon {
	w.t.Helper()
	d := startServe(w.t, w.config, "--socket", socket, "--log-level", "debug")
	w.mu.Lock()
	w.live = append(w.live, liveOutput{"stderr of plugboard serve", d.stderr})
	w.mu.Unlock()
	return d
}

// call calls tool with {"text": "hi"} over stdio.
func (w *oauthWorld) call(c *client, tool string) *message {
	w.t.Helper()
	m := c.call("tools/call", map[string]any{"name": tool, "arguments": map[string]any{"text": "hi"}})
	w.record("plugboard's answer to "+tool, string(m.raw))
	return m
}

// callHTTP calls tool with {"text": "hi"} over a serve session.
func (w *oauthWorld) callHTTP(s *httpSession, tool string) *message {
	w.t.Helper()
	m, before := s.call("tools/call", map[string]any{"name": tool, "arguments": map[string]any{"text": "hi"}})
	w.record("plugboard serve's answer to "+tool, string(m.raw))
	for _, b := range before {
		w.record("plugboard serve's message before the answer to "+tool, string(b.raw))
	}
	return m
}

// answers waits until call gets an answer without error and checks it.
func (w *oauthWorld) answers(call func(string) *message, tool, want string) {
	w.t.Helper()
	m := w.waitFor(call, tool, 20*time.Second, tool+" answering", func(m *message) bool { return m.Error == nil })
	if got := textOf(w.t, m.Result); got != want {
		w.t.Errorf("%s answered %q, want %q", tool, got, want)
	}
}

// needsLogin waits until call gets the needs-login error for server and
// checks its code.
func (w *oauthWorld) needsLogin(call func(string) *message, tool, server string) {
	w.t.Helper()
	want := "needs login: run plugboard login " + server
	m := w.waitFor(call, tool, 20*time.Second, tool+" failing with "+want, func(m *message) bool {
		return m.Error != nil && strings.Contains(m.Error.Message, want)
	})
	if m.Error.Code != -32000 {
		w.t.Errorf("%s: error code %d, want -32000: %s", tool, m.Error.Code, m.raw)
	}
}

// waitFor calls tool until its answer is ok, and fails the test with the
// last answer if none is within the time.
func (w *oauthWorld) waitFor(call func(string) *message, tool string, within time.Duration, what string, ok func(*message) bool) *message {
	w.t.Helper()
	deadline := time.Now().Add(within)
	for {
		m := call(tool)
		if ok(m) {
			return m
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("%s: not within %s; the last answer: %s", what, within, m.raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tokenFiles checks the token directory's mode and returns its files.
func (w *oauthWorld) tokenFiles() []os.DirEntry {
	w.t.Helper()
	dir := filepath.Join(w.stateDir, "plugboard", "tokens")
	info, err := os.Stat(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		w.t.Fatal(err)
	}
	if info.Mode().Perm() != 0o700 {
		w.t.Errorf("%s has mode %v, want 0700", dir, info.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		w.t.Fatal(err)
	}
	return entries
}

// checkNoSecretsPrinted fails the test if anything plugboard printed holds
// a secret the authorization server issued or received.
func (w *oauthWorld) checkNoSecretsPrinted() {
	w.mu.Lock()
	printed := w.printed
	for _, l := range w.live {
		printed = append(printed, printedText{l.what, l.buf.String()})
	}
	w.mu.Unlock()
	secrets := w.as.Secrets()
	for _, p := range printed {
		for _, s := range secrets {
			if strings.Contains(p.text, s) {
				kind, _, _ := strings.Cut(s, "-")
				w.t.Errorf("the %s holds a secret the authorization server issued or received (%s…)", p.what, kind)
			}
		}
	}
}

// statusOf returns the state of each server in plugboard status --json.
func (w *oauthWorld) statusOf(socket string) map[string]string {
	w.t.Helper()
	out, errOut, code := w.command("status", "--socket", socket, "--json")
	var st struct {
		Servers []struct {
			Name  string `json:"name"`
			State string `json:"state"`
		} `json:"servers"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != 0 {
		w.t.Fatalf("plugboard status --json: exit %d, %v: %s %s", code, err, out, errOut)
	}
	states := map[string]string{}
	for _, s := range st.Servers {
		states[s.Name] = s.State
	}
	return states
}

func TestOAuthFirstUseNeedsLogin(t *testing.T) {
	w := newOAuthWorld(t, withScopes)
	c := w.stdio(w.config)
	call := func(tool string) *message { return w.call(c, tool) }
	w.needsLogin(call, "prot__echo", "prot")
	w.answers(call, "local__echo", "hi")
	if files := w.tokenFiles(); len(files) != 0 {
		t.Errorf("tokens stored without a login: %v", files)
	}
	if accepted, _ := w.ps.Counts(); accepted != 0 {
		t.Errorf("the protected server accepted %d requests without a login", accepted)
	}
}

func TestOAuthLoginStoresTokensAndCallsWork(t *testing.T) {
	w := newOAuthWorld(t, withScopes)
	authURL := w.login("prot", w.config)

	// What went to the authorization server.
	reg := w.as.Requests("/register")
	if len(reg) != 1 || reg[0].Status != http.StatusCreated {
		t.Fatalf("registrations: %+v", reg)
	}
	var registered struct {
		ClientName   string   `json:"client_name"`
		RedirectURIs []string `json:"redirect_uris"`
	}
	json.Unmarshal(reg[0].Body, &registered)
	if registered.ClientName != "plugboard" || len(registered.RedirectURIs) != 1 {
		t.Fatalf("registered %s, want client_name plugboard and one redirect URI", reg[0].Body)
	}
	redirect, err := url.Parse(registered.RedirectURIs[0])
	if err != nil || redirect.Scheme != "http" || redirect.Hostname() != "127.0.0.1" || redirect.Port() == "" || redirect.Path != "/callback" {
		t.Errorf("redirect URI %q, want http://127.0.0.1:PORT/callback", registered.RedirectURIs[0])
	}

	authorize := w.as.Requests("/authorize")
	if len(authorize) != 1 || authorize[0].Status != http.StatusFound {
		t.Fatalf("authorization requests: %+v", authorize)
	}
	q := authorize[0].Query
	for key, want := range map[string]string{
		"response_type": "code", "code_challenge_method": "S256", "resource": w.ps.URL, "scope": "a b",
		"redirect_uri": registered.RedirectURIs[0],
	} {
		if q.Get(key) != want {
			t.Errorf("the authorization request's %s is %q, want %q", key, q.Get(key), want)
		}
	}
	if len(q.Get("code_challenge")) != 43 || len(q.Get("state")) < 16 {
		t.Errorf("the authorization request's code_challenge %q (want 43 characters) or state %q (want 16 or more)", q.Get("code_challenge"), q.Get("state"))
	}
	if u, err := url.Parse(authURL); err != nil || u.Scheme+"://"+u.Host+u.Path != w.as.URL()+"/authorize" || u.Query().Get("state") != q.Get("state") {
		t.Errorf("plugboard printed the authorization URL %q; the authorization server got %v", authURL, q)
	}
	if saw := w.browserSaw(); !strings.Contains(saw, "opened "+authURL+":") {
		t.Errorf("$BROWSER was not run with the authorization URL; it saw:\n%s", saw)
	}

	exchanges := w.as.Grants("authorization_code")
	if len(exchanges) != 1 || exchanges[0].Status != http.StatusOK {
		t.Fatalf("code exchanges: %+v", exchanges)
	}
	form := exchanges[0].Form
	if form.Get("resource") != w.ps.URL || form.Get("redirect_uri") != registered.RedirectURIs[0] || s256(form.Get("code_verifier")) != q.Get("code_challenge") {
		t.Errorf("the code exchange sent resource %q, redirect_uri %q, and a verifier that matches the challenge: %v",
			form.Get("resource"), form.Get("redirect_uri"), s256(form.Get("code_verifier")) == q.Get("code_challenge"))
	}

	// What was stored.
	files := w.tokenFiles()
	if len(files) != 1 {
		t.Fatalf("%d files in the token directory, want 1: %v", len(files), files)
	}
	info, err := files[0].Info()
	if err != nil || !info.Mode().IsRegular() || info.Mode().Perm() != 0o600 {
		t.Errorf("token file %s: mode %v, %v; want a regular file 0600", files[0].Name(), info.Mode(), err)
	}
	if strings.Contains(files[0].Name(), "prot") || strings.Contains(files[0].Name(), "127.0.0.1") {
		t.Errorf("token file %s is named for the server, not by a hash of its URL", files[0].Name())
	}

	// Calls work, in stdio mode and under another name for the same URL.
	c := w.stdio(w.config)
	call := func(tool string) *message { return w.call(c, tool) }
	w.answers(call, "prot__echo", "protected echo: hi")
	w.answers(call, "local__echo", "hi")
	renamed := w.stdio(w.configNaming("renamed", ""))
	w.answers(func(tool string) *message { return w.call(renamed, tool) }, "renamed__echo", "protected echo: hi")
	if n := len(w.as.Requests("/authorize")); n != 1 {
		t.Errorf("%d authorization requests after the login, want 1: calls must not start a login", n)
	}

	// Logout deletes the tokens, and the next start needs a login again.
	stdout, stderr, code := w.command("logout", "prot", "--config", w.config)
	if code != 0 || !strings.Contains(stdout, "logged out of prot") {
		t.Errorf("plugboard logout prot: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if files := w.tokenFiles(); len(files) != 0 {
		t.Errorf("tokens left after logout: %v", files)
	}
	after := w.stdio(w.config)
	w.needsLogin(func(tool string) *message { return w.call(after, tool) }, "prot__echo", "prot")
}

func TestOAuthDaemonPicksUpALoginAndShowsNeedsLogin(t *testing.T) {
	needLinux(t)
	w := newOAuthWorld(t, withScopes)
	socket := shortSocket(t)
	d := w.serve(socket)
	s := newHTTPSession(t, d.url)
	s.initialize(nil)
	call := func(tool string) *message { return w.callHTTP(s, tool) }

	w.needsLogin(call, "prot__echo", "prot")
	w.answers(call, "local__echo", "hi")
	if states := w.statusOf(socket); states["prot"] != "needs-login" || states["local"] != "ready" {
		t.Errorf("status --json: %v, want prot needs-login and local ready", states)
	}
	table, _, _ := w.command("status", "--socket", socket)
	if !lineWith(table, "prot", "needs login: run plugboard login prot") {
		t.Errorf("status does not show prot as needing a login:\n%s", table)
	}

	// The daemon retries a server that needs a login every 10 s, from the store.
	w.login("prot", w.config)
	w.waitFor(call, "prot__echo", 25*time.Second, "prot__echo answering after plugboard login, without a restart", func(m *message) bool {
		return m.Error == nil && textOf(t, m.Result) == "protected echo: hi"
	})
	if states := w.statusOf(socket); states["prot"] != "ready" {
		t.Errorf("status --json after the login: %v, want prot ready", states)
	}
}

func TestOAuthExpiredTokenIsRefreshed(t *testing.T) {
	opts := withScopes
	opts.TokenLifetime = 3 * time.Second
	w := newOAuthWorld(t, opts)
	w.login("prot", w.config)
	c := w.stdio(w.config)
	call := func(tool string) *message { return w.call(c, tool) }
	w.answers(call, "prot__echo", "protected echo: hi")

	waitForTokensToExpire(t, w.as)
	w.answers(call, "prot__echo", "protected echo: hi")
	checkRefreshes(t, w)

	// The refreshed tokens were stored: a new process uses them (the
	// authorization server rotates refresh tokens, so the first one is spent).
	c.close()
	waitForTokensToExpire(t, w.as)
	next := w.stdio(w.config)
	w.answers(func(tool string) *message { return w.call(next, tool) }, "prot__echo", "protected echo: hi")
	if n := len(w.as.Requests("/authorize")); n != 1 {
		t.Errorf("%d authorization requests, want only the login's", n)
	}
}

// checkRefreshes checks that plugboard refreshed, and always with the
// resource parameter.
func checkRefreshes(t *testing.T, w *oauthWorld) {
	t.Helper()
	grants := w.as.Grants("refresh_token")
	if w.as.Refreshes() == 0 {
		t.Errorf("no successful refresh_token grant: %+v", grants)
	}
	for _, g := range grants {
		if g.Form.Get("resource") != w.ps.URL {
			t.Errorf("a refresh_token grant with resource %q, want %q", g.Form.Get("resource"), w.ps.URL)
		}
	}
}

func TestOAuthRefusedTokenIsRefreshedOnceAndRetried(t *testing.T) {
	w := newOAuthWorld(t, withScopes)
	w.login("prot", w.config)
	c := w.stdio(w.config)
	call := func(tool string) *message { return w.call(c, tool) }
	w.answers(call, "prot__echo", "protected echo: hi")

	w.as.RevokeAccessTokens() // still unexpired, but refused with 401
	if m := call("prot__echo"); m.Error != nil || textOf(t, m.Result) != "protected echo: hi" {
		t.Errorf("the first call after the server refused the token: %s", m.raw)
	}
	checkRefreshes(t, w)
	if n := w.as.Refreshes(); n != 1 {
		t.Errorf("%d refreshes for one refused token, want 1", n)
	}
}

func TestOAuthRevokedRefreshTokenNeedsLoginAndOthersCarryOn(t *testing.T) {
	needLinux(t)
	opts := withScopes
	opts.TokenLifetime = 3 * time.Second
	w := newOAuthWorld(t, opts)
	w.login("prot", w.config)
	socket := shortSocket(t)
	d := w.serve(socket)
	s := newHTTPSession(t, d.url)
	s.initialize(nil)
	call := func(tool string) *message { return w.callHTTP(s, tool) }
	w.answers(call, "prot__echo", "protected echo: hi")

	w.as.RevokeRefreshTokens()
	waitForTokensToExpire(t, w.as)
	w.needsLogin(call, "prot__echo", "prot")
	failed := len(w.as.Grants("refresh_token")) - w.as.Refreshes()
	w.answers(call, "local__echo", "hi")
	if states := w.statusOf(socket); states["prot"] != "needs-login" || states["local"] != "ready" {
		t.Errorf("status --json: %v, want prot needs-login and local ready", states)
	}
	if now := len(w.as.Grants("refresh_token")) - w.as.Refreshes(); now > failed+1 {
		t.Errorf("%d refused refreshes, then %d a moment later: a server that needs a login must not be retried in a loop", failed, now)
	}

	// A new login and a restart bring it back.
	w.login("prot", w.config)
	stdout, stderr, code := w.command("restart", "prot", "--socket", socket)
	if code != 0 || !strings.Contains(stdout, "restarted prot") {
		t.Errorf("plugboard restart prot: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	w.answers(call, "prot__echo", "protected echo: hi")
}

func TestOAuthLoginAsksForTheSpecsScopes(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts oauthWorldOptions
		want string // the scope parameter; "" for none
	}{
		{"from WWW-Authenticate", withScopes, "a b"},
		{"else the metadata's scopes_supported",
			oauthWorldOptions{Protected: protectedOptions{MetadataScopes: []string{"c", "d"}}}, "c d"},
		{"the config's over both",
			oauthWorldOptions{Protected: protectedOptions{ChallengeScopes: []string{"a"}, MetadataScopes: []string{"a", "b"}}, Auth: "      scopes: [a, c]\n"}, "a c"},
		{"else none", oauthWorldOptions{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newOAuthWorld(t, tc.opts)
			w.login("prot", w.config)
			authorize := w.as.Requests("/authorize")
			if len(authorize) != 1 {
				t.Fatalf("%d authorization requests", len(authorize))
			}
			q := authorize[0].Query
			if q.Get("scope") != tc.want {
				t.Errorf("scope %q, want %q", q.Get("scope"), tc.want)
			}
		})
	}
}

func TestOAuthPreRegisteredClientWithASecret(t *testing.T) {
	port := freeLoopbackPort(t)
	secret := "cs-preregistered-" + rand.Text()
	redirect := fmt.Sprintf("http://127.0.0.1:%d/callback", port)
	opts := withScopes
	opts.Auth = fmt.Sprintf("      client_id: pre-client\n      client_secret: %q\n      redirect_port: %d\n", secret, port)
	w := newOAuthWorld(t, opts)
	w.as.PreRegister("pre-client", secret, redirect)
	w.login("prot", w.config)

	if reg := w.as.Requests("/register"); len(reg) != 0 {
		t.Errorf("plugboard registered a client though the config names one: %+v", reg)
	}
	authorize := w.as.Requests("/authorize")
	if len(authorize) != 1 {
		t.Fatalf("%d authorization requests, want 1", len(authorize))
	}
	if q := authorize[0].Query; q.Get("client_id") != "pre-client" || q.Get("redirect_uri") != redirect {
		t.Errorf("authorization request for client %q with redirect_uri %q, want pre-client and %s", q.Get("client_id"), q.Get("redirect_uri"), redirect)
	}
	exchanges := w.as.Grants("authorization_code")
	if len(exchanges) != 1 || exchanges[0].Status != http.StatusOK {
		t.Fatalf("code exchanges (the client authenticates with its secret): %+v", exchanges)
	}
	c := w.stdio(w.config)
	w.answers(func(tool string) *message { return w.call(c, tool) }, "prot__echo", "protected echo: hi")
}

// waitForTokensToExpire waits until every access token issued so far has
// expired.
func waitForTokensToExpire(t *testing.T, as *authServer) {
	t.Helper()
	last := as.LastExpiry()
	eventually(t, time.Until(last)+5*time.Second, "the access tokens expiring", func() bool { return time.Now().After(last) })
}

// freeLoopbackPort returns a port free on 127.0.0.1 a moment ago.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// lineWith reports whether some line of text starts with first and holds
// then.
func lineWith(text, first, then string) bool {
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, first+" ") && strings.Contains(line, then) {
			return true
		}
	}
	return false
}

// withCallScopes is a world whose server wants scope b besides a for a
// tools/call (step-up), where the login first asks for a only.
var withCallScopes = oauthWorldOptions{Protected: protectedOptions{
	ChallengeScopes: []string{"a"}, MetadataScopes: []string{"a", "b"}, CallScopes: []string{"a", "b"}}}

// A call the server refuses with 403 insufficient_scope gets a login
// again in the browser, for the scopes held and the one wanted, and is
// then answered; the next call needs no login.
func TestOAuthStepUpLogsInAgainForTheScopeACallNeeds(t *testing.T) {
	w := newOAuthWorld(t, withCallScopes)
	w.login("prot", w.config)
	c := w.stdio(w.config)
	m := w.call(c, "prot__echo")
	if m.Error != nil {
		t.Fatalf("the call that needed a step-up failed: %s\nstderr of plugboard:\n%s", m.raw, c.stderr.String())
	}
	if got := textOf(t, m.Result); got != "protected echo: hi" {
		t.Errorf("the call answered %q", got)
	}
	authorize := w.as.Requests("/authorize")
	if len(authorize) != 2 {
		t.Fatalf("%d authorization requests, want 2 (the login, the step-up)", len(authorize))
	}
	if a, b := authorize[0].Query.Get("scope"), authorize[1].Query.Get("scope"); a != "a" || b != "a b" {
		t.Errorf("the login asked for scope %q and the step-up for %q; want \"a\", then \"a b\"", a, b)
	}
	w.answers(func(tool string) *message { return w.call(c, tool) }, "prot__echo", "protected echo: hi")
	if n := len(w.as.Requests("/authorize")); n != 2 {
		t.Errorf("%d authorization requests after a second call, want still 2", n)
	}
	if !strings.Contains(c.stderr.String(), "logged in again with more scope") {
		t.Errorf("plugboard's log does not say it logged in again:\n%s", c.stderr.String())
	}
}

// Without a browser to open, a step-up is a needs-login error naming the
// scope, the other servers carry on, and the next plugboard login asks
// for the scope the server wanted.
func TestOAuthStepUpWithoutABrowserNeedsLogin(t *testing.T) {
	w := newOAuthWorld(t, withCallScopes)
	w.login("prot", w.config)
	browser := os.Getenv("BROWSER")
	t.Setenv("BROWSER", "")
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	c := w.stdio(w.config)
	call := func(tool string) *message { return w.call(c, tool) }
	w.needsLogin(call, "prot__echo", "prot")
	if m := call("prot__echo"); m.Error == nil || !strings.Contains(m.Error.Message, `scope "a b"`) {
		t.Errorf("the needs-login error does not name the scope wanted: %s", m.raw)
	}
	w.answers(call, "local__echo", "hi")
	if n := len(w.as.Requests("/authorize")); n != 1 {
		t.Errorf("%d authorization requests, want 1: no browser, no step-up", n)
	}

	t.Setenv("BROWSER", browser)
	w.login("prot", w.config)
	authorize := w.as.Requests("/authorize")
	if got := authorize[len(authorize)-1].Query.Get("scope"); got != "a b" {
		t.Errorf("the login after the refusal asked for scope %q, want \"a b\"", got)
	}
	again := w.stdio(w.config)
	w.answers(func(tool string) *message { return w.call(again, tool) }, "prot__echo", "protected echo: hi")
}
