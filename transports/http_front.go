package transports

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plugboard/plugboard/messages"
)

// HTTPOptions configure plugboard's HTTP fronts.
type HTTPOptions struct {
	// AuthToken, when set, is the bearer token every request but /healthz
	// must carry.
	AuthToken string
	// AllowedHosts are the host names (without port) a request's Host may
	// name, besides the loopback names; "*" allows any.
	AllowedHosts []string
	// AllowedOrigins are the origins (scheme://host[:port]) a browser's
	// Origin may be, besides loopback ones; "*" allows any.
	AllowedOrigins []string
	// MaxFrame is the largest message accepted; 0 means DefaultMaxFrame.
	MaxFrame int
	// SessionIdle ends sessions unused for that long; 0 means 30 minutes.
	SessionIdle time.Duration
	// MaxSessions caps open sessions; 0 means 10000.
	MaxSessions int
	Log         *slog.Logger
	// Workspace, if set, serves /w/NAME/mcp, /w/NAME/sse and /w/NAME/ws
	// with sessions that see workspace NAME: it returns their opener, or
	// false for a workspace that does not exist.
	Workspace func(name string) (SessionOpener, bool)
	// Dashboard, if set, serves /ui and everything under it, behind the
	// Host and Origin checks but not the bearer token: it authenticates
	// browsers itself (a login page, then a cookie).
	Dashboard http.Handler
	// Guarded are handlers served beside the fronts, by path pattern
	// (/metrics), behind the same Host, Origin and bearer token checks.
	Guarded map[string]http.Handler
	// Refused, if set, is told of each session or message the fronts
	// refuse themselves: RefusedOverloaded, RefusedTooLarge, RefusedBadInput.
	Refused func(reason string)
}

// Reasons the fronts refuse a session or a message, for HTTPOptions.Refused.
const (
	RefusedOverloaded = "overloaded" // too many sessions
	RefusedTooLarge   = "too_large"  // a message over the frame limit
	RefusedBadInput   = "bad_input"  // not JSON, or not a JSON-RPC message
)

// refused tells HTTPOptions.Refused, if set, of a refusal.
func (h *HTTPFront) refused(reason string) {
	if h.opts.Refused != nil {
		h.opts.Refused(reason)
	}
}

// HTTPFront serves MCP clients over HTTP: Streamable HTTP at /mcp, the
// legacy HTTP+SSE transport at /sse and /message, and WebSocket at /ws.
// Every session it opens is a ClientSession of its SessionOpener.
type HTTPFront struct {
	opts   HTTPOptions
	opener SessionOpener

	mu       sync.Mutex // guards sessions, the front's own registry
	sessions map[string]*httpSession
	// workspaces are the fronts of /w/NAME/, by name, made on first use.
	workspaces map[string]*workspaceFront
	closed     chan struct{}

	modern *modernCalls // the 2026-07-28 revision's calls waiting for a retry
}

// NewHTTPFront returns a front that opens sessions with opener.
func NewHTTPFront(opener SessionOpener, opts HTTPOptions) *HTTPFront {
	if opts.MaxFrame <= 0 {
		opts.MaxFrame = DefaultMaxFrame
	}
	if opts.SessionIdle <= 0 {
		opts.SessionIdle = 30 * time.Minute
	}
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = 10000
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	h := &HTTPFront{opts: opts, opener: opener, sessions: map[string]*httpSession{}, workspaces: map[string]*workspaceFront{}, closed: make(chan struct{})}
	h.modern = newModernCalls(opener, opts.MaxSessions, h.closed)
	h.modern.refused = opts.Refused
	return h
}

// Handler returns the front's HTTP handler.
func (h *HTTPFront) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("/mcp", h.guard(http.HandlerFunc(h.serveStreamable)))
	mux.Handle("/sse", h.guard(http.HandlerFunc(h.serveSSE)))
	mux.Handle("/message", h.guard(http.HandlerFunc(h.serveMessage)))
	mux.Handle("/ws", h.guard(http.HandlerFunc(h.serveWebSocket)))
	for pattern, handler := range h.opts.Guarded {
		mux.Handle(pattern, h.guard(handler))
	}
	if h.opts.Workspace != nil {
		mux.Handle("/w/{workspace}/mcp", h.guard(h.inWorkspace(http.HandlerFunc(h.serveStreamable))))
		mux.Handle("/w/{workspace}/sse", h.guard(h.inWorkspace(http.HandlerFunc(h.serveSSE))))
		mux.Handle("/w/{workspace}/ws", h.guard(h.inWorkspace(http.HandlerFunc(h.serveWebSocket))))
	}
	if h.opts.Dashboard != nil {
		mux.Handle("/ui", h.guardHostOrigin(h.opts.Dashboard))
		mux.Handle("/ui/", h.guardHostOrigin(h.opts.Dashboard))
	}
	return mux
}

// workspaceFront is what a request under /w/NAME/ opens its sessions
// with: the workspace's opener, and its own 2026-07-28 calls.
type workspaceFront struct {
	opener SessionOpener
	modern *modernCalls
}

type workspaceKey struct{}

// inWorkspace serves a request under /w/NAME/ with sessions of workspace
// NAME, or answers 404 for a workspace the configuration lacks.
func (h *HTTPFront) inWorkspace(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("workspace")
		opener, ok := h.opts.Workspace(name)
		if !ok {
			http.Error(w, fmt.Sprintf("no workspace %q in plugboard's configuration", name), http.StatusNotFound)
			return
		}
		h.mu.Lock()
		wf := h.workspaces[name]
		if wf == nil || wf.opener != opener {
			wf = &workspaceFront{opener: opener, modern: newModernCalls(opener, h.opts.MaxSessions, h.closed)}
			wf.modern.refused = h.opts.Refused
			h.workspaces[name] = wf
		}
		h.mu.Unlock()
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), workspaceKey{}, wf)))
	})
}

// openerFor is the opener of a request's sessions: its workspace's, or
// the front's own.
func (h *HTTPFront) openerFor(r *http.Request) SessionOpener {
	if wf, ok := r.Context().Value(workspaceKey{}).(*workspaceFront); ok {
		return wf.opener
	}
	return h.opener
}

// modernFor is where a request's 2026-07-28 calls wait for their retries.
func (h *HTTPFront) modernFor(r *http.Request) *modernCalls {
	if wf, ok := r.Context().Value(workspaceKey{}).(*workspaceFront); ok {
		return wf.modern
	}
	return h.modern
}

// Run ends idle sessions until Close.
func (h *HTTPFront) Run() {
	tick := time.NewTicker(min(h.opts.SessionIdle/4, time.Minute))
	defer tick.Stop()
	for {
		select {
		case <-h.closed:
			return
		case <-tick.C:
			h.expireIdle(time.Now())
		}
	}
}

// Close ends every session.
func (h *HTTPFront) Close() {
	h.mu.Lock()
	select {
	case <-h.closed:
	default:
		close(h.closed)
	}
	sessions := make([]*httpSession, 0, len(h.sessions))
	for _, s := range h.sessions {
		sessions = append(sessions, s)
	}
	h.mu.Unlock()
	for _, s := range sessions {
		h.endSession(s)
	}
	h.modern.closeParked()
	h.mu.Lock()
	for _, wf := range h.workspaces {
		wf.modern.closeParked()
	}
	h.mu.Unlock()
}

func (h *HTTPFront) expireIdle(now time.Time) {
	h.mu.Lock()
	var idle []*httpSession
	for _, s := range h.sessions {
		if s.idleSince(now) > h.opts.SessionIdle {
			idle = append(idle, s)
		}
	}
	h.mu.Unlock()
	for _, s := range idle {
		h.opts.Log.Info("session expired", "session", s.id, "idle", h.opts.SessionIdle)
		h.endSession(s)
	}
}

// guardHostOrigin checks Host and Origin before a handler runs:
// protection against DNS rebinding and against other sites' pages.
func (h *HTTPFront) guardHostOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.hostAllowed(r.Host) {
			httpError(w, http.StatusForbidden, "host "+strconv.Quote(r.Host)+" is not allowed (see --allowed-hosts)")
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" && !h.originAllowed(origin) {
			httpError(w, http.StatusForbidden, "origin "+strconv.Quote(origin)+" is not allowed (see --allowed-origins)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// guard checks Host, Origin and the bearer token before a handler runs:
// protection against DNS rebinding and against other local users' browsers.
func (h *HTTPFront) guard(next http.Handler) http.Handler {
	return h.guardHostOrigin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.opts.AuthToken != "" {
			token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(token), []byte(h.opts.AuthToken)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="plugboard"`)
				httpError(w, http.StatusUnauthorized, "a valid bearer token is required")
				return
			}
		}
		next.ServeHTTP(w, r)
	}))
}

// IsLoopbackHost reports whether a host name (without port) is a loopback
// one: localhost or a loopback address.
func IsLoopbackHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// LoopbackHostOnly passes a request on only if its Host names a loopback
// host: the DNS-rebinding defence of the fronts, for endpoints outside them
// (PLUGBOARD_PPROF).
func LoopbackHostOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hostAllowed(r.Host, nil) {
			httpError(w, http.StatusForbidden, "host "+strconv.Quote(r.Host)+" is not allowed")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (h *HTTPFront) hostAllowed(hostport string) bool {
	return hostAllowed(hostport, h.opts.AllowedHosts)
}

// hostAllowed reports whether a Host header names a loopback host or one
// of allowed.
func hostAllowed(hostport string, allowed []string) bool {
	host := hostport
	if hst, _, err := net.SplitHostPort(hostport); err == nil {
		host = hst
	}
	if IsLoopbackHost(host) {
		return true
	}
	for _, a := range allowed {
		if a == "*" || strings.EqualFold(a, host) {
			return true
		}
	}
	return false
}

func (h *HTTPFront) originAllowed(origin string) bool {
	for _, a := range h.opts.AllowedOrigins {
		if a == "*" || strings.EqualFold(strings.TrimSuffix(a, "/"), origin) {
			return true
		}
	}
	u, err := url.Parse(origin)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && IsLoopbackHost(u.Hostname())
}

// openSession registers a new session, or reports that the cap is reached.
func (h *HTTPFront) openSession(r *http.Request, kind sessionKind) (*httpSession, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.closed:
		return nil, false
	default:
	}
	if len(h.sessions) >= h.opts.MaxSessions {
		return nil, false
	}
	s := newHTTPSession(newSessionID(), kind, h.openerFor(r).OpenSession())
	if d, ok := s.cs.(TransportDescriber); ok {
		d.DescribeTransport(kind.String())
	}
	h.sessions[s.id] = s
	if c, ok := s.cs.(DirectConsumer); ok {
		// No goroutine waits on an idle session, and none stands between
		// the answer and the stream that waits for it.
		c.ConsumeDirect(s.routeNow, s.route, func() {
			close(s.ended)
			h.forget(s)
		})
		return s, true
	}
	if c, ok := s.cs.(Consumer); ok {
		// No goroutine waits on an idle session.
		c.Consume(s.route, func() {
			close(s.ended)
			h.forget(s)
		})
		return s, true
	}
	go func() {
		s.dispatch()
		h.forget(s)
	}()
	return s, true
}

func (h *HTTPFront) session(id string) *httpSession {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sessions[id]
}

func (h *HTTPFront) forget(s *httpSession) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sessions[s.id] == s {
		delete(h.sessions, s.id)
	}
}

// endSession closes a session: it is forgotten at once, and its dispatcher
// ends once the session's last frames are out.
func (h *HTTPFront) endSession(s *httpSession) {
	h.forget(s)
	s.cs.Close()
}

func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails on the platforms Go supports
	return hex.EncodeToString(b[:])
}

// tooManySessions answers a request that would open a session past the cap.
func (h *HTTPFront) tooManySessions(w http.ResponseWriter) {
	h.refused(RefusedOverloaded)
	w.Header().Set("Retry-After", "5")
	httpError(w, http.StatusServiceUnavailable, "too many sessions; retry later")
}

// httpError answers with a JSON-RPC error body and an HTTP status.
func httpError(w http.ResponseWriter, status int, message string) {
	code := messages.CodeInvalidRequest
	if status >= 500 {
		code = messages.CodeServerUnavailable
	}
	httpRPCError(w, status, nil, &messages.RPCError{Code: code, Message: message})
}

func httpRPCError(w http.ResponseWriter, status int, id []byte, e *messages.RPCError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(ErrorFrame(id, e))
}
