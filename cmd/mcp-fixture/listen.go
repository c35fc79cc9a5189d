package main

// Network mode (--listen): one HTTP server on one address carries three
// MCP transports, each of whose connections or sessions gets a session of
// its own, while the list switches and subscriptions are shared by all of
// them, and 2026-07-28 requests, which need no session, are served by one
// stateless core:
//
//	/mcp              Streamable HTTP, MCP 2025-11-25 (http_streamable.go)
//	                  and 2026-07-28 (http_stateless.go)
//	/sse, /message    the HTTP+SSE transport of MCP 2024-11-05 (http_sse.go)
//	/ws               WebSocket, subprotocol "mcp" (http_ws.go)
//
// Every endpoint answers only requests whose Host and Origin name this
// machine's loopback, which is what defeats DNS rebinding.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// stopGrace bounds how long stopping waits for HTTP handlers to return
// once every session is closed.
const stopGrace = 5 * time.Second

// listenUntilStopped serves the network mode on addr until SIGINT or
// SIGTERM, or until stdin ends, so that a parent that closes the pipe
// stops the fixture as it would over stdio. Stopping closes every session
// at once, cancelling the calls still running.
func listenUntilStopped(addr string, cfg config, sh *shared, stdin io.Reader, stderr io.Writer, logger *log.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		stop()
	}()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	n := newNetwork(cfg, sh, logger)
	fmt.Fprintf(stderr, "listening on http://%s\n", ln.Addr())
	return n.serve(ctx, ln)
}

// network is the fixture's network mode.
type network struct {
	cfg       config
	shared    *shared
	logger    *log.Logger
	server    *http.Server
	crashing  atomic.Bool // set by crash before it closes the server
	stateless *session    // serves every 2026-07-28 request over HTTP

	streamable *streamableHTTP
	legacy     *legacySSE
	websocket  *webSocketMCP
}

func newNetwork(cfg config, sh *shared, logger *log.Logger) *network {
	n := &network{cfg: cfg, shared: sh, logger: logger}
	statelessLogger := log.New(logger.Writer(), logger.Prefix()+"stateless ", logger.Flags())
	n.stateless = newSession(cfg, sh, statelessOutlet{logger: statelessLogger}, n.crash, statelessLogger)
	n.streamable = &streamableHTTP{net: n, sessions: newSessionTable[*streamableSession]()}
	n.legacy = &legacySSE{net: n, sessions: newSessionTable[*legacySession]()}
	n.websocket = &webSocketMCP{net: n, sessions: newSessionTable[*wsSession]()}

	mux := http.NewServeMux()
	mux.Handle("/mcp", n.streamable)
	mux.HandleFunc("GET /sse", n.legacy.openStream)
	mux.HandleFunc("POST /message", n.legacy.receive)
	mux.Handle("GET /ws", n.websocket)
	n.server = &http.Server{
		Handler:           localOnly(mux),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          logger,
	}
	return n
}

// serve answers on ln until ctx is done, then closes every session.
func (n *network) serve(ctx context.Context, ln net.Listener) error {
	served := make(chan error, 1)
	go func() { served <- n.server.Serve(ln) }()
	select {
	case err := <-served:
		if n.crashing.Load() {
			select {} // crash is ending the process, with its own exit code
		}
		return fmt.Errorf("serving HTTP: %w", err)
	case <-ctx.Done():
	}

	n.logger.Print("stopping")
	n.closeSessions()
	grace, cancel := context.WithTimeout(context.Background(), stopGrace)
	defer cancel()
	if err := n.server.Shutdown(grace); err != nil {
		_ = n.server.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving HTTP: %w", err)
	}
	return nil
}

func (n *network) closeSessions() {
	n.stateless.clientClosed() // ends its subscriptions gracefully
	n.streamable.sessions.closeAll()
	n.legacy.sessions.closeAll()
	n.websocket.sessions.closeAll()
}

// crash is the crash tool's exit in network mode: it drops every
// connection, as a dying process would, and exits without answering.
func (n *network) crash(code int) {
	n.crashing.Store(true)
	_ = n.server.Close() // closes the listener and every HTTP connection
	n.websocket.sessions.closeAll()
	os.Exit(code)
}

// newSession starts the protocol core of one network session; label names
// it in the log.
func (n *network) newSession(out outlet, label string) *session {
	logger := log.New(n.logger.Writer(), fmt.Sprintf("%s%s ", n.logger.Prefix(), label), n.logger.Flags())
	logger.Print("session opened")
	return newSession(n.cfg, n.shared, out, n.crash, logger)
}

// newSessionID returns a random session id of visible ASCII characters,
// as Mcp-Session-Id requires.
func newSessionID() string {
	return rand.Text()
}

// closer is a transport's session, which close ends for good.
type closer interface{ close() }

// sessionTable holds one transport's live sessions by id.
type sessionTable[S closer] struct {
	mu   sync.Mutex
	byID map[string]S
}

func newSessionTable[S closer]() *sessionTable[S] {
	return &sessionTable[S]{byID: make(map[string]S)}
}

func (t *sessionTable[S]) add(id string, s S) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.byID[id] = s
}

func (t *sessionTable[S]) get(id string) (S, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.byID[id]
	return s, ok
}

// remove takes the session out of the table, reporting whether it was in.
func (t *sessionTable[S]) remove(id string) (S, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.byID[id]
	delete(t.byID, id)
	return s, ok
}

// closeAll empties the table and closes every session it held.
func (t *sessionTable[S]) closeAll() {
	t.mu.Lock()
	sessions := t.byID
	t.byID = make(map[string]S)
	t.mu.Unlock()
	for _, s := range sessions {
		s.close()
	}
}

// localOnly answers 403 to any request whose Host, or Origin if it has
// one, names anything but localhost or a loopback address: a web page
// that rebinds its own name to 127.0.0.1 still sends that name.
func localOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case !isLocalHost(r.Host):
			writeHTTPError(w, http.StatusForbidden, codeServerError, "Forbidden: Host "+r.Host+" is not this machine's loopback")
		case r.Header.Get("Origin") != "" && !isLocalOrigin(r.Header.Get("Origin")):
			writeHTTPError(w, http.StatusForbidden, codeServerError, "Forbidden: Origin "+r.Header.Get("Origin")+" is not this machine's loopback")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// isLocalHost reports whether a Host header, with or without a port, is
// localhost or a loopback address.
func isLocalHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isLocalOrigin reports whether an Origin header is an http or https
// origin on localhost or a loopback address.
func isLocalOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return isLocalHost(u.Host)
}

// codeServerError is JSON-RPC's implementation-defined server error, for
// the error bodies of failed HTTP requests.
const codeServerError = -32000

// writeHTTPError fails an HTTP request with status and a JSON-RPC error
// response without an id, as the MCP transports allow.
func writeHTTPError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body := mustRaw(message{JSONRPC: "2.0", Error: &rpcError{Code: code, Message: msg}})
	_, _ = w.Write(append(body, '\n'))
}
