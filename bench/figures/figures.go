package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// figure is one headline number, measured through plugboard and directly,
// checked against its target.
type figure struct {
	Name      string
	Plugboard string // the figure, or what it was computed from
	Direct    string // the same measured directly, "" where there is none
	// Floor is the same through linerelay, or the fixtures started at
	// once without plugboard: what no proxy on this machine gets under.
	// "" where there is none.
	Floor  string
	Target string
	Result string // "met ..." or "missed by ...", or why it was not measured
	Met    bool
}

// bound is a target: a value at most or at least limit.
type bound struct {
	limit   float64
	atLeast bool
	format  func(float64) string // writes a value and its unit
	// formatMiss writes by how much a value misses; format when nil.
	formatMiss func(float64) string
}

func atMost(limit float64, format func(float64) string) bound {
	return bound{limit: limit, format: format}
}

func atLeast(limit float64, format func(float64) string) bound {
	return bound{limit: limit, atLeast: true, format: format}
}

func (b bound) String() string {
	if b.atLeast {
		return "≥ " + b.format(b.limit)
	}
	return "≤ " + b.format(b.limit)
}

// judge says whether v meets the bound, and by how much it misses.
func (b bound) judge(v float64) (string, bool) {
	over := v - b.limit
	if b.atLeast {
		over = b.limit - v
	}
	if over <= 0 {
		return "met", true
	}
	if b.formatMiss != nil {
		return "missed by " + b.formatMiss(over), false
	}
	return "missed by " + b.format(over), false
}

// check fills in a figure's target and result.
func (f figure) check(b bound, v float64) figure {
	f.Target = b.String()
	f.Result, f.Met = b.judge(v)
	return f
}

// floorToo adds to a missed figure's result that its floor, measured in
// the same run, misses the target too, and by how much: a target no
// proxy met on this machine then.
func (f figure) floorToo(b bound, floor float64) figure {
	if f.Met {
		return f
	}
	if miss, met := b.judge(floor); !met {
		f.Result += "; the floor misses it too, by " + strings.TrimPrefix(miss, "missed by ")
	}
	return f
}

// notMeasured is a figure whose scenario did not run.
func notMeasured(name string, b bound) figure {
	return figure{Name: name, Plugboard: "—", Direct: "—", Target: b.String(), Result: "not measured (see Problems)"}
}

// medianOf is the median of values, 0 for none.
func medianOf(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	s := slices.Clone(values)
	slices.Sort(s)
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid]) / 2
}

// roundMedians reduces rounds of pairs to the median of pick(direct),
// of pick(plugboard), and of each round's plugboard minus direct.
func roundMedians(rounds []pair, pick func(latencySample) float64) (direct, plugboard, added float64) {
	var d, p, a []float64
	for _, r := range rounds {
		d = append(d, pick(r.Direct))
		p = append(p, pick(r.Plugboard))
		a = append(a, pick(r.Plugboard)-pick(r.Direct))
	}
	return medianOf(d), medianOf(p), medianOf(a)
}

// relayMedians reduces rounds that measured linerelay to the median of
// pick(relay) and of each round's relay minus direct; ok is false when
// no round did.
func relayMedians(rounds []pair, pick func(latencySample) float64) (relay, added float64, ok bool) {
	var v, a []float64
	for _, r := range rounds {
		if r.Relay != nil && r.Relay.Calls > 0 {
			v = append(v, pick(*r.Relay))
			a = append(a, pick(*r.Relay)-pick(r.Direct))
		}
	}
	return medianOf(v), medianOf(a), len(v) > 0
}

// framesRelayed is rounds with each round's linerelay --namespace run in
// place of its linerelay run, for relayMedians and relayRatio.
func framesRelayed(rounds []pair) []pair {
	out := make([]pair, len(rounds))
	for i, r := range rounds {
		out[i] = pair{Direct: r.Direct, Plugboard: r.Plugboard, Relay: r.FrameRelay}
	}
	return out
}

// relayRatio is the median of each round's linerelay over direct.
func relayRatio(rounds []pair, pick func(latencySample) float64) (float64, bool) {
	var ratios []float64
	for _, r := range rounds {
		if r.Relay != nil && r.Relay.Calls > 0 && pick(r.Direct) > 0 {
			ratios = append(ratios, pick(*r.Relay)/pick(r.Direct))
		}
	}
	return medianOf(ratios), len(ratios) > 0
}

// roundRatio is the median of each round's plugboard over direct.
func roundRatio(rounds []pair, pick func(latencySample) float64) float64 {
	var ratios []float64
	for _, r := range rounds {
		if pick(r.Direct) > 0 {
			ratios = append(ratios, pick(r.Plugboard)/pick(r.Direct))
		}
	}
	return medianOf(ratios)
}

func p50(s latencySample) float64        { return s.P50 }
func p90(s latencySample) float64        { return s.P90 }
func p99(s latencySample) float64        { return s.P99 }
func throughput(s latencySample) float64 { return s.Throughput }

// Targets, from the issues that asked for these benchmarks. Added
// latency is held to the direct figures of the same run, so its bounds
// are made per run (addedP50Bound, addedP99Bound).
var (
	targetThroughput  = percentAtLeast(95)
	targetIdleSession = atMost(16*1024, formatKiB)
	targetStartup     = atMost(1.2, formatRatio)
	targetOwnRSS      = atMost(25*1024*1024, formatMiB)
	targetCatalogP50  = atMost(2000, formatMicros)
	targetCPUPerCall  = atMost(25, formatMicros)
	// Echo flat out, plugboard / direct, by concurrency.
	targetEchoStdio = map[int]bound{16: percentAtLeast(50), 64: percentAtLeast(55)}
	targetEchoHTTP  = map[int]bound{16: percentAtLeast(80), 64: percentAtLeast(80)}
)

func percentAtLeast(p float64) bound {
	return bound{limit: p, atLeast: true, format: formatPercent, formatMiss: formatPoints}
}

// headlineFigures computes every figure of the summary table.
func headlineFigures(res *results) []figure {
	var out []figure
	out = append(out, latencyFigures(res.Latency, "stdio")...)
	var httpLatency *latencyResults
	if res.HTTPFront != nil {
		httpLatency = res.HTTPFront.Latency
	}
	out = append(out, latencyFigures(httpLatency, "Streamable HTTP")...)
	out = append(out, cpuFigure(res.Latency))
	out = append(out, throughputFigures(res.EchoThroughput, "", func(c int) bound { return targetEchoStdio[c] })...)
	if res.HTTPFront != nil {
		out = append(out, throughputFigures(res.HTTPFront.Echo, " over Streamable HTTP", func(c int) bound { return targetEchoHTTP[c] })...)
		out = append(out, throughputFigures(res.HTTPFront.Sleep, " over Streamable HTTP", func(int) bound { return targetThroughput })...)
	} else {
		out = append(out, notMeasured("Throughput over Streamable HTTP, plugboard / direct", targetEchoHTTP[16]))
	}
	out = append(out, throughputFigures(res.Throughput, "", func(int) bound { return targetThroughput })...)
	out = append(out, httpFigures(res.HTTP)...)
	out = append(out, startupFigures(res.Startup)...)
	out = append(out, ownRSSFigure(res.OwnRSS))
	out = append(out, inFlightFigure(res.InFlight))
	out = append(out, catalogFigure(res.Catalog))
	return out
}

// addedP50Bound holds plugboard's added p50 to the direct p50.
func addedP50Bound(direct float64) bound { return atMost(direct, formatMicros) }

// addedP99Bound holds plugboard's added p99 to twice the direct p99.
func addedP99Bound(direct float64) bound { return atMost(2*direct, formatMicros) }

func latencyFigures(l *latencyResults, transport string) []figure {
	what := "Added latency per tools/call (" + transport + " echo), "
	if l == nil || len(l.Rounds) == 0 {
		missing := func(name, target string) figure {
			return figure{Name: what + name, Plugboard: "—", Direct: "—", Target: target, Result: "not measured (see Problems)"}
		}
		return []figure{missing("p50", "≤ direct p50"), missing("p99", "≤ 2 × direct p99")}
	}
	row := func(name string, pick func(latencySample) float64, target func(float64) bound, says string) figure {
		d, p, added := roundMedians(l.Rounds, pick)
		f := figure{Name: what + name, Plugboard: fmt.Sprintf("+%s (%s)", formatMicros(added), formatMicros(p)), Direct: formatMicros(d)}
		if target == nil {
			f.Target, f.Result, f.Met = "—", "no target", true
			return f
		}
		f = f.check(target(d), added)
		if relay, relayAdded, ok := relayMedians(l.Rounds, pick); ok {
			f.Floor = fmt.Sprintf("+%s (%s)", formatMicros(relayAdded), formatMicros(relay))
			f = f.floorToo(target(d), relayAdded)
		}
		f.Target += " (" + says + ")"
		return f
	}
	return []figure{
		row("p50", p50, addedP50Bound, "direct p50"),
		row("p90", p90, nil, ""),
		row("p99", p99, addedP99Bound, "2 × direct p99"),
	}
}

// cpuFigure is plugboard's own processor time per echo call over stdio
// at concurrency 1, the median over the latency rounds.
func cpuFigure(l *latencyResults) figure {
	name := "plugboard's own CPU per echo call (stdio, concurrency 1)"
	if l == nil || len(l.Rounds) == 0 {
		return notMeasured(name, targetCPUPerCall)
	}
	d, p, _ := roundMedians(l.Rounds, cpuPerCall)
	if p == 0 {
		return notMeasured(name, targetCPUPerCall)
	}
	f := figure{Name: name, Plugboard: formatMicros(p), Direct: formatMicros(d) + " (the fixture's)"}
	f = f.check(targetCPUPerCall, p)
	if relay, _, ok := relayMedians(l.Rounds, cpuPerCall); ok {
		f.Floor = formatMicros(relay) + " (linerelay's)"
		f = f.floorToo(targetCPUPerCall, relay)
	}
	return f
}

// toolLabel names what a throughput scenario called.
func (t *throughputResults) toolLabel() string {
	if t.Tool == "echo" {
		return "echo"
	}
	return fmt.Sprintf("sleep %d ms", t.SleepMS)
}

// throughputFigures are plugboard / direct at each level, each held to
// target(concurrency) when that has a limit.
func throughputFigures(t *throughputResults, over string, target func(c int) bound) []figure {
	if t == nil || len(t.Levels) == 0 {
		return []figure{notMeasured("Throughput"+over+", plugboard / direct", target(16))}
	}
	var out []figure
	for _, level := range t.Levels {
		name := fmt.Sprintf("Throughput, %s%s, concurrency %d", t.toolLabel(), over, level.Concurrency)
		b := target(level.Concurrency)
		if len(level.Rounds) == 0 {
			out = append(out, notMeasured(name, b))
			continue
		}
		d, p, _ := roundMedians(level.Rounds, throughput)
		ratio := roundRatio(level.Rounds, throughput)
		f := figure{Name: name, Plugboard: fmt.Sprintf("%s of direct (%s)", formatPercent(100*ratio), formatRate(p)), Direct: formatRate(d)}
		relay, relayed := relayRatio(level.Rounds, throughput)
		if relayed {
			f.Floor = formatPercent(100 * relay)
		}
		if b.format == nil {
			f.Target, f.Result, f.Met = "—", "no target", true
			out = append(out, f)
			continue
		}
		f = f.check(b, 100*ratio)
		if relayed {
			f = f.floorToo(b, 100*relay)
		}
		out = append(out, f)
	}
	return out
}

// inFlightFigure is what each call in flight added to plugboard's memory.
func inFlightFigure(m *inFlightResults) figure {
	name := "plugboard's memory per call in flight (sleep, stdio)"
	if m == nil || m.PeakBytes == 0 {
		return figure{Name: name, Plugboard: "—", Direct: "—", Target: "documented bound", Result: "not measured (see Problems)"}
	}
	return figure{Name: fmt.Sprintf("plugboard's memory per call in flight (%d calls of sleep, stdio)", m.Calls),
		Plugboard: formatKiB(m.perCall()), Direct: "—", Target: "documented bound",
		Result: fmt.Sprintf("≤ %s for a full session (%d calls)", formatMiB(m.perCall()*maxInflightPerSession), maxInflightPerSession), Met: true}
}

// maxInflightPerSession is plugboard's cap on one client session's
// unanswered requests (actors/front.go), which bounds the memory of
// calls in flight per session.
const maxInflightPerSession = 512

// perCall is what each call in flight added to the peak.
func (m *inFlightResults) perCall() float64 {
	if m.Calls == 0 {
		return 0
	}
	return float64(m.PeakBytes-m.BeforeBytes) / float64(m.Calls)
}

func cpuPerCall(s latencySample) float64 { return s.CPUPerCallUS }

// perSession is the memory a server added per open idle session.
func (m idleMemory) perSession(sessions int) float64 {
	return float64(m.OpenBytes-m.BeforeBytes) / float64(sessions)
}

func httpFigures(h *httpResults) []figure {
	if h == nil {
		return []figure{notMeasured("Streamable HTTP, RSS per idle session", targetIdleSession)}
	}
	var out []figure
	info := func(name string, plugboard, direct float64) {
		out = append(out, figure{Name: name, Plugboard: formatMicros(plugboard), Direct: formatMicros(direct),
			Target: "—", Result: "no target", Met: true})
	}
	if len(h.Paced) > 0 {
		d, p, _ := roundMedians(h.Paced, p99)
		info(fmt.Sprintf("Streamable HTTP, %d sessions calling echo at %.0f calls/s, p99", h.Sessions, h.Rate), p, d)
	}
	if h.Saturated.Plugboard.Calls > 0 {
		info(fmt.Sprintf("Streamable HTTP, %d sessions calling echo flat out, p99", h.Sessions),
			h.Saturated.Plugboard.P99, h.Saturated.Direct.P99)
	}
	name := fmt.Sprintf("Streamable HTTP, RSS per idle session (%d open)", h.Sessions)
	if h.IdlePlugboard.OpenBytes == 0 {
		return append(out, notMeasured(name, targetIdleSession))
	}
	per := h.IdlePlugboard.perSession(h.Sessions)
	f := figure{Name: name, Plugboard: formatKiB(per), Direct: formatKiB(h.IdleDirect.perSession(h.Sessions))}
	return append(out, f.check(targetIdleSession, per))
}

func startupFigures(s *startupResults) []figure {
	if s == nil || len(s.Sizes) == 0 {
		return []figure{notMeasured("Cold start to a complete tools/list, plugboard / slowest server", targetStartup)}
	}
	var out []figure
	for i, size := range s.Sizes {
		name := "Cold start to a complete tools/list, " + plural(size.Servers, "server")
		ratio := size.MedianMS / s.Direct.MedianMS
		f := figure{Name: name, Plugboard: fmt.Sprintf("%s (%s)", formatRatio(ratio), formatMillis(size.MedianMS)),
			Direct: formatMillis(s.Direct.MedianMS)}
		f = f.check(targetStartup, ratio)
		if i < len(s.AtOnce) && s.AtOnce[i].MedianMS > 0 && size.Servers > 1 {
			floor := s.AtOnce[i].MedianMS
			f.Floor = fmt.Sprintf("%s (%s)", formatRatio(floor/s.Direct.MedianMS), formatMillis(floor))
			f = f.floorToo(targetStartup, floor/s.Direct.MedianMS)
		}
		out = append(out, f)
	}
	return out
}

func ownRSSFigure(o *ownRSSResults) figure {
	name := "plugboard's own RSS, idle, 20 servers"
	if o == nil || o.PlugboardBytes == 0 {
		return notMeasured(name, targetOwnRSS)
	}
	name = fmt.Sprintf("plugboard's own RSS, idle, %d servers", o.Servers)
	f := figure{Name: name, Plugboard: formatMiB(float64(o.PlugboardBytes)), Direct: fmt.Sprintf("%s (one fixture)", formatMiB(float64(o.FixtureBytes)))}
	return f.check(targetOwnRSS, float64(o.PlugboardBytes))
}

func catalogFigure(c *catalogResults) figure {
	name := "tools/list from the catalog, 50 servers × 40 tools, p50"
	if c == nil || c.Listing.Plugboard.Calls == 0 {
		return notMeasured(name, targetCatalogP50)
	}
	name = fmt.Sprintf("tools/list from the catalog, %d servers × %d tools, p50", c.Servers, c.ToolsPerServer)
	f := figure{Name: name, Plugboard: formatMicros(c.Listing.Plugboard.P50), Direct: formatMicros(c.Listing.Direct.P50)}
	return f.check(targetCatalogP50, c.Listing.Plugboard.P50)
}

// Units.

func formatMicros(us float64) string {
	switch {
	case math.Abs(us) < 1000:
		return fmt.Sprintf("%.0f µs", us)
	case math.Abs(us) < 1e6:
		return fmt.Sprintf("%.2f ms", us/1e3)
	default:
		return fmt.Sprintf("%.2f s", us/1e6)
	}
}

func formatMillis(ms float64) string { return formatMicros(ms * 1e3) }

func formatPercent(p float64) string { return fmt.Sprintf("%.1f%%", p) }

func formatPoints(p float64) string { return fmt.Sprintf("%.1f points", p) }

// plural writes n and a noun, with an s when n is not 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func formatRatio(r float64) string { return fmt.Sprintf("%.2f×", r) }

func formatRate(perSec float64) string { return fmt.Sprintf("%.0f calls/s", perSec) }

func formatKiB(b float64) string { return fmt.Sprintf("%.1f KiB", b/1024) }

func formatMiB(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }
