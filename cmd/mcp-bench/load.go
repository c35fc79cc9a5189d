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
	// rate is the calls a second of all workers together; 0 for no
	// pacing.
	rate float64
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
	// unsent counts the paced calls that fell due in the measuring time
	// but were never sent, because the target was still busy with
	// earlier ones when it ended.
	unsent int64
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

// pacer spaces one worker's calls evenly, the workers' schedules offset
// from each other so that together they call at an even rate.
type pacer struct {
	first    time.Time
	interval time.Duration
	n        int64 // calls scheduled so far
}

// newPacer schedules worker i of concurrency for calls at rate a second
// in all, from start.
func newPacer(start time.Time, rate float64, i, concurrency int) *pacer {
	interval := time.Duration(float64(concurrency) / rate * float64(time.Second))
	return &pacer{first: start.Add(interval * time.Duration(i) / time.Duration(concurrency)), interval: interval}
}

// next returns when the next call is due.
func (p *pacer) next() time.Time {
	due := p.first.Add(p.interval * time.Duration(p.n))
	p.n++
	return due
}

// remainingBefore counts the calls not yet scheduled that fall due
// before t.
func (p *pacer) remainingBefore(t time.Time) int64 {
	if !p.first.Before(t) {
		return 0
	}
	due := int64((t.Sub(p.first) + p.interval - 1) / p.interval)
	return max(due-p.n, 0)
}

// waitUntil sleeps until t, or until ctx is done, which it reports.
func waitUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// runWorkload runs concurrency workers, spread over the sessions, each
// making one call at a time until the count of measured calls is reached
// or the measuring time is over, or ctx is done. A call that starts
// before the warmup ends is not measured; one that starts before the end
// is measured to its end.
//
// With a rate, each worker calls on a schedule. A call whose worker was
// still busy with the last one when it fell due is measured from when it
// was due, so that a server that falls behind is charged for the calls
// it delayed as well as for the one it was slow with; a call made on
// time is measured from when it was sent.
func runWorkload(ctx context.Context, sessions []session, concurrency int, w workload) measurement {
	shards := make([]*tally, min(concurrency, 4*runtime.GOMAXPROCS(0)))
	for i := range shards {
		shards[i] = newTally()
	}
	lost := make([]atomic.Bool, len(sessions))
	var budget atomic.Int64
	budget.Store(w.count)
	var unsent atomic.Int64

	start := time.Now()
	measureFrom := start.Add(w.warmup)
	deadline := measureFrom.Add(w.duration)
	var workers sync.WaitGroup
	for i := range concurrency {
		n := i % len(sessions)
		c := sessions[n].caller(i / len(sessions))
		t := shards[i%len(shards)]
		var p *pacer
		if w.rate > 0 {
			p = newPacer(start, w.rate, i, concurrency)
		}
		workers.Go(func() {
			for ctx.Err() == nil {
				began := time.Now()
				if p != nil {
					due := p.next()
					if due.After(began) {
						if !waitUntil(ctx, due) {
							return
						}
						began = time.Now() // on time: measured from the send
					} else {
						began = due // late: measured from when it was due
					}
				}
				measured := !began.Before(measureFrom)
				if measured {
					if w.count > 0 {
						if budget.Add(-1) < 0 {
							return
						}
					} else if !began.Before(deadline) {
						return
					} else if p != nil && !time.Now().Before(deadline) {
						unsent.Add(1 + p.remainingBefore(deadline))
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

	m := measurement{tally: merge(shards), unsent: unsent.Load()}
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
