package main

import (
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
