package main

// The HTTP+SSE transport of MCP 2024-11-05: GET /sse opens a session and
// its one event stream, which first names the endpoint to POST to in an
// endpoint event and then carries every server message as a message
// event; the client POSTs each of its messages to /message?sessionId=ID.
// The session lasts as long as the GET.

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"sync"
)

// legacySSE serves /sse and /message.
type legacySSE struct {
	net      *network
	sessions *sessionTable[*legacySession]
}

func (h *legacySSE) openStream(w http.ResponseWriter, r *http.Request) {
	ls := &legacySession{id: newSessionID(), w: w, rc: http.NewResponseController(w), done: make(chan struct{})}
	ls.ctx, ls.cancel = context.WithCancel(context.Background())
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	// The session exists before the client learns where to post to it.
	ls.core = h.net.newSession(ls, "sse "+ls.id)
	h.sessions.add(ls.id, ls)
	endpoint := "/message?sessionId=" + url.QueryEscape(ls.id)
	if !ls.write(sseEvent{name: "endpoint", data: []byte(endpoint)}) {
		if _, ok := h.sessions.remove(ls.id); ok {
			ls.close()
		}
		return
	}

	select {
	case <-r.Context().Done():
	case <-ls.done:
	}
	if _, ok := h.sessions.remove(ls.id); ok {
		ls.close()
	}
	// No write may touch w once this handler returns.
	ls.mu.Lock()
	ls.w = nil
	ls.mu.Unlock()
}

func (h *legacySSE) receive(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("sessionId")
	if id == "" {
		writeHTTPError(w, http.StatusBadRequest, codeServerError, "Bad Request: sessionId is required")
		return
	}
	ls, ok := h.sessions.get(id)
	if !ok {
		writeHTTPError(w, http.StatusNotFound, codeServerError, "Not Found: no session "+id)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		writeHTTPError(w, http.StatusRequestEntityTooLarge, codeServerError, "reading the body: "+err.Error())
		return
	}
	// Malformed messages are answered on the event stream, as over stdio.
	ls.core.handle(ls.ctx, body)
	w.WriteHeader(http.StatusAccepted)
}

// legacySession is one HTTP+SSE session, and its outlet: it writes every
// frame straight onto the GET's response.
type legacySession struct {
	id     string
	core   *session
	ctx    context.Context // ends with the session, cancelling its calls
	cancel context.CancelFunc

	mu   sync.Mutex
	w    io.Writer // nil once the GET has ended
	rc   *http.ResponseController
	done chan struct{} // closed by close, to end the GET

	closeOnce sync.Once
}

// write sends one event and reports whether it went out.
func (ls *legacySession) write(ev sseEvent) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.w == nil {
		return false
	}
	if ev.writeTo(ls.w) != nil || ls.rc.Flush() != nil {
		ls.w = nil
		return false
	}
	return true
}

func (ls *legacySession) send(_ context.Context, frame []byte) {
	ls.write(sseEvent{name: "message", data: frame})
}

func (ls *legacySession) finish(ctx context.Context, response []byte) {
	if response != nil {
		ls.send(ctx, response)
	}
}

// disconnect does nothing: closing the stream would end the session.
func (ls *legacySession) disconnect(context.Context) {}

func (ls *legacySession) close() {
	ls.closeOnce.Do(func() {
		ls.cancel()
		ls.core.clientClosed()
		close(ls.done)
		ls.core.logger.Print("session closed")
	})
}
