package main

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// workload is what every worker repeats.
type workload struct {
	method string // for a single request: tools/call
	params []byte
	// list makes each sample a whole tools/list, all pages, instead.
	list bool

	warmup   time.Duration // run but not measured
	duration time.Duration // how long to measure, when count is 0
	count    int64         // how many calls to measure
}

func (w workload) run(ctx context.Context, c caller) outcome {
	if w.list {
		return listAll(ctx, c)
	}
	return c.call(ctx, w.method, w.params)
}

// measurement is what running a workload measured.
type measurement struct {
	tally *tally
	// elapsed runs from the end of the warmup to the last measured
	// response.
	elapsed time.Duration
	// lost lists the sessions that failed for good.
	lost []int
}

// callersPerSession says how many of concurrency callers go to session s
// of n: caller i goes to session i mod n.
func callersPerSession(concurrency, n, s int) int {
	c := concurrency / n
	if s < concurrency%n {
		c++
	}
	return c
}

// runWorkload runs concurrency workers, spread over the sessions, each
// making one call at a time until the count of measured calls is reached
// or the measuring time is over, or ctx is done. A call that starts
// before the warmup ends is not measured; one that starts before the end
// is measured to its end.
func runWorkload(ctx context.Context, sessions []session, concurrency int, w workload) measurement {
	shards := make([]*tally, min(concurrency, 4*runtime.GOMAXPROCS(0)))
	for i := range shards {
		shards[i] = newTally()
	}
	lost := make([]atomic.Bool, len(sessions))
	var budget atomic.Int64
	budget.Store(w.count)

	start := time.Now()
	measureFrom := start.Add(w.warmup)
	deadline := measureFrom.Add(w.duration)
	var workers sync.WaitGroup
	for i := range concurrency {
		n := i % len(sessions)
		c := sessions[n].caller(i / len(sessions))
		t := shards[i%len(shards)]
		workers.Go(func() {
			for ctx.Err() == nil {
				began := time.Now()
				measured := !began.Before(measureFrom)
				if measured {
					if w.count > 0 {
						if budget.Add(-1) < 0 {
							return
						}
					} else if !began.Before(deadline) {
						return
					}
				}
				o := w.run(ctx, c)
				if o.kind == outcomeCancelled {
					return
				}
				if measured {
					if o.done.IsZero() {
						o.done = time.Now()
					}
					t.record(o, o.done.Sub(began))
				}
				if o.fatal {
					lost[n].Store(true)
					return
				}
			}
		})
	}
	workers.Wait()

	m := measurement{tally: merge(shards)}
	if m.tally.lastDone.After(measureFrom) {
		m.elapsed = m.tally.lastDone.Sub(measureFrom)
	}
	for n := range lost {
		if lost[n].Load() {
			m.lost = append(m.lost, n)
		}
	}
	return m
}
