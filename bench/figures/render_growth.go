package main

import (
	"fmt"
	"strings"
)

func renderHTTPFront(h *httpFrontResults) string {
	if h == nil {
		return notRun("plugboard serve against the fixture's own Streamable HTTP")
	}
	how := "one Streamable HTTP session"
	var parts []string
	if h.Latency != nil && len(h.Latency.Rounds) > 0 {
		parts = append(parts, renderLatency(h.Latency, how))
	}
	if h.Echo != nil {
		parts = append(parts, renderThroughput(h.Echo, how))
	}
	if h.Sleep != nil {
		parts = append(parts, renderThroughput(h.Sleep, how))
	}
	if len(parts) == 0 {
		return notRun("plugboard serve against the fixture's own Streamable HTTP")
	}
	return strings.Join(parts, "\n")
}

func renderInFlight(m *inFlightResults) string {
	if m == nil || m.PeakBytes == 0 {
		return notRun("Memory per call in flight")
	}
	return fmt.Sprintf("%d callers on one stdio session each calling `sleep` with `{\"ms\":%d}` without pause, so that %d calls "+
		"are in flight at all times (%d answered in all):\n\n", m.Calls, m.SleepMS, m.Calls, m.OK) +
		table([]string{"plugboard's RSS as the calls began", "its peak (VmHWM)", "per call in flight",
			fmt.Sprintf("bound for a session at its cap of %d", maxInflightPerSession)},
			[][]string{{formatMiB(float64(m.BeforeBytes)), formatMiB(float64(m.PeakBytes)), formatKiB(m.perCall()),
				formatMiB(m.perCall() * maxInflightPerSession)}})
}

// growthRow is one row of a "how cost grows" table: the size, the
// sample's p50, what it adds to direct's, its p99, CPU per call and RSS.
func growthRow(size int, sample, direct latencySample, rss int64) []string {
	return []string{fmt.Sprint(size), formatMicros(sample.P50), "+" + formatMicros(sample.P50-direct.P50),
		formatMicros(sample.P99), formatCPU(sample.CPUPerCallUS), formatMiB(float64(rss))}
}

// renderGrowth writes the "how cost grows" tables: the sessions' part
// comes from the HTTP front's results.
func renderGrowth(g *growthResults, h *httpFrontResults) string {
	var b strings.Builder
	if g != nil && len(g.Servers) > 0 {
		var rows [][]string
		for _, row := range g.Servers {
			rows = append(rows, growthRow(row.Servers, row.Sample, g.Direct, row.RSSBytes))
		}
		fmt.Fprintf(&b, "Servers configured, echo called at concurrency 1 over stdio on the first of them, %.0f s each; "+
			"added is counted from the fixture called directly in the same run (p50 %s, CPU %s per call):\n\n",
			g.Seconds, formatMicros(g.Direct.P50), formatCPU(g.Direct.CPUPerCallUS))
		b.WriteString(table([]string{"servers", "p50", "added p50", "p99", "plugboard CPU per call", "plugboard RSS"}, rows))
	} else {
		b.WriteString(notRun("Cost as servers are added"))
	}
	b.WriteString("\n")
	if h != nil && len(h.Growth) > 0 {
		var rows [][]string
		for _, row := range h.Growth {
			rows = append(rows, growthRow(row.Sessions, row.Sample, h.Direct, row.RSSBytes))
		}
		fmt.Fprintf(&b, "Streamable HTTP sessions open on plugboard serve, one of them calling echo at concurrency 1, the others idle; "+
			"added is counted from one session on the fixture's own HTTP in the same run (p50 %s, CPU %s per call):\n\n",
			formatMicros(h.Direct.P50), formatCPU(h.Direct.CPUPerCallUS))
		b.WriteString(table([]string{"sessions open", "p50", "added p50", "p99", "plugboard CPU per call", "plugboard RSS"}, rows))
	} else {
		b.WriteString(notRun("Cost as sessions are opened"))
	}
	b.WriteString("\n")
	if g != nil && len(g.Catalogs) > 0 {
		first := g.Catalogs[0]
		var rows [][]string
		for i, row := range g.Catalogs {
			perTool := "—"
			if i > 0 && row.Tools > first.Tools {
				perTool = fmt.Sprintf("%.0f B", float64(row.IdleBytes-first.IdleBytes)/float64(row.Tools-first.Tools))
			}
			rows = append(rows, []string{fmt.Sprint(row.Tools), formatMicros(row.Listing.Plugboard.P50), formatMicros(row.Listing.Direct.P50),
				formatMiB(float64(row.IdleBytes)), perTool, formatMillis(row.RelistMS), formatMillis(row.DirectRelistMS)})
		}
		fmt.Fprintf(&b, "Catalogs of generated tools spread over %d fixtures, against one fixture listing as many itself in pages of 1000. "+
			"Memory per tool is the idle RSS over that of the smallest catalog; the time to list anew runs from a call that changes "+
			"one server's tools to the end of the first whole listing that shows it, listings following each other (so it is exact "+
			"to one listing).\n\n", first.Servers)
		b.WriteString(table([]string{"tools", "tools/list p50, plugboard", "directly", "plugboard RSS, idle", "memory per tool",
			"listed anew after a change, plugboard", "directly"}, rows))
	} else {
		b.WriteString(notRun("Cost as the catalog grows"))
	}
	return b.String()
}

func formatCPU(us float64) string {
	if us == 0 {
		return "—"
	}
	return formatMicros(us)
}

func renderPeers(p *peerResults) string {
	if p == nil || len(p.Rows) == 0 {
		return notRun("Peers")
	}
	var rows [][]string
	for _, row := range p.Rows {
		if row.Problem != "" {
			rows = append(rows, []string{row.Name, row.Version, "—", "—", "—", "—", "—", row.Problem})
			continue
		}
		rows = append(rows, []string{row.Name, row.Version, formatMicros(row.Serial.P50), formatMicros(row.Serial.P99),
			formatCPU(row.Serial.CPUPerCallUS), formatRate(row.Parallel.Throughput), formatMiB(float64(row.IdleBytes)), ""})
	}
	return fmt.Sprintf("Each server with the fixture behind it over stdio (the fixture alone serves its own HTTP), one Streamable HTTP "+
		"session calling echo, %.0f s each.\n\n", p.Seconds) +
		table([]string{"server", "version", "p50, concurrency 1", "p99", "server CPU per call", "calls/s, concurrency 16", "RSS after", "problem"}, rows)
}
