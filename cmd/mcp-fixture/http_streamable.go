package main

// The Streamable HTTP transport of MCP 2025-11-25 at /mcp: POST carries
// each client message, and a POSTed request is answered with an SSE stream
// of everything the server sends about it, its response last; GET opens
// the session's standalone stream for what concerns no request, or resumes
// a stream with Last-Event-ID; DELETE ends the session. A POSTed
// 2026-07-28 request needs no session and goes to http_stateless.go.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
)

const (
	sessionHeader  = "Mcp-Session-Id"
	versionHeader  = "Mcp-Protocol-Version"
	lastEventIDKey = "Last-Event-ID"
)

// primingVersion is the first protocol revision whose clients expect
// priming events (SEP-1699); older ones may choke on their empty data.
const primingVersion = "2025-11-25"

// maxBodyBytes bounds a POST body, with room for arguments as large as
// the large tool's results.
const maxBodyBytes = maxLargeBytes + 1<<20

// streamableHTTP serves /mcp.
type streamableHTTP struct {
	net      *network
	sessions *sessionTable[*streamableSession]
}

func (h *streamableHTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A POST may carry 2026-07-28, whose header post checks; GET and
	// DELETE belong to legacy sessions only.
	if v := r.Header.Get(versionHeader); v != "" && !isLegacyVersion(v) && r.Method != http.MethodPost {
		writeHTTPError(w, http.StatusBadRequest, codeServerError, "Bad Request: unsupported "+versionHeader+" "+v)
		return
	}
	switch r.Method {
	case http.MethodPost:
		h.post(w, r)
	case http.MethodGet:
		h.get(w, r)
	case http.MethodDelete:
		h.delete(w, r)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		writeHTTPError(w, http.StatusMethodNotAllowed, codeServerError, "Method Not Allowed")
	}
}

func (h *streamableHTTP) post(w http.ResponseWriter, r *http.Request) {
	if !accepts(r, "application/json") || !accepts(r, "text/event-stream") {
		writeHTTPError(w, http.StatusNotAcceptable, codeServerError,
			"Not Acceptable: Accept must list both application/json and text/event-stream")
		return
	}
	if mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mediaType != "application/json" {
		writeHTTPError(w, http.StatusUnsupportedMediaType, codeServerError, "Unsupported Media Type: the body must be application/json")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		writeHTTPError(w, http.StatusRequestEntityTooLarge, codeServerError, "reading the body: "+err.Error())
		return
	}
	msg, kind, rpcErr := classify(body)
	if rpcErr != nil {
		writeHTTPError(w, http.StatusBadRequest, rpcErr.Code, rpcErr.Message)
		return
	}
	if kind == kindRequest && !h.net.cfg.legacyOnly && isModernPost(r, msg) {
		h.serveModern(w, r, msg)
		return
	}
	if v := r.Header.Get(versionHeader); v != "" && !isLegacyVersion(v) {
		// 2026-07-28 defines no notification a client POSTs, and no
		// response, since its servers send no requests.
		if kind == kindNotification {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		writeHTTPError(w, http.StatusBadRequest, codeInvalidRequest, "Invalid Request: a 2026-07-28 client sends no responses")
		return
	}

	var ss *streamableSession
	if kind == kindRequest && msg.Method == "initialize" {
		if r.Header.Get(sessionHeader) != "" {
			writeHTTPError(w, http.StatusBadRequest, codeInvalidRequest,
				"Invalid Request: initialize opens a new session and must not carry "+sessionHeader)
			return
		}
		ss = h.open()
	} else if ss = h.lookup(w, r); ss == nil {
		return
	}
	w.Header().Set(sessionHeader, ss.id)

	if kind != kindRequest {
		ss.core.handle(ss.ctx, body)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	conn := ss.openStream()
	ss.core.handle(withStream(ss.ctx, conn.st), body)
	ss.carry(w, r, conn)
}

func (h *streamableHTTP) get(w http.ResponseWriter, r *http.Request) {
	if !accepts(r, "text/event-stream") {
		writeHTTPError(w, http.StatusNotAcceptable, codeServerError, "Not Acceptable: Accept must list text/event-stream")
		return
	}
	ss := h.lookup(w, r)
	if ss == nil {
		return
	}
	w.Header().Set(sessionHeader, ss.id)
	conn, err := ss.resume(r.Header.Get(lastEventIDKey))
	if err != nil {
		writeHTTPError(w, http.StatusBadRequest, codeServerError, "Bad Request: "+err.Error())
		return
	}
	ss.carry(w, r, conn)
}

func (h *streamableHTTP) delete(w http.ResponseWriter, r *http.Request) {
	if ss := h.lookup(w, r); ss != nil {
		if _, ok := h.sessions.remove(ss.id); ok {
			ss.close()
		}
		w.WriteHeader(http.StatusOK)
	}
}

// open starts a session for an initialize request.
func (h *streamableHTTP) open() *streamableSession {
	ss := &streamableSession{id: newSessionID(), standalone: newEventStream(0), streams: make(map[int]*eventStream)}
	ss.ctx, ss.cancel = context.WithCancel(context.Background())
	ss.core = h.net.newSession(ss, "streamable-http "+ss.id)
	h.sessions.add(ss.id, ss)
	return ss
}

// lookup finds the session a request names, or answers 400 when it names
// none and 404 when the session is unknown or over, and returns nil.
func (h *streamableHTTP) lookup(w http.ResponseWriter, r *http.Request) *streamableSession {
	id := r.Header.Get(sessionHeader)
	if id == "" {
		writeHTTPError(w, http.StatusBadRequest, codeServerError, "Bad Request: "+sessionHeader+" is required")
		return nil
	}
	ss, ok := h.sessions.get(id)
	if !ok {
		writeHTTPError(w, http.StatusNotFound, codeServerError, "Not Found: no session "+id)
		return nil
	}
	return ss
}

// streamableSession is one Streamable HTTP session, and its outlet.
type streamableSession struct {
	id   string
	core *session
	// ctx ends with the session. Requests run under it, not under their
	// POST: a dropped connection does not cancel a request (the client
	// sends notifications/cancelled for that).
	ctx        context.Context
	cancel     context.CancelFunc
	standalone *eventStream

	mu         sync.Mutex
	streams    map[int]*eventStream // request streams not yet fully delivered
	lastStream int
}

// openStream starts the stream of a new request, carried by the
// connection that POSTed it, and primed unless the client speaks a
// revision from before priming events.
func (ss *streamableSession) openStream() *streamConn {
	ss.mu.Lock()
	ss.lastStream++
	st := newEventStream(ss.lastStream)
	ss.streams[st.id] = st
	ss.mu.Unlock()
	if ss.primes() {
		st.push(nil)
	}
	return st.attach()
}

func (ss *streamableSession) primes() bool {
	return ss.core.negotiated().protocolVersion >= primingVersion
}

// resume attaches a GET's connection to the stream Last-Event-ID names,
// just after that event, or without one to the standalone stream.
func (ss *streamableSession) resume(lastEventID string) (*streamConn, error) {
	if lastEventID == "" {
		if ss.primes() {
			ss.standalone.push(nil)
		}
		return ss.standalone.attach(), nil
	}
	stream, seq, ok := parseEventID(lastEventID)
	if !ok {
		return nil, fmt.Errorf("%s %q is no event id of this server", lastEventIDKey, lastEventID)
	}
	st := ss.standalone
	if stream != st.id {
		ss.mu.Lock()
		st = ss.streams[stream]
		ss.mu.Unlock()
	}
	if st == nil {
		return nil, fmt.Errorf("the stream of event %s has ended or never was", lastEventID)
	}
	conn, err := st.resumeAfter(seq)
	if err != nil {
		return nil, fmt.Errorf("resuming after event %s: %w", lastEventID, err)
	}
	return conn, nil
}

// carry answers an HTTP request with the SSE stream conn holds, and
// forgets a request's stream once all of it is delivered.
func (ss *streamableSession) carry(w http.ResponseWriter, r *http.Request, conn *streamConn) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if rc.Flush() != nil {
		return
	}
	if conn.carry(r.Context(), w, rc.Flush) && conn.st != ss.standalone {
		ss.mu.Lock()
		delete(ss.streams, conn.st.id)
		ss.mu.Unlock()
	}
}

// close ends the session: its calls are cancelled and its streams close.
func (ss *streamableSession) close() {
	ss.cancel()
	ss.core.clientClosed()
	ss.standalone.close()
	ss.mu.Lock()
	streams := ss.streams
	ss.streams = make(map[int]*eventStream)
	ss.mu.Unlock()
	for _, st := range streams {
		st.close()
	}
	ss.core.logger.Print("session closed")
}

// send puts a frame on the stream of the request it belongs to or, when
// it belongs to none or that stream has ended, on the standalone stream.
func (ss *streamableSession) send(ctx context.Context, frame []byte) {
	if st := streamOf(ctx); st != nil && st.push(frame) {
		return
	}
	ss.standalone.push(frame)
}

func (ss *streamableSession) finish(ctx context.Context, response []byte) {
	st := streamOf(ctx)
	if st == nil {
		// Only a malformed frame gets a response outside a request, and
		// the handlers above answer those with HTTP errors instead.
		ss.core.logger.Printf("dropping a response that belongs to no request: %s", response)
		return
	}
	st.end(response)
}

func (ss *streamableSession) disconnect(ctx context.Context) {
	if st := streamOf(ctx); st != nil {
		st.cut()
	}
}

// streamKey is the context key of the stream a request's frames go on.
type streamKey struct{}

func withStream(ctx context.Context, st *eventStream) context.Context {
	return context.WithValue(ctx, streamKey{}, st)
}

func streamOf(ctx context.Context) *eventStream {
	st, _ := ctx.Value(streamKey{}).(*eventStream)
	return st
}

// frameKind is what a POSTed JSON-RPC message is.
type frameKind int

const (
	kindRequest frameKind = iota
	kindNotification
	kindResponse
)

// classify checks that body is one JSON-RPC 2.0 message and tells what it
// is, or returns the error to answer with HTTP 400.
func classify(body []byte) (message, frameKind, *rpcError) {
	var msg message
	if !json.Valid(body) {
		return msg, 0, &rpcError{Code: codeParseError, Message: "Parse error"}
	}
	if err := json.Unmarshal(body, &msg); err != nil || msg.JSONRPC != "2.0" {
		return msg, 0, &rpcError{Code: codeInvalidRequest, Message: "Invalid Request: the body must be one JSON-RPC 2.0 message"}
	}
	switch {
	case msg.Method != "" && len(msg.ID) > 0:
		return msg, kindRequest, nil
	case msg.Method != "":
		return msg, kindNotification, nil
	case !isAbsent(msg.ID) && (msg.Result != nil || msg.Error != nil):
		return msg, kindResponse, nil
	default:
		return msg, 0, &rpcError{Code: codeInvalidRequest, Message: "Invalid Request: neither a request, a notification nor a response"}
	}
}

// accepts reports whether the request's Accept header admits mediaType,
// by name or by wildcard.
func accepts(r *http.Request, mediaType string) bool {
	major, _, _ := strings.Cut(mediaType, "/")
	for _, header := range r.Header.Values("Accept") {
		for _, item := range strings.Split(header, ",") {
			name, _, _ := strings.Cut(item, ";")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case mediaType, major + "/*", "*/*":
				return true
			}
		}
	}
	return false
}
