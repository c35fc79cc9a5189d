package main

import (
	"context"
	"testing"
	"time"
)

func TestPacerSpreadsWorkersOverTheInterval(t *testing.T) {
	start := time.Unix(1000, 0)
	// 4 workers at 400 calls/s in all: each calls every 10 ms, the four
	// offset by 2.5 ms from each other.
	var dues []time.Duration
	for i := range 4 {
		p := newPacer(start, 400, i, 4)
		for range 2 {
			dues = append(dues, p.next().Sub(start))
		}
	}
	want := []time.Duration{0, 10 * time.Millisecond, 2500 * time.Microsecond, 12500 * time.Microsecond,
		5 * time.Millisecond, 15 * time.Millisecond, 7500 * time.Microsecond, 17500 * time.Microsecond}
	for i := range want {
		if dues[i] != want[i] {
			t.Fatalf("due times %v, want %v", dues, want)
		}
	}
}

func TestPacerCountsCallsDueBefore(t *testing.T) {
	start := time.Unix(1000, 0)
	p := newPacer(start, 100, 0, 1) // every 10 ms from start
	tests := []struct {
		taken int           // calls already scheduled with next
		until time.Duration // from start
		want  int64
	}{
		{0, 25 * time.Millisecond, 3}, // 0, 10, 20
		{0, 20 * time.Millisecond, 2}, // 0, 10: due at 20 is not before 20
		{1, 25 * time.Millisecond, 2},
		{3, 25 * time.Millisecond, 0},
		{5, 25 * time.Millisecond, 0},
		{0, 0, 0},
	}
	for _, tt := range tests {
		p.n = int64(tt.taken)
		if got := p.remainingBefore(start.Add(tt.until)); got != tt.want {
			t.Errorf("after %d calls, due before %v: %d, want %d", tt.taken, tt.until, got, tt.want)
		}
	}
}

// fakeSession answers every call after delay, in process.
type fakeSession struct{ delay time.Duration }

func (s fakeSession) handshake(context.Context) (*serverInfo, error) { return &serverInfo{}, nil }
func (s fakeSession) caller(int) caller                              { return s }
func (s fakeSession) close(context.Context) error                    { return nil }

func (s fakeSession) call(ctx context.Context, _ string, _ []byte) outcome {
	if s.delay > 0 {
		// The server's work, not a wait for something.
		timer := time.NewTimer(s.delay)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-ctx.Done():
			return outcome{kind: outcomeCancelled}
		}
	}
	return outcome{kind: outcomeOK, done: time.Now()}
}

func TestPacedRunAccountsForEveryCallDue(t *testing.T) {
	// 2 workers at 20 calls/s in all for 1 s: 20 calls fall due, each
	// either made and measured or counted as never sent.
	w := workload{method: methodToolsCall, duration: time.Second, rate: 20}
	m := runWorkload(context.Background(), []session{fakeSession{}}, 2, w)
	if got := m.tally.ok + m.unsent; got != 20 || m.tally.errors.Total != 0 {
		t.Errorf("%d calls made and %d never sent, %d errors; want 20 in all", m.tally.ok, m.unsent, m.tally.errors.Total)
	}
}

func TestPacedCallsThatFallBehindAreMeasuredFromWhenTheyWereDue(t *testing.T) {
	// One worker due every 10 ms, a server that takes 50 ms a call: the
	// fifth call, due at 40 ms, is sent at 200 ms at the earliest, and
	// answered at 250 ms, 210 ms after it fell due.
	w := workload{method: methodToolsCall, count: 5, rate: 100}
	m := runWorkload(context.Background(), []session{fakeSession{delay: 50 * time.Millisecond}}, 1, w)
	if m.tally.ok != 5 {
		t.Fatalf("%d calls, want 5", m.tally.ok)
	}
	if slowest := time.Duration(m.tally.max); slowest < 210*time.Millisecond {
		t.Errorf("slowest call measured %v, want at least 210ms from when it fell due", slowest)
	}
	// Unpaced, each call is measured from its own send.
	m = runWorkload(context.Background(), []session{fakeSession{delay: 50 * time.Millisecond}}, 1,
		workload{method: methodToolsCall, count: 3})
	if fastest := time.Duration(m.tally.min); m.tally.ok != 3 || fastest < 50*time.Millisecond {
		t.Errorf("%d calls, fastest %v", m.tally.ok, fastest)
	}
}
