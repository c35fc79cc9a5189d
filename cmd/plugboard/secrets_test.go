package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// plantedSecrets is one secret per place a secret can be configured; no
// output of plugboard may show any of them.
type plantedSecrets map[string]string // where -> secret

func newPlantedSecrets(wheres ...string) plantedSecrets {
	s := plantedSecrets{}
	for i, w := range wheres {
		s[w] = fmt.Sprintf("plugSECRET%02d%s", i, strings.NewReplacer("-", "", " ", "", ".", "").Replace(w))
	}
	return s
}

// check fails the test for every secret that text shows.
func (s plantedSecrets) check(t *testing.T, what, text string) {
	t.Helper()
	for where, secret := range s {
		if i := strings.Index(text, secret); i >= 0 {
			lo, hi := max(0, i-200), min(len(text), i+len(secret)+40)
			t.Errorf("%s shows the secret of %s: …%s…", what, where, text[lo:hi])
		}
	}
}

// outputs collects what a client or user sees, for the final check.
type outputs struct {
	mu    sync.Mutex
	texts map[string]string
}

func (o *outputs) add(what, text string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.texts[what] += text + "\n"
}

// secretsConfig renders a configuration with a secret in every place one
// can be: env values of a stdio server, headers, URL userinfo and query
// values of remote servers over each transport, unreachable ones and ones
// that answer 401 or 500. live is a remote fixture's base URL, reachable
// until the test kills it.
func secretsConfig(t *testing.T, s plantedSecrets, live, closed, refuse401, fail500 string) string {
	t.Helper()
	hostOf := func(base string) string { return strings.TrimPrefix(base, "http://") }
	remote := func(name, transport, scheme, host, path string) string {
		key := name + "-query"
		return fmt.Sprintf("  %s:\n    url: \"%s://u%s:%s@%s%s?api_key=%s&v=1\"\n    transport: %s\n    headers:\n      Authorization: \"Bearer %s\"\n      X-API-Key: %q\n    auth:\n      client_id: plugboard-test\n      client_secret: %q\n",
			name, scheme, name, s[name+"-password"], host, path, s[key], transport, s[name+"-bearer"], s[name+"-apikey"], s[name+"-clientsecret"])
	}
	var b strings.Builder
	b.WriteString("servers:\n")
	b.WriteString(fixtureServer("envsrv"))
	fmt.Fprintf(&b, "    env:\n      FIXTURE_TOKEN: %q\n", s["env"])
	fmt.Fprintf(&b, "  nosuch:\n    command: /nonexistent/plugboard-test-server\n    env:\n      NOSUCH_TOKEN: %q\n", s["env-nosuch"])
	b.WriteString(remote("live", "streamable-http", "http", hostOf(live), "/mcp"))
	b.WriteString(remote("shdown", "streamable-http", "http", closed, "/mcp"))
	b.WriteString(remote("sh401", "streamable-http", "http", hostOf(refuse401), "/mcp"))
	b.WriteString(remote("sh500", "streamable-http", "http", hostOf(fail500), "/mcp"))
	b.WriteString(remote("ssedown", "sse", "http", closed, "/sse"))
	b.WriteString(remote("sse401", "sse", "http", hostOf(refuse401), "/sse"))
	b.WriteString(remote("wsdown", "websocket", "ws", closed, "/ws"))
	b.WriteString(remote("ws500", "websocket", "ws", hostOf(fail500), "/ws"))
	return writeConfig(t, b.String())
}

func secretWheres() []string {
	w := []string{"env", "env-nosuch", "auth-token"}
	for _, name := range []string{"live", "shdown", "sh401", "sh500", "ssedown", "sse401", "wsdown", "ws500"} {
		w = append(w, name+"-password", name+"-query", name+"-bearer", name+"-apikey", name+"-clientsecret")
	}
	return w
}

// closedAddress returns a loopback address nothing listens on.
func closedAddress(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func statusServer(t *testing.T, code int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "go away", code)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// waitDown waits until plugboard has logged every failing server down.
func waitDown(t *testing.T, stderr func() string) {
	t.Helper()
	eventually(t, 20*time.Second, "every failing server logged down", func() bool {
		log := stderr()
		for _, name := range []string{"nosuch", "shdown", "sh401", "sh500", "ssedown", "sse401", "wsdown", "ws500"} {
			if !strings.Contains(log, "server="+name+" ") {
				return false
			}
		}
		return true
	})
}

// killAndCall kills the live fixture (the reported case: a remote server
// that becomes unreachable) and calls it until a call fails.
func killAndCall(t *testing.T, live *remoteFixture, call func(name string) string, out *outputs) {
	t.Helper()
	live.cmd.Process.Kill() // its own goroutine reaps it
	eventually(t, 15*time.Second, "a call to the killed server failing", func() bool {
		answer := call("live__echo")
		out.add("client answers", answer)
		return strings.Contains(answer, `"error"`)
	})
}

func TestNoSecretInAnyOutput(t *testing.T) {
	secrets := newPlantedSecrets(secretWheres()...)
	out := &outputs{texts: map[string]string{}}
	closed, refuse401, fail500 := closedAddress(t), statusServer(t, http.StatusUnauthorized), statusServer(t, http.StatusInternalServerError)
	callEveryServer := func(call func(name string) string) {
		for _, name := range []string{"envsrv__echo", "live__echo", "shdown__echo", "sh401__echo", "sse401__echo", "ws500__echo", "nosuch__echo"} {
			out.add("client answers", call(name))
		}
	}

	t.Run("stdio", func(t *testing.T) {
		live := startRemoteFixture(t, "live", "127.0.0.1:0")
		cfg := secretsConfig(t, secrets, live.url, closed, refuse401, fail500)
		c := startPlugboard(t, cfg, "--log-level", "debug")
		eventually(t, 15*time.Second, "the live server ready", func() bool {
			m := c.call("tools/call", map[string]any{"name": "live__echo", "arguments": map[string]any{"text": "hi"}})
			return m.Error == nil
		})
		waitDown(t, c.stderr.String)
		call := func(name string) string {
			return string(c.call("tools/call", map[string]any{"name": name, "arguments": map[string]any{"text": "hi"}}).raw)
		}
		callEveryServer(call)
		// The reported case: a remote server that becomes unreachable.
		killAndCall(t, live, call, out)
		eventually(t, 15*time.Second, "the live server's loss logged", func() bool {
			return strings.Contains(c.stderr.String(), "server=live ")
		})
		callEveryServer(call)
		c.close()
		out.add("stdio stderr", c.stderr.String())
	})

	t.Run("tools", func(t *testing.T) {
		live := startRemoteFixture(t, "live", "127.0.0.1:0")
		cfg := secretsConfig(t, secrets, live.url, closed, refuse401, fail500)
		for _, args := range [][]string{{"--log-level", "debug"}, {"--json"}} {
			cmd := exec.Command(plugboardBin, append([]string{"tools", "--config", cfg, "--startup-timeout", "5s"}, args...)...)
			b, _ := cmd.CombinedOutput()
			out.add("plugboard tools "+strings.Join(args, " "), string(b))
			if !strings.Contains(string(b), "shdown") {
				t.Errorf("plugboard tools does not list the failing servers:\n%s", b)
			}
		}
	})

	t.Run("serve", func(t *testing.T) {
		live := startRemoteFixture(t, "live", "127.0.0.1:0")
		cfg := secretsConfig(t, secrets, live.url, closed, refuse401, fail500)
		socket := shortSocket(t)
		d := startServe(t, cfg, "--auth-token", secrets["auth-token"], "--log-level", "debug", "--socket", socket)
		s := newHTTPSession(t, d.url)
		s.header.Set("Authorization", "Bearer "+secrets["auth-token"])
		s.initialize(fullClientCaps)
		eventually(t, 15*time.Second, "the live server ready", func() bool {
			m, _ := s.call("tools/call", map[string]any{"name": "live__echo", "arguments": map[string]any{"text": "hi"}})
			return m.Error == nil
		})
		waitDown(t, d.stderr.String)
		call := func(name string) string {
			m, _ := s.call("tools/call", map[string]any{"name": name, "arguments": map[string]any{"text": "hi"}})
			return string(m.raw)
		}
		callEveryServer(call)
		killAndCall(t, live, call, out)
		callEveryServer(call)
		// A wrong token's answer.
		bad := newHTTPSession(t, d.url)
		bad.header.Set("Authorization", "Bearer "+secrets["auth-token"]+"x")
		resp := bad.post(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "ping"})
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		out.add("HTTP answer to a wrong token", string(body))
		for _, args := range [][]string{{}, {"--json"}} {
			stdout, stderr, _ := plugboardStatus(t, append([]string{"--socket", socket}, args...)...)
			out.add("plugboard status "+strings.Join(args, " "), stdout+stderr)
			if !strings.Contains(stdout, "shdown") || !strings.Contains(stdout, "api_key=***") {
				t.Errorf("plugboard status does not show the servers' redacted URLs:\n%s", stdout)
			}
		}
		out.add("serve stderr", d.stderr.String())
	})

	for what, text := range out.texts {
		if strings.TrimSpace(text) == "" {
			t.Errorf("no %s collected", what)
		}
		secrets.check(t, what, text)
	}
}
