package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// The tests in this file check the authorization server and the protected
// server themselves, without plugboard, so that when an OAuth test of
// plugboard fails the fault is plugboard's.

// TestOAuthFixturesServeTheGoSDKClient runs the official Go SDK's OAuth
// client (discovery, registration, PKCE, resource, refresh) against the
// two servers: an implementation neither side's authors wrote.
func TestOAuthFixturesServeTheGoSDKClient(t *testing.T) {
	as := startAuthServer(t)
	ps := startProtectedServer(t, as, protectedOptions{ChallengeScopes: []string{"a", "b"}, MetadataScopes: []string{"a", "b", "c"}})
	as.SetTokenLifetime(2 * time.Second)

	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	handler, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			RedirectURIs: []string{"http://127.0.0.1:1/callback"},
			GrantTypes:   []string{"authorization_code", "refresh_token"},
			ClientName:   "sdk-self-test",
		}},
		AuthorizationCodeFetcher: func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
			resp, err := noRedirects.Get(args.URL)
			if err != nil {
				return nil, err
			}
			resp.Body.Close()
			to, err := url.Parse(resp.Header.Get("Location"))
			if err != nil || resp.StatusCode != http.StatusFound {
				t.Fatalf("authorize answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			return &auth.AuthorizationResult{Code: to.Query().Get("code"), State: to.Query().Get("state")}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "self-test", Version: "1"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: ps.URL, OAuthHandler: handler}, nil)
	if err != nil {
		t.Fatalf("connecting with the SDK's OAuth client: %v", err)
	}
	defer session.Close()
	callEcho := func() {
		t.Helper()
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: protectedTool, Arguments: map[string]any{"text": "hi"}})
		if err != nil || res.IsError || len(res.Content) == 0 || res.Content[0].(*mcp.TextContent).Text != "protected echo: hi" {
			t.Fatalf("calling the protected tool: %v %+v", err, res)
		}
	}
	callEcho()

	authorize := as.Requests("/authorize")
	if len(authorize) != 1 {
		t.Fatalf("%d authorization requests, want 1", len(authorize))
	}
	// The SDK's client puts the scopes in no particular order.
	if q := authorize[0].Query; !sameFields(q.Get("scope"), "a b") || q.Get("resource") != ps.URL || q.Get("code_challenge_method") != "S256" {
		t.Errorf("the SDK's authorization request: %v", q)
	}
	if g := as.Grants("authorization_code"); len(g) != 1 || g[0].Status != http.StatusOK || g[0].Authorization == "" {
		t.Errorf("the code exchange (with client_secret_basic, the registration default): %+v", g)
	}

	waitForTokensToExpire(t, as)
	callEcho()
	if as.Refreshes() == 0 {
		t.Errorf("the SDK's client called with an expired token and no refresh")
	}
}

// TestOAuthFixturesRefuseWhatTheyShould checks by plain HTTP each refusal
// the OAuth tests of plugboard rely on.
func TestOAuthFixturesRefuseWhatTheyShould(t *testing.T) {
	as := startAuthServer(t)
	ps := startProtectedServer(t, as, protectedOptions{ChallengeScopes: []string{"a", "b"}, MetadataScopes: []string{"a", "b", "c"}})

	// Without a token: 401 and the challenge.
	resp := postInitialize(t, ps.URL, "")
	if want := `Bearer resource_metadata="` + ps.srv.URL + `/.well-known/oauth-protected-resource", scope="a b"`; resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != want {
		t.Errorf("without a token: %d, WWW-Authenticate %q, want 401 and %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), want)
	}
	var prm struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
	}
	getJSON(t, ps.srv.URL+"/.well-known/oauth-protected-resource", &prm)
	if prm.Resource != ps.URL || len(prm.AuthorizationServers) != 1 || prm.AuthorizationServers[0] != as.URL() {
		t.Errorf("protected resource metadata: %+v", prm)
	}
	var asm map[string]any
	getJSON(t, as.URL()+"/.well-known/oauth-authorization-server", &asm)
	if asm["issuer"] != as.URL() || asm["registration_endpoint"] != as.URL()+"/register" {
		t.Errorf("authorization server metadata: %v", asm)
	}

	redirect := "http://127.0.0.1:9/callback"
	clientID := registerClient(t, as, redirect)
	verifier := "a-verifier-of-enough-length-for-pkce-0123456789"

	// A wrong verifier, another redirect URI, another resource: refused.
	for _, tc := range []struct {
		name   string
		change func(url.Values)
		want   string
	}{
		{"wrong verifier", func(v url.Values) { v.Set("code_verifier", verifier+"x") }, "invalid_grant"},
		{"no verifier", func(v url.Values) { v.Del("code_verifier") }, "invalid_request"},
		{"other redirect_uri", func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:10/callback") }, "invalid_grant"},
		{"no resource", func(v url.Values) { v.Del("resource") }, "invalid_target"},
	} {
		code := authorizeCode(t, as, clientID, redirect, verifier, ps.URL)
		form := url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID}, "code": {code},
			"redirect_uri": {redirect}, "code_verifier": {verifier}, "resource": {ps.URL}}
		tc.change(form)
		if status, body := postToken(t, as, form); status != http.StatusBadRequest || body["error"] != tc.want {
			t.Errorf("%s: %d %v, want 400 %s", tc.name, status, body, tc.want)
		}
	}

	// The /authorize refusals: another client's redirect, a plain challenge.
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {"http://example.com/cb"},
		"code_challenge": {s256(verifier)}, "code_challenge_method": {"S256"}, "state": {"s"}}
	if resp, err := noRedirects.Get(as.URL() + "/authorize?" + q.Encode()); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("authorize with a redirect_uri not the client's: %v %v", err, resp)
	}
	q.Set("redirect_uri", redirect)
	q.Set("code_challenge_method", "plain")
	if resp, err := noRedirects.Get(as.URL() + "/authorize?" + q.Encode()); err != nil || !strings.Contains(resp.Header.Get("Location"), "error=invalid_request") {
		t.Errorf("authorize with code_challenge_method=plain: %v %v", err, resp)
	}

	// The right exchange, then a token the protected server takes.
	code := authorizeCode(t, as, clientID, redirect, verifier, ps.URL)
	status, tokens := postToken(t, as, url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID}, "code": {code},
		"redirect_uri": {redirect}, "code_verifier": {verifier}, "resource": {ps.URL}})
	if status != http.StatusOK || tokens["expires_in"] != float64(3600) {
		t.Fatalf("exchange: %d %v", status, tokens)
	}
	if resp := postInitialize(t, ps.URL, tokens["access_token"].(string)); resp.StatusCode != http.StatusOK {
		t.Errorf("initialize with a token: %d", resp.StatusCode)
	}
	if resp := postInitialize(t, ps.URL, "at-forged"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("initialize with a forged token: %d", resp.StatusCode)
	}
	if status, body := postToken(t, as, url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID}, "code": {code},
		"redirect_uri": {redirect}, "code_verifier": {verifier}, "resource": {ps.URL}}); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("a code used twice: %d %v", status, body)
	}

	// Refresh with the resource; the old refresh token is rotated away.
	as.SetTokenLifetime(time.Second)
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {tokens["refresh_token"].(string)}, "resource": {ps.URL}}
	status, refreshed := postToken(t, as, refresh)
	if status != http.StatusOK || refreshed["expires_in"] != float64(1) || as.Refreshes() != 1 {
		t.Fatalf("refresh: %d %v (%d refreshes)", status, refreshed, as.Refreshes())
	}
	if status, body := postToken(t, as, refresh); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("a rotated refresh token: %d %v", status, body)
	}
	eventually(t, 10*time.Second, "the refreshed access token expiring", func() bool {
		_, _, err := as.Verify(refreshed["access_token"].(string), ps.URL)
		return err != nil
	})
	if resp := postInitialize(t, ps.URL, refreshed["access_token"].(string)); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("initialize with an expired token: %d", resp.StatusCode)
	}

	// Revoked refresh tokens.
	as.RevokeRefreshTokens()
	refresh.Set("refresh_token", refreshed["refresh_token"].(string))
	if status, body := postToken(t, as, refresh); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("a revoked refresh token: %d %v", status, body)
	}

	// A token for another resource is refused.
	code = authorizeCode(t, as, clientID, redirect, verifier, "http://127.0.0.1:1/other")
	_, other := postToken(t, as, url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID}, "code": {code},
		"redirect_uri": {redirect}, "code_verifier": {verifier}, "resource": {"http://127.0.0.1:1/other"}})
	if resp := postInitialize(t, ps.URL, other["access_token"].(string)); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("initialize with another resource's token: %d", resp.StatusCode)
	}
	if accepted, refused := ps.Counts(); accepted != 1 || refused != 4 {
		t.Errorf("the protected server counted %d accepted, %d refused; want 1, 4", accepted, refused)
	}
}

func postInitialize(t *testing.T, endpoint, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
	}
}

// registerClient registers a public client (no secret) and returns its id.
func registerClient(t *testing.T, as *authServer, redirect string) string {
	t.Helper()
	resp, err := http.Post(as.URL()+"/register", "application/json",
		strings.NewReader(`{"redirect_uris":["`+redirect+`"],"token_endpoint_auth_method":"none","client_name":"t"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reg map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&reg); err != nil || resp.StatusCode != http.StatusCreated || reg["client_secret"] != nil {
		t.Fatalf("registration: %d %v %v", resp.StatusCode, reg, err)
	}
	return reg["client_id"].(string)
}

// authorizeCode runs /authorize and returns the code it redirects with.
func authorizeCode(t *testing.T, as *authServer, clientID, redirect, verifier, resource string) string {
	t.Helper()
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect}, "code_challenge": {s256(verifier)},
		"code_challenge_method": {"S256"}, "state": {"st"}, "resource": {resource}, "scope": {"a b"}}
	resp, err := noRedirects.Get(as.URL() + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	to, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || to.Query().Get("state") != "st" || to.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return to.Query().Get("code")
}

func postToken(t *testing.T, as *authServer, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(as.URL()+"/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// TestOAuthBrowserStandInFollowsTheRedirect runs testdata/oauth-browser on
// an authorization URL and checks that the callback got the code and state.
func TestOAuthBrowserStandInFollowsTheRedirect(t *testing.T) {
	browser := buildOAuthBrowser(t)
	as := startAuthServer(t)
	got := make(chan url.Values, 1)
	callback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/callback" {
			got <- r.URL.Query()
		}
	}))
	defer callback.Close()
	redirect := callback.URL + "/callback"
	clientID := registerClient(t, as, redirect)
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect},
		"code_challenge": {s256("v")}, "code_challenge_method": {"S256"}, "state": {"the-state"}}
	log := filepath.Join(t.TempDir(), "browser.log")
	cmd := exec.Command(browser, as.URL()+"/authorize?"+q.Encode())
	cmd.Env = append(os.Environ(), "OAUTH_BROWSER_LOG="+log)
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Fatalf("oauth-browser: %v, printed %q", err, out)
	}
	select {
	case v := <-got:
		if v.Get("state") != "the-state" || !strings.HasPrefix(v.Get("code"), "code-") {
			t.Errorf("the callback got %v", v)
		}
	default:
		t.Fatal("the callback was not called")
	}
	if b, _ := os.ReadFile(log); !strings.Contains(string(b), "answered 200") || strings.Contains(string(b), "code-") {
		t.Errorf("the browser's log: %s", b)
	}
}

// sameFields reports whether two space-separated lists hold the same
// words, in any order.
func sameFields(a, b string) bool {
	x, y := strings.Fields(a), strings.Fields(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}
