package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestConfigYAML(t *testing.T) {
	servers := fixtureServers(2, "--startup-delay", "100ms")
	servers[1].include = []string{"tool_*", "toggle_tools"}
	got := configYAML("/b/mcp-fixture", servers)
	want := `startup_timeout: 60s
servers:
  fx01:
    command: "/b/mcp-fixture"
    args: ["--name", "fx01", "--legacy-only", "--startup-delay", "100ms"]
  fx02:
    command: "/b/mcp-fixture"
    args: ["--name", "fx02", "--legacy-only", "--startup-delay", "100ms"]
    tools: {include: ["tool_*", "toggle_tools"]}
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestListenURL(t *testing.T) {
	tests := []struct{ line, want string }{
		{"listening on http://127.0.0.1:4000", "http://127.0.0.1:4000/mcp"},
		{`time=2026-11-25T20:09:09.188Z level=INFO msg=listening url=http://127.0.0.1:18931/mcp auth=false`, "http://127.0.0.1:18931/mcp"},
		{`time=x level=INFO msg=listening socket=/tmp/p.sock`, ""},
		{`time=x level=INFO msg="server ready" server=fx`, ""},
	}
	for _, tt := range tests {
		if got := listenURL(tt.line); got != tt.want {
			t.Errorf("listenURL(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestCommandsAreShownPortably(t *testing.T) {
	r := &runner{bin: "/tmp/x/bin", work: "/tmp/x/work"}
	r.alias("http://127.0.0.1:4321/mcp", "$PLUGBOARD_URL")
	r.alias("4242", "$PLUGBOARD_PID")
	got := r.display([]string{"/tmp/x/bin/mcp-bench", "--args", `{"ms":10}`, "--url", "http://127.0.0.1:4321/mcp",
		"--watch-pid", "4242", "--socket", "", "--", "/tmp/x/bin/plugboard", "--config", "/tmp/x/work/one.yaml"})
	want := `$BIN/mcp-bench --args '{"ms":10}' --url $PLUGBOARD_URL --watch-pid $PLUGBOARD_PID --socket '' -- $BIN/plugboard --config $WORK/one.yaml`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestBenchOutProblems(t *testing.T) {
	var b benchOut
	b.Calls, b.OK = 10, 8
	b.Errors.Total = 2
	b.Errors.Examples = map[string]string{"timeout": "no response within 30s"}
	b.Notes = []string{"session 1 failed during the run and its calls stopped"}
	got := strings.Join(b.problems(), "\n")
	for _, want := range []string{"2 of 10 calls failed (timeout: no response within 30s)", "session 1 failed"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems %q lack %q", got, want)
		}
	}
	if p := (benchOut{Calls: 5, OK: 5}).problems(); len(p) != 0 {
		t.Errorf("problems of a clean run: %q", p)
	}
}

func TestBusyPerLine(t *testing.T) {
	cpu := func(plugboard, relay float64) pair {
		return pair{Plugboard: latencySample{CPUPerCallUS: plugboard}, Relay: &latencySample{CPUPerCallUS: relay, Calls: 100}}
	}
	tests := []struct {
		name   string
		rounds []pair
		want   float64
		ok     bool
	}{
		{"half the difference", []pair{cpu(25, 10), cpu(26, 11), cpu(24, 9)}, 7.5, true},
		// Medians 30 and 12: (30-12)/2 = 9, where the median of the
		// rounds' differences (15, 5, 28) would give 7.5.
		{"of the medians, not of each round", []pair{cpu(20, 5), cpu(30, 25), cpu(40, 12)}, 9, true},
		{"to the nanosecond", []pair{cpu(25.0001, 10)}, 7.5, true},
		{"linerelay as costly", []pair{cpu(20, 20)}, 0, false},
		{"linerelay costlier", []pair{cpu(20, 30)}, 0, false},
		{"plugboard's not measured", []pair{cpu(0, 10)}, 0, false},
		{"linerelay's not measured", []pair{cpu(25, 0)}, 0, false},
		{"linerelay not run", []pair{{Plugboard: latencySample{CPUPerCallUS: 25}}}, 0, false},
		{"linerelay answered nothing", []pair{{Plugboard: latencySample{CPUPerCallUS: 25}, Relay: &latencySample{CPUPerCallUS: 10}}}, 0, false},
		{"no rounds", nil, 0, false},
	}
	for _, tt := range tests {
		got, ok := busyPerLine(tt.rounds)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

// fakeBench writes an mcp-bench that answers at once: 1000 calls/s and
// 5 µs per call directly, 900 and 24 µs through linerelay --busy.
func fakeBench(t *testing.T) *runner {
	t.Helper()
	dir := t.TempDir()
	script := `#!/bin/sh
case "$*" in
*--busy*) echo '{"calls":900,"ok":900,"throughput_per_sec":900,"cpu":{"per_call_us":24}}' ;;
*) echo '{"calls":1000,"ok":1000,"throughput_per_sec":1000,"cpu":{"per_call_us":5}}' ;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "mcp-bench"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return &runner{bin: dir, work: dir, hasRelay: true}
}

func TestBusyRelayRoundsAlternateAndAreLogged(t *testing.T) {
	r := fakeBench(t)
	level := []pair{{Plugboard: latencySample{CPUPerCallUS: 25}, Relay: &latencySample{CPUPerCallUS: 10, Calls: 100}}}
	direct := []string{"--tool", "sleep", "--", r.path("mcp-fixture"), "--name", "fx"}
	res, err := measureBusyRelay(context.Background(), r, "throughput at concurrency 256", level, 2, direct)
	if err != nil {
		t.Fatal(err)
	}
	if res == nil || res.BusyUS != 7.5 || len(res.Rounds) != 2 {
		t.Fatalf("busy relay results %+v; want 7.5 µs and 2 rounds", res)
	}
	for i, p := range res.Rounds {
		if p.Direct.Throughput != 1000 || p.Relay == nil || p.Relay.Throughput != 900 || p.Relay.CPUPerCallUS != 24 {
			t.Errorf("round %d: %+v", i+1, p)
		}
	}
	directLine := "$BIN/mcp-bench --tool sleep -- $BIN/mcp-fixture --name fx"
	relayLine := "$BIN/mcp-bench --tool sleep -- $BIN/linerelay --busy 7.5us $BIN/mcp-fixture --name fx"
	want := []string{directLine, relayLine, relayLine, directLine} // the second round begins with linerelay
	if !slices.Equal(r.commands, want) {
		t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(r.commands, "\n"), strings.Join(want, "\n"))
	}
	if len(r.problems) != 0 {
		t.Errorf("problems: %q", r.problems)
	}

	r = fakeBench(t)
	level[0].Relay.CPUPerCallUS = 25
	if res, err := measureBusyRelay(context.Background(), r, "throughput", level, 2, direct); res != nil || err != nil || len(r.commands) != 0 {
		t.Errorf("with no time to add: %+v, %v, commands %q; want nothing run", res, err, r.commands)
	}
}

func TestPairRunsBothRelaysWithPlugboardsToolNamesForTheFramesOne(t *testing.T) {
	r := fakeBench(t)
	direct := []string{"--tool", "sleep", "--", r.path("mcp-fixture"), "--name", "fx"}
	proxied := []string{"--tool", "fx__sleep", "--", r.path("plugboard"), "--config", "one.yaml"}
	p, err := pairRun(context.Background(), r, "throughput", true, direct, proxied, r.bothRelays(direct, proxied))
	if err != nil {
		t.Fatal(err)
	}
	if p.Relay == nil || p.Relay.Calls != 1000 || p.FrameRelay == nil || p.FrameRelay.Calls != 1000 {
		t.Errorf("relays not both measured: %+v", p)
	}
	want := []string{
		"$BIN/mcp-bench --tool fx__sleep -- $BIN/plugboard --config one.yaml",
		"$BIN/mcp-bench --tool sleep -- $BIN/mcp-fixture --name fx",
		"$BIN/mcp-bench --tool sleep -- $BIN/linerelay $BIN/mcp-fixture --name fx",
		"$BIN/mcp-bench --tool fx__sleep -- $BIN/linerelay --namespace fx $BIN/mcp-fixture --name fx",
	}
	if !slices.Equal(r.commands, want) {
		t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(r.commands, "\n"), strings.Join(want, "\n"))
	}

	r = fakeBench(t)
	r.hasRelay = false
	if via := r.bothRelays(direct, proxied); via.lines != nil || via.frames != nil {
		t.Errorf("relays without linerelay built: %+v", via)
	}
}
