package transports

import (
	"net/http"
)

// serveSSE serves /sse, the legacy HTTP+SSE transport of MCP 2024-11-05:
// one GET stream per session carries everything for the client, after an
// endpoint event that names where the client POSTs its messages.
func (h *HTTPFront) serveSSE(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		httpError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
		return
	}
	s, ok := h.openSession(r, kindLegacySSE)
	if !ok {
		h.tooManySessions(w)
		return
	}
	defer h.endSession(s)
	st := newStream()
	s.setSink(st)
	defer s.remove(st, nil)
	startSSE(w)
	if writeSSE(w, "endpoint", []byte("/message?sessionId="+s.id)) != nil {
		return
	}
	pumpSSE(w, r, s, st)
}

// serveMessage takes a legacy SSE client's message; answers go on its
// stream.
func (h *HTTPFront) serveMessage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		httpError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
		return
	}
	s := h.session(r.URL.Query().Get("sessionId"))
	if s == nil || s.kind != kindLegacySSE {
		httpError(w, http.StatusNotFound, "unknown or expired session")
		return
	}
	frame, ok := h.readFrame(w, r)
	if !ok {
		return
	}
	s.touch()
	s.cs.Deliver(frame)
	w.WriteHeader(http.StatusAccepted)
}
