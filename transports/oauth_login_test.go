package transports

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// loginServer is a protected MCP endpoint (/mcp) with its authorization
// server under /as on the same host: discovery, dynamic registration,
// authorization (approved at once) and the token endpoint, checking PKCE
// and the resource parameter.
type loginServer struct {
	*httptest.Server
	t          *testing.T
	mu         sync.Mutex
	registered int
	challenge  string // of the last authorization request
	authorize  url.Values
	token      url.Values
	noRegister bool
}

func newLoginServer(t *testing.T) *loginServer {
	t.Helper()
	s := &loginServer{t: t}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"resource": s.URL + "/mcp", "authorization_servers": []string{s.URL + "/as"}, "scopes_supported": []string{"mcp:read", "mcp:write"}})
	})
	mux.HandleFunc("/.well-known/oauth-authorization-server/as", func(w http.ResponseWriter, r *http.Request) {
		meta := map[string]any{"issuer": s.URL + "/as", "authorization_endpoint": s.URL + "/as/authorize", "token_endpoint": s.URL + "/as/token",
			"response_types_supported": []string{"code"}, "code_challenge_methods_supported": []string{"S256"}}
		if !s.noRegister {
			meta["registration_endpoint"] = s.URL + "/as/register"
		}
		json.NewEncoder(w).Encode(meta)
	})
	mux.HandleFunc("/as/register", func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		json.NewDecoder(r.Body).Decode(&req)
		s.mu.Lock()
		s.registered++
		s.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"client_id": "dyn-client", "redirect_uris": req["redirect_uris"], "token_endpoint_auth_method": "none"})
	})
	mux.HandleFunc("/as/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		s.mu.Lock()
		s.authorize, s.challenge = q, q.Get("code_challenge")
		s.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code=the-code&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("/as/token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		s.mu.Lock()
		s.token = r.PostForm
		challenge := s.challenge
		s.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if r.PostForm.Get("code") != "the-code" || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"access_token": "access-1", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "refresh-1"})
	})
	mux.HandleFunc("/mcp", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+s.URL+`/.well-known/oauth-protected-resource/mcp"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// follow plays the browser: it opens the authorization URL and returns the
// code and state of the redirect, without following it.
func follow(t *testing.T, authURL string) (code, state string) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query().Get("code"), loc.Query().Get("state")
}

func TestLoginDiscoversRegistersAndStores(t *testing.T) {
	s := newLoginServer(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	o, err := NewOAuth(s.URL+"/mcp", AuthSpec{TokenDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	const redirect = "http://127.0.0.1:40123/callback"
	l, err := o.StartLogin(ctx, redirect)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(l.AuthorizationURL())
	q := u.Query()
	for k, want := range map[string]string{"response_type": "code", "client_id": "dyn-client", "redirect_uri": redirect, "code_challenge_method": "S256",
		"resource": s.URL + "/mcp", "scope": "mcp:read mcp:write"} {
		if q.Get(k) != want {
			t.Errorf("authorization URL %s = %q, want %q", k, q.Get(k), want)
		}
	}
	if q.Get("state") == "" || q.Get("code_challenge") == "" {
		t.Errorf("authorization URL without state or challenge: %s", u)
	}
	code, state := follow(t, l.AuthorizationURL())
	if err := l.Finish(ctx, code, state); err != nil {
		t.Fatal(err)
	}
	if got := s.token.Get("resource"); got != s.URL+"/mcp" {
		t.Errorf("token request resource %q", got)
	}
	rec, err := o.Store().Load()
	if err != nil {
		t.Fatal(err)
	}
	if rec.ClientID != "dyn-client" || rec.RedirectURI != redirect || rec.Token.AccessToken != "access-1" || rec.Resource != s.URL+"/mcp" {
		t.Errorf("stored %+v, token %+v", rec, rec.Token)
	}
	if port, configured := o.PreferredRedirectPort(); port != 40123 || configured {
		t.Errorf("PreferredRedirectPort = %d, %t; want the registered client's 40123", port, configured)
	}

	// A second login on the same port keeps the client; a wrong state is refused.
	l, err = o.StartLogin(ctx, redirect)
	if err != nil {
		t.Fatal(err)
	}
	if s.registered != 1 {
		t.Errorf("registered %d clients, want 1", s.registered)
	}
	code, _ = follow(t, l.AuthorizationURL())
	if err := l.Finish(ctx, code, "forged"); err == nil || !strings.Contains(err.Error(), "state") {
		t.Errorf("Finish with a forged state: %v", err)
	}

	// The daemon's side: the stored login is what goes with requests.
	d, err := NewOAuth(s.URL+"/mcp", AuthSpec{TokenDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if h, err := d.header(ctx); err != nil || h != "Bearer access-1" {
		t.Errorf("header = %q, %v", h, err)
	}
}

func TestLoginWithAConfiguredClient(t *testing.T) {
	s := newLoginServer(t)
	s.noRegister = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	o, _ := NewOAuth(s.URL+"/mcp", AuthSpec{TokenDir: t.TempDir()})
	if _, err := o.StartLogin(ctx, "http://127.0.0.1:1/callback"); err == nil || !strings.Contains(err.Error(), "auth.client_id") {
		t.Fatalf("StartLogin without registration or client: %v", err)
	}
	o, _ = NewOAuth(s.URL+"/mcp", AuthSpec{TokenDir: t.TempDir(), ClientID: "pre", ClientSecret: "pre-secret", Scopes: []string{"only"}})
	l, err := o.StartLogin(ctx, "http://127.0.0.1:1/callback")
	if err != nil {
		t.Fatal(err)
	}
	if q := s.authorizeQuery(t, l); q.Get("client_id") != "pre" || q.Get("scope") != "only" {
		t.Errorf("authorization query %v", q)
	}
	code, state := follow(t, l.AuthorizationURL())
	if err := l.Finish(ctx, code, state); err != nil {
		t.Fatal(err)
	}
	if got := s.token.Get("client_secret"); got != "pre-secret" {
		t.Errorf("token request client_secret %q, want the configured one (client_secret_post)", got)
	}
	if rec, _ := o.Store().Load(); rec.ClientSecret != "" || rec.ClientID != "" {
		t.Errorf("the configured client was stored: %+v", rec)
	}
}

func (s *loginServer) authorizeQuery(t *testing.T, l *Login) url.Values {
	t.Helper()
	u, err := url.Parse(l.AuthorizationURL())
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func TestResourceCovers(t *testing.T) {
	for _, tt := range []struct {
		resource, server string
		want             bool
	}{
		{"https://h/mcp", "https://h/mcp", true},
		{"https://h", "https://h/mcp", true},
		{"https://h/mcp/", "https://h/mcp", true},
		{"https://h/m", "https://h/mcp", false},
		{"https://other/mcp", "https://h/mcp", false},
		{"http://h/mcp", "https://h/mcp", false},
	} {
		if got := resourceCovers(tt.resource, tt.server); got != tt.want {
			t.Errorf("resourceCovers(%s, %s) = %t", tt.resource, tt.server, got)
		}
	}
}
