package transports

import (
	"bytes"
	"encoding/json"
	"sync"

	"github.com/plugboard/plugboard/messages"
)

// ModernStream serves the 2026-07-28 requests of a client on a stream
// (stdio, a local socket) beside the handshake-era session of the same
// stream: each such request gets a session of its own, as on HTTP, and
// its answer goes to the stream. The revision's stdio rules: no headers;
// notifications/cancelled cancels a request, a subscriptions/listen
// included.
type ModernStream struct {
	calls *modernCalls
	write func(frame []byte)

	mu      sync.Mutex
	running map[string]chan struct{} // by the request's raw id; closed to cancel it
}

// NewModernStream serves 2026-07-28 requests with sessions of opener,
// writing each frame of the answers with write (which must be safe for
// concurrent use). Closing stop ends open subscriptions gracefully.
func NewModernStream(opener SessionOpener, write func(frame []byte), stop <-chan struct{}) *ModernStream {
	return &ModernStream{calls: newModernCalls(opener, 10000, stop), write: write, running: map[string]chan struct{}{}}
}

// cancelNames is the member of a cancellation plugboard decides on.
var cancelNames = []string{"requestId"}

// Take serves f if it belongs to the 2026-07-28 revision, and reports
// whether it did; other frames are the handshake-era session's.
func (ms *ModernStream) Take(f Frame) bool {
	switch {
	case f.IsNotification() && f.Method == "notifications/cancelled":
		var requestID [1]json.RawMessage
		if ReadMembers(f.Params, cancelNames, requestID[:]) != nil || requestID[0] == nil {
			return false // the session's front ignores it too
		}
		ms.mu.Lock()
		cancel, ok := ms.running[string(requestID[0])]
		if ok {
			delete(ms.running, string(requestID[0]))
			close(cancel)
		}
		ms.mu.Unlock()
		return ok
	case f.IsRequest() && (f.Method == "server/discover" || f.Method == "subscriptions/listen" ||
		bytes.Contains(f.Params, []byte(`"`+MetaProtocolVersion+`"`))):
		cancel := make(chan struct{})
		ms.mu.Lock()
		if _, dup := ms.running[string(f.ID)]; dup {
			ms.mu.Unlock()
			ms.write(ErrorFrame(f.ID, &messages.RPCError{Code: messages.CodeInvalidRequest, Message: "invalid request: id " + string(f.ID) + " is already in use by a request in flight"}))
			return true
		}
		ms.running[string(f.ID)] = cancel
		ms.mu.Unlock()
		go ms.serve(f, cancel)
		return true
	}
	return false
}

func (ms *ModernStream) serve(f Frame, cancel chan struct{}) {
	defer func() {
		ms.mu.Lock()
		if ms.running[string(f.ID)] == cancel {
			delete(ms.running, string(f.ID))
		}
		ms.mu.Unlock()
	}()
	sink := &streamSink{write: ms.write, cancelled: cancel}
	req, rpcErr, status := parseModern(nil, &f)
	if rpcErr != nil {
		fail(sink, f.ID, status, rpcErr)
		return
	}
	ms.calls.dispatch(sink, req)
}

// streamSink writes one request's answer to the stream; a cancelled
// request writes nothing more.
type streamSink struct {
	write     func(frame []byte)
	cancelled <-chan struct{}
}

func (ss *streamSink) send(frame []byte, _ bool, _ int) error {
	select {
	case <-ss.cancelled:
		return errCancelled
	default:
	}
	ss.write(frame)
	return nil
}

func (ss *streamSink) keepAlive() error      { return nil }
func (ss *streamSink) gone() <-chan struct{} { return ss.cancelled }

// errCancelled is a write for a request the client cancelled.
var errCancelled = &FrameError{Code: messages.CodeInvalidRequest, Message: "the request was cancelled"}

// Close ends the requests still running.
func (ms *ModernStream) Close() {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for id, cancel := range ms.running {
		close(cancel)
		delete(ms.running, id)
	}
	ms.calls.closeParked()
}
