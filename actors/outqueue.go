package actors

import (
	"sync"

	"github.com/plugboard/plugboard/transports"
)

// outSlots is the channel capacity of a session's outgoing frames. It is
// small, so that an idle session costs little; answers beyond it wait in
// the queue's slice, never in the front (see outQueue).
const outSlots = 32

// maxBacklog bounds the notifications a session keeps for a client that
// does not read them.
const maxBacklog = maxInflightPerSession + 1024

// outQueue carries a session's frames from its front to its transport in
// order. A push never blocks the front, which may be running on the
// router's or a server's goroutine: while the channel has room a frame
// goes straight in; otherwise it waits in a slice that a goroutine of its
// own feeds to the channel, started only while there is a backlog. Answers
// are bounded by the session's credits; notifications are dropped rather
// once maxBacklog frames wait for a client that is not keeping up.
type outQueue struct {
	ch chan transports.Outbound

	mu       sync.Mutex
	pending  []transports.Outbound
	draining bool // a goroutine is feeding pending to ch
	closing  bool // close ch once pending is fed
}

func newOutQueue() *outQueue {
	return &outQueue{ch: make(chan transports.Outbound, outSlots)}
}

// push queues a frame that must reach the client (an answer).
func (q *outQueue) push(o transports.Outbound) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.draining {
		select {
		case q.ch <- o:
			return
		default:
		}
		q.draining = true
		go q.drain()
	}
	q.pending = append(q.pending, o)
}

// offer queues a frame the client may miss (a notification), unless the
// backlog is already maxBacklog frames long; it reports whether it did.
func (q *outQueue) offer(o transports.Outbound) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.draining {
		select {
		case q.ch <- o:
			return true
		default:
		}
		q.draining = true
		go q.drain()
	}
	if len(q.pending) >= maxBacklog {
		return false
	}
	q.pending = append(q.pending, o)
	return true
}

// drain feeds the backlog to the channel, blocking on it off the front.
func (q *outQueue) drain() {
	for {
		q.mu.Lock()
		if len(q.pending) == 0 {
			q.draining = false
			q.pending = nil
			if q.closing {
				close(q.ch)
			}
			q.mu.Unlock()
			return
		}
		o := q.pending[0]
		q.pending[0] = transports.Outbound{}
		q.pending = q.pending[1:]
		q.mu.Unlock()
		q.ch <- o
	}
}

// close ends the queue once everything pushed has been fed.
func (q *outQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.draining {
		q.closing = true
		return
	}
	close(q.ch)
}
