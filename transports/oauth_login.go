package transports

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// prmBodyLimit bounds a protected resource metadata document.
const prmBodyLimit = 1 << 20

// Login is one authorization code flow with PKCE to a server, from
// discovery to the stored tokens: StartLogin, then the user opens
// AuthorizationURL, then Finish with what the redirect brought.
type Login struct {
	o        *OAuth
	handler  *transport.OAuthHandler
	rec      *LoginRecord
	verifier string
	authURL  string
}

// PreferredRedirectPort is the loopback port a login should listen on:
// the configured one, else the one the stored client was registered
// with (so that it is used again), else 0 for any. configured says the
// port is the configuration's, and no other will do.
func (o *OAuth) PreferredRedirectPort() (port int, configured bool) {
	if o.spec.RedirectPort != 0 {
		return o.spec.RedirectPort, true
	}
	rec, err := o.store.Load()
	if err != nil || rec.RedirectURI == "" {
		return 0, false
	}
	if u, err := url.Parse(rec.RedirectURI); err == nil {
		port, _ = strconv.Atoi(u.Port())
	}
	return port, false
}

// StartLogin asks the server, without a token, what it wants (RFC 9728's
// WWW-Authenticate), discovers its protected resource metadata and its
// authorization server, registers a client for redirectURI when there is
// none to use, and returns the login with its authorization URL.
func (o *OAuth) StartLogin(ctx context.Context, redirectURI string) (*Login, error) {
	rec, err := o.store.Load()
	if errors.Is(err, transport.ErrNoToken) {
		rec, err = &LoginRecord{}, nil
	}
	if err != nil {
		return nil, err
	}
	httpURL := httpURLOf(o.url)
	client := &http.Client{Transport: postingTransport()}
	challenge, refused, err := probe(ctx, client, o.url)
	if err != nil {
		return nil, err
	}
	prmURL, prm := discoverResource(ctx, client, httpURL, challenge.resourceMetadata)
	if !refused && prm == nil {
		return nil, errors.New("the server let plugboard in without a login, and publishes no protected resource metadata: it needs no login")
	}

	fresh := &LoginRecord{StepUpScope: rec.StepUpScope, Token: rec.Token}
	if prm != nil && prm.Resource != "" {
		if !resourceCovers(prm.Resource, httpURL) {
			return nil, fmt.Errorf("the server's protected resource metadata names another resource (%s)", RedactURL(prm.Resource))
		}
		fresh.ResourceMetadata, fresh.Resource = prmURL, prm.Resource
	}
	if o.spec.ClientID == "" && rec.ClientID != "" && rec.RedirectURI == redirectURI {
		fresh.ClientID, fresh.ClientSecret, fresh.AuthMethod = rec.ClientID, rec.ClientSecret, rec.AuthMethod
	}
	fresh.RedirectURI = redirectURI

	scopes := o.spec.Scopes
	switch {
	case len(scopes) > 0:
	case challenge.scope != "":
		scopes = splitScopes(challenge.scope)
	case prm != nil:
		scopes = prm.ScopesSupported
	}
	scopes = unionScopes(scopes, splitScopes(rec.StepUpScope))

	l := &Login{o: o, rec: fresh, handler: o.newHandler(fresh, redirectURI, scopes)}
	if fresh.Resource == "" && fresh.ResourceMetadata == "" {
		// No protected resource metadata: a server of the 2025-03-26
		// revision, whose authorization server's metadata and default
		// endpoints are at the origin, the path left out.
		l.handler.SetBaseURL(originOf(httpURL))
	} else if fresh.Resource == "" {
		l.handler.SetBaseURL(httpURL)
	}
	meta, err := l.handler.GetServerMetadata(ctx)
	if err != nil {
		return nil, fmt.Errorf("discovering the authorization server: %w", err)
	}
	if l.handler.GetClientID() == "" {
		if meta.RegistrationEndpoint == "" {
			return nil, errors.New("the authorization server offers no dynamic client registration: set auth.client_id (and client_secret, if it has one) in the configuration")
		}
		if err := l.handler.RegisterClient(ctx, "plugboard"); err != nil {
			return nil, fmt.Errorf("registering plugboard with the authorization server: %w", err)
		}
		fresh.ClientID, fresh.ClientSecret, fresh.AuthMethod = l.handler.GetClientID(), l.handler.GetClientSecret(), l.handler.GetTokenEndpointAuthMethod()
	}
	if o.spec.ClientID != "" {
		// The configuration's client: nothing of it is kept in the store.
		fresh.ClientID, fresh.ClientSecret, fresh.AuthMethod = "", "", ""
	}

	if l.verifier, err = transport.GenerateCodeVerifier(); err != nil {
		return nil, err
	}
	state, err := transport.GenerateState()
	if err != nil {
		return nil, err
	}
	if l.authURL, err = l.handler.GetAuthorizationURL(ctx, state, transport.GenerateCodeChallenge(l.verifier)); err != nil {
		return nil, err
	}
	return l, nil
}

// AuthorizationURL is the URL the user opens to log in. It holds no
// secret: the state and the code challenge are of no use without the
// verifier.
func (l *Login) AuthorizationURL() string { return l.authURL }

// Finish checks the redirect's state, exchanges its code (with the PKCE
// verifier and the resource) and stores the client and the tokens.
func (l *Login) Finish(ctx context.Context, code, state string) error {
	if err := l.o.store.Save(l.rec); err != nil {
		return err
	}
	if err := l.handler.ProcessAuthorizationResponse(ctx, code, state, l.verifier); err != nil {
		if errors.Is(err, transport.ErrInvalidState) {
			return errors.New("the redirect's state is not this login's; try again")
		}
		return fmt.Errorf("exchanging the authorization code: %w", err)
	}
	return nil
}

// httpURLOf is the http(s) URL of a server's URL: a WebSocket server's
// login goes over HTTP to the same place.
func httpURLOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	}
	return u.String()
}

// probe asks the server without a token, and returns its bearer
// challenge and whether it refused (401 or 403): an initialize POST, and
// when the server lets that in, a tools/list in the session it opened (a
// server may let anyone initialize, and ask for a login, with the scope
// it wants, only after); for a WebSocket server its upgrade GET.
func probe(ctx context.Context, client *http.Client, serverURL string) (bearerChallenge, bool, error) {
	if u, _ := url.Parse(serverURL); u != nil && (u.Scheme == "ws" || u.Scheme == "wss") {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, httpURLOf(serverURL), nil)
		if err != nil {
			return bearerChallenge{}, false, errors.New("the server's url is not valid")
		}
		challenge, refused, _, err := probeWith(client, req)
		return challenge, refused, err
	}
	initialize := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":%q,"capabilities":{},"clientInfo":{"name":"plugboard","version":"login"}}}`, mcp.LATEST_PROTOCOL_VERSION)
	req, err := probePost(ctx, serverURL, initialize, "")
	if err != nil {
		return bearerChallenge{}, false, err
	}
	challenge, refused, session, err := probeWith(client, req)
	if err != nil || refused {
		return challenge, refused, err
	}
	if req, err = probePost(ctx, serverURL, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`, session); err != nil {
		return bearerChallenge{}, false, err
	}
	challenge, refused, _, err = probeWith(client, req)
	if session != "" {
		if end, err := http.NewRequestWithContext(ctx, http.MethodDelete, serverURL, nil); err == nil {
			end.Header.Set("Mcp-Session-Id", session)
			if resp, err := client.Do(end); err == nil {
				sseDiscard(resp)
			}
		}
	}
	if err != nil {
		// The server let plugboard initialize: what the second request
		// says is a hint, not a reason to fail the login.
		return bearerChallenge{}, false, nil
	}
	return challenge, refused, nil
}

// probePost is a POST of a JSON-RPC message to the server, in session if
// one is given.
func probePost(ctx context.Context, serverURL, body, session string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, serverURL, bytes.NewReader([]byte(body)))
	if err != nil {
		return nil, errors.New("the server's url is not valid")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
		req.Header.Set("Mcp-Protocol-Version", mcp.LATEST_PROTOCOL_VERSION)
	}
	return req, nil
}

// probeWith sends req and returns the bearer challenge and whether the
// server refused it (401 or 403), and the session it opened, if any.
func probeWith(client *http.Client, req *http.Request) (challenge bearerChallenge, refused bool, session string, err error) {
	resp, err := client.Do(req)
	if err != nil {
		return bearerChallenge{}, false, "", fmt.Errorf("asking the server: %w", sseUnwrapURLError(err))
	}
	defer sseDiscard(resp)
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return parseBearerChallenge(resp.Header.Values("WWW-Authenticate")), true, "", nil
	}
	return bearerChallenge{}, false, resp.Header.Get("Mcp-Session-Id"), nil
}

// protectedResource is what plugboard reads of RFC 9728 protected
// resource metadata.
type protectedResource struct {
	Resource             string   `json:"resource"`
	AuthorizationServers []string `json:"authorization_servers"`
	ScopesSupported      []string `json:"scopes_supported"`
}

// discoverResource finds the server's protected resource metadata in the
// MCP authorization spec's order: the URL its challenge named, else the
// well-known URL at the server's path, else at the root. It returns the
// URL it came from, or "" and nil when there is none (a server of the
// 2025-03-26 revision: its authorization server is at its own origin).
func discoverResource(ctx context.Context, client *http.Client, serverURL, named string) (string, *protectedResource) {
	var candidates []string
	if named != "" {
		candidates = append(candidates, named)
	}
	if u, err := url.Parse(serverURL); err == nil && u.Host != "" {
		root := u.Scheme + "://" + u.Host + "/.well-known/oauth-protected-resource"
		if p := strings.TrimSuffix(u.EscapedPath(), "/"); p != "" {
			candidates = append(candidates, root+p)
		}
		candidates = append(candidates, root)
	}
	for _, c := range candidates {
		if prm := fetchResource(ctx, client, c); prm != nil {
			return c, prm
		}
	}
	return "", nil
}

// originOf is a URL's scheme and host: the authorization base URL of the
// 2025-03-26 revision.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	return u.Scheme + "://" + u.Host
}

func fetchResource(ctx context.Context, client *http.Client, metadataURL string) *protectedResource {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metadataURL, nil)
	if err != nil {
		return nil
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil
	}
	defer sseDiscard(resp)
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	var prm protectedResource
	if json.NewDecoder(io.LimitReader(resp.Body, prmBodyLimit)).Decode(&prm) != nil || len(prm.AuthorizationServers) == 0 {
		return nil
	}
	return &prm
}

// resourceCovers reports whether a protected resource identifier names
// the server at serverURL: the same scheme and host, and a path that is
// the server's or a parent of it.
func resourceCovers(resource, serverURL string) bool {
	r, err1 := url.Parse(resource)
	s, err2 := url.Parse(serverURL)
	if err1 != nil || err2 != nil || !strings.EqualFold(r.Scheme, s.Scheme) || !strings.EqualFold(r.Host, s.Host) {
		return false
	}
	rp, sp := strings.TrimSuffix(r.EscapedPath(), "/"), strings.TrimSuffix(s.EscapedPath(), "/")
	return rp == sp || strings.HasPrefix(sp, rp+"/")
}
