package main

// results.json: what `figures measure` found, raw, for `figures render`
// to turn into figures and tables. Everything here is as mcp-bench
// reported it; the arithmetic (medians, differences, ratios, verdicts)
// is done when rendering.

// results is one run of every scenario.
type results struct {
	Quick bool        `json:"quick"`
	Env   environment `json:"env"`
	// Commands are the mcp-bench command lines run, in order, with the
	// binaries' directory written $BIN and the work directory $WORK.
	Commands []string `json:"commands"`
	// Problems are what went wrong: a scenario that could not run, or a
	// run that met errors. Each says which.
	Problems []string `json:"problems,omitempty"`

	Latency    *latencyResults    `json:"latency,omitempty"`
	Throughput *throughputResults `json:"throughput,omitempty"`
	HTTP       *httpResults       `json:"http,omitempty"`
	Startup    *startupResults    `json:"startup,omitempty"`
	OwnRSS     *ownRSSResults     `json:"own_rss,omitempty"`
	Catalog    *catalogResults    `json:"catalog,omitempty"`

	// EchoThroughput is tool echo flat out over stdio at each
	// concurrency: what plugboard's own work per call allows.
	EchoThroughput *throughputResults `json:"echo_throughput,omitempty"`
	// HTTPFront is plugboard serve, with a stdio fixture behind it,
	// against the same fixture serving Streamable HTTP itself.
	HTTPFront *httpFrontResults `json:"http_front,omitempty"`
	InFlight  *inFlightResults  `json:"in_flight,omitempty"`
	Growth    *growthResults    `json:"growth,omitempty"`
	// Peers are other proxies measured with the same client and fixture.
	Peers *peerResults `json:"peers,omitempty"`
}

// httpFrontResults are one session over Streamable HTTP.
type httpFrontResults struct {
	Latency *latencyResults    `json:"latency"`       // echo at concurrency 1
	Echo    *throughputResults `json:"echo"`          // echo flat out
	Sleep   *throughputResults `json:"sleep"`         // sleep, at high concurrency
	Growth  []sessionsRow      `json:"growth"`        // with more sessions open
	Direct  latencySample      `json:"growth_direct"` // the fixture's own, one session, for Growth
}

// inFlightResults are plugboard's memory with many calls of sleep in
// flight at once over one stdio session.
type inFlightResults struct {
	Calls   int `json:"calls"`
	SleepMS int `json:"sleep_ms"`
	// BeforeBytes is plugboard's VmRSS as the calls began, PeakBytes its
	// VmHWM at the end.
	BeforeBytes int64 `json:"before_bytes"`
	PeakBytes   int64 `json:"peak_bytes"`
	OK          int64 `json:"ok"`
}

// growthResults are how plugboard's cost per call grows with the work
// it holds: servers configured, HTTP sessions open, tools catalogued.
type growthResults struct {
	Seconds float64 `json:"seconds"`
	// Direct is echo at concurrency 1 over stdio straight to one fixture,
	// what Servers' added latency is counted from.
	Direct   latencySample `json:"direct"`
	Servers  []serversRow  `json:"servers"`
	Catalogs []catalogRow  `json:"catalogs"`
}

// serversRow is echo at concurrency 1 to the first of Servers fixtures.
type serversRow struct {
	Servers  int           `json:"servers"`
	Sample   latencySample `json:"sample"`
	RSSBytes int64         `json:"rss_bytes"` // plugboard's own, at the end
}

// sessionsRow is echo at concurrency 1 on one session of Sessions open.
type sessionsRow struct {
	Sessions int           `json:"sessions"`
	Sample   latencySample `json:"sample"`
	RSSBytes int64         `json:"rss_bytes"` // plugboard serve's, at the end
}

// catalogRow is a catalog of Tools tools from Servers fixtures.
type catalogRow struct {
	Servers int  `json:"servers"`
	Tools   int  `json:"tools"`
	Listing pair `json:"listing"` // whole tools/list; direct is one fixture of as many tools
	// IdleBytes is plugboard's VmRSS, idle, with the catalog listed once.
	IdleBytes int64 `json:"idle_bytes"`
	// RelistMS is the median time from a call that changes one server's
	// tools to the first whole listing that shows the change, through
	// plugboard and directly.
	RelistMS       float64 `json:"relist_ms"`
	DirectRelistMS float64 `json:"direct_relist_ms"`
}

// peerResults are other MCP proxies, built from their public sources,
// each with the fixture behind it over stdio and measured over
// Streamable HTTP like plugboard serve.
type peerResults struct {
	Seconds float64 `json:"seconds"`
	// Rows are plugboard serve, the fixture's own HTTP and each peer.
	Rows []peerRow `json:"rows"`
}

// peerRow is one HTTP server: echo at concurrency 1 and 16, its CPU and
// idle memory.
type peerRow struct {
	Name      string        `json:"name"`
	Version   string        `json:"version"`
	Serial    latencySample `json:"c1"`
	Parallel  latencySample `json:"c16"`
	IdleBytes int64         `json:"idle_bytes"`
	// Problem says why the row is empty, when it is.
	Problem string `json:"problem,omitempty"`
}

// environment describes where and when the run happened.
type environment struct {
	Date       string `json:"date"`
	Commit     string `json:"commit"`
	GoVersion  string `json:"go_version"`
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	Kernel     string `json:"kernel"`
	LoadBefore string `json:"load_before"`
	LoadAfter  string `json:"load_after"`
	Seconds    int    `json:"seconds"` // filled in by render, from bench/run's clock
}

// latencySample is one mcp-bench call run's latency summary.
type latencySample struct {
	P50        float64 `json:"p50_us"`
	P90        float64 `json:"p90_us"`
	P99        float64 `json:"p99_us"`
	P999       float64 `json:"p99_9_us"`
	Throughput float64 `json:"calls_per_sec"`
	Calls      int64   `json:"calls"`
	// CPUPerCallUS is the server process's user and system time over the
	// measuring time per successful call, in µs: the stdio target's own
	// (not its children's), or the HTTP server's.
	CPUPerCallUS float64 `json:"cpu_per_call_us,omitempty"`
}

// pair is the same workload run directly against the fixture and
// through plugboard, one after the other.
type pair struct {
	Direct latencySample `json:"direct"`
	// Plugboard is empty, and left out, where only linerelay was compared.
	Plugboard latencySample `json:"plugboard,omitzero"`
	// Relay is the same workload through linerelay, a process that only
	// copies lines: the floor of a proxy hop. Nil where not measured.
	Relay *latencySample `json:"relay,omitempty"`
	// FrameRelay is the same workload through linerelay --namespace, which
	// reads every frame as a proxy in front of several servers must: the
	// floor of such a proxy. Nil where not measured.
	FrameRelay *latencySample `json:"frame_relay,omitempty"`
}

// latencyResults are rounds of the stdio echo workload at concurrency 1.
type latencyResults struct {
	Seconds float64 `json:"seconds"` // measured per run, after the warmup
	Rounds  []pair  `json:"rounds"`
}

// throughputResults are rounds of the sleep workload at each concurrency.
type throughputResults struct {
	// Tool is "sleep", with SleepMS, or "echo" (shown as sleep when empty,
	// in results written before there was a choice).
	Tool    string            `json:"tool,omitempty"`
	SleepMS int               `json:"sleep_ms"`
	Seconds float64           `json:"seconds"`
	Levels  []throughputLevel `json:"levels"`
}

// throughputLevel is one concurrency's rounds.
type throughputLevel struct {
	Concurrency int    `json:"concurrency"`
	Rounds      []pair `json:"rounds"`
	// BusyRelay, measured after Rounds at the highest concurrency only,
	// is linerelay made to spend plugboard's extra processor time per call.
	BusyRelay *busyRelayResults `json:"busy_relay,omitempty"`
}

// busyRelayResults are rounds of the same workload directly and through
// linerelay --busy, which spends BusyUS of processor time on each line
// each way: so that its processor time per call matches plugboard's, and
// its throughput tells whether that time alone makes plugboard's.
type busyRelayResults struct {
	BusyUS float64 `json:"busy_us"`
	// Rounds hold Direct and Relay; plugboard does not run in them.
	Rounds []pair `json:"rounds"`
}

// httpResults are the Streamable HTTP scenarios with many sessions.
type httpResults struct {
	Sessions int     `json:"sessions"`
	Seconds  float64 `json:"seconds"`      // of each paced round and of the flat-out run
	Rate     float64 `json:"rate_per_sec"` // of the paced rounds
	// Saturated: every session calls as fast as it is answered.
	Saturated pair `json:"saturated"`
	// Paced: rounds in which all sessions together call at Rate.
	Paced []pair `json:"paced"`
	// Idle is the server's own memory before the sessions opened and
	// with them all open and idle.
	IdleDirect    idleMemory `json:"idle_direct"`
	IdlePlugboard idleMemory `json:"idle_plugboard"`
}

// idleMemory is a server process's VmRSS around --idle.
type idleMemory struct {
	BeforeBytes int64   `json:"before_bytes"`
	OpenBytes   int64   `json:"open_bytes"`
	OpenSec     float64 `json:"open_sec"` // to open and initialize them all
}

// startupResults are cold starts to a complete tools/list.
type startupResults struct {
	DelayMS     int             `json:"delay_ms"`      // every fixture's --startup-delay
	SlowDelayMS int             `json:"slow_delay_ms"` // the slowest one's
	Runs        int             `json:"runs"`
	Direct      startupSample   `json:"direct"` // the slowest fixture alone
	Sizes       []startupSample `json:"sizes"`  // plugboard with N fixtures
	// AtOnce are the same N fixtures started at once without plugboard,
	// each through its handshake and a complete tools/list: the floor of
	// Sizes on this machine. Parallel to Sizes.
	AtOnce []startupSample `json:"at_once,omitempty"`
}

// startupSample is one target's start-up times.
type startupSample struct {
	Servers  int       `json:"servers"`
	Tools    int       `json:"tools"`
	MedianMS float64   `json:"median_ms"`
	MinMS    float64   `json:"min_ms"`
	MaxMS    float64   `json:"max_ms"`
	RunsMS   []float64 `json:"runs_ms"`
}

// ownRSSResults are idle memory with many downstreams.
type ownRSSResults struct {
	Servers int     `json:"servers"`
	HoldSec float64 `json:"hold_sec"`
	Tools   int     `json:"tools"`
	// PlugboardBytes is plugboard's own VmRSS, of which AnonBytes are
	// anonymous (heap, stacks) and FileBytes pages of its executable;
	// TreeBytes is with its servers; FixtureBytes is one fixture's alone,
	// for scale.
	PlugboardBytes int64 `json:"plugboard_bytes"`
	AnonBytes      int64 `json:"anon_bytes"`
	FileBytes      int64 `json:"file_bytes"`
	TreeBytes      int64 `json:"tree_bytes"`
	Processes      int   `json:"processes"`
	FixtureBytes   int64 `json:"fixture_bytes"`
	// OneServerBytes and OneServerAnonBytes are plugboard's own with a
	// single server, which tells its base from what each server adds.
	OneServerBytes     int64 `json:"one_server_bytes"`
	OneServerAnonBytes int64 `json:"one_server_anon_bytes"`
}

// catalogResults are whole tools/list listings of a big catalog.
type catalogResults struct {
	Servers        int     `json:"servers"`
	ToolsPerServer int     `json:"tools_per_server"`
	Seconds        float64 `json:"seconds"`
	// DirectTools and PlugboardTools are what each listing held, in
	// DirectPages and PlugboardPages pages.
	DirectTools    int  `json:"direct_tools"`
	DirectPages    int  `json:"direct_pages"`
	PlugboardTools int  `json:"plugboard_tools"`
	PlugboardPages int  `json:"plugboard_pages"`
	Listing        pair `json:"listing"`
}
