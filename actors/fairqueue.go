package actors

import "slices"

// fairQueue shares one server's capacity among the client sessions that
// call it, so that no session can starve the others: it counts each
// session's requests in flight, keeps a queue per session while the
// server is at its in-flight cap (or not ready), hands each freed slot to
// the session with queued work that was served least recently, preferring
// one below its share of slots, and, when the queue is full, takes a place from the session holding the
// most places beyond its share rather than refuse a newcomer. A session is
// active while it has requests in flight or queued; a share is a cap
// divided by the active sessions, and at least 1.
//
// It is plain data: the server actor asks it and carries out its answers.
// A request that goes straight out costs one counter update.
type fairQueue[T any] struct {
	maxInflight, maxQueued int

	inflight int                    // requests in flight, every session's
	queued   int                    // requests queued, every session's
	clock    uint64                 // counts starts: orders sessions by their last
	running  map[string]sessionLoad // by session; no entry when idle
	waiting  map[string][]T         // requests queued by session, oldest first; no entry when none
	turns    []string               // sessions with queued requests, in arrival order (for ties)
}

// sessionLoad is a session's requests in flight, and when it last started
// one (the fair queue's clock).
type sessionLoad struct {
	n    int
	last uint64
}

func newFairQueue[T any](maxInflight, maxQueued int) *fairQueue[T] {
	return &fairQueue[T]{maxInflight: maxInflight, maxQueued: maxQueued, running: map[string]sessionLoad{}, waiting: map[string][]T{}}
}

// start counts a request of session as in flight, if a slot is free. The
// caller sends it then; it queues it otherwise.
func (q *fairQueue[T]) start(session string) bool {
	if q.inflight >= q.maxInflight {
		return false
	}
	q.inflight++
	q.clock++
	l := q.running[session]
	q.running[session] = sessionLoad{n: l.n + 1, last: q.clock}
	return true
}

// done frees the slot of a request of session that start counted.
func (q *fairQueue[T]) done(session string) {
	l, ok := q.running[session]
	if !ok || l.n == 0 {
		return
	}
	q.inflight--
	l.n--
	if _, waiting := q.waiting[session]; l.n == 0 && !waiting {
		delete(q.running, session)
		return
	}
	q.running[session] = l
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

// pop takes the next queued request while a slot is free: the oldest of
// the session served least recently among those holding less than their
// share of slots, or among all when none does; ties go to the session
// that queued first. The caller passes the request to start.
func (q *fairQueue[T]) pop() (item T, ok bool) {
	if q.inflight >= q.maxInflight || q.queued == 0 {
		return item, false
	}
	share := q.share(q.maxInflight, "")
	pick, pickUnder, pickLast := -1, false, uint64(0)
	for i, s := range q.turns {
		l := q.running[s]
		under := l.n < share
		if pick < 0 || under && !pickUnder || under == pickUnder && l.last < pickLast {
			pick, pickUnder, pickLast = i, under, l.last
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
			if q.running[session].n == 0 {
				delete(q.running, session)
			}
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
	for s, l := range q.running {
		if l.n == 0 {
			delete(q.running, s)
		}
	}
	return all
}

// reset forgets everything: the connection and its calls are gone.
func (q *fairQueue[T]) reset() {
	q.takeQueued()
	q.running = map[string]sessionLoad{}
	q.inflight = 0
}

// share is one active session's part of limit, counting session as
// active too when it is not "" (session keys never are).
func (q *fairQueue[T]) share(limit int, session string) int {
	active := 0
	for _, l := range q.running {
		if l.n > 0 {
			active++
		}
	}
	for s := range q.waiting {
		if q.running[s].n == 0 {
			active++
		}
	}
	if session != "" {
		_, waiting := q.waiting[session]
		if q.running[session].n == 0 && !waiting {
			active++
		}
	}
	return max(1, limit/max(1, active))
}
