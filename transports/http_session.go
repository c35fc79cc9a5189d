package transports

import (
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// sessionKind is the transport an HTTP session came over.
type sessionKind int

const (
	kindStreamable sessionKind = iota
	kindLegacySSE
	kindWebSocket
)

// String names the transport as status shows it.
func (k sessionKind) String() string {
	switch k {
	case kindLegacySSE:
		return "sse"
	case kindWebSocket:
		return "ws"
	default:
		return "streamable"
	}
}

// maxBacklog bounds the frames kept for a Streamable HTTP session that has
// no stream open to take them; the oldest go first.
const maxBacklog = 1024

// httpSession is one client session over HTTP: the ClientSession behind
// it, and the open streams its frames go out on.
type httpSession struct {
	id         string
	kind       sessionKind
	cs         ClientSession
	lastActive atomic.Int64 // unix nanoseconds
	ended      chan struct{}

	mu      sync.Mutex
	waiting map[string]*stream // POST streams by the id of the request they answer
	open    []*stream          // streams that take frames not tied to a request, newest last
	get     *stream            // the standalone GET stream, if open
	sink    *stream            // the one stream of a legacy SSE or WebSocket session
	backlog [][]byte
}

// stream is one response stream: a POST's SSE stream, a GET stream, the
// legacy SSE stream or a WebSocket's writer.
type stream struct {
	frames chan streamFrame
	gone   chan struct{} // closed by the handler when its client went away
	once   sync.Once
}

type streamFrame struct {
	data  []byte
	final bool // the response the stream exists for: it ends after it
}

func newStream() *stream {
	return &stream{frames: make(chan streamFrame, 64), gone: make(chan struct{})}
}

// leave marks the stream's client as gone.
func (st *stream) leave() { st.once.Do(func() { close(st.gone) }) }

// isGone reports whether the stream's client went away.
func (st *stream) isGone() bool {
	select {
	case <-st.gone:
		return true
	default:
		return false
	}
}

// send hands a frame to the stream, waiting while its client is slow;
// false if the client went away first.
func (st *stream) send(f streamFrame) bool {
	select {
	case st.frames <- f:
		return true
	case <-st.gone:
		return false
	}
}

func newHTTPSession(id string, kind sessionKind, cs ClientSession) *httpSession {
	s := &httpSession{id: id, kind: kind, cs: cs, ended: make(chan struct{}), waiting: map[string]*stream{}}
	s.touch()
	return s
}

func (s *httpSession) touch() { s.lastActive.Store(time.Now().UnixNano()) }

// idleSince is how long the session has had no request and no stream.
func (s *httpSession) idleSince(now time.Time) time.Duration {
	s.mu.Lock()
	streaming := len(s.open) > 0 || s.sink != nil
	s.mu.Unlock()
	if streaming {
		return 0
	}
	return now.Sub(time.Unix(0, s.lastActive.Load()))
}

// dispatch routes the session's frames to its streams until the session
// ends.
func (s *httpSession) dispatch() {
	defer close(s.ended)
	for o := range s.cs.Out() {
		s.route(o)
	}
}

// route hands one of the session's frames to its stream.
func (s *httpSession) route(o Outbound) {
	st, f := s.target(o)
	if st != nil && !st.send(f) && o.ResponseTo == nil {
		s.keep(o.Frame)
	}
}

// routeNow hands one of the session's frames to its stream if that can
// be done without waiting (DirectConsumer): false, taking nothing, when
// the stream's channel is full.
func (s *httpSession) routeNow(o Outbound) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, f := s.peekTarget(o)
	if st == nil {
		s.commitTarget(o, nil)
		return true
	}
	select {
	case st.frames <- f:
	case <-st.gone:
		if o.ResponseTo == nil {
			s.keepLocked(o.Frame)
		}
	default:
		return false
	}
	s.commitTarget(o, st)
	return true
}

// peekTarget is target without its effects, which commitTarget has: a
// response's stream stops waiting, and a frame with no stream is kept.
// s.mu is held.
func (s *httpSession) peekTarget(o Outbound) (*stream, streamFrame) {
	f := streamFrame{data: o.Frame}
	if s.sink != nil {
		return s.sink, f
	}
	if s.kind != kindStreamable {
		return nil, f
	}
	if o.ResponseTo != nil {
		f.final = true
		return s.waiting[string(o.ResponseTo)], f // nil when the client went away: the answer has nowhere to go
	}
	if o.RelatedTo != nil {
		// A call's progress goes on the call's own stream, so that it
		// reaches the client before the call's answer.
		if st := s.waiting[string(o.RelatedTo)]; st != nil && !st.isGone() {
			return st, f
		}
	}
	for i := len(s.open) - 1; i >= 0; i-- {
		select {
		case <-s.open[i].gone:
			continue
		default:
			return s.open[i], f
		}
	}
	return nil, f
}

// commitTarget carries out the effects of routing o to st (nil: no
// stream). s.mu is held.
func (s *httpSession) commitTarget(o Outbound, st *stream) {
	switch {
	case s.sink != nil:
	case s.kind != kindStreamable:
		s.keepLocked(o.Frame)
	case o.ResponseTo != nil:
		delete(s.waiting, string(o.ResponseTo))
	case st == nil:
		s.keepLocked(o.Frame)
	}
}

// target picks the stream a frame goes out on: the POST stream waiting for
// the response; for anything else the newest open stream. With no stream
// open, a frame is kept for the next one.
func (s *httpSession) target(o Outbound) (*stream, streamFrame) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, f := s.peekTarget(o)
	s.commitTarget(o, st)
	return st, f
}

func (s *httpSession) keep(frame []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keepLocked(frame)
}

func (s *httpSession) keepLocked(frame []byte) {
	if len(s.backlog) >= maxBacklog {
		s.backlog = s.backlog[1:]
	}
	s.backlog = append(s.backlog, frame)
}

// takeBacklog returns and forgets the frames kept for a stream.
func (s *httpSession) takeBacklog() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.backlog
	s.backlog = nil
	return b
}

// addPOST registers the stream of a POST that carries request id; false,
// registering nothing, when a POST with the same id is still waiting for
// its answer: the answer could go to only one of them.
func (s *httpSession) addPOST(id []byte, st *stream) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, inUse := s.waiting[string(id)]; inUse {
		return false
	}
	s.waiting[string(id)] = st
	s.open = append(s.open, st)
	return true
}

// addGET registers the standalone GET stream; false if one is open.
func (s *httpSession) addGET(st *stream) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.get != nil {
		return false
	}
	s.get = st
	s.open = append(s.open, st)
	return true
}

// setSink makes st the stream of every frame (legacy SSE, WebSocket).
func (s *httpSession) setSink(st *stream) {
	s.mu.Lock()
	s.sink = st
	s.mu.Unlock()
}

// remove forgets a stream whose handler is done.
func (s *httpSession) remove(st *stream, id []byte) {
	st.leave()
	s.mu.Lock()
	defer s.mu.Unlock()
	if id != nil && s.waiting[string(id)] == st {
		delete(s.waiting, string(id))
	}
	if s.get == st {
		s.get = nil
	}
	if s.sink == st {
		s.sink = nil
	}
	if i := slices.Index(s.open, st); i >= 0 {
		// Delete clears the vacated slot, so that the ended stream is not
		// kept alive by the slice for as long as the session lives.
		s.open = slices.Delete(s.open, i, i+1)
	}
}

// writeSSE writes one SSE event with a JSON-RPC frame and flushes it.
func writeSSE(w http.ResponseWriter, event string, data []byte) error {
	buf := make([]byte, 0, len(data)+32)
	if event != "" {
		buf = append(buf, "event: "...)
		buf = append(buf, event...)
		buf = append(buf, '\n')
	}
	buf = append(buf, "data: "...)
	buf = append(buf, data...)
	buf = append(buf, "\n\n"...)
	if _, err := w.Write(buf); err != nil {
		return err
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

// startSSE sends the headers of an SSE response.
func startSSE(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// pumpSSE writes what was kept for the session, then the stream's frames,
// as SSE events until the client goes or the session ends.
func pumpSSE(w http.ResponseWriter, r *http.Request, s *httpSession, st *stream) {
	for _, frame := range s.takeBacklog() {
		if writeSSE(w, "message", frame) != nil {
			return
		}
	}
	for {
		select {
		case f := <-st.frames:
			if writeSSE(w, "message", f.data) != nil {
				return
			}
		case <-r.Context().Done():
			return
		case <-s.ended:
			return
		}
	}
}
