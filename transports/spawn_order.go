package transports

import (
	"sync"
	"time"
)

// SpawnTurn is a place in the order in which stdio servers are started.
// Servers started together get their turns in the order plugboard chose
// (the slowest first), and each process is spawned once those before it
// are, whichever of their goroutines the Go scheduler runs first (it runs
// the goroutine created last first). A turn whose owner never spawns
// holds the others up for at most maxTurnWait.
type SpawnTurn struct {
	prev <-chan struct{} // closed when the turn before is over
	done chan struct{}
	once sync.Once
}

// maxTurnWait bounds how long a spawn waits for the turns before it: a
// spawn takes a millisecond or two.
const maxTurnWait = 50 * time.Millisecond

var lastTurn struct {
	sync.Mutex
	done <-chan struct{}
}

// TakeSpawnTurn takes the next place in the order.
func TakeSpawnTurn() *SpawnTurn {
	t := &SpawnTurn{done: make(chan struct{})}
	lastTurn.Lock()
	t.prev, lastTurn.done = lastTurn.done, t.done
	lastTurn.Unlock()
	return t
}

// wait returns once the turns before t are over, or after maxTurnWait.
func (t *SpawnTurn) wait() {
	if t == nil || t.prev == nil {
		return
	}
	timer := time.NewTimer(maxTurnWait)
	defer timer.Stop()
	select {
	case <-t.prev:
	case <-timer.C:
	}
}

// Done ends the turn: the process is spawned, or will not be. It may be
// called more than once, and on nil.
func (t *SpawnTurn) Done() {
	if t != nil {
		t.once.Do(func() { close(t.done) })
	}
}
