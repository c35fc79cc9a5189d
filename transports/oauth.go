package transports

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
)

// AuthSpec is how plugboard authorizes itself to a remote server with
// OAuth (the MCP authorization spec). Every field is optional: a server
// that asks for a bearer token gets the stored login whatever the spec
// says.
type AuthSpec struct {
	ClientID     string // a pre-registered client; "" uses the one registered at login
	ClientSecret string
	Scopes       []string
	RedirectPort int    // the login's loopback port; 0 takes a free one
	TokenDir     string // where logins are kept; "" is DefaultTokenDir
	// Required says the server is known to need a login (it has auth
	// settings): any 401 means so, not only one asking for a bearer token.
	Required bool
	// StepUp lets a request the server refuses with 403 insufficient_scope
	// log in again in the user's browser, asking for the scopes held and
	// the scope wanted, when a browser can be opened (CanOpenBrowser); the
	// request is then sent again, once. Without it, or without a browser,
	// such a refusal is a NeedsLoginError naming the scope.
	StepUp bool
	// Log is where a step-up says what it does; nil is slog.Default().
	Log *slog.Logger
}

// NeedsLoginError says that a server refused plugboard for want of a
// valid login: none is stored, the token was refused and could not be
// refreshed, or the server asked for a scope the token lacks. Its text
// holds no secret.
type NeedsLoginError struct {
	// Why says what happened, in a few words.
	Why string
	// Scope is the scope the server asked for (403 insufficient_scope);
	// "" otherwise.
	Scope string
}

func (e *NeedsLoginError) Error() string {
	if e.Scope != "" {
		return fmt.Sprintf("needs login: %s (it asks for scope %q)", e.Why, e.Scope)
	}
	return "needs login: " + e.Why
}

// AsNeedsLogin returns the NeedsLoginError in err's chain, or nil.
func AsNeedsLogin(err error) *NeedsLoginError {
	var nl *NeedsLoginError
	if errors.As(err, &nl) {
		return nl
	}
	return nil
}

// OAuth is plugboard's OAuth client for one remote server: its stored
// login, and mcp-go's handler, which discovers the authorization server,
// registers, exchanges and refreshes. It is made for one connection: a
// login made since is read from the store, tokens and registration alike,
// by the next connection's OAuth.
type OAuth struct {
	url     string
	spec    AuthSpec
	store   *FileTokenStore
	handler atomic.Pointer[transport.OAuthHandler] // replaced after a step-up's login

	refreshMu sync.Mutex // one forced refresh at a time (refresh tokens may be single-use)

	stepUpMu     sync.Mutex           // one step-up login at a time
	stepUpFailed map[string]time.Time // scope wanted -> when a step-up for it last failed
}

// stepUpPause is how long after a failed step-up for a scope another is
// not tried: requests refused meanwhile need a login, and no browser
// window opens for each of them.
const stepUpPause = time.Minute

// NewOAuth returns the OAuth client of the server at serverURL, set up
// from the spec and what the store holds of an earlier login.
func NewOAuth(serverURL string, spec AuthSpec) (*OAuth, error) {
	store, err := NewFileTokenStore(spec.TokenDir, serverURL)
	if err != nil {
		return nil, err
	}
	rec, err := store.Load()
	if errors.Is(err, transport.ErrNoToken) {
		rec, err = &LoginRecord{}, nil
	}
	if err != nil {
		return nil, err
	}
	o := &OAuth{url: serverURL, spec: spec, store: store, stepUpFailed: map[string]time.Time{}}
	o.handler.Store(o.newHandler(rec, rec.RedirectURI, spec.Scopes))
	return o, nil
}

// Store returns the server's token store.
func (o *OAuth) Store() *FileTokenStore { return o.store }

// newHandler builds mcp-go's handler over the store: the configured
// client, else the registered one; the resource and its metadata URL as
// the login found them.
func (o *OAuth) newHandler(rec *LoginRecord, redirectURI string, scopes []string) *transport.OAuthHandler {
	cfg := transport.OAuthConfig{
		ClientID:     o.spec.ClientID,
		ClientSecret: o.spec.ClientSecret,
		RedirectURI:  redirectURI,
		Scopes:       scopes,
		TokenStore:   o.store,
		PKCEEnabled:  true,
		HTTPClient:   &http.Client{Timeout: 30 * time.Second, Transport: postingTransport()},
	}
	if cfg.ClientID == "" {
		cfg.ClientID, cfg.ClientSecret, cfg.TokenEndpointAuthMethod = rec.ClientID, rec.ClientSecret, rec.AuthMethod
	}
	h := transport.NewOAuthHandler(cfg)
	base := o.url
	switch {
	case rec.Resource != "":
		base = rec.Resource
	case rec.ResourceMetadata == "":
		base = originOf(httpURLOf(o.url)) // 2025-03-26: the authorization server is at the origin
	}
	h.SetBaseURL(base)
	if rec.ResourceMetadata != "" {
		h.SetProtectedResourceMetadataURL(rec.ResourceMetadata)
	}
	return h
}

// header returns the Authorization header to send: "" when no login is
// stored (the server may not need one), a NeedsLoginError when the one
// stored has expired and cannot be refreshed.
func (o *OAuth) header(ctx context.Context) (string, error) {
	h, err := o.handler.Load().GetAuthorizationHeader(ctx)
	switch {
	case err == nil:
		return h, nil
	case errors.Is(err, transport.ErrOAuthAuthorizationRequired):
		if _, err := o.store.GetToken(ctx); errors.Is(err, transport.ErrNoToken) {
			return "", nil
		}
		return "", &NeedsLoginError{Why: "the stored login has expired and could not be refreshed"}
	case ctx.Err() != nil:
		return "", ctx.Err()
	}
	return "", fmt.Errorf("reading the login: %w", err)
}

// refreshAfter refreshes the token after the server refused sent, unless
// another request has refreshed it since; it returns the header to retry
// with.
func (o *OAuth) refreshAfter(ctx context.Context, sent string) (string, error) {
	o.refreshMu.Lock()
	defer o.refreshMu.Unlock()
	if now, err := o.header(ctx); err != nil || (now != "" && now != sent) {
		return now, err
	}
	tok, err := o.store.GetToken(ctx)
	if err != nil || tok.RefreshToken == "" {
		return "", &NeedsLoginError{Why: "the server refused the stored token"}
	}
	fresh, err := o.handler.Load().RefreshToken(ctx, tok.RefreshToken)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", &NeedsLoginError{Why: "the server refused the stored token, and the refresh failed"}
	}
	return "Bearer " + fresh.AccessToken, nil
}

// noteStepUp remembers a scope the server asked for, for the next login.
func (o *OAuth) noteStepUp(scope string) {
	if scope == "" {
		return
	}
	_ = o.store.Update(func(rec *LoginRecord) {
		rec.StepUpScope = strings.Join(unionScopes(splitScopes(rec.StepUpScope), splitScopes(scope)), " ")
	})
}

// stepUp answers a 403 insufficient_scope to a request sent with header
// sent: when the spec allows it and a browser can be opened, it logs in
// again in the browser (the login asks for the scopes noted, scope among
// them) and returns the header to send the request with again. Another
// request's step-up since sent is used as it is. Otherwise, or when the
// login fails, it returns a NeedsLoginError naming scope.
func (o *OAuth) stepUp(ctx context.Context, sent, scope string) (string, error) {
	refused := &NeedsLoginError{Why: "the server wants a scope the login lacks", Scope: scope}
	if !o.spec.StepUp || !CanOpenBrowser() {
		return "", refused
	}
	o.stepUpMu.Lock()
	defer o.stepUpMu.Unlock()
	if now, err := o.header(ctx); err == nil && now != "" && now != sent {
		return now, nil
	}
	if at, ok := o.stepUpFailed[scope]; ok && time.Since(at) < stepUpPause {
		return "", refused
	}
	log := o.spec.Log
	if log == nil {
		log = slog.Default()
	}
	log.Info("the server asks for more scope than the login has: logging in again in the browser", "scope", scope)
	ctx, cancel := context.WithTimeout(ctx, LoginTimeout)
	defer cancel()
	err := o.BrowserLogin(ctx, func(authURL string) {
		log.Info("open this URL to log in, if no browser opened", "url", authURL)
	}, os.Stderr)
	if err != nil {
		o.stepUpFailed[scope] = time.Now()
		log.Warn("logging in again for more scope failed", "scope", scope, "err", err)
		return "", refused
	}
	delete(o.stepUpFailed, scope)
	// The login may have registered another client: the handler that
	// refreshes is made again from what the login stored.
	rec, err := o.store.Load()
	if err != nil {
		return "", fmt.Errorf("reading the login: %w", err)
	}
	o.handler.Store(o.newHandler(rec, rec.RedirectURI, o.spec.Scopes))
	log.Info("logged in again with more scope", "scope", scope)
	return o.header(ctx)
}

// RoundTripper returns base with the server's login added: every request
// carries the stored token (refreshed when it is about to expire); a 401
// despite a token is retried once after a refresh; a request the server
// refuses for want of a login fails with a NeedsLoginError.
func (o *OAuth) RoundTripper(base http.RoundTripper) http.RoundTripper {
	return &authRoundTripper{base: base, oauth: o}
}

// wrap returns base with the login added; base itself when o is nil.
func (o *OAuth) wrap(base http.RoundTripper) http.RoundTripper {
	if o == nil {
		return base
	}
	return o.RoundTripper(base)
}

// upgradeHeader returns header with the login's Authorization added, for a
// WebSocket's upgrade request; header itself when o is nil or no login
// is stored.
func (o *OAuth) upgradeHeader(ctx context.Context, header http.Header) (http.Header, error) {
	if o == nil {
		return header, nil
	}
	auth, err := o.header(ctx)
	if err != nil || auth == "" {
		return header, err
	}
	out := header.Clone()
	out.Set("Authorization", auth)
	return out, nil
}

// refusal returns the NeedsLoginError that a refused WebSocket upgrade
// means, or nil. A refused token is refreshed, and nil returned when that
// works: the upgrade is not retried here, but the next connection's is,
// with the new token.
func (o *OAuth) refusal(ctx context.Context, resp *http.Response, sent string) *NeedsLoginError {
	if o == nil || resp == nil {
		return nil
	}
	challenge := parseBearerChallenge(resp.Header.Values("WWW-Authenticate"))
	switch {
	case resp.StatusCode == http.StatusUnauthorized && sent != "":
		if _, err := o.refreshAfter(ctx, sent); err != nil {
			return &NeedsLoginError{Why: "the server refused the stored token, and the refresh failed"}
		}
		return nil
	case resp.StatusCode == http.StatusUnauthorized && (challenge.bearer || o.spec.Required):
		return &NeedsLoginError{Why: "no login is stored", Scope: challenge.scope}
	case resp.StatusCode == http.StatusForbidden && challenge.err == "insufficient_scope":
		o.noteStepUp(challenge.scope)
		return &NeedsLoginError{Why: "the server wants a scope the login lacks", Scope: challenge.scope}
	}
	return nil
}

type authRoundTripper struct {
	base  http.RoundTripper
	oauth *OAuth
}

func (t *authRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	header, err := t.oauth.header(ctx)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := t.send(req, header, false)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		challenge := parseBearerChallenge(resp.Header.Values("WWW-Authenticate"))
		if header == "" {
			if !challenge.bearer && !t.oauth.spec.Required {
				return resp, nil // a refusal of another kind: not for a login to fix
			}
			sseDiscard(resp)
			return nil, &NeedsLoginError{Why: "no login is stored", Scope: challenge.scope}
		}
		sseDiscard(resp)
		if !replayable(req) {
			return nil, &NeedsLoginError{Why: "the server refused the stored token"}
		}
		if header, err = t.oauth.refreshAfter(ctx, header); err != nil {
			return nil, err
		}
		if resp, err = t.send(req, header, true); err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusUnauthorized {
			sseDiscard(resp)
			return nil, &NeedsLoginError{Why: "the server refused a freshly refreshed token"}
		}
	}
	scope, short := insufficientScope(resp)
	if !short {
		return resp, nil
	}
	sseDiscard(resp)
	t.oauth.noteStepUp(scope)
	if !replayable(req) {
		return nil, &NeedsLoginError{Why: "the server wants a scope the login lacks", Scope: scope}
	}
	// Step-up: a new login with the scope, then the request once more.
	if header, err = t.oauth.stepUp(ctx, header, scope); err != nil {
		return nil, err
	}
	if resp, err = t.send(req, header, true); err != nil {
		return nil, err
	}
	if scope, short := insufficientScope(resp); short {
		sseDiscard(resp)
		t.oauth.noteStepUp(scope)
		return nil, &NeedsLoginError{Why: "the server wants a scope the login lacks, even after logging in again", Scope: scope}
	}
	return resp, nil
}

// insufficientScope says whether resp is a 403 insufficient_scope (RFC
// 6750 §3.1), and the scope it asks for.
func insufficientScope(resp *http.Response) (scope string, short bool) {
	if resp.StatusCode != http.StatusForbidden {
		return "", false
	}
	challenge := parseBearerChallenge(resp.Header.Values("WWW-Authenticate"))
	return challenge.scope, challenge.err == "insufficient_scope"
}

// replayable says whether req can be sent a second time.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// send sends req, or a copy with the Authorization header; again sends
// it a second time, with a fresh body.
func (t *authRoundTripper) send(req *http.Request, header string, again bool) (*http.Response, error) {
	out := req
	if header != "" || again {
		out = req.Clone(req.Context())
		if header != "" {
			out.Header.Set("Authorization", header)
		}
		if again && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			out.Body = body
		}
	}
	return t.base.RoundTrip(out)
}

// closeBody closes a request's body that is not sent, as RoundTrip must.
func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// bearerChallenge is what plugboard reads of a WWW-Authenticate header's
// Bearer challenge (RFC 6750 §3, RFC 9728 §5.1).
type bearerChallenge struct {
	bearer           bool
	err, scope       string
	resourceMetadata string
}

// parseBearerChallenge reads the first Bearer challenge of the header
// lines; the zero value when there is none.
func parseBearerChallenge(lines []string) bearerChallenge {
	for _, line := range lines {
		for _, ch := range splitChallenges(line) {
			if !strings.EqualFold(ch.scheme, "bearer") {
				continue
			}
			return bearerChallenge{bearer: true, err: ch.params["error"], scope: ch.params["scope"], resourceMetadata: ch.params["resource_metadata"]}
		}
	}
	return bearerChallenge{}
}

type authChallenge struct {
	scheme string
	params map[string]string
}

// splitChallenges parses a WWW-Authenticate value (RFC 9110 §11.6.1): one
// or more challenges, each a scheme and comma-separated name=value
// parameters, values tokens or quoted strings.
func splitChallenges(s string) []authChallenge {
	var out []authChallenge
	i := 0
	skip := func(set string) {
		for i < len(s) && strings.IndexByte(set, s[i]) >= 0 {
			i++
		}
	}
	token := func() string {
		start := i
		for i < len(s) && strings.IndexByte(" \t,=\"", s[i]) < 0 {
			i++
		}
		return s[start:i]
	}
	for {
		skip(" \t,")
		if i >= len(s) {
			return out
		}
		ch := authChallenge{scheme: token(), params: map[string]string{}}
		if ch.scheme == "" { // a stray character: give up on the rest
			return out
		}
		for {
			skip(" \t")
			if i < len(s) && s[i] == ',' {
				i++
				continue
			}
			save := i
			name := token()
			skip(" \t")
			if name == "" || i >= len(s) || s[i] != '=' {
				i = save // the next challenge's scheme, or the end
				if name == "" {
					i = len(s) // something unparseable: ignore the rest
				}
				break
			}
			i++ // '='
			skip(" \t")
			ch.params[strings.ToLower(name)] = quotedOrToken(s, &i, token)
		}
		out = append(out, ch)
	}
}

// quotedOrToken reads a parameter's value at s[*i]: a quoted string,
// with its backslash escapes undone, or a token.
func quotedOrToken(s string, i *int, token func() string) string {
	if *i >= len(s) || s[*i] != '"' {
		return token()
	}
	var b strings.Builder
	for *i++; *i < len(s) && s[*i] != '"'; *i++ {
		if s[*i] == '\\' && *i+1 < len(s) {
			*i++
		}
		b.WriteByte(s[*i])
	}
	if *i < len(s) {
		*i++ // the closing quote
	}
	return b.String()
}

// splitScopes splits a space-separated scope list.
func splitScopes(s string) []string { return strings.Fields(s) }

// unionScopes returns a's scopes and then those of b not in a.
func unionScopes(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, s := range b {
		found := false
		for _, have := range out {
			if have == s {
				found = true
				break
			}
		}
		if !found {
			out = append(out, s)
		}
	}
	return out
}
