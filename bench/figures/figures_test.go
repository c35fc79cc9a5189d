package main

import (
	"strings"
	"testing"
)

func TestBoundJudges(t *testing.T) {
	tests := []struct {
		b    bound
		v    float64
		want string
		met  bool
	}{
		{addedP50Bound(50), 50, "met", true},
		{addedP50Bound(50), 183, "missed by 133 µs", false},
		{addedP99Bound(200), 430, "missed by 30 µs", false},
		{targetCPUPerCall, 24, "met", true},
		{targetEchoStdio[64], 52, "missed by 3.0 points", false},
		{targetThroughput, 96.2, "met", true},
		{targetThroughput, 93.5, "missed by 1.5 points", false},
		{targetStartup, 1.5, "missed by 0.30×", false},
		{targetIdleSession, 30 * 1024, "missed by 14.0 KiB", false},
		{targetOwnRSS, 20 << 20, "met", true},
	}
	for _, tt := range tests {
		got, met := tt.b.judge(tt.v)
		if got != tt.want || met != tt.met {
			t.Errorf("%s judges %v: %q, %v; want %q, %v", tt.b, tt.v, got, met, tt.want, tt.met)
		}
	}
	if s := targetThroughput.String(); s != "≥ 95.0%" {
		t.Errorf("target reads %q", s)
	}
}

func TestMedians(t *testing.T) {
	if m := medianOf([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median of 3 = %v", m)
	}
	if m := medianOf([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("median of 4 = %v", m)
	}
	if m := medianOf(nil); m != 0 {
		t.Errorf("median of none = %v", m)
	}
	// Added latency is the median of each round's difference, not the
	// difference of the medians.
	rounds := []pair{
		{Direct: latencySample{P50: 100}, Plugboard: latencySample{P50: 300}},
		{Direct: latencySample{P50: 200}, Plugboard: latencySample{P50: 250}},
		{Direct: latencySample{P50: 150}, Plugboard: latencySample{P50: 260}},
	}
	d, p, added := roundMedians(rounds, p50)
	if d != 150 || p != 260 || added != 110 {
		t.Errorf("medians direct %v, plugboard %v, added %v; want 150, 260, 110", d, p, added)
	}
	rounds = []pair{
		{Direct: latencySample{Throughput: 100}, Plugboard: latencySample{Throughput: 90}},
		{Direct: latencySample{Throughput: 0}, Plugboard: latencySample{Throughput: 50}}, // skipped
	}
	if r := roundRatio(rounds, throughput); r != 0.9 {
		t.Errorf("ratio %v", r)
	}
}

// sampleResults is a run with every scenario measured.
func sampleResults() *results {
	return &results{
		Env:      environment{Date: "2026-01-02 03:04 UTC", Commit: "abc1234", GoVersion: "go version go1.26.8 linux/amd64", CPU: "Test CPU", Cores: 2},
		Commands: []string{"$BIN/mcp-bench --duration 5s -- $BIN/mcp-fixture --name fx"},
		Latency: &latencyResults{Seconds: 5, Rounds: []pair{
			{Direct: latencySample{P50: 80, P90: 140, P99: 220, Throughput: 9000, CPUPerCallUS: 30},
				Plugboard: latencySample{P50: 120, P90: 200, P99: 500, Throughput: 6000, CPUPerCallUS: 41},
				Relay:     &latencySample{P50: 100, P90: 170, P99: 300, Throughput: 7000, CPUPerCallUS: 20, Calls: 35000}},
		}},
		EchoThroughput: &throughputResults{Tool: "echo", Seconds: 3, Levels: []throughputLevel{
			{Concurrency: 16, Rounds: []pair{{Direct: latencySample{Throughput: 20000}, Plugboard: latencySample{Throughput: 11000}}}},
			{Concurrency: 64, Rounds: []pair{{Direct: latencySample{Throughput: 22000}, Plugboard: latencySample{Throughput: 11000}}}},
		}},
		HTTPFront: &httpFrontResults{
			Latency: &latencyResults{Seconds: 5, Rounds: []pair{
				{Direct: latencySample{P50: 150, P90: 200, P99: 400}, Plugboard: latencySample{P50: 320, P90: 400, P99: 900}},
			}},
			Echo: &throughputResults{Tool: "echo", Seconds: 3, Levels: []throughputLevel{
				{Concurrency: 16, Rounds: []pair{{Direct: latencySample{Throughput: 10000}, Plugboard: latencySample{Throughput: 8500}}}},
			}},
			Sleep: &throughputResults{Tool: "sleep", SleepMS: 10, Seconds: 3, Levels: []throughputLevel{
				{Concurrency: 256, Rounds: []pair{{Direct: latencySample{Throughput: 20000}, Plugboard: latencySample{Throughput: 19500}}}},
			}},
			Direct: latencySample{P50: 150, CPUPerCallUS: 40},
			Growth: []sessionsRow{
				{Sessions: 1, Sample: latencySample{P50: 310, P99: 800, CPUPerCallUS: 60}, RSSBytes: 20 << 20},
				{Sessions: 5000, Sample: latencySample{P50: 330, P99: 950, CPUPerCallUS: 62}, RSSBytes: 100 << 20},
			},
		},
		InFlight: &inFlightResults{Calls: 512, SleepMS: 2000, BeforeBytes: 20 << 20, PeakBytes: 20<<20 + 512*4096, OK: 1024},
		Growth: &growthResults{Seconds: 3, Direct: latencySample{P50: 80, CPUPerCallUS: 30},
			Servers: []serversRow{
				{Servers: 1, Sample: latencySample{P50: 120, P99: 500, CPUPerCallUS: 41}, RSSBytes: 21 << 20},
				{Servers: 500, Sample: latencySample{P50: 130, P99: 700, CPUPerCallUS: 45}, RSSBytes: 150 << 20},
			},
			Catalogs: []catalogRow{
				{Servers: 10, Tools: 100, Listing: pair{Direct: latencySample{P50: 900}, Plugboard: latencySample{P50: 150}},
					IdleBytes: 22 << 20, RelistMS: 12, DirectRelistMS: 3},
				{Servers: 10, Tools: 20000, Listing: pair{Direct: latencySample{P50: 90000}, Plugboard: latencySample{P50: 20000}},
					IdleBytes: 22<<20 + 19900*2048, RelistMS: 240, DirectRelistMS: 95},
			},
		},
		Peers: &peerResults{Seconds: 3, Rows: []peerRow{
			{Name: "plugboard serve", Version: "this commit", Serial: latencySample{P50: 310, P99: 800, CPUPerCallUS: 60},
				Parallel: latencySample{Throughput: 9000}, IdleBytes: 20 << 20},
			{Name: "mcp-proxy (TBXark, Go)", Version: "github.com/tbxark/mcp-proxy at 4f78891", Serial: latencySample{P50: 330, P99: 1200, CPUPerCallUS: 90},
				Parallel: latencySample{Throughput: 4000}, IdleBytes: 15 << 20},
			{Name: "other", Problem: "not built: 403 Forbidden"},
		}},
		Throughput: &throughputResults{SleepMS: 10, Seconds: 3, Levels: []throughputLevel{
			{Concurrency: 1, Rounds: []pair{{Direct: latencySample{Throughput: 95}, Plugboard: latencySample{Throughput: 93}}}},
			{Concurrency: 256, Rounds: []pair{{Direct: latencySample{Throughput: 20000}, Plugboard: latencySample{Throughput: 15000},
				Relay: &latencySample{Throughput: 18000, Calls: 54000}}}},
		}},
		HTTP: &httpResults{Sessions: 1000, Seconds: 5, Rate: 2000,
			Paced:         []pair{{Direct: latencySample{P99: 900, Calls: 10}, Plugboard: latencySample{P99: 1300, Calls: 10}}},
			Saturated:     pair{Direct: latencySample{P99: 300000, Calls: 10}, Plugboard: latencySample{P99: 150000, Calls: 10}},
			IdleDirect:    idleMemory{BeforeBytes: 8 << 20, OpenBytes: 8<<20 + 1000*50*1024},
			IdlePlugboard: idleMemory{BeforeBytes: 20 << 20, OpenBytes: 20<<20 + 1000*15*1024},
		},
		Startup: &startupResults{DelayMS: 100, SlowDelayMS: 300, Runs: 5, Direct: startupSample{Servers: 1, MedianMS: 300},
			Sizes:  []startupSample{{Servers: 1, MedianMS: 320}, {Servers: 50, MedianMS: 700}},
			AtOnce: []startupSample{{Servers: 1, MedianMS: 301}, {Servers: 50, MedianMS: 600}}},
		OwnRSS:  &ownRSSResults{Servers: 20, PlugboardBytes: 29 << 20, TreeBytes: 180 << 20, FixtureBytes: 7 << 20},
		Catalog: &catalogResults{Servers: 50, ToolsPerServer: 40, Listing: pair{Direct: latencySample{P50: 11000, Calls: 5}, Plugboard: latencySample{P50: 1500, Calls: 5}}},
	}
}

func TestHeadlineFigures(t *testing.T) {
	figures := headlineFigures(sampleResults())
	want := map[string]string{
		"Added latency per tools/call (stdio echo), p50":                    "met",
		"Added latency per tools/call (stdio echo), p99":                    "met",
		"Added latency per tools/call (Streamable HTTP echo), p50":          "missed by 20 µs",
		"Added latency per tools/call (Streamable HTTP echo), p99":          "met",
		"plugboard's own CPU per echo call (stdio, concurrency 1)":          "missed by 16 µs",
		"Throughput, echo, concurrency 16":                                  "met",
		"Throughput, echo, concurrency 64":                                  "missed by 5.0 points",
		"Throughput, echo over Streamable HTTP, concurrency 16":             "met",
		"Throughput, sleep 10 ms over Streamable HTTP, concurrency 256":     "met",
		"plugboard's memory per call in flight (512 calls of sleep, stdio)": "≤ 2.0 MiB for a full session (512 calls)",
		"Throughput, sleep 10 ms, concurrency 1":                            "met",
		"Throughput, sleep 10 ms, concurrency 256":                          "missed by 20.0 points",
		"Streamable HTTP, RSS per idle session (1000 open)":                 "met",
		"Cold start to a complete tools/list, 1 server":                     "met",
		"Cold start to a complete tools/list, 50 servers":                   "missed by 1.13×",
		"plugboard's own RSS, idle, 20 servers":                             "missed by 4.0 MiB",
		"tools/list from the catalog, 50 servers × 40 tools, p50":           "met",
		"Streamable HTTP, 1000 sessions calling echo flat out, p99":         "no target",
		"Streamable HTTP, 1000 sessions calling echo at 2000 calls/s, p99":  "no target",
	}
	got := map[string]string{}
	for _, f := range figures {
		got[f.Name] = f.Result
	}
	for name, result := range want {
		if got[name] != result {
			t.Errorf("%s: %q, want %q", name, got[name], result)
		}
	}
}

// The floors come from the same rounds: linerelay where it ran, the
// fixtures started at once for cold start; none where nothing measured one.
func TestHeadlineFloors(t *testing.T) {
	want := map[string]string{
		"Added latency per tools/call (stdio echo), p50":           "+20 µs (100 µs)",
		"Added latency per tools/call (stdio echo), p99":           "+80 µs (300 µs)",
		"Added latency per tools/call (Streamable HTTP echo), p50": "",
		"plugboard's own CPU per echo call (stdio, concurrency 1)": "20 µs (linerelay's)",
		"Throughput, sleep 10 ms, concurrency 256":                 "90.0%",
		"Throughput, sleep 10 ms, concurrency 1":                   "",
		"Cold start to a complete tools/list, 1 server":            "",
		"Cold start to a complete tools/list, 50 servers":          "2.00× (600.00 ms)",
	}
	got := map[string]string{}
	for _, f := range headlineFigures(sampleResults()) {
		got[f.Name] = f.Floor
	}
	for name, floor := range want {
		if got[name] != floor {
			t.Errorf("%s: floor %q, want %q", name, got[name], floor)
		}
	}
}

func TestFiguresOfScenariosThatDidNotRun(t *testing.T) {
	figures := headlineFigures(&results{})
	if len(figures) < 6 {
		t.Fatalf("%d figures, want one per scenario at least", len(figures))
	}
	for _, f := range figures {
		if !strings.HasPrefix(f.Result, "not measured") || f.Met {
			t.Errorf("%s: %q, met %v", f.Name, f.Result, f.Met)
		}
	}
}

func TestRenderedBlocksFitTheDocument(t *testing.T) {
	doc := ""
	for _, res := range []*results{sampleResults(), {}} {
		blocks := renderBlocks(res, "")
		if doc == "" {
			var b strings.Builder
			b.WriteString("# Benchmarks\n\nhand-written\n")
			for name := range blocks {
				b.WriteString(beginMarker + name + markerClose + "\nold\n" + endMarker + name + markerClose + "\n")
			}
			doc = b.String()
		}
		out, err := splice(doc, blocks)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out, "\nold\n") || !strings.Contains(out, "hand-written") {
			t.Errorf("document not rewritten as expected:\n%s", out)
		}
	}
	out, _ := splice(doc, renderBlocks(sampleResults(), ""))
	for _, want := range []string{"| Added latency per tools/call (stdio echo), p50 | +40 µs (120 µs) | 80 µs | +20 µs (100 µs) | ≤ 80 µs (direct p50) | met |",
		"| the same fixtures in order, without plugboard (floor) | 50 |",
		"**missed by 20.0 points**", "abc1234", "$BIN/mcp-bench --duration 5s", "The Go benchmarks did not run"} {
		if !strings.Contains(out, want) {
			t.Errorf("document lacks %q:\n%s", want, out)
		}
	}
}

func TestBusyMachineIsSaid(t *testing.T) {
	res := sampleResults()
	res.Env.LoadBefore, res.Env.LoadAfter = "1.50 2.00 2.10", "1.90 2.00 2.10"
	if got := renderEnvironment(res); strings.Contains(got, "busier") {
		t.Errorf("a machine under its cores called busy:\n%s", got)
	}
	res.Env.LoadAfter = "10.10 7.12 4.27"
	if got := renderEnvironment(res); !strings.Contains(got, "busier than its cores") {
		t.Errorf("a busy machine not said to be:\n%s", got)
	}
}
