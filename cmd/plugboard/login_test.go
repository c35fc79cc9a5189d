package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/transports"
)

func TestBrowserCommand(t *testing.T) {
	const u = "https://as/authorize?x=1"
	tests := []struct {
		entry string
		want  []string
	}{
		{"", nil},
		{"  ", nil},
		{"firefox", []string{"firefox", u}},
		{"open -a Safari", []string{"open", "-a", "Safari", u}},
		{"lynx --dump %s", []string{"lynx", "--dump", u}},
		{"sh -c echo(%s)", []string{"sh", "-c", "echo(" + u + ")"}},
	}
	for _, tt := range tests {
		if got := transports.BrowserCommand(tt.entry, u); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("BrowserCommand(%q) = %q, want %q", tt.entry, got, tt.want)
		}
	}
}

// newAuthorizingServer is a protected MCP endpoint at /mcp whose
// protected resource metadata is at the root only, with an authorization
// server on the same host that registers clients and approves at once.
func newAuthorizingServer(t *testing.T) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/oauth-protected-resource", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"resource": srv.URL + "/mcp", "authorization_servers": []string{srv.URL}})
	})
	mux.HandleFunc("/.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": srv.URL, "authorization_endpoint": srv.URL + "/authorize", "token_endpoint": srv.URL + "/token",
			"registration_endpoint": srv.URL + "/register", "response_types_supported": []string{"code"}})
	})
	mux.HandleFunc("/register", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"client_id":"dyn"}`)
	})
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code=c0de&state="+q.Get("state"), http.StatusFound)
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"access_token":"planted-access-token","token_type":"Bearer","expires_in":3600,"refresh_token":"planted-refresh-token"}`)
	})
	mux.HandleFunc("/mcp", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestLoginAndLogout(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl to play the browser")
	}
	srv := newAuthorizingServer(t)
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	// The first entry fails: the next one is the browser.
	t.Setenv("BROWSER", "false:curl -sS -L -o /dev/null %s")
	cfg := writeConfig(t, "servers:\n  remote:\n    url: "+srv.URL+"/mcp\n  local:\n    command: /bin/true\n")

	var stdout, stderr bytes.Buffer
	if code := run([]string{"login", "remote", "--config", cfg}, nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("login exited %d; stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	if !strings.HasPrefix(out, "open this URL to log in: "+srv.URL+"/authorize?") || !strings.HasSuffix(out, "logged in to remote\n") {
		t.Errorf("stdout %q", out)
	}
	for _, secret := range []string{"planted-access-token", "planted-refresh-token", "c0de"} {
		if strings.Contains(out+stderr.String(), secret) {
			t.Errorf("the output shows %s: %q %q", secret, out, stderr.String())
		}
	}
	files, _ := filepath.Glob(filepath.Join(state, "plugboard", "tokens", "*.json"))
	if len(files) != 1 {
		t.Fatalf("token files %q, want one", files)
	}
	if info, err := os.Stat(files[0]); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, %v", info.Mode().Perm(), err)
	}
	if b, _ := os.ReadFile(files[0]); !bytes.Contains(b, []byte("planted-access-token")) {
		t.Errorf("the token file holds no token: %s", b)
	}

	stdout.Reset()
	if code := run([]string{"logout", "remote", "--config", cfg}, nil, &stdout, &stderr); code != exitOK || stdout.String() != "logged out of remote\n" {
		t.Errorf("logout exited %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
	if _, err := os.Stat(files[0]); !os.IsNotExist(err) {
		t.Errorf("the token file is still there: %v", err)
	}

	for _, args := range [][]string{{"login", "nosuch"}, {"login", "local"}, {"logout", "nosuch"}} {
		stdout.Reset()
		stderr.Reset()
		if code := run(append(args, "--config", cfg), nil, &stdout, &stderr); code != exitFailure || stdout.Len() != 0 {
			t.Errorf("%q exited %d, stdout %q, stderr %q", args, code, stdout.String(), stderr.String())
		}
	}
}

func TestAServerThatNeedsALoginSaysSoAndTheOthersCarryOn(t *testing.T) {
	srv := newAuthorizingServer(t)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	cfg := writeConfig(t, "servers:\n  locked:\n    url: "+srv.URL+"/mcp\n"+fixtureServer("alpha"))
	c := startPlugboard(t, cfg, "--log-level", "debug")
	var answer *message
	eventually(t, 15*time.Second, "the locked server's call refused with its reason", func() bool {
		answer = c.call("tools/call", map[string]any{"name": "locked__anything", "arguments": map[string]any{}})
		return answer.Error != nil && strings.Contains(answer.Error.Message, "needs login")
	})
	if answer.Error.Code != -32000 || !strings.Contains(answer.Error.Message, "needs login: run plugboard login locked") {
		t.Errorf("the call's error: %d %q", answer.Error.Code, answer.Error.Message)
	}
	if res := c.call("tools/call", map[string]any{"name": "alpha__echo", "arguments": map[string]any{"text": "hi"}}); res.Error != nil {
		t.Errorf("alpha__echo failed: %s", res.raw)
	}
	if log := c.stderr.String(); strings.Count(log, "server down until it is logged in to") != 1 {
		t.Errorf("want one warning about the login, got:\n%s", log)
	}
}
