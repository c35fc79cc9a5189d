package main

import (
	"encoding/json"
	"reflect"
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

func TestFloorTooSaysOnlyAFloorsMissOfAMissedTarget(t *testing.T) {
	missed := figure{}.check(targetThroughput, 90)
	if got := missed.floorToo(targetThroughput, 93.1).Result; got != "missed by 5.0 points; the floor misses it too, by 1.9 points" {
		t.Errorf("floor missing too: %q", got)
	}
	if got := missed.floorToo(targetThroughput, 96).Result; got != "missed by 5.0 points" {
		t.Errorf("floor meeting the target: %q", got)
	}
	met := figure{}.check(targetThroughput, 96)
	if got := met.floorToo(targetThroughput, 90).Result; got != "met" {
		t.Errorf("a met target with a floor that misses: %q", got)
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
		"Throughput, sleep 10 ms, concurrency 256":                          "missed by 20.0 points; the floor misses it too, by 5.0 points",
		"Streamable HTTP, RSS per idle session (1000 open)":                 "met",
		"Cold start to a complete tools/list, 1 server":                     "met",
		"Cold start to a complete tools/list, 50 servers":                   "missed by 1.13×; the floor misses it too, by 0.80×",
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

// busyLevel is concurrency 256 with linerelay made busy after its rounds.
func busyLevel() throughputLevel {
	round := func(plugboard, plugboardCPU float64) pair {
		return pair{Direct: latencySample{Throughput: 20000, Calls: 60000},
			Plugboard: latencySample{Throughput: plugboard, CPUPerCallUS: plugboardCPU, Calls: 51000},
			Relay:     &latencySample{Throughput: 19000, CPUPerCallUS: 10, Calls: 57000}}
	}
	busy := func(relay, relayCPU float64) pair {
		return pair{Direct: latencySample{Throughput: 20000, Calls: 60000},
			Relay: &latencySample{Throughput: relay, CPUPerCallUS: relayCPU, Calls: 51000}}
	}
	return throughputLevel{Concurrency: 256,
		Rounds: []pair{round(17200, 25), round(17100, 26), round(17300, 24)},
		BusyRelay: &busyRelayResults{BusyUS: 7.5,
			Rounds: []pair{busy(17240, 24), busy(17000, 23), busy(17400, 25)}}}
}

func TestBusyRelayIsSaidBelowTheTable(t *testing.T) {
	level := busyLevel()
	with := renderThroughput(&throughputResults{SleepMS: 10, Seconds: 3, Levels: []throughputLevel{level}}, "one stdio session")
	want := "\nAt 256 in flight, linerelay made to burn 7.5 µs of CPU on each line each way " +
		"(to bring its CPU per call to plugboard's: it spent 24 µs, plugboard 25 µs) " +
		"kept 86.2% of direct (median of 3 rounds), where plugboard kept 86.0%.\n"
	if !strings.HasSuffix(with, want) {
		t.Errorf("throughput ends:\n%s\nwant it to end:\n%s", with, want)
	}
	level.BusyRelay = nil
	without := renderThroughput(&throughputResults{SleepMS: 10, Seconds: 3, Levels: []throughputLevel{level}}, "one stdio session")
	if without != strings.TrimSuffix(with, want) {
		t.Errorf("without linerelay made busy, the table changed:\n%s\nwas:\n%s", without, with)
	}

	level = busyLevel()
	level.BusyRelay.Rounds = level.BusyRelay.Rounds[:1]
	one := renderThroughput(&throughputResults{SleepMS: 10, Seconds: 3, Levels: []throughputLevel{level}}, "one stdio session")
	if !strings.Contains(one, "kept 86.2% of direct (1 round), where") {
		t.Errorf("one round not said as such:\n%s", one)
	}
	for i := range level.BusyRelay.Rounds {
		level.BusyRelay.Rounds[i].Relay.Calls = 0
	}
	if none := renderThroughput(&throughputResults{SleepMS: 10, Seconds: 3, Levels: []throughputLevel{level}}, "one stdio session"); none != without {
		t.Errorf("linerelay made busy answered no call, and yet:\n%s", none)
	}
}

// Results written before linerelay was made busy render as they did.
func TestOldResultsSayNothingOfBusyRelay(t *testing.T) {
	old := `{"sleep_ms":10,"seconds":3,"levels":[{"concurrency":256,"rounds":[` +
		`{"direct":{"calls_per_sec":20000,"calls":60000},"plugboard":{"calls_per_sec":17200,"calls":51000,"cpu_per_call_us":25},` +
		`"relay":{"calls_per_sec":19000,"calls":57000,"cpu_per_call_us":10}}]}]}`
	var decoded throughputResults
	if err := json.Unmarshal([]byte(old), &decoded); err != nil {
		t.Fatal(err)
	}
	if decoded.Levels[0].BusyRelay != nil {
		t.Fatalf("old results decoded with linerelay made busy: %+v", decoded.Levels[0].BusyRelay)
	}
	got := renderThroughput(&decoded, "one stdio session")
	if strings.Contains(got, "made to burn") || !strings.HasSuffix(got, "| 256 | 20000 calls/s | 17200 calls/s | 86.0% |"+
		" 0 µs / 0 µs | 0 µs / 25 µs | 25600 calls/s | 95.0%; 10 µs |\n") {
		t.Errorf("old results render as:\n%s", got)
	}
	if strings.Contains(renderBlocks(sampleResults(), "")["throughput"], "made to burn") {
		t.Error("sample results, without linerelay made busy, say it was")
	}
}

func TestBusyRelayRoundsLeavePlugboardOut(t *testing.T) {
	level := busyLevel()
	data, err := json.Marshal(level)
	if err != nil {
		t.Fatal(err)
	}
	var back throughputLevel
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, level) {
		t.Errorf("round trip changed the level:\n%+v\nwas:\n%+v", back, level)
	}
	busy, _ := json.Marshal(level.BusyRelay)
	if !strings.Contains(string(busy), `"busy_us":7.5`) || strings.Contains(string(busy), "plugboard") {
		t.Errorf("linerelay made busy written as %s", busy)
	}
}

func TestFrameRelayHasItsColumns(t *testing.T) {
	level := busyLevel()
	level.BusyRelay = nil
	for i := range level.Rounds {
		level.Rounds[i].FrameRelay = &latencySample{Throughput: 18000 + 100*float64(i), CPUPerCallUS: 14, P50: 2000, P99: 4000, Calls: 54000}
	}
	got := renderThroughput(&throughputResults{SleepMS: 10, Seconds: 3, Levels: []throughputLevel{level}}, "one stdio session")
	if !strings.Contains(got, "| linerelay / direct; its CPU per call | linerelay --namespace / direct; its CPU per call |") ||
		!strings.Contains(got, "| 95.0%; 10 µs | 90.5%; 14 µs |") {
		t.Errorf("throughput without linerelay --namespace's column:\n%s", got)
	}
	lat := renderLatency(&latencyResults{Seconds: 5, Rounds: level.Rounds}, "one stdio session")
	if !strings.Contains(lat, "linerelay --namespace p50 / p99 (added); CPU per call |") || !strings.Contains(lat, "; 14 µs |") ||
		!strings.Contains(lat, "reads every frame") {
		t.Errorf("latency without linerelay --namespace's column:\n%s", lat)
	}
	for i := range level.Rounds {
		level.Rounds[i].FrameRelay = nil
	}
	if got := renderThroughput(&throughputResults{SleepMS: 10, Seconds: 3, Levels: []throughputLevel{level}}, "one stdio session"); strings.Contains(got, "--namespace") {
		t.Errorf("a column for linerelay --namespace, not run:\n%s", got)
	}
}
