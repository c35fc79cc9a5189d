package main

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// front is one way of reaching a server for mcp-bench: the arguments
// naming the target and the name of the tool echo behind it.
type front struct {
	target []string // "--", COMMAND... or "--url", URL, "--watch-pid", PID
	prefix string   // of tool names: "" directly, "fx__" through plugboard
}

// args puts mcp-bench's flags for a call of tool before the target.
func (f front) args(tool string, flags ...string) []string {
	out := append([]string{"--tool", f.prefix + tool}, flags...)
	return append(out, f.target...)
}

// levelsWork is a tool called at several concurrencies, in rounds of a
// direct run and a plugboard run.
type levelsWork struct {
	what     string // names the scenario in problems
	tool     string // "echo" or "sleep"
	sleepMS  int    // the sleep's argument
	levels   []int
	rounds   int
	duration time.Duration
	warmup   time.Duration
}

// measureLevels runs w against direct and plugboard.
func measureLevels(ctx context.Context, r *runner, w levelsWork, direct, plugboard front) (*throughputResults, error) {
	res := &throughputResults{Tool: w.tool, SleepMS: w.sleepMS, Seconds: w.duration.Seconds()}
	args := `{"text":"hello"}`
	if w.tool == "sleep" {
		args = fmt.Sprintf(`{"ms":%d}`, w.sleepMS)
	}
	for _, c := range w.levels {
		level := throughputLevel{Concurrency: c}
		flags := []string{"--args", args, "--concurrency", strconv.Itoa(c), "--duration", seconds(w.duration), "--warmup", seconds(w.warmup)}
		for round := range w.rounds {
			p, err := pairRun(ctx, r, fmt.Sprintf("%s at concurrency %d, round %d", w.what, c, round+1), round%2 == 1,
				direct.args(w.tool, flags...), plugboard.args(w.tool, flags...), relays{lines: r.relayed(direct.args(w.tool, flags...))})
			if err != nil {
				res.Levels = append(res.Levels, level)
				return res, err
			}
			level.Rounds = append(level.Rounds, p)
		}
		res.Levels = append(res.Levels, level)
	}
	return res, nil
}

// measureLatencyRounds runs echo at concurrency 1, rounds of a direct
// run and a plugboard run.
func measureLatencyRounds(ctx context.Context, r *runner, what string, rounds int, duration, warmup time.Duration,
	direct, plugboard front) (*latencyResults, error) {
	flags := []string{"--duration", seconds(duration), "--warmup", seconds(warmup)}
	res := &latencyResults{Seconds: duration.Seconds()}
	for round := range rounds {
		p, err := pairRun(ctx, r, fmt.Sprintf("%s, round %d", what, round+1), round%2 == 1,
			direct.args("echo", flags...), plugboard.args("echo", flags...), relays{lines: r.relayed(direct.args("echo", flags...))})
		if err != nil {
			return res, err
		}
		res.Rounds = append(res.Rounds, p)
	}
	return res, nil
}

// stdioFronts are one fixture directly and plugboard with it behind,
// over stdio.
func stdioFronts(r *runner) (direct, plugboard front, err error) {
	cfg, err := r.writeConfig("one.yaml", oneFixture)
	if err != nil {
		return front{}, front{}, err
	}
	return front{target: []string{"--", r.path("mcp-fixture"), "--name", "fx"}},
		front{target: []string{"--", r.path("plugboard"), "--config", cfg}, prefix: "fx__"}, nil
}

func measureEchoThroughput(ctx context.Context, r *runner, s settings) (*throughputResults, error) {
	direct, plugboard, err := stdioFronts(r)
	if err != nil {
		r.note("echo throughput: %v", err)
		return nil, err
	}
	return measureLevels(ctx, r, levelsWork{what: "echo throughput over stdio", tool: "echo", levels: s.echoLevels,
		rounds: s.throughputRounds, duration: s.throughputDuration, warmup: s.warmup}, direct, plugboard)
}

// httpPair is plugboard serve with one stdio fixture behind it, and the
// fixture serving Streamable HTTP itself, both running.
type httpPair struct {
	plugboard, fixture *httpServer
}

func startHTTPPair(ctx context.Context, r *runner) (*httpPair, error) {
	cfg, err := r.writeConfig("one.yaml", oneFixture)
	if err != nil {
		return nil, err
	}
	pbArgv := []string{r.path("plugboard"), "serve", "--config", cfg, "--listen", "127.0.0.1:0", "--socket", "", "--no-auth"}
	fxArgv := []string{r.path("mcp-fixture"), "--name", "fx", "--legacy-only", "--listen", "127.0.0.1:0"}
	r.commands = append(r.commands, r.display(pbArgv)+" &", r.display(fxArgv)+" &")
	pb, err := startHTTPServer(ctx, "plugboard serve", pbArgv, "server ready")
	if err != nil {
		return nil, err
	}
	fx, err := startHTTPServer(ctx, "mcp-fixture --listen", fxArgv, "")
	if err != nil {
		stopServer(r, pb)
		return nil, err
	}
	r.alias(pb.url, "$PLUGBOARD_URL")
	r.alias(strconv.Itoa(pb.pid()), "$PLUGBOARD_PID")
	r.alias(fx.url, "$FIXTURE_URL")
	r.alias(strconv.Itoa(fx.pid()), "$FIXTURE_PID")
	return &httpPair{plugboard: pb, fixture: fx}, nil
}

func (p *httpPair) stop(r *runner) {
	stopServer(r, p.plugboard)
	stopServer(r, p.fixture)
}

// httpFront reaches srv over Streamable HTTP and watches its process.
func httpFront(srv *httpServer, prefix string) front {
	return front{target: []string{"--url", srv.url, "--watch-pid", strconv.Itoa(srv.pid())}, prefix: prefix}
}

// measureHTTPFront compares plugboard serve with the fixture's own
// Streamable HTTP: one session, echo at concurrency 1 and flat out,
// sleep at high concurrency, and echo at concurrency 1 with more and
// more sessions open.
func measureHTTPFront(ctx context.Context, r *runner, s settings) (*httpFrontResults, error) {
	servers, err := startHTTPPair(ctx, r)
	if err != nil {
		r.note("HTTP front: %v", err)
		return nil, err
	}
	defer servers.stop(r)
	direct, plugboard := httpFront(servers.fixture, ""), httpFront(servers.plugboard, "fx__")
	res := &httpFrontResults{}
	if res.Latency, err = measureLatencyRounds(ctx, r, "added latency over Streamable HTTP", s.httpLatencyRounds,
		s.throughputDuration, s.warmup, direct, plugboard); err != nil {
		return res, err
	}
	if res.Echo, err = measureLevels(ctx, r, levelsWork{what: "echo throughput over Streamable HTTP", tool: "echo", levels: s.echoLevels,
		rounds: s.throughputRounds, duration: s.throughputDuration, warmup: s.warmup}, direct, plugboard); err != nil {
		return res, err
	}
	if res.Sleep, err = measureLevels(ctx, r, levelsWork{what: "sleep throughput over Streamable HTTP", tool: "sleep", sleepMS: s.sleepMS,
		levels: s.httpSleepLevels, rounds: s.throughputRounds, duration: s.throughputDuration, warmup: s.warmup}, direct, plugboard); err != nil {
		return res, err
	}
	flags := []string{"--duration", seconds(s.growthDuration), "--warmup", seconds(s.warmup)}
	out, err := r.call(ctx, "echo over Streamable HTTP with 1 session, direct", direct.args("echo", flags...)...)
	if err != nil {
		return res, err
	}
	res.Direct = out.sample()
	for _, n := range s.growthSessions {
		// One session calls; the others stay open and idle.
		what := fmt.Sprintf("echo over Streamable HTTP with %d sessions open, plugboard", n)
		out, err := r.call(ctx, what, plugboard.args("echo", append([]string{"--sessions", strconv.Itoa(n)}, flags...)...)...)
		if err != nil {
			return res, err
		}
		row := sessionsRow{Sessions: n, Sample: out.sample()}
		if out.Watched != nil {
			row.RSSBytes = out.Watched.LastBytes
		}
		res.Growth = append(res.Growth, row)
	}
	return res, nil
}

// measureInFlight holds many calls of sleep in flight through plugboard
// over stdio and reads what its memory grew by.
func measureInFlight(ctx context.Context, r *runner, s settings) (*inFlightResults, error) {
	_, plugboard, err := stdioFronts(r)
	if err != nil {
		r.note("calls in flight: %v", err)
		return nil, err
	}
	res := &inFlightResults{Calls: s.inFlightCalls, SleepMS: int(s.inFlightSleep.Milliseconds())}
	what := fmt.Sprintf("%d calls of sleep in flight, plugboard", s.inFlightCalls)
	// No warmup: the first sample of memory is taken as the calls begin.
	out, err := r.call(ctx, what, plugboard.args("sleep", "--args", fmt.Sprintf(`{"ms":%d}`, res.SleepMS),
		"--concurrency", strconv.Itoa(s.inFlightCalls), "--duration", seconds(2*s.inFlightSleep), "--warmup", "0s")...)
	if err != nil {
		return res, err
	}
	if out.RSS == nil {
		r.note("%s: mcp-bench reported no memory", what)
		return res, fmt.Errorf("%s: no memory reported", what)
	}
	res.BeforeBytes, res.PeakBytes, res.OK = out.RSS.FirstBytes, out.RSS.PeakBytes, out.OK
	return res, nil
}
