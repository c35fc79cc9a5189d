package main

// Server-sent events: their wire form, and the resumable streams of the
// Streamable HTTP transport (SEP-1699), which outlive the connections that
// carry them.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// retryDelay is what the fixture asks clients to wait before reconnecting
// to a stream, with the SSE retry field: short, since its clients are tests.
const retryDelay = 100 * time.Millisecond

// keptEvents is how many delivered events a stream keeps for clients that
// resume it; undelivered events are always kept.
const keptEvents = 1000

// sseEvent is one server-sent event; empty fields are left out. An event
// with an id always has a data line, empty in a priming event, since
// clients dispatch no event without one; an event with neither id nor data
// is a bare retry hint.
type sseEvent struct {
	id    string
	name  string // the event type; clients take an absent one as "message"
	retry time.Duration
	data  []byte // one line: frames are compact JSON, which never holds a raw newline
}

func (e sseEvent) writeTo(w io.Writer) error {
	var b bytes.Buffer
	if e.id != "" {
		fmt.Fprintf(&b, "id: %s\n", e.id)
	}
	if e.name != "" {
		fmt.Fprintf(&b, "event: %s\n", e.name)
	}
	if e.retry > 0 {
		fmt.Fprintf(&b, "retry: %d\n", e.retry.Milliseconds())
	}
	if e.id != "" || e.data != nil {
		b.WriteString("data: ")
		b.Write(e.data)
		b.WriteString("\n")
	}
	b.WriteString("\n")
	_, err := w.Write(b.Bytes())
	return err
}

// eventID names event seq of stream; event ids are unique within a
// session and say which stream to resume (SEP-1699).
func eventID(stream, seq int) string {
	return fmt.Sprintf("%d-%d", stream, seq)
}

// parseEventID reads an id made by eventID.
func parseEventID(id string) (stream, seq int, ok bool) {
	a, b, found := strings.Cut(id, "-")
	if !found {
		return 0, 0, false
	}
	stream, errA := strconv.Atoi(a)
	seq, errB := strconv.Atoi(b)
	if errA != nil || errB != nil || stream < 0 || seq < 0 {
		return 0, 0, false
	}
	return stream, seq, true
}

// Errors of attaching a connection to a stream at an event it cannot
// resume from.
var (
	errEventForgotten = errors.New("the stream no longer keeps the events after it")
	errEventUnknown   = errors.New("the stream has sent no such event")
)

// eventStream is one SSE stream of a Streamable HTTP session: the stream
// of one POSTed request, or the session's standalone stream that GET opens.
// Its events are numbered from 0 and kept, so that a client that lost the
// connection can resume with Last-Event-ID on a new one. At most one
// connection carries a stream at a time.
type eventStream struct {
	id int // unique in its session; 0 is the standalone stream

	mu        sync.Mutex
	first     int      // sequence number of events[0]; older events are forgotten
	events    [][]byte // event data in order; empty for priming events
	delivered int      // sequence number of the first event no connection has taken yet
	ended     bool     // the last event is in events: the stream ends once it is delivered
	closed    bool     // the session is over: connections end now, delivered or not
	holder    int      // number of the connection allowed to carry the stream, 0 for none
	lastConn  int      // number of the latest connection attached
	cutting   int      // number of a connection to close after its next delivery
	changed   chan struct{}
}

func newEventStream(id int) *eventStream {
	return &eventStream{id: id, changed: make(chan struct{})}
}

// wakeLocked tells waiting connections that something changed.
func (st *eventStream) wakeLocked() {
	close(st.changed)
	st.changed = make(chan struct{})
}

// push appends a frame, or with nil data a priming event (an id and empty
// data, so that the client has an id to resume from). It reports false,
// and appends nothing, once the stream has ended or closed.
func (st *eventStream) push(data []byte) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ended || st.closed {
		return false
	}
	st.events = append(st.events, data)
	st.wakeLocked()
	return true
}

// end appends the stream's last event, unless last is nil, and makes the
// stream end once its events are delivered.
func (st *eventStream) end(last []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ended || st.closed {
		return
	}
	if last != nil {
		st.events = append(st.events, last)
	}
	st.ended = true
	st.wakeLocked()
}

// close ends the connection carrying the stream, if any, at once; the
// stream takes no more events.
func (st *eventStream) close() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.closed = true
	st.wakeLocked()
}

// cut closes the connection carrying the stream, if any, once the client
// has an event id to resume from, leaving the stream open: the rest of its
// events go to whichever connection resumes it.
func (st *eventStream) cut() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.holder != 0 {
		st.cutting = st.holder
		st.wakeLocked()
	}
}

// attach makes a new connection the stream's only carrier, starting at
// the first event no connection has taken yet. The connection that carried
// the stream so far ends.
func (st *eventStream) attach() *streamConn {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.attachLocked(st.delivered)
}

// resumeAfter is attach for a client that has had event seq and wants the
// ones after it.
func (st *eventStream) resumeAfter(seq int) (*streamConn, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch from := seq + 1; {
	case from < st.first:
		return nil, errEventForgotten
	case from > st.first+len(st.events):
		return nil, errEventUnknown
	default:
		return st.attachLocked(from), nil
	}
}

func (st *eventStream) attachLocked(from int) *streamConn {
	st.lastConn++
	st.holder = st.lastConn
	st.wakeLocked()
	return &streamConn{st: st, number: st.lastConn, next: from}
}

// streamConn is one connection's hold on an eventStream.
type streamConn struct {
	st     *eventStream
	number int
	next   int // sequence number of the next event to write
}

// carry writes the stream's events to w, calling flush after each batch,
// until the stream has ended and all its events are written (complete), or
// until the stream closes, this connection is cut or replaced, ctx is done
// or a write fails.
func (c *streamConn) carry(ctx context.Context, w io.Writer, flush func() error) (complete bool) {
	for {
		batch, ended, cut, changed, ok := c.pending()
		if !ok {
			return false
		}
		if cut {
			// Ask for a quick reconnection, then hang up (SEP-1699).
			if (sseEvent{retry: retryDelay}).writeTo(w) == nil {
				_ = flush()
			}
			return false
		}
		if len(batch) == 0 {
			if ended {
				return true
			}
			select {
			case <-changed:
				continue
			case <-ctx.Done():
				return false
			}
		}
		for i, data := range batch {
			ev := sseEvent{id: eventID(c.st.id, c.next+i), name: "message", data: data}
			if len(data) == 0 {
				ev = sseEvent{id: ev.id, retry: retryDelay}
			}
			if ev.writeTo(w) != nil {
				return false
			}
		}
		if flush() != nil {
			return false
		}
		c.delivered(c.next + len(batch))
	}
}

// pending returns the events this connection has yet to write, whether
// the stream has ended, and whether the connection is to be cut now; ok
// is false once the connection is to end without more ado.
func (c *streamConn) pending() (batch [][]byte, ended, cut bool, changed <-chan struct{}, ok bool) {
	st := c.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed || st.holder != c.number {
		return nil, false, false, nil, false
	}
	if c.next < st.first {
		return nil, false, false, nil, false
	}
	// The slice shares its array with st.events, whose elements are
	// never overwritten: forgetting events copies the rest (delivered).
	batch = st.events[c.next-st.first:]
	done := st.ended && len(batch) == 0
	if st.cutting == c.number && c.next > 0 && !done {
		st.holder, st.cutting = 0, 0
		return nil, false, true, nil, true
	}
	return batch, st.ended, false, st.changed, true
}

// delivered records that the events before next are written, and forgets
// the oldest delivered events beyond keptEvents.
func (c *streamConn) delivered(next int) {
	st := c.st
	st.mu.Lock()
	defer st.mu.Unlock()
	c.next = next
	st.delivered = max(st.delivered, next)
	if kept := st.delivered - st.first; kept > 2*keptEvents {
		drop := kept - keptEvents
		st.events = slices.Clone(st.events[drop:])
		st.first += drop
	}
}
