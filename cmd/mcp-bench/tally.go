package main

// Counting outcomes and latencies. Workers record into a few shards, each
// with its own lock and HDR histogram, which are merged once at the end.

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram geometry: nanoseconds from 1 ns to an hour, to three
// significant digits (at most 0.1% relative error).
const (
	histogramLowest  = 1
	histogramHighest = int64(time.Hour)
	histogramDigits  = 3
)

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histogramLowest, histogramHighest, histogramDigits)
}

// tally counts the measured outcomes of the workers that share it.
type tally struct {
	mu       sync.Mutex
	hist     *hdrhistogram.Histogram // latencies of successful calls, in ns
	min, max int64                   // exact extremes of the same, in ns
	ok       int64
	errors   errorCounts
	lastDone time.Time
	tools    int // tools in the last listing
	pages    int // pages of the last listing
}

func newTally() *tally {
	return &tally{hist: newHistogram(), errors: newErrorCounts()}
}

// record counts one measured outcome; latency is that of the call.
func (t *tally) record(o outcome, latency time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if o.done.After(t.lastDone) {
		t.lastDone = o.done
	}
	if o.kind != outcomeOK {
		t.errors.add(o)
		return
	}
	t.ok++
	ns := min(max(int64(latency), 1), histogramHighest)
	if t.ok == 1 || ns < t.min {
		t.min = ns
	}
	t.max = max(t.max, ns)
	_ = t.hist.RecordValue(ns)
	t.tools, t.pages = o.tools, o.pages
}

// merge folds the tallies into one.
func merge(tallies []*tally) *tally {
	all := newTally()
	for _, t := range tallies {
		t.mu.Lock()
		all.hist.Merge(t.hist)
		if t.ok > 0 && (all.ok == 0 || t.min < all.min) {
			all.min = t.min
		}
		all.max = max(all.max, t.max)
		all.ok += t.ok
		all.errors.merge(t.errors)
		if t.lastDone.After(all.lastDone) {
			all.lastDone = t.lastDone
		}
		if t.pages > 0 {
			all.tools, all.pages = t.tools, t.pages
		}
		t.mu.Unlock()
	}
	return all
}

// latencySummary is the latency distribution, in microseconds.
type latencySummary struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

// summarize reads the percentiles off the histogram. A histogram bucket
// stands for a range of values, and its percentiles are the range's top;
// they are clamped to the exact extremes so that no percentile exceeds
// the largest latency seen, nor falls below the smallest.
func summarize(h *hdrhistogram.Histogram, exactMin, exactMax int64) latencySummary {
	if h.TotalCount() == 0 {
		return latencySummary{}
	}
	p := h.ValueAtPercentilesSlice([]float64{50, 90, 99, 99.9})
	clamp := func(ns int64) float64 { return micros(min(max(ns, exactMin), exactMax)) }
	return latencySummary{
		Min:  micros(exactMin),
		Mean: math.Round(h.Mean()) / 1e3,
		P50:  clamp(p[0]),
		P90:  clamp(p[1]),
		P99:  clamp(p[2]),
		P999: clamp(p[3]),
		Max:  micros(exactMax),
	}
}

func micros(ns int64) float64 { return float64(ns) / 1e3 }

// median of values, which it sorts; 0 for none.
func median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	sort.Float64s(values)
	mid := len(values) / 2
	if len(values)%2 == 1 {
		return values[mid]
	}
	return (values[mid-1] + values[mid]) / 2
}

// errorCounts counts failed calls by kind.
type errorCounts struct {
	Total int64 `json:"total"`
	// JSONRPC counts error responses by their code.
	JSONRPC   map[string]int64 `json:"jsonrpc"`
	ToolError int64            `json:"tool_error"`
	Transport int64            `json:"transport"`
	Timeout   int64            `json:"timeout"`
	// Examples holds the first message seen of each kind, keyed like
	// "jsonrpc -32602", "tool_error", "transport" or "timeout".
	Examples map[string]string `json:"examples,omitempty"`
}

func newErrorCounts() errorCounts {
	return errorCounts{JSONRPC: map[string]int64{}, Examples: map[string]string{}}
}

func (e *errorCounts) add(o outcome) {
	var key string
	switch o.kind {
	case outcomeRPCError:
		code := strconv.Itoa(o.code)
		e.JSONRPC[code]++
		key = "jsonrpc " + code
	case outcomeToolError:
		e.ToolError++
		key = "tool_error"
	case outcomeTimeout:
		e.Timeout++
		key = "timeout"
	case outcomeTransport:
		e.Transport++
		key = "transport"
	default:
		panic(fmt.Sprintf("counting outcome kind %d as an error", o.kind))
	}
	e.Total++
	if _, seen := e.Examples[key]; !seen {
		e.Examples[key] = o.message
	}
}

func (e *errorCounts) merge(from errorCounts) {
	e.Total += from.Total
	e.ToolError += from.ToolError
	e.Transport += from.Transport
	e.Timeout += from.Timeout
	for code, n := range from.JSONRPC {
		e.JSONRPC[code] += n
	}
	for key, msg := range from.Examples {
		if _, seen := e.Examples[key]; !seen {
			e.Examples[key] = msg
		}
	}
}
