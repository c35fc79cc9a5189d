package main

import (
	"math"
	"testing"
	"time"
)

// within reports whether got is within rel (relative) of want.
func within(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*want
}

func TestSummarizeUniformLatencies(t *testing.T) {
	tl := newTally()
	// 1 µs to 10 ms in 1 µs steps, in a scrambled order.
	const n = 10000
	for i := range n {
		us := (i*7919)%n + 1
		tl.record(outcome{kind: outcomeOK}, time.Duration(us)*time.Microsecond)
	}
	s := summarize(tl.hist, tl.min, tl.max)
	tests := []struct {
		name      string
		got, want float64
	}{
		{"p50", s.P50, 5000},
		{"p90", s.P90, 9000},
		{"p99", s.P99, 9900},
		{"p99.9", s.P999, 9990},
		{"mean", s.Mean, 5000.5},
	}
	for _, tt := range tests {
		// The histogram keeps three significant digits.
		if !within(tt.got, tt.want, 0.001) {
			t.Errorf("%s = %v µs, want %v µs within 0.1%%", tt.name, tt.got, tt.want)
		}
	}
	if s.Min != 1 || s.Max != 10000 {
		t.Errorf("min, max = %v, %v µs; want exactly 1, 10000", s.Min, s.Max)
	}
	if !(s.Min <= s.P50 && s.P50 <= s.P90 && s.P90 <= s.P99 && s.P99 <= s.P999 && s.P999 <= s.Max) {
		t.Errorf("percentiles out of order: %+v", s)
	}
}

func TestSummarizeClampsToExactExtremes(t *testing.T) {
	// One value: every percentile is that value, not its bucket's top.
	tl := newTally()
	tl.record(outcome{kind: outcomeOK}, 123457*time.Nanosecond)
	s := summarize(tl.hist, tl.min, tl.max)
	for name, got := range map[string]float64{"min": s.Min, "p50": s.P50, "p99.9": s.P999, "max": s.Max} {
		if got != 123.457 {
			t.Errorf("%s = %v µs, want 123.457", name, got)
		}
	}
}

func TestSummarizeTail(t *testing.T) {
	// 999 fast calls and one slow one: the slow one is p99.9's business
	// and the max's, not p99's.
	tl := newTally()
	for range 999 {
		tl.record(outcome{kind: outcomeOK}, 20*time.Microsecond)
	}
	tl.record(outcome{kind: outcomeOK}, 5*time.Second)
	s := summarize(tl.hist, tl.min, tl.max)
	if !within(s.P99, 20, 0.001) || !within(s.P999, 20, 0.001) {
		t.Errorf("p99, p99.9 = %v, %v µs; want 20", s.P99, s.P999)
	}
	if s.Max != 5e6 {
		t.Errorf("max = %v µs, want 5e6", s.Max)
	}
}

func TestSummarizeEmpty(t *testing.T) {
	if s := summarize(newHistogram(), 0, 0); s != (latencySummary{}) {
		t.Errorf("summary of nothing = %+v", s)
	}
}

func TestMergeTallies(t *testing.T) {
	a, b := newTally(), newTally()
	base := time.Now()
	a.record(outcome{kind: outcomeOK, done: base}, 10*time.Microsecond)
	a.record(outcome{kind: outcomeRPCError, code: -32602, message: "Unknown tool: x", done: base}, time.Microsecond)
	b.record(outcome{kind: outcomeOK, done: base.Add(time.Second)}, 30*time.Microsecond)
	b.record(outcome{kind: outcomeRPCError, code: -32602, message: "other", done: base}, time.Microsecond)
	b.record(outcome{kind: outcomeTimeout, message: "slow", done: base}, time.Second)
	b.record(outcome{kind: outcomeToolError, message: "bad", done: base}, time.Second)
	b.record(outcome{kind: outcomeTransport, message: "gone", done: base}, time.Second)

	all := merge([]*tally{a, newTally(), b})
	if all.ok != 2 || all.min != 10000 || all.max != 30000 || all.hist.TotalCount() != 2 {
		t.Errorf("merged ok %d, min %d, max %d, count %d", all.ok, all.min, all.max, all.hist.TotalCount())
	}
	if !all.lastDone.Equal(base.Add(time.Second)) {
		t.Errorf("lastDone = %v, want a second after base", all.lastDone)
	}
	e := all.errors
	if e.Total != 5 || e.JSONRPC["-32602"] != 2 || e.Timeout != 1 || e.ToolError != 1 || e.Transport != 1 {
		t.Errorf("errors = %+v", e)
	}
	if e.Examples["jsonrpc -32602"] != "Unknown tool: x" || e.Examples["timeout"] != "slow" {
		t.Errorf("examples = %v", e.Examples)
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{4}, 4},
		{[]float64{9, 1, 5}, 5},
		{[]float64{9, 1, 5, 3}, 4},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestNewStartupTimes(t *testing.T) {
	got := newStartupTimes([]time.Duration{30 * time.Millisecond, 10 * time.Millisecond, 20500 * time.Microsecond})
	if got.Min != 10 || got.Median != 20.5 || got.Max != 30 {
		t.Errorf("startup times = %+v", got)
	}
	if got.Runs[0] != 30 || got.Runs[1] != 10 {
		t.Errorf("runs reordered: %v", got.Runs)
	}
}

func TestCallersPerSession(t *testing.T) {
	tests := []struct {
		concurrency, sessions int
		want                  []int
	}{
		{1, 1, []int{1}},
		{8, 1, []int{8}},
		{8, 3, []int{3, 3, 2}},
		{2, 4, []int{1, 1, 0, 0}},
	}
	for _, tt := range tests {
		total := 0
		for s, want := range tt.want {
			got := callersPerSession(tt.concurrency, tt.sessions, s)
			if got != want {
				t.Errorf("callersPerSession(%d, %d, %d) = %d, want %d", tt.concurrency, tt.sessions, s, got, want)
			}
			total += got
		}
		if total != tt.concurrency {
			t.Errorf("%d sessions share %d callers, want %d", tt.sessions, total, tt.concurrency)
		}
	}
}
