package transports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
)

func TestFileTokenStoreKeepsLoginsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "plugboard", "tokens")
	store, err := NewFileTokenStore(dir, "https://u:pw@example.com/mcp?key=abc")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.GetToken(context.Background()); !errors.Is(err, transport.ErrNoToken) {
		t.Fatalf("GetToken before any login: %v, want ErrNoToken", err)
	}
	if err := store.Save(&LoginRecord{ClientID: "cid", ClientSecret: "csecret", RedirectURI: "http://127.0.0.1:5000/callback"}); err != nil {
		t.Fatal(err)
	}
	expires := time.Now().Add(time.Hour).Truncate(time.Second)
	if err := store.SaveToken(context.Background(), &transport.Token{AccessToken: "at", RefreshToken: "rt", TokenType: "Bearer", ExpiresAt: expires}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, filepath.Dir(dir)} {
		if info, err := os.Stat(p); err != nil || info.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, err %v; want 0700", p, info.Mode().Perm(), err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("the directory holds %d entries, want the one file", len(entries))
	}
	info, _ := entries[0].Info()
	if info.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", info.Mode().Perm())
	}
	if strings.Contains(entries[0].Name(), "example") {
		t.Errorf("file name %q shows the URL; want a hash", entries[0].Name())
	}
	raw, _ := os.ReadFile(store.Path())
	if strings.Contains(string(raw), "pw@") || strings.Contains(string(raw), "abc") {
		t.Errorf("the record shows the URL's secrets: %s", raw)
	}

	rec, err := store.Load()
	if err != nil {
		t.Fatal(err)
	}
	if rec.ClientID != "cid" || rec.ClientSecret != "csecret" || rec.Token.AccessToken != "at" {
		t.Errorf("SaveToken lost the registration: %+v", rec)
	}
	got, err := store.GetToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := expires.Add(-refreshAhead); !got.ExpiresAt.Equal(want) {
		t.Errorf("GetToken expiry %v, want %v (refreshAhead early)", got.ExpiresAt, want)
	}

	same, _ := NewFileTokenStore(dir, "https://u:pw@example.com/mcp?key=abc")
	other, _ := NewFileTokenStore(dir, "https://example.com/other")
	if same.Path() != store.Path() || other.Path() == store.Path() {
		t.Errorf("paths: same URL %s, other URL %s, store %s", same.Path(), other.Path(), store.Path())
	}
	if removed, err := store.Delete(); !removed || err != nil {
		t.Errorf("Delete = %v, %v", removed, err)
	}
	if removed, err := store.Delete(); removed || err != nil {
		t.Errorf("second Delete = %v, %v; want false, nil", removed, err)
	}
}

func TestFileTokenStoreRefusesADirectoryOthersCanWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tokens")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	store, _ := NewFileTokenStore(dir, "https://example.com/mcp")
	if err := store.Save(&LoginRecord{}); !errors.Is(err, ErrNotPrivate) {
		t.Errorf("Save into a directory others can write: %v, want ErrNotPrivate", err)
	}
}

func TestParseBearerChallenge(t *testing.T) {
	tests := []struct {
		lines []string
		want  bearerChallenge
	}{
		{nil, bearerChallenge{}},
		{[]string{`Basic realm="x"`}, bearerChallenge{}},
		{[]string{`Bearer`}, bearerChallenge{bearer: true}},
		{[]string{`Bearer resource_metadata="https://h/.well-known/oauth-protected-resource/mcp", scope="a b"`},
			bearerChallenge{bearer: true, scope: "a b", resourceMetadata: "https://h/.well-known/oauth-protected-resource/mcp"}},
		{[]string{`Basic realm="r", Bearer error="insufficient_scope", scope="files:write", error_description="needs \"write\""`},
			bearerChallenge{bearer: true, err: "insufficient_scope", scope: "files:write"}},
		{[]string{`Basic realm="r"`, `bearer error=invalid_token`}, bearerChallenge{bearer: true, err: "invalid_token"}},
		{[]string{`Bearer scope="unterminated`}, bearerChallenge{bearer: true, scope: "unterminated"}},
	}
	for _, tt := range tests {
		if got := parseBearerChallenge(tt.lines); got != tt.want {
			t.Errorf("parseBearerChallenge(%q) = %+v, want %+v", tt.lines, got, tt.want)
		}
	}
}

// protectedServer is a protected MCP endpoint (/mcp) and its authorization
// server (/token) on one host: the endpoint takes only the bearer token
// good; the token endpoint swaps the refresh token in refresh for good.
type protectedServer struct {
	*httptest.Server
	mu        sync.Mutex
	good      string
	refresh   string // the refresh token the token endpoint accepts
	refreshes int
	resources []string // the resource parameter of each token request
	auths     []string // the Authorization header of each /mcp request
	forbid    string   // a scope /mcp asks for with 403, when set
}

func newProtectedServer(t *testing.T) *protectedServer {
	t.Helper()
	p := &protectedServer{good: "good-token", refresh: "refresh-1"}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"resource": p.URL + "/mcp", "authorization_servers": []string{p.URL}})
	})
	mux.HandleFunc("/.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": p.URL, "authorization_endpoint": p.URL + "/authorize",
			"token_endpoint": p.URL + "/token", "response_types_supported": []string{"code"}})
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		p.mu.Lock()
		defer p.mu.Unlock()
		p.resources = append(p.resources, r.PostForm.Get("resource"))
		if r.PostForm.Get("grant_type") != "refresh_token" || r.PostForm.Get("refresh_token") != p.refresh {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
		p.refreshes++
		p.refresh = fmt.Sprintf("refresh-%d", p.refreshes+1)
		p.good = fmt.Sprintf("good-token-%d", p.refreshes)
		json.NewEncoder(w).Encode(map[string]any{"access_token": p.good, "token_type": "bearer", "expires_in": 3600, "refresh_token": p.refresh})
	})
	mux.HandleFunc("/mcp", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		good, forbid := p.good, p.forbid
		p.auths = append(p.auths, r.Header.Get("Authorization"))
		p.mu.Unlock()
		io.Copy(io.Discard, r.Body)
		if r.Header.Get("Authorization") != "Bearer "+good {
			w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+p.URL+`/.well-known/oauth-protected-resource/mcp", scope="mcp:read"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if forbid != "" {
			w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+forbid+`"`)
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{}}`)
	})
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	return p
}

func (p *protectedServer) state() (refreshes int, resources, auths []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refreshes, append([]string(nil), p.resources...), append([]string(nil), p.auths...)
}

// post sends one request to /mcp through the login's round tripper.
func (p *protectedServer) post(t *testing.T, o *OAuth) (*http.Response, error) {
	t.Helper()
	client := &http.Client{Transport: o.RoundTripper(http.DefaultTransport)}
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	resp, err := client.Do(req)
	if resp != nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

// storedLogin makes an OAuth for the server's /mcp with a login stored as
// the server's login would have left it.
func storedLogin(t *testing.T, p *protectedServer, spec AuthSpec, tok *transport.Token) *OAuth {
	t.Helper()
	spec.TokenDir = filepath.Join(t.TempDir(), "tokens")
	store, _ := NewFileTokenStore(spec.TokenDir, p.URL+"/mcp")
	if tok != nil {
		rec := &LoginRecord{ClientID: "cid", ResourceMetadata: p.URL + "/.well-known/oauth-protected-resource/mcp", Resource: p.URL + "/mcp", Token: tok}
		if err := store.Save(rec); err != nil {
			t.Fatal(err)
		}
	}
	o, err := NewOAuth(p.URL+"/mcp", spec)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestOAuthRoundTripper(t *testing.T) {
	hour := time.Now().Add(time.Hour)
	t.Run("a valid token is sent", func(t *testing.T) {
		p := newProtectedServer(t)
		o := storedLogin(t, p, AuthSpec{}, &transport.Token{AccessToken: "good-token", TokenType: "Bearer", ExpiresAt: hour})
		if resp, err := p.post(t, o); err != nil || resp.StatusCode != 200 {
			t.Fatalf("post: %v, %v", resp, err)
		}
		if n, _, auths := p.state(); n != 0 || !reflect.DeepEqual(auths, []string{"Bearer good-token"}) {
			t.Errorf("refreshes %d, auths %q", n, auths)
		}
	})
	t.Run("a token about to expire is refreshed first", func(t *testing.T) {
		p := newProtectedServer(t)
		o := storedLogin(t, p, AuthSpec{}, &transport.Token{AccessToken: "good-token", RefreshToken: "refresh-1", TokenType: "Bearer", ExpiresAt: time.Now().Add(30 * time.Second)})
		if resp, err := p.post(t, o); err != nil || resp.StatusCode != 200 {
			t.Fatalf("post: %v, %v", resp, err)
		}
		n, resources, auths := p.state()
		if n != 1 || !reflect.DeepEqual(auths, []string{"Bearer good-token-1"}) {
			t.Errorf("refreshes %d, auths %q; want one refresh before the request", n, auths)
		}
		if !reflect.DeepEqual(resources, []string{p.URL + "/mcp"}) {
			t.Errorf("token requests' resource %q, want the server's URL", resources)
		}
		rec, _ := o.Store().Load()
		if rec.Token.AccessToken != "good-token-1" || rec.Token.RefreshToken != "refresh-2" || rec.ClientID != "cid" {
			t.Errorf("stored after the refresh: %+v, %+v", rec, rec.Token)
		}
	})
	t.Run("a refused token is refreshed and the request retried", func(t *testing.T) {
		p := newProtectedServer(t)
		o := storedLogin(t, p, AuthSpec{}, &transport.Token{AccessToken: "revoked", RefreshToken: "refresh-1", TokenType: "Bearer", ExpiresAt: hour})
		if resp, err := p.post(t, o); err != nil || resp.StatusCode != 200 {
			t.Fatalf("post: %v, %v", resp, err)
		}
		if n, _, auths := p.state(); n != 1 || !reflect.DeepEqual(auths, []string{"Bearer revoked", "Bearer good-token-1"}) {
			t.Errorf("refreshes %d, auths %q", n, auths)
		}
	})
	t.Run("a revoked refresh token needs a login", func(t *testing.T) {
		p := newProtectedServer(t)
		o := storedLogin(t, p, AuthSpec{}, &transport.Token{AccessToken: "revoked", RefreshToken: "revoked-too", TokenType: "Bearer", ExpiresAt: hour})
		_, err := p.post(t, o)
		if nl := AsNeedsLogin(err); nl == nil {
			t.Fatalf("post: %v, want a NeedsLoginError", err)
		}
		for _, secret := range []string{"revoked", "good-token"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error %q shows a token", err)
			}
		}
	})
	t.Run("an expired token without a refresh token needs a login", func(t *testing.T) {
		p := newProtectedServer(t)
		o := storedLogin(t, p, AuthSpec{}, &transport.Token{AccessToken: "good-token", TokenType: "Bearer", ExpiresAt: time.Now().Add(-time.Minute)})
		if _, err := p.post(t, o); AsNeedsLogin(err) == nil {
			t.Fatalf("post: %v, want a NeedsLoginError", err)
		}
		if _, _, auths := p.state(); len(auths) != 0 {
			t.Errorf("the server got %q; want nothing sent", auths)
		}
	})
	t.Run("no login and a bearer challenge needs a login", func(t *testing.T) {
		p := newProtectedServer(t)
		o := storedLogin(t, p, AuthSpec{}, nil)
		_, err := p.post(t, o)
		nl := AsNeedsLogin(err)
		if nl == nil || nl.Scope != "mcp:read" {
			t.Fatalf("post: %v, want a NeedsLoginError with the challenge's scope", err)
		}
		if _, _, auths := p.state(); !reflect.DeepEqual(auths, []string{""}) {
			t.Errorf("auths %q, want one request without a token", auths)
		}
	})
	t.Run("insufficient scope needs a login, and the scope is kept for it", func(t *testing.T) {
		p := newProtectedServer(t)
		p.forbid = "files:write"
		o := storedLogin(t, p, AuthSpec{}, &transport.Token{AccessToken: "good-token", TokenType: "Bearer", ExpiresAt: hour})
		_, err := p.post(t, o)
		if nl := AsNeedsLogin(err); nl == nil || nl.Scope != "files:write" {
			t.Fatalf("post: %v, want a NeedsLoginError for files:write", err)
		}
		if rec, _ := o.Store().Load(); rec.StepUpScope != "files:write" {
			t.Errorf("step-up scope %q, want files:write", rec.StepUpScope)
		}
	})
}

func TestOAuthLeavesOtherRefusalsAlone(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
		http.Error(w, "go away", http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	o, err := NewOAuth(srv.URL, AuthSpec{TokenDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: o.RoundTripper(http.DefaultTransport)}).Get(srv.URL)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("got %v, %v; want the 401 as it came", resp, err)
	}
	resp.Body.Close()
	o.spec.Required = true // a server with auth settings: any 401 is for a login
	if _, err := (&http.Client{Transport: o.RoundTripper(http.DefaultTransport)}).Get(srv.URL); AsNeedsLogin(err) == nil {
		t.Fatalf("with auth settings: %v, want a NeedsLoginError", err)
	}
}

func TestRemoteEndsWhenItNeedsALogin(t *testing.T) {
	p := newProtectedServer(t)
	for _, tr := range []string{RemoteStreamableHTTP, RemoteSSE} {
		t.Run(tr, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), streamableTestTimeout)
			defer cancel()
			spec := RemoteSpec{URL: p.URL + "/mcp", Transport: tr, Auth: &AuthSpec{TokenDir: t.TempDir()}}
			r, err := DialRemote(ctx, spec)
			if err == nil {
				_, _, err = r.Call(ctx, 1, "initialize", json.RawMessage(`{}`))
				select {
				case <-r.Done():
				case <-ctx.Done():
					t.Fatal("the connection did not end")
				}
				if r.LoginNeeded() == nil || !strings.HasPrefix(r.Reason(), "needs login") {
					t.Errorf("LoginNeeded %v, Reason %q", r.LoginNeeded(), r.Reason())
				}
				r.Close()
			}
			if AsNeedsLogin(err) == nil {
				t.Fatalf("err %v, want a NeedsLoginError", err)
			}
		})
	}
}
