package transports

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// Turns taken in an order are served in it, though their goroutines run
// in the reverse order.
func TestSpawnTurnsAreServedInTheOrderTaken(t *testing.T) {
	turns := make([]*SpawnTurn, 20)
	for i := range turns {
		turns[i] = TakeSpawnTurn()
	}
	var (
		mu    sync.Mutex
		order []int
		wg    sync.WaitGroup
	)
	for i := len(turns) - 1; i >= 0; i-- {
		wg.Go(func() {
			turns[i].wait()
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			turns[i].Done()
		})
		time.Sleep(time.Millisecond) // the last taken is the first to ask
	}
	wg.Wait()
	if !slices.IsSorted(order) {
		t.Errorf("served in the order %v", order)
	}
}

// A turn never ended holds the next one up for maxTurnWait, not forever.
func TestASpawnTurnNeverEndedHoldsTheNextOnlyAWhile(t *testing.T) {
	_ = TakeSpawnTurn() // its owner never spawns, nor says so
	next := TakeSpawnTurn()
	done := make(chan struct{})
	go func() {
		next.wait()
		next.Done()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * maxTurnWait):
		t.Fatal("the turn after one never ended is still waiting")
	}
	var none *SpawnTurn
	none.wait()
	none.Done()
}
