package main

import (
	"fmt"
	"strconv"
	"strings"
)

// renderBlocks writes every generated block of BENCHMARKS.md.
func renderBlocks(res *results, goBench string) map[string]string {
	return map[string]string{
		"environment": renderEnvironment(res),
		"summary":     renderSummary(headlineFigures(res)),
		"latency":     renderLatency(res.Latency, "one stdio session"),
		"throughput":  renderThroughput(res.Throughput, "one stdio session") + "\n" + renderThroughput(res.EchoThroughput, "one stdio session"),
		"http-front":  renderHTTPFront(res.HTTPFront),
		"in-flight":   renderInFlight(res.InFlight),
		"growth":      renderGrowth(res.Growth, res.HTTPFront),
		"peers":       renderPeers(res.Peers),
		"http":        renderHTTP(res.HTTP),
		"startup":     renderStartup(res.Startup),
		"own-rss":     renderOwnRSS(res.OwnRSS),
		"catalog":     renderCatalog(res.Catalog),
		"go":          renderGoBench(goBench),
		"commands":    renderCommands(res.Commands),
		"problems":    renderProblems(res.Problems),
	}
}

// table writes a markdown table.
func table(header []string, rows [][]string) string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(header, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat(" --- |", len(header)) + "\n")
	for _, row := range rows {
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	return b.String()
}

func notRun(what string) string {
	return fmt.Sprintf("_%s: not measured in this run; see Problems below._\n", what)
}

func renderEnvironment(res *results) string {
	e := res.Env
	kind := "full run"
	if res.Quick {
		kind = "quick run (`bench/run --quick`): short measurements, for checking that everything runs, not for reading"
	}
	took := ""
	if e.Seconds > 0 {
		took = fmt.Sprintf(", which took %dm%02ds", e.Seconds/60, e.Seconds%60)
	}
	lines := []string{
		fmt.Sprintf("- Measured %s at commit %s, %s%s.", e.Date, e.Commit, kind, took),
		fmt.Sprintf("- Machine: %s, %d cores (shared with other work), Linux %s; %s.", e.CPU, e.Cores, e.Kernel, e.GoVersion),
		fmt.Sprintf("- Load average (1, 5, 15 min) before the run: %s; after: %s.", e.LoadBefore, e.LoadAfter),
	}
	if busy(e.LoadBefore, e.Cores) || busy(e.LoadAfter, e.Cores) {
		lines = append(lines, "- **Other work kept the machine busier than its cores during this run**: "+
			"both columns are slower than on a quiet machine, and the comparisons between them noisier.")
	}
	return strings.Join(lines, "\n") + "\n"
}

// busy tells whether a "1 5 15" load average line shows more than one
// runnable task per core over the last minute.
func busy(load string, cores int) bool {
	fields := strings.Fields(load)
	if len(fields) == 0 || cores == 0 {
		return false
	}
	last, err := strconv.ParseFloat(fields[0], 64)
	return err == nil && last > float64(cores)
}

func renderSummary(figures []figure) string {
	rows := make([][]string, len(figures))
	for i, f := range figures {
		result := f.Result
		if strings.HasPrefix(result, "missed") {
			// plugboard's miss in bold; what follows (the floor's) not.
			miss, rest, _ := strings.Cut(result, "; ")
			result = "**" + miss + "**"
			if rest != "" {
				result += "; " + rest
			}
		}
		rows[i] = []string{f.Name, f.Plugboard, orDash(f.Direct), orDash(f.Floor), f.Target, result}
	}
	return table([]string{"figure", "plugboard", "direct", "floor", "target", "result"}, rows)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func renderLatency(l *latencyResults, how string) string {
	if l == nil || len(l.Rounds) == 0 {
		return notRun("Added latency")
	}
	_, _, relayed := relayMedians(l.Rounds, p50)
	frames := framesRelayed(l.Rounds)
	_, _, framed := relayMedians(frames, p50)
	var rows [][]string
	for i, r := range l.Rounds {
		rows = append(rows, []string{
			fmt.Sprint(i + 1),
			percentiles(r.Direct), percentiles(r.Plugboard),
			fmt.Sprintf("+%s / +%s / +%s", formatMicros(r.Plugboard.P50-r.Direct.P50), formatMicros(r.Plugboard.P90-r.Direct.P90),
				formatMicros(r.Plugboard.P99-r.Direct.P99)),
			fmt.Sprintf("%.0f / %.0f", r.Direct.Throughput, r.Plugboard.Throughput),
			cpuPair(r),
		})
		if relayed {
			rows[i] = append(rows[i], relaySummary(r.Relay))
		}
		if framed {
			rows[i] = append(rows[i], relaySummary(r.FrameRelay))
		}
	}
	d50, p50v, a50 := roundMedians(l.Rounds, p50)
	d90, p90v, a90 := roundMedians(l.Rounds, p90)
	d99, p99v, a99 := roundMedians(l.Rounds, p99)
	dt, pt, _ := roundMedians(l.Rounds, throughput)
	rows = append(rows, []string{"**median**",
		fmt.Sprintf("%s / %s / %s", formatMicros(d50), formatMicros(d90), formatMicros(d99)),
		fmt.Sprintf("%s / %s / %s", formatMicros(p50v), formatMicros(p90v), formatMicros(p99v)),
		fmt.Sprintf("+%s / +%s / +%s", formatMicros(a50), formatMicros(a90), formatMicros(a99)),
		fmt.Sprintf("%.0f / %.0f", dt, pt),
		cpuMedians(l.Rounds),
	})
	header := []string{"round", "direct p50 / p90 / p99", "plugboard p50 / p90 / p99", "added", "calls/s direct / plugboard",
		"CPU per call direct / plugboard"}
	relayNote := ""
	if relayed {
		rows[len(rows)-1] = append(rows[len(rows)-1], relayMedianSummary(l.Rounds))
		header = append(header, "linerelay p50 / p99 (added); CPU per call")
		relayNote = " Each round then runs the same through linerelay, a process that only copies lines (see Method): the floor of a proxy hop."
	}
	if framed {
		rows[len(rows)-1] = append(rows[len(rows)-1], relayMedianSummary(frames))
		header = append(header, "linerelay --namespace p50 / p99 (added); CPU per call")
		relayNote += " And through linerelay --namespace, which reads every frame as a proxy in front of several servers must: the floor of such a proxy."
	}
	return fmt.Sprintf("%s of %.0f s each way, concurrency 1, %s; the direct and plugboard runs of a round "+
		"follow each other, and the added latency is the median of the rounds' differences. CPU is the server process's "+
		"user and system time per call over the measuring time (plugboard's own, without its servers).%s\n\n",
		plural(len(l.Rounds), "round"), l.Seconds, how, relayNote) +
		table(header, rows)
}

// relayMedianSummary writes the median over rounds of linerelay's p50
// and p99, what each added to direct, and its processor time per call.
func relayMedianSummary(rounds []pair) string {
	r50, a50, _ := relayMedians(rounds, p50)
	r99, a99, _ := relayMedians(rounds, p99)
	rc, _, _ := relayMedians(rounds, cpuPerCall)
	return fmt.Sprintf("%s (+%s) / %s (+%s); %s",
		formatMicros(r50), formatMicros(a50), formatMicros(r99), formatMicros(a99), formatMicros(rc))
}

// relaySummary writes a linerelay run's p50 / p99 and its processor time
// per call.
func relaySummary(s *latencySample) string {
	if s == nil {
		return "—"
	}
	return fmt.Sprintf("%s / %s; %s", formatMicros(s.P50), formatMicros(s.P99), formatMicros(s.CPUPerCallUS))
}

// cpuPair writes a round's processor time per call, direct / plugboard.
func cpuPair(r pair) string {
	if r.Plugboard.CPUPerCallUS == 0 {
		return "—"
	}
	return fmt.Sprintf("%s / %s", formatMicros(r.Direct.CPUPerCallUS), formatMicros(r.Plugboard.CPUPerCallUS))
}

// cpuMedians writes the rounds' median processor time per call.
func cpuMedians(rounds []pair) string {
	d, p, _ := roundMedians(rounds, cpuPerCall)
	return cpuPair(pair{Direct: latencySample{CPUPerCallUS: d}, Plugboard: latencySample{CPUPerCallUS: p}})
}

func percentiles(s latencySample) string {
	return fmt.Sprintf("%s / %s / %s", formatMicros(s.P50), formatMicros(s.P90), formatMicros(s.P99))
}

func renderThroughput(t *throughputResults, how string) string {
	if t == nil || len(t.Levels) == 0 {
		return notRun("Throughput")
	}
	relayed, framed := false, false
	for _, level := range t.Levels {
		_, ok := relayRatio(level.Rounds, throughput)
		relayed = relayed || ok
		_, ok = relayRatio(framesRelayed(level.Rounds), throughput)
		framed = framed || ok
	}
	var rows [][]string
	for _, level := range t.Levels {
		if len(level.Rounds) == 0 {
			continue
		}
		d, p, _ := roundMedians(level.Rounds, throughput)
		dp99, pp99, _ := roundMedians(level.Rounds, p99)
		rows = append(rows, []string{
			fmt.Sprint(level.Concurrency),
			formatRate(d), formatRate(p),
			formatPercent(100 * roundRatio(level.Rounds, throughput)),
			fmt.Sprintf("%s / %s", formatMicros(dp99), formatMicros(pp99)),
			cpuMedians(level.Rounds),
		})
		if t.Tool != "echo" {
			rows[len(rows)-1] = append(rows[len(rows)-1], formatRate(float64(level.Concurrency)*1000/float64(t.SleepMS)))
		}
		if relayed {
			rows[len(rows)-1] = append(rows[len(rows)-1], relayKept(level.Rounds))
		}
		if framed {
			rows[len(rows)-1] = append(rows[len(rows)-1], relayKept(framesRelayed(level.Rounds)))
		}
	}
	rounds := 0
	if len(t.Levels) > 0 {
		rounds = len(t.Levels[0].Rounds)
	}
	header := []string{"concurrency", "direct", "plugboard", "plugboard / direct", "p99 direct / plugboard", "CPU per call direct / plugboard"}
	call := fmt.Sprintf("Tool `sleep` with `{\"ms\":%d}`", t.SleepMS)
	if t.Tool == "echo" {
		call = "Tool `echo`, each caller calling again as soon as answered"
	} else {
		header = append(header, "ideal (C / sleep)")
	}
	if relayed {
		header = append(header, "linerelay / direct; its CPU per call")
	}
	if framed {
		header = append(header, "linerelay --namespace / direct; its CPU per call")
	}
	out := fmt.Sprintf("%s, %s, %s of %.0f s each way per concurrency; medians over rounds.\n\n", call, how, plural(rounds, "round"), t.Seconds) +
		table(header, rows)
	for _, level := range t.Levels {
		out += busyRelaySentence(level)
	}
	return out
}

// relayKept writes the median over rounds of linerelay's throughput over
// direct's and its processor time per call; a dash where not measured.
func relayKept(rounds []pair) string {
	ratio, ok := relayRatio(rounds, throughput)
	if !ok {
		return "—"
	}
	rc, _, _ := relayMedians(rounds, cpuPerCall)
	return fmt.Sprintf("%s; %s", formatPercent(100*ratio), formatMicros(rc))
}

// busyRelaySentence says what linerelay kept of direct at a level when
// made to spend plugboard's processor time per call, beside what
// plugboard kept; nothing where that was not measured.
func busyRelaySentence(level throughputLevel) string {
	b := level.BusyRelay
	if b == nil {
		return ""
	}
	kept, ok := relayRatio(b.Rounds, throughput)
	if !ok {
		return ""
	}
	relayCPU, _, _ := relayMedians(b.Rounds, cpuPerCall)
	_, plugboardCPU, _ := roundMedians(level.Rounds, cpuPerCall)
	over := "median of " + plural(len(b.Rounds), "round")
	if len(b.Rounds) == 1 {
		over = "1 round"
	}
	return fmt.Sprintf("\nAt %d in flight, linerelay made to burn %.1f µs of CPU on each line each way "+
		"(to bring its CPU per call to plugboard's: it spent %s, plugboard %s) kept %s of direct (%s), where plugboard kept %s.\n",
		level.Concurrency, b.BusyUS, formatMicros(relayCPU), formatMicros(plugboardCPU), formatPercent(100*kept), over,
		formatPercent(100*roundRatio(level.Rounds, throughput)))
}

func renderHTTP(h *httpResults) string {
	if h == nil {
		return notRun("Streamable HTTP sessions")
	}
	mem := func(m idleMemory) []string {
		return []string{formatMiB(float64(m.BeforeBytes)), formatMiB(float64(m.OpenBytes)), formatKiB(m.perSession(h.Sessions)),
			fmt.Sprintf("%.2f s", m.OpenSec)}
	}
	idle := table([]string{"server", "RSS before", fmt.Sprintf("RSS with %d sessions open", h.Sessions), "per session", "time to open them"},
		[][]string{
			append([]string{"fixture, directly"}, mem(h.IdleDirect)...),
			append([]string{"plugboard serve"}, mem(h.IdlePlugboard)...),
		})
	var paced [][]string
	for i, r := range h.Paced {
		paced = append(paced, []string{fmt.Sprint(i + 1), percentiles(r.Direct), percentiles(r.Plugboard)})
	}
	if len(h.Paced) > 0 {
		d50, p50v, _ := roundMedians(h.Paced, p50)
		d90, p90v, _ := roundMedians(h.Paced, p90)
		d99, p99v, _ := roundMedians(h.Paced, p99)
		paced = append(paced, []string{"**median**",
			fmt.Sprintf("%s / %s / %s", formatMicros(d50), formatMicros(d90), formatMicros(d99)),
			fmt.Sprintf("%s / %s / %s", formatMicros(p50v), formatMicros(p90v), formatMicros(p99v))})
	}
	load := func(name string, s latencySample) []string {
		return []string{name, formatRate(s.Throughput), formatMicros(s.P50), formatMicros(s.P90), formatMicros(s.P99), formatMicros(s.P999)}
	}
	flat := table([]string{"flat out", "calls/s", "p50", "p90", "p99", "p99.9"}, [][]string{
		load("direct", h.Saturated.Direct),
		load("plugboard", h.Saturated.Plugboard),
	})
	return fmt.Sprintf("%d sessions, one caller each. Paced to %.0f calls/s in all, %s of %.0f s each way:\n\n",
		h.Sessions, h.Rate, plural(len(h.Paced), "round"), h.Seconds) +
		table([]string{"round", "direct p50 / p90 / p99", "plugboard p50 / p90 / p99"}, paced) +
		fmt.Sprintf("\nFlat out, every session calling again as soon as it is answered, %.0f s each way:\n\n", h.Seconds) + flat +
		fmt.Sprintf("\nMemory, each server fresh, %d sessions opened and held idle:\n\n", h.Sessions) + idle
}

func renderStartup(s *startupResults) string {
	if s == nil {
		return notRun("Cold start")
	}
	rows := [][]string{{"the slowest fixture, directly", "1", fmt.Sprint(s.Direct.Tools),
		formatMillis(s.Direct.MedianMS), fmt.Sprintf("%s – %s", formatMillis(s.Direct.MinMS), formatMillis(s.Direct.MaxMS)), "1.00×"}}
	row := func(target string, size startupSample) []string {
		if size.MedianMS == 0 {
			return []string{target, fmt.Sprint(size.Servers), "—", "not measured (see Problems)", "—", "—"}
		}
		return []string{target, fmt.Sprint(size.Servers), fmt.Sprint(size.Tools), formatMillis(size.MedianMS),
			fmt.Sprintf("%s – %s", formatMillis(size.MinMS), formatMillis(size.MaxMS)),
			formatRatio(size.MedianMS / s.Direct.MedianMS)}
	}
	for i, size := range s.Sizes {
		rows = append(rows, row("plugboard", size))
		if i < len(s.AtOnce) && size.Servers > 1 {
			rows = append(rows, row("the same fixtures in order, without plugboard (floor)", s.AtOnce[i]))
		}
	}
	return fmt.Sprintf("Every fixture sleeps %d ms before it reads stdin, the last one in each configuration %d ms; %d starts each. "+
		"The floor rows start the same fixtures from the harness, one exec after another in the configuration's order, each then "+
		"through its handshake and every list plugboard asks a server for at start (tools, prompts, resources, templates) in a "+
		"goroutine of its own, and stop at the last one's answer: what starting as many processes costs on this machine without "+
		"plugboard, for a starter that does not know which server is slow. plugboard remembers how long each server took to start "+
		"and starts the slowest first: its first start of a configuration learns that, the next ones (as a desktop client's "+
		"restarts) use it.\n\n",
		s.DelayMS, s.SlowDelayMS, s.Runs) +
		table([]string{"target", "servers", "tools listed", "median", "min – max", "/ slowest alone"}, rows)
}

func renderOwnRSS(o *ownRSSResults) string {
	if o == nil {
		return notRun("plugboard's own memory")
	}
	rows := [][]string{
		{fmt.Sprintf("plugboard alone, %d servers up and idle, %d tools in its catalog", o.Servers, o.Tools), formatMiB(float64(o.PlugboardBytes))},
		{"… of which anonymous memory (heap, stacks)", formatMiB(float64(o.AnonBytes))},
		{"… of which pages of the executable and other files", formatMiB(float64(o.FileBytes))},
	}
	if o.OneServerBytes > 0 && o.Servers > 1 {
		rows = append(rows,
			[]string{"plugboard alone, 1 server", fmt.Sprintf("%s (%s anonymous)", formatMiB(float64(o.OneServerBytes)), formatMiB(float64(o.OneServerAnonBytes)))},
			[]string{"what each further server added", formatKiB(float64(o.PlugboardBytes-o.OneServerBytes) / float64(o.Servers-1))})
	}
	rows = append(rows,
		[]string{fmt.Sprintf("plugboard and its servers (%d processes)", o.Processes), formatMiB(float64(o.TreeBytes))},
		[]string{"one fixture alone, idle, for scale", formatMiB(float64(o.FixtureBytes))})
	return table([]string{"process", "RSS"}, rows)
}

func renderCatalog(c *catalogResults) string {
	if c == nil {
		return notRun("tools/list from the catalog")
	}
	row := func(name string, s latencySample, tools, pages int) []string {
		return []string{name, fmt.Sprintf("%d in %d pages", tools, pages), formatMicros(s.P50), formatMicros(s.P90), formatMicros(s.P99),
			fmt.Sprintf("%.0f", s.Throughput)}
	}
	return fmt.Sprintf("Whole listings (every page) at concurrency 1 over stdio, %.0f s each.\n\n", c.Seconds) +
		table([]string{"target", "tools", "p50", "p90", "p99", "listings/s"}, [][]string{
			row("one fixture, directly", c.Listing.Direct, c.DirectTools, c.DirectPages),
			row(fmt.Sprintf("plugboard, %d fixtures", c.Servers), c.Listing.Plugboard, c.PlugboardTools, c.PlugboardPages),
		})
}

func renderGoBench(text string) string {
	if strings.TrimSpace(text) == "" {
		return "_The Go benchmarks did not run._\n"
	}
	out := parseGoBench(text)
	var b strings.Builder
	if len(out.Benchmarks) > 0 {
		var rows [][]string
		for _, bm := range out.Benchmarks {
			rows = append(rows, []string{bm.Package, bm.Name, formatNs(bm.NsPerOp), perOp(bm.BytesPerOp), perOp(bm.AllocsPerOp)})
		}
		b.WriteString(table([]string{"package", "benchmark", "ns/op", "B/op", "allocs/op"}, rows))
	}
	if len(out.Failures) > 0 {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString("`go test` failed:\n\n```\n" + strings.Join(out.Failures, "\n") + "\n```\n")
	}
	if b.Len() == 0 {
		b.WriteString("_The Go benchmarks printed no results._\n")
	}
	return b.String()
}

func formatNs(ns float64) string {
	if ns >= 100 {
		return fmt.Sprintf("%.0f", ns)
	}
	return fmt.Sprintf("%.1f", ns)
}

func perOp(v float64) string {
	if v < 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f", v)
}

func renderCommands(commands []string) string {
	if len(commands) == 0 {
		return "_No command ran._\n"
	}
	return "```sh\n" + strings.Join(commands, "\n") + "\n```\n"
}

func renderProblems(problems []string) string {
	if len(problems) == 0 {
		return "None: every scenario ran, and every call succeeded.\n"
	}
	var b strings.Builder
	for _, p := range problems {
		b.WriteString("- " + strings.ReplaceAll(strings.TrimSpace(p), "\n", " ") + "\n")
	}
	return b.String()
}
