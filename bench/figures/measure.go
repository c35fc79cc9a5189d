package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// settings size the scenarios: a full run takes a few minutes, a quick
// one well under one.
type settings struct {
	warmup time.Duration

	latencyRounds   int
	latencyDuration time.Duration

	sleepMS            int
	levels             []int
	throughputRounds   int
	throughputDuration time.Duration

	httpSessions int
	httpDuration time.Duration
	httpRate     float64
	httpRounds   int // of the paced run
	idleHold     time.Duration

	startupRuns      int
	startupSizes     []int
	startupDelay     time.Duration
	startupSlowDelay time.Duration

	rssServers int

	catalogServers  int
	catalogTools    int
	catalogDuration time.Duration

	echoLevels        []int // echo flat out, both fronts
	httpLatencyRounds int
	httpSleepLevels   []int

	inFlightCalls int
	inFlightSleep time.Duration

	growthDuration       time.Duration
	growthServers        []int
	growthSessions       []int
	growthTools          []int // in all, over growthCatalogServers
	growthCatalogServers int
	relistRuns           int

	// peersDir holds other proxies' binaries to measure alike; "" for none.
	peersDir string
	// only names the scenarios to run; nil runs them all.
	only map[string]bool
}

func newSettings(quick bool) settings {
	s := settings{
		warmup:             time.Second,
		latencyRounds:      5,
		latencyDuration:    5 * time.Second,
		sleepMS:            10,
		levels:             []int{1, 16, 64, 256},
		throughputRounds:   3,
		throughputDuration: 3 * time.Second,
		httpSessions:       1000,
		httpDuration:       4 * time.Second,
		httpRate:           2000,
		httpRounds:         3,
		idleHold:           3 * time.Second,
		startupRuns:        5,
		startupSizes:       []int{1, 5, 20, 50, 200},
		startupDelay:       100 * time.Millisecond,
		startupSlowDelay:   300 * time.Millisecond,
		rssServers:         20,
		catalogServers:     50,
		catalogTools:       40,
		catalogDuration:    5 * time.Second,

		echoLevels:        []int{16, 64},
		httpLatencyRounds: 3,
		httpSleepLevels:   []int{256},

		inFlightCalls: 512, // a session's and a server's cap
		inFlightSleep: 2 * time.Second,

		growthDuration:       2 * time.Second,
		growthServers:        []int{1, 10, 100, 500},
		growthSessions:       []int{1, 100, 5000},
		growthTools:          []int{100, 1000, 5000, 20000},
		growthCatalogServers: 10,
		relistRuns:           3,
	}
	if quick {
		s.warmup = 300 * time.Millisecond
		s.latencyRounds, s.latencyDuration = 1, time.Second
		s.throughputRounds, s.throughputDuration = 1, time.Second
		s.httpDuration, s.httpRounds, s.idleHold = time.Second, 1, time.Second
		s.startupRuns = 2
		s.catalogDuration = time.Second
		s.httpLatencyRounds = 1
		s.inFlightSleep = time.Second
		s.growthDuration, s.relistRuns = time.Second, 2
		s.growthServers = []int{1, 10, 100}
		s.growthSessions = []int{1, 5000}
		s.growthTools = []int{100, 20000}
		s.startupSizes = []int{1, 20, 200}
	}
	return s
}

// seconds writes d as mcp-bench takes it.
func seconds(d time.Duration) string { return d.String() }

// scenarioNames are the scenarios of measure, in their order, as
// --only names them.
var scenarioNames = []string{"latency", "throughput", "http", "startup", "own-rss", "catalog", "echo", "http-front", "in-flight", "growth", "peers"}

// measure runs every scenario in turn. A scenario that fails is noted in
// the results' problems and the others still run.
func measure(ctx context.Context, r *runner, s settings, quick bool) *results {
	res := &results{Quick: quick, Env: describeEnvironment(ctx)}
	res.Env.LoadBefore = loadAverage()

	builtin, err := fixtureToolCount(ctx, r)
	if err != nil {
		r.note("counting the fixture's tools: %v", err)
	}
	// A scenario that fails has said why in r.problems; the rest go on.
	for _, sc := range []struct {
		name string
		run  func()
	}{
		{"latency", func() { res.Latency, _ = measureLatency(ctx, r, s) }},
		{"throughput", func() { res.Throughput, _ = measureThroughput(ctx, r, s) }},
		{"http", func() { res.HTTP, _ = measureHTTP(ctx, r, s) }},
		{"startup", func() { res.Startup, _ = measureStartup(ctx, r, s, builtin) }},
		{"own-rss", func() { res.OwnRSS, _ = measureOwnRSS(ctx, r, s, builtin) }},
		{"catalog", func() {
			if builtin > 0 {
				res.Catalog, _ = measureCatalog(ctx, r, s, builtin)
			}
		}},
		{"echo", func() { res.EchoThroughput, _ = measureEchoThroughput(ctx, r, s) }},
		{"http-front", func() { res.HTTPFront, _ = measureHTTPFront(ctx, r, s) }},
		{"in-flight", func() { res.InFlight, _ = measureInFlight(ctx, r, s) }},
		{"growth", func() { res.Growth, _ = measureGrowth(ctx, r, s) }},
		{"peers", func() {
			if s.peersDir != "" {
				res.Peers = measurePeers(ctx, r, s, s.peersDir)
			}
		}},
	} {
		if s.only == nil || s.only[sc.name] {
			sc.run()
		}
	}

	res.Env.LoadAfter = loadAverage()
	res.Commands, res.Problems = r.commands, r.problems
	return res
}

// fixtureToolCount is how many tools the fixture lists with no flags.
func fixtureToolCount(ctx context.Context, r *runner) (int, error) {
	out, err := r.call(ctx, "counting the fixture's tools", "--list", "--count", "1", "--warmup", "0",
		"--", r.path("mcp-fixture"), "--name", "fx")
	if err != nil {
		return 0, err
	}
	return out.Tools, nil
}

// relays are the runs of a pair's workload through linerelay, each nil
// when not run: as it is (lines), and made to read every frame as a
// proxy in front of several servers must (frames, linerelay --namespace).
type relays struct{ lines, frames []string }

// pairRun runs the same workload directly and through plugboard, in the
// order given, and then through the relays given; it returns the
// samples.
func pairRun(ctx context.Context, r *runner, what string, plugboardFirst bool, direct, proxied []string, via relays) (pair, error) {
	var p pair
	run := func(name string, args []string, into *latencySample) error {
		out, err := r.call(ctx, what+", "+name, args...)
		*into = out.sample()
		return err
	}
	steps := []func() error{
		func() error { return run("direct", direct, &p.Direct) },
		func() error { return run("plugboard", proxied, &p.Plugboard) },
	}
	if plugboardFirst {
		steps[0], steps[1] = steps[1], steps[0]
	}
	if via.lines != nil {
		p.Relay = &latencySample{}
		steps = append(steps, func() error { return run("linerelay", via.lines, p.Relay) })
	}
	if via.frames != nil {
		p.FrameRelay = &latencySample{}
		steps = append(steps, func() error { return run("linerelay --namespace", via.frames, p.FrameRelay) })
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return p, err
		}
	}
	return p, nil
}

// relayed is the direct workload's mcp-bench arguments with linerelay,
// given flags, between mcp-bench and the fixture, or nil when linerelay
// was not built.
func (r *runner) relayed(direct []string, flags ...string) []string {
	if !r.hasRelay {
		return nil
	}
	i := slices.Index(direct, "--")
	if i < 0 {
		return nil
	}
	out := append([]string{}, direct[:i+1]...)
	out = append(out, r.path("linerelay"))
	out = append(out, flags...)
	return append(out, direct[i+1:]...)
}

// bothRelays are both relays of a workload on the one fixture fx: as it
// is, and reading frames, called with plugboard's tool names (fx__...)
// that linerelay --namespace fx gives the fixture as its own.
func (r *runner) bothRelays(direct, proxied []string) relays {
	via := relays{lines: r.relayed(direct)}
	i, j := slices.Index(proxied, "--"), slices.Index(direct, "--")
	if via.lines == nil || i < 0 || j < 0 {
		return via
	}
	via.frames = append(append([]string{}, proxied[:i+1]...), r.path("linerelay"), "--namespace", oneFixture[0].name)
	via.frames = append(via.frames, direct[j+1:]...)
	return via
}

// oneFixture is the configuration of the scenarios that put plugboard in
// front of a single fixture, fx: its tools are fx__echo, fx__sleep, ...
var oneFixture = []fixtureServer{{name: "fx"}}

func measureLatency(ctx context.Context, r *runner, s settings) (*latencyResults, error) {
	cfg, err := r.writeConfig("one.yaml", oneFixture)
	if err != nil {
		r.note("added latency: %v", err)
		return nil, err
	}
	common := []string{"--duration", seconds(s.latencyDuration), "--warmup", seconds(s.warmup)}
	direct := append(append([]string{}, common...), "--", r.path("mcp-fixture"), "--name", "fx")
	proxied := append(append([]string{"--tool", "fx__echo"}, common...), "--", r.path("plugboard"), "--config", cfg)
	res := &latencyResults{Seconds: s.latencyDuration.Seconds()}
	for round := range s.latencyRounds {
		p, err := pairRun(ctx, r, fmt.Sprintf("added latency, round %d", round+1), round%2 == 1, direct, proxied, r.bothRelays(direct, proxied))
		if err != nil {
			return res, err
		}
		res.Rounds = append(res.Rounds, p)
	}
	return res, nil
}

func measureThroughput(ctx context.Context, r *runner, s settings) (*throughputResults, error) {
	cfg, err := r.writeConfig("one.yaml", oneFixture)
	if err != nil {
		r.note("throughput: %v", err)
		return nil, err
	}
	res := &throughputResults{SleepMS: s.sleepMS, Seconds: s.throughputDuration.Seconds()}
	args := fmt.Sprintf(`{"ms":%d}`, s.sleepMS)
	for _, c := range s.levels {
		level := throughputLevel{Concurrency: c}
		common := []string{"--args", args, "--concurrency", strconv.Itoa(c),
			"--duration", seconds(s.throughputDuration), "--warmup", seconds(s.warmup)}
		direct := append(append([]string{"--tool", "sleep"}, common...), "--", r.path("mcp-fixture"), "--name", "fx")
		proxied := append(append([]string{"--tool", "fx__sleep"}, common...), "--", r.path("plugboard"), "--config", cfg)
		for round := range s.throughputRounds {
			p, err := pairRun(ctx, r, fmt.Sprintf("throughput at concurrency %d, round %d", c, round+1), round%2 == 1, direct, proxied, r.bothRelays(direct, proxied))
			if err != nil {
				res.Levels = append(res.Levels, level)
				return res, err
			}
			level.Rounds = append(level.Rounds, p)
		}
		if c == slices.Max(s.levels) {
			level.BusyRelay, err = measureBusyRelay(ctx, r, fmt.Sprintf("throughput at concurrency %d", c), level.Rounds,
				s.throughputRounds, direct)
			if err != nil {
				res.Levels = append(res.Levels, level)
				return res, err
			}
		}
		res.Levels = append(res.Levels, level)
	}
	return res, nil
}

func measureHTTP(ctx context.Context, r *runner, s settings) (*httpResults, error) {
	cfg, err := r.writeConfig("one.yaml", oneFixture)
	if err != nil {
		r.note("HTTP sessions: %v", err)
		return nil, err
	}
	pbArgv := []string{r.path("plugboard"), "serve", "--config", cfg, "--listen", "127.0.0.1:0", "--socket", "", "--no-auth"}
	fxArgv := []string{r.path("mcp-fixture"), "--name", "fx", "--listen", "127.0.0.1:0"}
	r.commands = append(r.commands, r.display(pbArgv)+" &", r.display(fxArgv)+" &")
	pb, err := startHTTPServer(ctx, "plugboard serve", pbArgv, "server ready")
	if err != nil {
		r.note("HTTP sessions: %v", err)
		return nil, err
	}
	defer stopServer(r, pb)
	fx, err := startHTTPServer(ctx, "mcp-fixture --listen", fxArgv, "")
	if err != nil {
		r.note("HTTP sessions: %v", err)
		return nil, err
	}
	defer stopServer(r, fx)
	r.alias(pb.url, "$PLUGBOARD_URL")
	r.alias(strconv.Itoa(pb.pid()), "$PLUGBOARD_PID")
	r.alias(fx.url, "$FIXTURE_URL")
	r.alias(strconv.Itoa(fx.pid()), "$FIXTURE_PID")

	res := &httpResults{Sessions: s.httpSessions, Seconds: s.httpDuration.Seconds(), Rate: s.httpRate}
	sessions := strconv.Itoa(s.httpSessions)

	// Memory first, while both servers are fresh.
	idle := func(name string, srv *httpServer, into *idleMemory) error {
		var out idleOut
		// Without keep-alive: the sessions are held, not their connections,
		// whose cost is Go's HTTP server's and the client's choice.
		err := r.bench(ctx, "idle HTTP sessions, "+name, &out, "--idle", seconds(s.idleHold), "--sessions", sessions, "--no-keepalive",
			"--url", srv.url, "--watch-pid", strconv.Itoa(srv.pid()))
		if err != nil {
			return err
		}
		if out.Watched == nil {
			r.note("idle HTTP sessions, %s: mcp-bench reported no memory for pid %d", name, srv.pid())
			return nil
		}
		*into = idleMemory{BeforeBytes: out.Watched.FirstBytes, OpenBytes: out.Watched.LastBytes, OpenSec: out.OpenSec}
		for _, n := range out.Notes {
			r.note("idle HTTP sessions, %s: %s", name, n)
		}
		return nil
	}
	if err := idle("plugboard", pb, &res.IdlePlugboard); err != nil {
		return res, err
	}
	if err := idle("direct", fx, &res.IdleDirect); err != nil {
		return res, err
	}

	load := []string{"--sessions", sessions, "--concurrency", sessions, "--duration", seconds(s.httpDuration), "--warmup", seconds(s.warmup)}
	direct := append([]string{"--url", fx.url, "--tool", "echo"}, load...)
	proxied := append([]string{"--url", pb.url, "--tool", "fx__echo"}, load...)
	// Paced first, as the figure to read; then flat out, which leaves
	// the servers with the largest heaps.
	rate := []string{"--rate", strconv.FormatFloat(s.httpRate, 'f', -1, 64)}
	for round := range s.httpRounds {
		p, err := pairRun(ctx, r, fmt.Sprintf("HTTP sessions paced, round %d", round+1), round%2 == 0,
			append(direct, rate...), append(proxied, rate...), relays{})
		if err != nil {
			return res, err
		}
		res.Paced = append(res.Paced, p)
	}
	if res.Saturated, err = pairRun(ctx, r, "HTTP sessions as fast as answered", true, direct, proxied, relays{}); err != nil {
		return res, err
	}
	return res, nil
}

// stopServer stops a server and notes one that would not stop.
func stopServer(r *runner, s *httpServer) {
	if err := s.stop(); err != nil {
		r.note("%v", err)
	}
}

func measureStartup(ctx context.Context, r *runner, s settings, builtin int) (*startupResults, error) {
	res := &startupResults{DelayMS: int(s.startupDelay.Milliseconds()), SlowDelayMS: int(s.startupSlowDelay.Milliseconds()),
		Runs: s.startupRuns}
	runs := strconv.Itoa(s.startupRuns)
	slow := []string{"--startup-delay", seconds(s.startupSlowDelay)}
	var out startupOut
	args := append([]string{"--startup", "--runs", runs, "--", r.path("mcp-fixture"), "--name", "fx"}, slow...)
	if err := r.bench(ctx, "cold start, direct", &out, args...); err != nil {
		return nil, err
	}
	res.Direct = startupSampleOf(1, out)
	for _, n := range s.startupSizes {
		servers := fixtureServers(n, "--startup-delay", seconds(s.startupDelay))
		servers[n-1].args = slow // the last to be started is the slowest
		cfg, err := r.writeConfig(fmt.Sprintf("startup-%d.yaml", n), servers)
		if err != nil {
			r.note("cold start: %v", err)
			return res, err
		}
		var out startupOut
		what := fmt.Sprintf("cold start, %d servers", n)
		if err := r.bench(ctx, what, &out, "--startup", "--runs", runs, "--", r.path("plugboard"), "--config", cfg); err != nil {
			return res, err
		}
		if builtin > 0 && out.Tools != n*builtin {
			r.note("%s: the first listing held %d tools, not the %d of all servers", what, out.Tools, n*builtin)
		}
		for _, note := range out.Notes {
			r.note("%s: %s", what, note)
		}
		res.Sizes = append(res.Sizes, startupSampleOf(n, out))
		floor, err := startFixturesAtOnce(ctx, r, servers, s.startupRuns)
		if err != nil {
			r.note("cold start, %d fixtures in order without plugboard: %v", n, err)
			floor = startupSample{Servers: n}
		}
		res.AtOnce = append(res.AtOnce, floor)
	}
	return res, nil
}

// startFixturesAtOnce starts the fixtures of a configuration at once,
// without plugboard, runs times.
func startFixturesAtOnce(ctx context.Context, r *runner, servers []fixtureServer, runs int) (startupSample, error) {
	argvs := make([][]string, len(servers))
	for i, s := range servers {
		argvs[i] = append([]string{r.path("mcp-fixture"), "--name", s.name, "--legacy-only"}, s.args...)
	}
	sample := startupSample{Servers: len(servers)}
	for range runs {
		took, tools, err := startAtOnce(ctx, argvs)
		if err != nil {
			return sample, err
		}
		sample.Tools = tools
		sample.RunsMS = append(sample.RunsMS, float64(took.Microseconds())/1000)
	}
	sample.MedianMS, sample.MinMS, sample.MaxMS = medianOf(sample.RunsMS), slices.Min(sample.RunsMS), slices.Max(sample.RunsMS)
	return sample, nil
}

func startupSampleOf(servers int, out startupOut) startupSample {
	t := out.StartupMS
	return startupSample{Servers: servers, Tools: out.Tools, MedianMS: t.Median, MinMS: t.Min, MaxMS: t.Max, RunsMS: t.Runs}
}

func measureOwnRSS(ctx context.Context, r *runner, s settings, builtin int) (*ownRSSResults, error) {
	cfg, err := r.writeConfig(fmt.Sprintf("idle-%d.yaml", s.rssServers), fixtureServers(s.rssServers))
	if err != nil {
		r.note("plugboard's own memory: %v", err)
		return nil, err
	}
	res := &ownRSSResults{Servers: s.rssServers, HoldSec: s.idleHold.Seconds()}
	var out idleOut
	what := fmt.Sprintf("plugboard's own memory with %d servers", s.rssServers)
	if err := r.bench(ctx, what, &out, "--idle", seconds(s.idleHold), "--", r.path("plugboard"), "--config", cfg); err != nil {
		return nil, err
	}
	if out.RSS == nil {
		r.note("%s: mcp-bench reported no memory", what)
		return nil, fmt.Errorf("%s: no memory reported", what)
	}
	if builtin > 0 && out.Tools != s.rssServers*builtin {
		r.note("%s: the listing held %d tools, not the %d of all servers", what, out.Tools, s.rssServers*builtin)
	}
	res.Tools = out.Tools
	res.PlugboardBytes, res.TreeBytes, res.Processes = out.RSS.LastBytes, out.RSS.TreeLastBytes, out.RSS.TreeProcesses
	res.AnonBytes, res.FileBytes = out.RSS.LastAnonBytes, out.RSS.LastFileBytes
	one, err := r.writeConfig("idle-1.yaml", fixtureServers(1))
	if err != nil {
		r.note("plugboard's own memory: %v", err)
		return res, err
	}
	out = idleOut{}
	if err := r.bench(ctx, "plugboard's own memory with 1 server", &out, "--idle", seconds(s.idleHold), "--", r.path("plugboard"), "--config", one); err != nil {
		return res, err
	}
	if out.RSS != nil {
		res.OneServerBytes, res.OneServerAnonBytes = out.RSS.LastBytes, out.RSS.LastAnonBytes
	}
	out = idleOut{}
	if err := r.bench(ctx, "one fixture's own memory", &out, "--idle", seconds(s.idleHold), "--", r.path("mcp-fixture"), "--name", "fx"); err != nil {
		return res, err
	}
	if out.RSS != nil {
		res.FixtureBytes = out.RSS.LastBytes
	}
	return res, nil
}

func measureCatalog(ctx context.Context, r *runner, s settings, builtin int) (*catalogResults, error) {
	servers := fixtureServers(s.catalogServers, "--extra-tools", strconv.Itoa(s.catalogTools))
	for i := range servers {
		servers[i].include = []string{"tool_*"} // only the generated tools: catalogTools each
	}
	cfg, err := r.writeConfig("catalog.yaml", servers)
	if err != nil {
		r.note("catalog listing: %v", err)
		return nil, err
	}
	total := s.catalogServers * s.catalogTools
	res := &catalogResults{Servers: s.catalogServers, ToolsPerServer: s.catalogTools, Seconds: s.catalogDuration.Seconds()}
	// The first listing waits for every server to start, and is kept out
	// of the measurement.
	common := []string{"--list", "--list-first", "--timeout", "120s", "--duration", seconds(s.catalogDuration), "--warmup", seconds(2 * s.warmup)}
	// Directly: one fixture listing as many tools, in pages as large as
	// plugboard's default page_size (1000).
	direct := append(append([]string{}, common...), "--", r.path("mcp-fixture"), "--name", "fx",
		"--extra-tools", strconv.Itoa(max(total-builtin, 0)), "--page-size", "1000")
	proxied := append(append([]string{}, common...), "--", r.path("plugboard"), "--config", cfg)
	what := fmt.Sprintf("tools/list of %d servers x %d tools", s.catalogServers, s.catalogTools)
	var d, p benchOut
	if d, err = r.call(ctx, what+", direct", direct...); err != nil {
		return res, err
	}
	if p, err = r.call(ctx, what+", plugboard", proxied...); err != nil {
		return res, err
	}
	res.Listing = pair{Direct: d.sample(), Plugboard: p.sample()}
	res.DirectTools, res.DirectPages = d.Tools, d.Pages
	res.PlugboardTools, res.PlugboardPages = p.Tools, p.Pages
	if p.Tools != total {
		r.note("%s: plugboard listed %d tools, not %d", what, p.Tools, total)
	}
	return res, nil
}
