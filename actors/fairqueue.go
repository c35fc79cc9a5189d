package actors

import "slices"

// fairQueue shares one server's capacity among the client sessions that
// call it, so that no session can starve the others: it counts each
// session's requests in flight, keeps a queue per session while the
// server is at its in-flight cap (or not ready), hands freed slots round
// robin to the sessions with queued work, preferring one below its share,
// and, when the queue is full, takes a place from the session holding the
// most places beyond its share rather than refuse a newcomer. A session is
// active while it has requests in flight or queued; a share is a cap
// divided by the active sessions, and at least 1.
//
// It is plain data: the server actor asks it and carries out its answers.
// A request that goes straight out costs one counter update.
type fairQueue[T any] struct {
	maxInflight, maxQueued int

	inflight int            // requests in flight, every session's
	queued   int            // requests queued, every session's
	running  map[string]int // requests in flight by session; none, no entry
	waiting  map[string][]T // requests queued by session, oldest first; none, no entry
	turns    []string       // sessions with queued requests, next served first
}

func newFairQueue[T any](maxInflight, maxQueued int) *fairQueue[T] {
	return &fairQueue[T]{maxInflight: maxInflight, maxQueued: maxQueued, running: map[string]int{}, waiting: map[string][]T{}}
}

// start counts a request of session as in flight, if a slot is free. The
// caller sends it then; it queues it otherwise.
func (q *fairQueue[T]) start(session string) bool {
	if q.inflight >= q.maxInflight {
		return false
	}
	q.inflight++
	q.running[session]++
	return true
}

// done frees the slot of a request of session that start counted.
func (q *fairQueue[T]) done(session string) {
	n, ok := q.running[session]
	if !ok {
		return
	}
	q.inflight--
	if n <= 1 {
		delete(q.running, session)
	} else {
		q.running[session] = n - 1
	}
}

// push queues a request of session. When the queue is full, one request
// is refused, and returned: the session's new one if it holds its share of
// places already (or nobody holds more than a share), else the newest one
// of the session that holds the most places beyond its share.
func (q *fairQueue[T]) push(session string, item T) (refused T, wasRefused bool) {
	if q.queued < q.maxQueued {
		q.add(session, item)
		return refused, false
	}
	share := q.share(q.maxQueued, session)
	victim, most := "", 0
	for s, items := range q.waiting {
		if len(items) > most || len(items) == most && s < victim {
			victim, most = s, len(items)
		}
	}
	if len(q.waiting[session]) >= share || most <= share {
		return item, true
	}
	items := q.waiting[victim]
	refused = items[len(items)-1]
	var zero T
	items[len(items)-1] = zero
	q.waiting[victim] = items[:len(items)-1]
	q.queued--
	q.add(session, item)
	return refused, true
}

// add appends a request to its session's queue.
func (q *fairQueue[T]) add(session string, item T) {
	items, ok := q.waiting[session]
	if !ok {
		q.turns = append(q.turns, session)
	}
	q.waiting[session] = append(items, item)
	q.queued++
}

// pop takes the next queued request while a slot is free: that of the
// first session in turn holding less than its share of slots, else that
// of the first session in turn. Its session goes to the back of the
// turns. The caller passes the request to start.
func (q *fairQueue[T]) pop() (item T, ok bool) {
	if q.inflight >= q.maxInflight || q.queued == 0 {
		return item, false
	}
	share := q.share(q.maxInflight, "")
	pick := 0
	for i, s := range q.turns {
		if q.running[s] < share {
			pick = i
			break
		}
	}
	session := q.turns[pick]
	q.turns = append(q.turns[:pick], q.turns[pick+1:]...)
	items := q.waiting[session]
	item = items[0]
	var zero T
	items[0] = zero
	if len(items) == 1 {
		delete(q.waiting, session)
	} else {
		q.waiting[session] = items[1:]
		q.turns = append(q.turns, session)
	}
	q.queued--
	return item, true
}

// withdraw removes the first queued request of session that matches, and
// reports whether there was one.
func (q *fairQueue[T]) withdraw(session string, match func(T) bool) bool {
	items := q.waiting[session]
	for i, it := range items {
		if !match(it) {
			continue
		}
		items = slices.Delete(items, i, i+1)
		q.queued--
		if len(items) == 0 {
			delete(q.waiting, session)
			q.dropTurn(session)
		} else {
			q.waiting[session] = items
		}
		return true
	}
	return false
}

func (q *fairQueue[T]) dropTurn(session string) {
	for i, s := range q.turns {
		if s == session {
			q.turns = append(q.turns[:i], q.turns[i+1:]...)
			return
		}
	}
}

// takeQueued empties the queue and returns what was in it, oldest first
// within each session.
func (q *fairQueue[T]) takeQueued() []T {
	var all []T
	for _, s := range q.turns {
		all = append(all, q.waiting[s]...)
	}
	q.waiting = map[string][]T{}
	q.turns = nil
	q.queued = 0
	return all
}

// reset forgets everything: the connection and its calls are gone.
func (q *fairQueue[T]) reset() {
	q.takeQueued()
	q.running = map[string]int{}
	q.inflight = 0
}

// share is one active session's part of limit, counting session as
// active too when it is not "" (session keys never are).
func (q *fairQueue[T]) share(limit int, session string) int {
	active := len(q.running)
	for s := range q.waiting {
		if _, running := q.running[s]; !running {
			active++
		}
	}
	if session != "" {
		_, running := q.running[session]
		_, waiting := q.waiting[session]
		if !running && !waiting {
			active++
		}
	}
	return max(1, limit/max(1, active))
}
