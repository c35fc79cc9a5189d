package actors

import (
	"bytes"
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
	// deliver and ended, once set by consume, replace ch: frames go to
	// deliver from a goroutine that runs only while there are frames, so
	// that an idle session has no goroutine at all.
	deliver func(transports.Outbound)
	ended   func()
	// direct, once set by consumeDirect, takes a frame at once on the
	// pushing goroutine, without blocking, while nothing waits in the
	// queue before it; it returns false when it cannot, and the frame
	// takes the queue's way (a goroutine calling deliver).
	direct func(transports.Outbound) bool
	// directCopies says that direct keeps nothing of a frame's bytes once
	// it returns (it writes them, or copies what it cannot write), so that
	// pushBorrowed may hand it a buffer it reuses.
	directCopies bool

	mu       sync.Mutex
	pending  []transports.Outbound
	draining bool // a goroutine is feeding pending to ch
	closing  bool // close ch once pending is fed
}

func newOutQueue() *outQueue { return &outQueue{} }

// channel is the queue's channel, made on first use: a consuming queue
// has none.
func (q *outQueue) channel() chan transports.Outbound {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.chanLocked()
}

func (q *outQueue) chanLocked() chan transports.Outbound {
	if q.ch == nil {
		q.ch = make(chan transports.Outbound, outSlots)
	}
	return q.ch
}

// consume makes the queue hand its frames to deliver instead of its
// channel, and call ended once it is closed and empty. It must be called
// before the first frame.
func (q *outQueue) consume(deliver func(transports.Outbound), ended func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.deliver, q.ended = deliver, ended
}

// consumeDirect is consume with direct tried first for every frame, so
// that frames reach the client with no goroutine between: the front
// hands them to a writer that never blocks it (see streamWriter.offerNow).
func (q *outQueue) consumeDirect(direct func(transports.Outbound) bool, deliver func(transports.Outbound), ended func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.direct, q.deliver, q.ended = direct, deliver, ended
}

// consumeDirectCopying is consumeDirect for a direct that keeps nothing of
// a frame once it returns (streamWriter.offerNow, which writes it or
// copies it): pushBorrowed then lends it its buffer instead of a copy.
func (q *outQueue) consumeDirectCopying(direct func(transports.Outbound) bool, deliver func(transports.Outbound), ended func()) {
	q.consumeDirect(direct, deliver, ended)
	q.mu.Lock()
	defer q.mu.Unlock()
	q.directCopies = true
}

// push queues a frame that must reach the client (an answer).
func (q *outQueue) push(o transports.Outbound) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.direct != nil && !q.draining && q.direct(o) {
		return // while not draining nothing is pending: the order holds
	}
	if q.deliver != nil {
		q.pending = append(q.pending, o)
		q.startDraining()
		return
	}
	if !q.draining {
		select {
		case q.chanLocked() <- o:
			return
		default:
		}
		q.draining = true
		go q.drain()
	}
	q.pending = append(q.pending, o)
}

// pushBorrowed is push for a frame whose bytes the caller reuses once it
// returns: a direct consumer that copies (consumeDirectCopying) takes it
// at once, or a copy is pushed.
func (q *outQueue) pushBorrowed(o transports.Outbound) {
	q.mu.Lock()
	taken := q.directCopies && q.direct != nil && !q.draining && q.direct(o)
	q.mu.Unlock()
	if !taken {
		o.Frame = bytes.Clone(o.Frame)
		q.push(o)
	}
}

// offer queues a frame the client may miss (a notification), unless the
// backlog is already maxBacklog frames long; it reports whether it did.
func (q *outQueue) offer(o transports.Outbound) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.direct != nil && !q.draining && q.direct(o) {
		return true
	}
	if q.deliver != nil {
		if len(q.pending) >= maxBacklog {
			return false
		}
		q.pending = append(q.pending, o)
		q.startDraining()
		return true
	}
	if !q.draining {
		select {
		case q.chanLocked() <- o:
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

// startDraining starts the goroutine that hands frames to deliver, unless
// it runs. q.mu is held.
func (q *outQueue) startDraining() {
	if !q.draining {
		q.draining = true
		go q.drain()
	}
}

// drain feeds the backlog to the channel, or to deliver, blocking on it
// off the front.
func (q *outQueue) drain() {
	for {
		q.mu.Lock()
		if len(q.pending) == 0 {
			q.draining = false
			q.pending = nil
			closing := q.closing
			q.mu.Unlock()
			if closing {
				q.finish()
			}
			return
		}
		o := q.pending[0]
		q.pending[0] = transports.Outbound{}
		q.pending = q.pending[1:]
		deliver := q.deliver
		var ch chan transports.Outbound
		if deliver == nil {
			ch = q.chanLocked()
		}
		q.mu.Unlock()
		if deliver != nil {
			deliver(o)
		} else {
			ch <- o
		}
	}
}

// finish ends the queue: its channel closes, or ended is called.
func (q *outQueue) finish() {
	if q.ended != nil {
		q.ended()
		return
	}
	close(q.channel())
}

// close ends the queue once everything pushed has been fed.
func (q *outQueue) close() {
	q.mu.Lock()
	if q.draining {
		q.closing = true
		q.mu.Unlock()
		return
	}
	q.mu.Unlock()
	q.finish()
}
