package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// authServer is an OAuth 2.1 authorization server for the tests of
// plugboard's login: RFC 8414 metadata, dynamic client registration
// (RFC 7591), an authorization endpoint that approves at once, and a token
// endpoint for the authorization_code (with PKCE S256 and RFC 8707's
// resource) and refresh_token grants. It records every request it gets and
// every secret it issues or receives, so that tests can say what plugboard
// sent and check that plugboard never prints any of them.
type authServer struct {
	srv *httptest.Server

	mu       sync.Mutex
	lifetime time.Duration // of the access tokens it issues
	clients  map[string]*oauthClient
	codes    map[string]*authCode
	access   map[string]*accessGrant
	refresh  map[string]*refreshGrant
	requests []oauthRequest
	secrets  []string
}

// oauthClient is a registered client.
type oauthClient struct {
	id           string
	secret       string // empty for token_endpoint_auth_method "none"
	redirectURIs []string
	authMethod   string
	name         string
}

// authCode is an authorization code not yet exchanged.
type authCode struct {
	clientID, redirectURI, challenge, resource, scope string
	expires                                           time.Time
}

// accessGrant is what an access token grants.
type accessGrant struct {
	clientID, resource, scope string
	expires                   time.Time
	revoked                   bool
}

// refreshGrant is what a refresh token grants. Refresh tokens are rotated:
// a refresh revokes the one it used (OAuth 2.1 section 4.3.1).
type refreshGrant struct {
	clientID, resource, scope string
	revoked                   bool
}

// oauthRequest is one request the authorization server received and the
// status it answered.
type oauthRequest struct {
	Method        string
	Path          string
	Query         url.Values
	Form          url.Values // the body of a form POST
	Body          []byte     // the body of anything else
	Authorization string
	Status        int
}

// startAuthServer starts an authorization server whose access tokens last
// an hour until SetTokenLifetime says otherwise.
func startAuthServer(t *testing.T) *authServer {
	t.Helper()
	as := &authServer{lifetime: time.Hour, clients: map[string]*oauthClient{}, codes: map[string]*authCode{},
		access: map[string]*accessGrant{}, refresh: map[string]*refreshGrant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", as.metadata)
	mux.HandleFunc("POST /register", as.register)
	mux.HandleFunc("GET /authorize", as.authorize)
	mux.HandleFunc("POST /token", as.token)
	as.srv = httptest.NewServer(as.recording(mux))
	t.Cleanup(as.srv.Close)
	return as
}

// URL is the issuer.
func (as *authServer) URL() string { return as.srv.URL }

// SetTokenLifetime sets the lifetime of the access tokens issued from now on.
func (as *authServer) SetTokenLifetime(d time.Duration) {
	as.mu.Lock()
	defer as.mu.Unlock()
	as.lifetime = d
}

// RevokeRefreshTokens revokes every refresh token issued so far.
func (as *authServer) RevokeRefreshTokens() {
	as.mu.Lock()
	defer as.mu.Unlock()
	for _, g := range as.refresh {
		g.revoked = true
	}
}

// RevokeAccessTokens revokes every access token issued so far, as a
// server does that forgets its sessions before they expire.
func (as *authServer) RevokeAccessTokens() {
	as.mu.Lock()
	defer as.mu.Unlock()
	for _, g := range as.access {
		g.revoked = true
	}
}

// LastExpiry is when the last to expire of the access tokens issued so
// far expires.
func (as *authServer) LastExpiry() time.Time {
	as.mu.Lock()
	defer as.mu.Unlock()
	var last time.Time
	for _, g := range as.access {
		if g.expires.After(last) {
			last = g.expires
		}
	}
	return last
}

// PreRegister registers a client as an administrator does, out of band.
func (as *authServer) PreRegister(id, secret string, redirectURIs ...string) {
	as.mu.Lock()
	defer as.mu.Unlock()
	method := "client_secret_basic"
	if secret == "" {
		method = "none"
	} else {
		as.secrets = append(as.secrets, secret)
	}
	as.clients[id] = &oauthClient{id: id, secret: secret, redirectURIs: redirectURIs, authMethod: method}
}

// Requests returns the requests received on path, oldest first.
func (as *authServer) Requests(path string) []oauthRequest {
	as.mu.Lock()
	defer as.mu.Unlock()
	var out []oauthRequest
	for _, r := range as.requests {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// Grants returns the token requests of a grant type, oldest first.
func (as *authServer) Grants(grantType string) []oauthRequest {
	var out []oauthRequest
	for _, r := range as.Requests("/token") {
		if r.Form.Get("grant_type") == grantType {
			out = append(out, r)
		}
	}
	return out
}

// Refreshes counts the refresh_token grants answered with new tokens.
func (as *authServer) Refreshes() int {
	n := 0
	for _, r := range as.Grants("refresh_token") {
		if r.Status == http.StatusOK {
			n++
		}
	}
	return n
}

// Secrets returns every token, code and client secret the server issued
// and every PKCE code verifier it received.
func (as *authServer) Secrets() []string {
	as.mu.Lock()
	defer as.mu.Unlock()
	return slices.Clone(as.secrets)
}

// Verify checks an access token presented to resource: it must be one this
// server issued for that resource, neither expired nor revoked. It returns
// the token's scopes and expiry.
func (as *authServer) Verify(token, resource string) (scopes []string, expires time.Time, err error) {
	as.mu.Lock()
	defer as.mu.Unlock()
	g := as.access[token]
	switch {
	case g == nil:
		return nil, time.Time{}, fmt.Errorf("not a token of this authorization server")
	case g.revoked:
		return nil, time.Time{}, fmt.Errorf("token revoked")
	case !time.Now().Before(g.expires):
		return nil, time.Time{}, fmt.Errorf("token expired")
	case g.resource != resource:
		return nil, time.Time{}, fmt.Errorf("token issued for resource %q, not %q", g.resource, resource)
	}
	return strings.Fields(g.scope), g.expires, nil
}

// recording records each request and the status it was answered with.
func (as *authServer) recording(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := oauthRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Authorization: r.Header.Get("Authorization")}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			rec.Form, _ = url.ParseQuery(string(body))
		} else {
			rec.Body = body
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		rec.Status = sw.status
		as.mu.Lock()
		as.requests = append(as.requests, rec)
		as.mu.Unlock()
	})
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// Flush lets event streams through.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap serves http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (as *authServer) metadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                as.URL(),
		"authorization_endpoint":                as.URL() + "/authorize",
		"token_endpoint":                        as.URL() + "/token",
		"registration_endpoint":                 as.URL() + "/register",
		"response_types_supported":              []string{"code"},
		"code_challenge_methods_supported":      []string{"S256"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"token_endpoint_auth_methods_supported": []string{"none", "client_secret_basic", "client_secret_post"},
		"scopes_supported":                      []string{"a", "b", "c", "d"},
	})
}

// register is RFC 7591 dynamic client registration.
func (as *authServer) register(w http.ResponseWriter, r *http.Request) {
	var req struct {
		RedirectURIs            []string `json:"redirect_uris"`
		TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
		GrantTypes              []string `json:"grant_types"`
		ClientName              string   `json:"client_name"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_client_metadata", "the body is not JSON: "+err.Error())
		return
	}
	if len(req.RedirectURIs) == 0 {
		oauthError(w, http.StatusBadRequest, "invalid_redirect_uri", "redirect_uris is required")
		return
	}
	for _, u := range req.RedirectURIs {
		if p, err := url.Parse(u); err != nil || !p.IsAbs() || p.Fragment != "" {
			oauthError(w, http.StatusBadRequest, "invalid_redirect_uri", "not an absolute URI: "+u)
			return
		}
	}
	method := req.TokenEndpointAuthMethod
	if method == "" {
		method = "client_secret_basic" // RFC 7591 section 2
	}
	if !slices.Contains([]string{"none", "client_secret_basic", "client_secret_post"}, method) {
		oauthError(w, http.StatusBadRequest, "invalid_client_metadata", "unsupported token_endpoint_auth_method "+method)
		return
	}
	grantTypes := req.GrantTypes
	if len(grantTypes) == 0 {
		grantTypes = []string{"authorization_code"}
	}
	c := &oauthClient{id: "client-" + rand.Text(), redirectURIs: req.RedirectURIs, authMethod: method, name: req.ClientName}
	if method != "none" {
		c.secret = "cs-" + rand.Text()
	}
	as.mu.Lock()
	as.clients[c.id] = c
	if c.secret != "" {
		as.secrets = append(as.secrets, c.secret)
	}
	as.mu.Unlock()
	resp := map[string]any{
		"client_id":                  c.id,
		"client_id_issued_at":        time.Now().Unix(),
		"redirect_uris":              c.redirectURIs,
		"token_endpoint_auth_method": method,
		"grant_types":                grantTypes,
		"response_types":             []string{"code"},
		"client_name":                c.name,
	}
	if c.secret != "" {
		resp["client_secret"] = c.secret
		resp["client_secret_expires_at"] = 0
	}
	writeJSON(w, http.StatusCreated, resp)
}

// authorize approves every valid request at once, as if a person had
// logged in and consented.
func (as *authServer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	as.mu.Lock()
	c := as.clients[q.Get("client_id")]
	as.mu.Unlock()
	if c == nil {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	}
	redirectURI := q.Get("redirect_uri")
	if !c.allowsRedirect(redirectURI) {
		// Never redirect to a URI that is not the client's (RFC 6749 section 4.1.2.1).
		http.Error(w, "redirect_uri is not one of the client's", http.StatusBadRequest)
		return
	}
	fail := func(code, description string) {
		to, _ := url.Parse(redirectURI)
		v := to.Query()
		v.Set("error", code)
		v.Set("error_description", description)
		if s := q.Get("state"); s != "" {
			v.Set("state", s)
		}
		to.RawQuery = v.Encode()
		http.Redirect(w, r, to.String(), http.StatusFound)
	}
	if q.Get("response_type") != "code" {
		fail("unsupported_response_type", "only response_type=code")
		return
	}
	if q.Get("code_challenge_method") != "S256" {
		fail("invalid_request", "code_challenge_method must be S256")
		return
	}
	if n := len(q.Get("code_challenge")); n != 43 {
		fail("invalid_request", "code_challenge must be a base64url SHA-256, 43 characters, not "+strconv.Itoa(n))
		return
	}
	resource := q.Get("resource")
	if resource != "" {
		if p, err := url.Parse(resource); err != nil || !p.IsAbs() || p.Fragment != "" {
			fail("invalid_target", "resource must be an absolute URI without a fragment")
			return
		}
	}
	code := "code-" + rand.Text()
	as.mu.Lock()
	as.codes[code] = &authCode{clientID: c.id, redirectURI: redirectURI, challenge: q.Get("code_challenge"),
		resource: resource, scope: q.Get("scope"), expires: time.Now().Add(time.Minute)}
	as.secrets = append(as.secrets, code)
	as.mu.Unlock()
	to, _ := url.Parse(redirectURI)
	v := to.Query()
	v.Set("code", code)
	if s := q.Get("state"); s != "" {
		v.Set("state", s)
	}
	to.RawQuery = v.Encode()
	http.Redirect(w, r, to.String(), http.StatusFound)
}

// allowsRedirect reports whether uri is one of the client's redirect URIs,
// where a loopback URI matches with any port (RFC 8252 section 7.3).
func (c *oauthClient) allowsRedirect(uri string) bool {
	u, err := url.Parse(uri)
	if err != nil {
		return false
	}
	for _, registered := range c.redirectURIs {
		if registered == uri {
			return true
		}
		r, err := url.Parse(registered)
		if err != nil || !isLoopbackHost(r.Hostname()) {
			continue
		}
		if r.Scheme == u.Scheme && r.Hostname() == u.Hostname() && r.Path == u.Path && r.RawQuery == u.RawQuery {
			return true
		}
	}
	return false
}

func isLoopbackHost(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (as *authServer) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "not a form")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	c, ok := as.authenticate(w, r)
	if !ok {
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		as.exchangeCode(w, r, c)
	case "refresh_token":
		as.refreshTokens(w, r, c)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type "+r.PostForm.Get("grant_type"))
	}
}

// authenticate finds the client of a token request: with its secret by
// client_secret_basic or client_secret_post when it has one, by client_id
// alone when it has none.
func (as *authServer) authenticate(w http.ResponseWriter, r *http.Request) (*oauthClient, bool) {
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	as.mu.Lock()
	c := as.clients[id]
	as.mu.Unlock()
	switch {
	case c == nil:
		oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client")
		return nil, false
	case c.secret != "" && secret != c.secret:
		oauthError(w, http.StatusUnauthorized, "invalid_client", "wrong or missing client secret")
		return nil, false
	}
	return c, true
}

func (as *authServer) exchangeCode(w http.ResponseWriter, r *http.Request, c *oauthClient) {
	form := r.PostForm
	as.mu.Lock()
	if v := form.Get("code_verifier"); v != "" {
		as.secrets = append(as.secrets, v)
	}
	code := as.codes[form.Get("code")]
	delete(as.codes, form.Get("code")) // a code is good once
	as.mu.Unlock()
	switch {
	case code == nil || code.clientID != c.id || time.Now().After(code.expires):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown, used or expired code, or another client's")
		return
	case form.Get("redirect_uri") != code.redirectURI:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorization request's")
		return
	case form.Get("code_verifier") == "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "code_verifier is required")
		return
	case s256(form.Get("code_verifier")) != code.challenge:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
		return
	case form.Get("resource") != code.resource:
		oauthError(w, http.StatusBadRequest, "invalid_target", "resource differs from the authorization request's")
		return
	}
	as.issue(w, c.id, code.resource, code.scope)
}

func (as *authServer) refreshTokens(w http.ResponseWriter, r *http.Request, c *oauthClient) {
	form := r.PostForm
	as.mu.Lock()
	g := as.refresh[form.Get("refresh_token")]
	valid := g != nil && !g.revoked && g.clientID == c.id
	if valid {
		g.revoked = true // rotated
	}
	as.mu.Unlock()
	switch {
	case !valid:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown, revoked or rotated refresh token, or another client's")
		return
	case form.Get("resource") != "" && form.Get("resource") != g.resource:
		oauthError(w, http.StatusBadRequest, "invalid_target", "resource differs from the original grant's")
		return
	}
	as.issue(w, c.id, g.resource, g.scope)
}

// issue answers a token request with a new access token and refresh token.
func (as *authServer) issue(w http.ResponseWriter, clientID, resource, scope string) {
	access, refresh := "at-"+rand.Text(), "rt-"+rand.Text()
	as.mu.Lock()
	lifetime := as.lifetime
	as.access[access] = &accessGrant{clientID: clientID, resource: resource, scope: scope, expires: time.Now().Add(lifetime)}
	as.refresh[refresh] = &refreshGrant{clientID: clientID, resource: resource, scope: scope}
	as.secrets = append(as.secrets, access, refresh)
	as.mu.Unlock()
	resp := map[string]any{
		"access_token":  access,
		"token_type":    "Bearer",
		"expires_in":    int(lifetime.Seconds()),
		"refresh_token": refresh,
	}
	if scope != "" {
		resp["scope"] = scope
	}
	writeJSON(w, http.StatusOK, resp)
}

// s256 is PKCE's S256 transformation of a code verifier (RFC 7636).
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func oauthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
