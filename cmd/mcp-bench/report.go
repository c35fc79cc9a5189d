package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// benchReport is the result of a call or list benchmark.
type benchReport struct {
	Mode        mode        `json:"mode"`
	Target      targetInfo  `json:"target"`
	Server      *serverInfo `json:"server,omitempty"`
	Tool        string      `json:"tool,omitempty"`
	Sessions    int         `json:"sessions"`
	Concurrency int         `json:"concurrency"`
	// RatePerSec is the pace asked for, 0 for none; Unsent counts calls
	// that fell due but were never sent, as the target fell behind it.
	RatePerSec float64 `json:"rate_per_sec,omitempty"`
	Unsent     int64   `json:"unsent,omitempty"`
	WarmupSec  float64 `json:"warmup_sec"`
	// ElapsedSec runs from the end of the warmup to the last response.
	ElapsedSec float64 `json:"elapsed_sec"`
	// Calls counts the measured calls that ended, OK those that
	// succeeded; Throughput is OK per second of ElapsedSec.
	Calls      int64          `json:"calls"`
	OK         int64          `json:"ok"`
	Throughput float64        `json:"throughput_per_sec"`
	LatencyUS  latencySummary `json:"latency_us"`
	Errors     errorCounts    `json:"errors"`
	// Tools and Pages describe a listing (--list).
	Tools int        `json:"tools,omitempty"`
	Pages int        `json:"pages,omitempty"`
	RSS   *rssReport `json:"rss,omitempty"`
	// Watched is the memory of the process --watch-pid named.
	Watched *rssReport `json:"watched,omitempty"`
	// CPU is the processor time of the stdio targets in the measuring
	// time, WatchedCPU that of the --watch-pid process.
	CPU        *cpuReport `json:"cpu,omitempty"`
	WatchedCPU *cpuReport `json:"watched_cpu,omitempty"`
	Notes      []string   `json:"notes,omitempty"`
}

// idleReport is the result of --idle.
type idleReport struct {
	Mode     mode        `json:"mode"`
	Target   targetInfo  `json:"target"`
	Server   *serverInfo `json:"server,omitempty"`
	Sessions int         `json:"sessions"`
	// OpenSec is how long opening and initializing every session took;
	// HoldSec how long they were then held open, after one listing.
	OpenSec float64 `json:"open_sec"`
	HoldSec float64 `json:"hold_sec"`
	// Tools and Pages describe the first session's listing.
	Tools int `json:"tools"`
	Pages int `json:"pages"`
	// RSS is the memory of the stdio targets, sampled from the end of
	// the listing; its last sample is taken before the sessions close.
	RSS *rssReport `json:"rss,omitempty"`
	// Watched is the memory of the process --watch-pid named, sampled
	// from before the sessions opened until before they closed.
	Watched *rssReport `json:"watched,omitempty"`
	Notes   []string   `json:"notes,omitempty"`
}

// startupReport is the result of --startup.
type startupReport struct {
	Mode      mode         `json:"mode"`
	Target    targetInfo   `json:"target"`
	Server    *serverInfo  `json:"server,omitempty"`
	Runs      int          `json:"runs"`
	Tools     int          `json:"tools"`
	Pages     int          `json:"pages"`
	StartupMS startupTimes `json:"startup_ms"`
	Notes     []string     `json:"notes,omitempty"`
}

// startupTimes are the start-up times in milliseconds, each run's in order.
type startupTimes struct {
	Min    float64   `json:"min"`
	Median float64   `json:"median"`
	Max    float64   `json:"max"`
	Runs   []float64 `json:"runs"`
}

func newStartupTimes(runs []time.Duration) startupTimes {
	ms := make([]float64, len(runs))
	for i, d := range runs {
		ms[i] = float64(d.Microseconds()) / 1e3
	}
	sorted := slices.Clone(ms)
	return startupTimes{Min: slices.Min(ms), Median: median(sorted), Max: slices.Max(ms), Runs: ms}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// line writes one row of a table: a label and its text.
func line(w io.Writer, label, format string, args ...any) {
	fmt.Fprintf(w, "%-12s%s\n", label, fmt.Sprintf(format, args...))
}

func (r *benchReport) writeTable(w io.Writer) {
	line(w, "target", "%s", describeTarget(r.Target, r.Sessions))
	if r.Server != nil {
		line(w, "server", "%s %s, protocol %s", r.Server.Name, r.Server.Version, r.Server.ProtocolVersion)
	}
	what := "tools/call " + r.Tool
	if r.Mode == modeList {
		what = fmt.Sprintf("tools/list, whole (%d tools in %s)", r.Tools, plural(r.Pages, "page"))
	}
	pace := ""
	if r.RatePerSec > 0 {
		pace = fmt.Sprintf(", paced to %.0f calls/s", r.RatePerSec)
	}
	line(w, "workload", "%s; %s, concurrency %d%s; warmup %s", what, plural(r.Sessions, "session"), r.Concurrency,
		pace, time.Duration(r.WarmupSec*float64(time.Second)))
	line(w, "calls", "%d ok, %s in %.3fs", r.OK, plural(int(r.Errors.Total), "error"), r.ElapsedSec)
	line(w, "throughput", "%.1f calls/s", r.Throughput)
	if l := r.LatencyUS; r.OK > 0 {
		line(w, "latency", "p50 %s  p90 %s  p99 %s  p99.9 %s  max %s",
			formatMicros(l.P50), formatMicros(l.P90), formatMicros(l.P99), formatMicros(l.P999), formatMicros(l.Max))
	} else {
		line(w, "latency", "no successful calls")
	}
	label := "errors"
	for _, e := range r.Errors.lines() {
		line(w, label, "%s", e)
		label = ""
	}
	if r.RSS != nil {
		line(w, "peak rss", "%s per process, %s with descendants (up to %s; %d samples)",
			formatBytes(r.RSS.PeakBytes), formatBytes(r.RSS.TreePeakBytes), plural(r.RSS.TreeProcesses, "process"), r.RSS.Samples)
	}
	writeWatched(w, r.Watched, r.Sessions)
	writeCPU(w, "cpu", r.CPU)
	writeCPU(w, "watched cpu", r.WatchedCPU)
	for _, n := range r.Notes {
		line(w, "note", "%s", n)
	}
}

// writeCPU describes processor time over the measuring time.
func writeCPU(w io.Writer, label string, r *cpuReport) {
	if r == nil {
		return
	}
	line(w, label, "%.2fs user, %.2fs system in %s: %.1f µs per call",
		r.UserSec, r.SystemSec, plural(r.Processes, "process"), r.PerCallUS)
}

func (r *idleReport) writeTable(w io.Writer) {
	line(w, "target", "%s", describeTarget(r.Target, r.Sessions))
	if r.Server != nil {
		line(w, "server", "%s %s, protocol %s", r.Server.Name, r.Server.Version, r.Server.ProtocolVersion)
	}
	line(w, "workload", "%s opened in %.3fs, %d tools listed in %s on the first, then all held open %s without calls",
		plural(r.Sessions, "session"), r.OpenSec, r.Tools, plural(r.Pages, "page"),
		time.Duration(r.HoldSec*float64(time.Second)))
	if r.RSS != nil {
		line(w, "rss", "%s in %s (%s anonymous, %s file pages), %s with descendants (%s), at the end of the hold",
			formatBytes(r.RSS.LastBytes), plural(r.RSS.Processes, "target process"),
			formatBytes(r.RSS.LastAnonBytes), formatBytes(r.RSS.LastFileBytes),
			formatBytes(r.RSS.TreeLastBytes), plural(r.RSS.TreeProcesses, "process"))
	}
	writeWatched(w, r.Watched, r.Sessions)
	for _, n := range r.Notes {
		line(w, "note", "%s", n)
	}
}

// writeWatched describes the memory of the --watch-pid process: before
// the sessions opened, and at the end with them still open.
func writeWatched(w io.Writer, r *rssReport, sessions int) {
	if r == nil {
		return
	}
	grew := float64(r.LastBytes-r.FirstBytes) / float64(sessions) / 1024
	line(w, "watched rss", "%s before the sessions, %s at the end (%+.1f KiB per session), peak sampled %s with descendants",
		formatBytes(r.FirstBytes), formatBytes(r.LastBytes), grew, formatBytes(r.TreePeakBytes))
}

func (r *startupReport) writeTable(w io.Writer) {
	line(w, "target", "%s", describeTarget(r.Target, 1))
	if r.Server != nil {
		line(w, "server", "%s %s, protocol %s", r.Server.Name, r.Server.Version, r.Server.ProtocolVersion)
	}
	t := r.StartupMS
	line(w, "startup", "min %s  median %s  max %s over %s, to %d tools in %s",
		formatMicros(t.Min*1e3), formatMicros(t.Median*1e3), formatMicros(t.Max*1e3), plural(r.Runs, "run"),
		r.Tools, plural(r.Pages, "page"))
	for _, n := range r.Notes {
		line(w, "note", "%s", n)
	}
}

func describeTarget(t targetInfo, sessions int) string {
	if t.Transport == "stdio" {
		return fmt.Sprintf("stdio: %s (%s)", quoteCommand(t.Command), plural(sessions, "process"))
	}
	return "streamable-http: " + t.URL
}

// lines describes the errors, one kind a line, with an example message.
func (e errorCounts) lines() []string {
	var out []string
	example := func(key string) string {
		if msg := e.Examples[key]; msg != "" {
			return fmt.Sprintf(" (%s)", truncate(msg, 100))
		}
		return ""
	}
	codes := make([]string, 0, len(e.JSONRPC))
	for code := range e.JSONRPC {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	for _, code := range codes {
		out = append(out, fmt.Sprintf("JSON-RPC %s: %d%s", code, e.JSONRPC[code], example("jsonrpc "+code)))
	}
	for _, kind := range []struct {
		name, key string
		n         int64
	}{
		{"tool errors (isError)", "tool_error", e.ToolError},
		{"transport", "transport", e.Transport},
		{"timeouts", "timeout", e.Timeout},
	} {
		if kind.n > 0 {
			out = append(out, fmt.Sprintf("%s: %d%s", kind.name, kind.n, example(kind.key)))
		}
	}
	return out
}

// formatMicros writes a duration given in microseconds with three or
// four significant digits and a unit to suit it.
func formatMicros(us float64) string {
	switch {
	case us < 1:
		return fmt.Sprintf("%.0fns", us*1e3)
	case us < 1e3:
		return fmt.Sprintf("%.1fµs", us)
	case us < 1e6:
		return fmt.Sprintf("%.2fms", us/1e3)
	default:
		return fmt.Sprintf("%.3fs", us/1e6)
	}
}

func formatBytes(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "s") {
		return fmt.Sprintf("%d %ses", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// truncate shortens s to n runes.
func truncate(s string, n int) string {
	runes := []rune(s)
	if len(runes) <= n {
		return s
	}
	return string(runes[:n]) + "…"
}
