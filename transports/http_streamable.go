package transports

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/plugboard/plugboard/messages"
)

// Header names of the Streamable HTTP transport.
const (
	headerSessionID       = "Mcp-Session-Id"
	headerProtocolVersion = "Mcp-Protocol-Version"
)

// serveStreamable serves /mcp: the Streamable HTTP transport of MCP
// 2025-03-26 to 2025-11-25 with sessions, and that of 2026-07-28 without
// (http_modern.go), told apart per request.
func (h *HTTPFront) serveStreamable(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Header.Get(headerProtocolVersion) == messages.ModernVersion {
		// The stateless revision has no GET stream and no sessions to end.
		w.Header().Set("Allow", "POST")
		httpError(w, http.StatusMethodNotAllowed, "protocol version "+messages.ModernVersion+" uses POST only")
		return
	}
	if r.Method != http.MethodPost && !supportedVersion(w, r, nil) {
		return
	}
	switch r.Method {
	case http.MethodPost:
		h.streamablePost(w, r)
	case http.MethodGet:
		h.streamableGet(w, r)
	case http.MethodDelete:
		h.streamableDelete(w, r)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		httpError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
	}
}

// readFrame reads and parses a POST body; on failure it has answered.
func (h *HTTPFront) readFrame(w http.ResponseWriter, r *http.Request) (Frame, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(h.opts.MaxFrame)))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			h.refused(RefusedTooLarge) // telemetry
			httpError(w, http.StatusRequestEntityTooLarge, "message over "+strconv.Itoa(h.opts.MaxFrame)+" bytes")
		} else {
			httpError(w, http.StatusBadRequest, "reading the request: "+err.Error())
		}
		return Frame{}, false
	}
	frame, err := ParseFrame(body)
	if err != nil {
		var fe *FrameError
		if errors.As(err, &fe) {
			h.refused(RefusedBadInput) // telemetry
			httpRPCError(w, http.StatusBadRequest, fe.ID, &messages.RPCError{Code: fe.Code, Message: fe.Message})
		}
		return Frame{}, false
	}
	return frame, true
}

// supportedVersion checks the MCP-Protocol-Version header; on a version
// plugboard does not speak it answers 400, under the request's id if known.
func supportedVersion(w http.ResponseWriter, r *http.Request, id []byte) bool {
	v := r.Header.Get(headerProtocolVersion)
	if v == "" || slices.Contains(messages.ProtocolVersions(), v) {
		return true
	}
	httpRPCError(w, http.StatusBadRequest, id, &messages.RPCError{Code: messages.CodeInvalidRequest,
		Message: "unsupported MCP-Protocol-Version " + strconv.Quote(v) + "; supported: " + strings.Join(messages.ProtocolVersions(), ", ")})
	return false
}

func (h *HTTPFront) streamablePost(w http.ResponseWriter, r *http.Request) {
	frame, ok := h.readFrame(w, r)
	if !ok {
		return
	}
	if r.Header.Get(headerSessionID) == "" && isModern(r.Header, &frame) {
		h.serveModern(w, r, frame)
		return
	}
	if !supportedVersion(w, r, frame.ID) {
		return
	}
	var s *httpSession
	if frame.Method == "initialize" && frame.IsRequest() {
		if s, ok = h.openSession(r, kindStreamable); !ok {
			h.tooManySessions(w)
			return
		}
		w.Header().Set(headerSessionID, s.id)
	} else {
		id := r.Header.Get(headerSessionID)
		if id == "" {
			if frame.Method == "server/discover" {
				// A 2026-07-28 client probing: tell it to fall back to initialize.
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(ErrorFrame(frame.ID, &messages.RPCError{Code: messages.CodeMethodNotFound, Message: "method not found: server/discover"}))
				return
			}
			httpRPCError(w, http.StatusBadRequest, frame.ID, &messages.RPCError{Code: messages.CodeInvalidRequest, Message: "missing Mcp-Session-Id header: initialize first"})
			return
		}
		if s = h.session(id); s == nil {
			httpRPCError(w, http.StatusNotFound, frame.ID, &messages.RPCError{Code: messages.CodeInvalidRequest, Message: "unknown or expired session; initialize again"})
			return
		}
	}
	s.touch()
	if !frame.IsRequest() {
		s.cs.Deliver(frame)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	st := newStream()
	if !s.addPOST(frame.ID, st) {
		// Refused here, not by the session: the session's refusal and the
		// first request's answer would both be addressed to the same id.
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(ErrorFrame(frame.ID, &messages.RPCError{Code: messages.CodeInvalidRequest,
			Message: "invalid request: id " + string(frame.ID) + " is already in use by a request in flight"}))
		return
	}
	defer s.remove(st, frame.ID)
	s.cs.Deliver(frame)
	if !h.streamResponse(w, r, s, st) {
		// Nobody will read the answer: the server need not work on it.
		s.cs.Abandon(frame.ID, connectionClosed)
	}
}

// streamResponse answers a POSTed request: as JSON when its response comes
// first, else as an SSE stream of what comes before it, then it. It
// reports whether the response came; not when the client went away (or
// the stream broke) first.
func (h *HTTPFront) streamResponse(w http.ResponseWriter, r *http.Request, s *httpSession, st *stream) bool {
	sse := false
	for {
		var f streamFrame
		select {
		case f = <-st.frames:
		case <-r.Context().Done():
			return false
		case <-s.ended:
			if !sse {
				httpError(w, http.StatusNotFound, "the session ended")
			}
			return true // the session's end cancelled what was in flight
		}
		if !sse && f.final {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(f.data)
			return true
		}
		if !sse {
			startSSE(w)
			sse = true
		}
		if err := writeSSE(w, "message", f.data); err != nil || f.final {
			return f.final
		}
	}
}

// streamableGet opens the session's standalone stream, for what the
// server sends outside any request.
func (h *HTTPFront) streamableGet(w http.ResponseWriter, r *http.Request) {
	s := h.session(r.Header.Get(headerSessionID))
	if s == nil {
		httpError(w, http.StatusNotFound, "unknown or expired session")
		return
	}
	st := newStream()
	if !s.addGET(st) {
		httpError(w, http.StatusConflict, "this session already has a GET stream open")
		return
	}
	defer s.remove(st, nil)
	s.touch()
	startSSE(w)
	pumpSSE(w, r, s, st)
}

func (h *HTTPFront) streamableDelete(w http.ResponseWriter, r *http.Request) {
	s := h.session(r.Header.Get(headerSessionID))
	if s == nil {
		httpError(w, http.StatusNotFound, "unknown or expired session")
		return
	}
	h.endSession(s)
	w.WriteHeader(http.StatusNoContent)
}
