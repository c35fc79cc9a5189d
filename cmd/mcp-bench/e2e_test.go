package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Binaries built once for the whole run: mcp-bench itself, with the race
// detector when the tests run with it, and the fixture server it measures.
var (
	benchBin    string
	fixtureBin  string
	raceEnabled bool
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mcp-bench-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	benchBin = filepath.Join(dir, "mcp-bench")
	fixtureBin = filepath.Join(dir, "mcp-fixture")
	builds := [][]string{
		{"build", "-o", fixtureBin, "../mcp-fixture"},
		{"build", "-o", benchBin, "."},
	}
	if raceEnabled {
		builds[1] = []string{"build", "-race", "-o", benchBin, "."}
	}
	for _, args := range builds {
		cmd := exec.Command("go", args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "go", strings.Join(args, " "), err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// bench runs the mcp-bench binary and returns its stdout, failing the
// test unless it exits with status 0.
func bench(t *testing.T, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, benchBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("mcp-bench %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// benchJSON runs mcp-bench --json and decodes its report into v.
func benchJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := bench(t, append([]string{"--json"}, args...)...)
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	if dec.More() {
		t.Fatalf("more than one JSON value on stdout:\n%s", out)
	}
}

// startFixtureHTTP starts the fixture serving Streamable HTTP and returns
// its /mcp URL; it stops when the test ends, by its stdin closing.
func startFixtureHTTP(t *testing.T) string {
	t.Helper()
	url, _ := startFixtureHTTPProcess(t)
	return url
}

// startFixtureHTTPProcess is startFixtureHTTP that also returns the
// fixture's pid.
func startFixtureHTTPProcess(t *testing.T) (string, int) {
	t.Helper()
	cmd := exec.Command(fixtureBin, "--listen", "127.0.0.1:0")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	urls := make(chan string, 1)
	go func() {
		scanner := bufio.NewScanner(stderr)
		for scanner.Scan() {
			if addr, ok := strings.CutPrefix(scanner.Text(), "listening on "); ok {
				urls <- addr + "/mcp"
			}
		}
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	select {
	case url := <-urls:
		return url, cmd.Process.Pid
	case <-exited:
		t.Fatal("the fixture exited before listening")
	case <-time.After(30 * time.Second):
		t.Fatal("the fixture did not say where it listens")
	}
	return "", 0
}

// checkCalls asserts that a report counts exactly n successful calls and
// plausible latencies, without asserting anything about speed.
func checkCalls(t *testing.T, r benchReport, n int64) {
	t.Helper()
	if r.Calls != n || r.OK != n || r.Errors.Total != 0 {
		t.Errorf("calls %d, ok %d, errors %+v; want %d calls, all ok", r.Calls, r.OK, r.Errors, n)
	}
	l := r.LatencyUS
	if !(l.Min > 0 && l.Min <= l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) {
		t.Errorf("implausible latencies: %+v", l)
	}
	if r.ElapsedSec <= 0 || r.Throughput <= 0 {
		t.Errorf("elapsed %v s, throughput %v/s", r.ElapsedSec, r.Throughput)
	}
	if r.Server == nil || r.Server.Name != "fixture" || r.Server.ProtocolVersion != protocolVersion {
		t.Errorf("server = %+v", r.Server)
	}
}

func TestStdioCalls(t *testing.T) {
	var r benchReport
	benchJSON(t, &r, "--count", "200", "--concurrency", "8", "--warmup", "100ms", "--", fixtureBin)
	checkCalls(t, r, 200)
	if r.Target.Transport != "stdio" || r.Target.Command[0] != fixtureBin || r.Tool != "echo" || r.Concurrency != 8 {
		t.Errorf("report describes %+v, tool %q, concurrency %d", r.Target, r.Tool, r.Concurrency)
	}
	if r.RSS == nil || r.RSS.PeakBytes <= 0 || r.RSS.TreePeakBytes <= 0 || r.RSS.Processes != 1 {
		t.Errorf("rss = %+v, want a peak for one process", r.RSS)
	}
	if len(r.Notes) != 0 {
		t.Errorf("notes = %q", r.Notes)
	}
}

func TestHTTPCalls(t *testing.T) {
	url := startFixtureHTTP(t)
	var r benchReport
	benchJSON(t, &r, "--url", url, "--count", "200", "--concurrency", "8", "--warmup", "100ms")
	checkCalls(t, r, 200)
	if r.Target.Transport != "streamable-http" || r.Target.URL != url || r.RSS != nil {
		t.Errorf("report describes %+v, rss %+v", r.Target, r.RSS)
	}
	if len(r.Notes) != 0 {
		t.Errorf("notes = %q", r.Notes)
	}
}

func TestSessionsSpreadOverProcesses(t *testing.T) {
	var r benchReport
	benchJSON(t, &r, "--sessions", "3", "--concurrency", "4", "--count", "60", "--warmup", "0",
		"--stdio", fixtureBin+" --name fixture")
	checkCalls(t, r, 60)
	if r.RSS == nil || r.RSS.Processes != 3 || r.RSS.TreeProcesses < 3 {
		t.Errorf("rss = %+v, want 3 processes", r.RSS)
	}
}

func TestDurationRun(t *testing.T) {
	var r benchReport
	benchJSON(t, &r, "--duration", "300ms", "--warmup", "100ms", "--", fixtureBin)
	if r.OK == 0 || r.Errors.Total != 0 || r.ElapsedSec < 0.25 {
		t.Errorf("ok %d, errors %+v, elapsed %v s", r.OK, r.Errors, r.ElapsedSec)
	}
}

func TestErrorsCountedByKind(t *testing.T) {
	url := startFixtureHTTP(t)
	tests := []struct {
		name  string
		args  []string
		check func(e errorCounts) bool
	}{
		{"unknown tool over stdio", []string{"--tool", "no_such_tool", "--", fixtureBin},
			func(e errorCounts) bool {
				return e.JSONRPC["-32602"] == 20 && strings.Contains(e.Examples["jsonrpc -32602"], "no_such_tool")
			}},
		{"unknown tool over HTTP", []string{"--tool", "no_such_tool", "--url", url},
			func(e errorCounts) bool { return e.JSONRPC["-32602"] == 20 }},
		{"tool error", []string{"--args", `{"text":5}`, "--", fixtureBin},
			func(e errorCounts) bool { return e.ToolError == 20 && e.Examples["tool_error"] != "" }},
		{"timeouts over stdio", []string{"--tool", "sleep", "--args", `{"ms":10000}`, "--timeout", "50ms", "--", fixtureBin},
			func(e errorCounts) bool { return e.Timeout == 20 }},
		{"timeouts over HTTP", []string{"--tool", "sleep", "--args", `{"ms":10000}`, "--timeout", "50ms", "--url", url},
			func(e errorCounts) bool { return e.Timeout == 20 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r benchReport
			benchJSON(t, &r, append([]string{"--count", "20", "--concurrency", "4", "--warmup", "0"}, tt.args...)...)
			if r.Calls != 20 || r.OK != 0 || r.Errors.Total != 20 || !tt.check(r.Errors) {
				t.Errorf("calls %d, ok %d, errors %+v", r.Calls, r.OK, r.Errors)
			}
		})
	}
}

func TestTargetThatDiesIsReported(t *testing.T) {
	var r benchReport
	benchJSON(t, &r, "--count", "20", "--concurrency", "2", "--warmup", "0", "--tool", "crash", "--args", `{"code":4}`,
		"--", fixtureBin)
	if r.Errors.Transport == 0 || r.Errors.Transport != r.Calls {
		t.Errorf("calls %d, errors %+v; want transport errors only", r.Calls, r.Errors)
	}
	notes := strings.Join(r.Notes, "\n")
	if !strings.Contains(notes, "session 1 failed") || !strings.Contains(notes, "exit status 4") {
		t.Errorf("notes = %q", r.Notes)
	}
}

func TestStartup(t *testing.T) {
	url := startFixtureHTTP(t)
	for _, target := range [][]string{
		{"--stdio", fixtureBin + " --extra-tools 30 --page-size 10"},
		{"--url", url},
	} {
		t.Run(target[0], func(t *testing.T) {
			var r startupReport
			benchJSON(t, &r, append([]string{"--startup", "--runs", "3"}, target...)...)
			s := r.StartupMS
			if r.Runs != 3 || len(s.Runs) != 3 || !(s.Min > 0 && s.Min <= s.Median && s.Median <= s.Max) {
				t.Errorf("startup = %+v over %d runs", s, r.Runs)
			}
			if r.Tools == 0 || r.Server == nil || r.Server.Name != "fixture" {
				t.Errorf("tools %d, server %+v", r.Tools, r.Server)
			}
			if target[0] == "--stdio" && (r.Tools < 30 || r.Pages != (r.Tools+9)/10) {
				t.Errorf("%d tools in %d pages, want pages of 10", r.Tools, r.Pages)
			}
		})
	}
}

func TestListMode(t *testing.T) {
	var r benchReport
	benchJSON(t, &r, "--list", "--count", "20", "--concurrency", "2", "--warmup", "0",
		"--", fixtureBin, "--extra-tools", "30", "--page-size", "10")
	checkCalls(t, r, 20)
	if r.Mode != modeList || r.Tools < 30 || r.Pages != (r.Tools+9)/10 {
		t.Errorf("mode %s, %d tools in %d pages", r.Mode, r.Tools, r.Pages)
	}
}

func TestIdleStdio(t *testing.T) {
	var r idleReport
	benchJSON(t, &r, "--idle", "300ms", "--sessions", "2", "--", fixtureBin, "--extra-tools", "5")
	if r.Mode != modeIdle || r.Sessions != 2 || r.Tools < 5 || r.Pages != 1 || r.HoldSec != 0.3 || r.OpenSec <= 0 {
		t.Errorf("report = %+v", r)
	}
	if r.RSS == nil || r.RSS.Processes != 2 || r.RSS.LastBytes <= 0 || r.RSS.TreeLastBytes < r.RSS.LastBytes ||
		r.RSS.LastAnonBytes <= 0 || r.RSS.LastFileBytes <= 0 || r.Watched != nil {
		t.Errorf("rss = %+v, watched = %+v; want the last memory of 2 processes", r.RSS, r.Watched)
	}
	if len(r.Notes) != 0 {
		t.Errorf("notes = %q", r.Notes)
	}
}

func TestIdleHTTPWatchesTheServer(t *testing.T) {
	url, pid := startFixtureHTTPProcess(t)
	var r idleReport
	benchJSON(t, &r, "--idle", "300ms", "--sessions", "20", "--url", url, "--watch-pid", strconv.Itoa(pid))
	if r.Sessions != 20 || r.Tools == 0 || r.RSS != nil {
		t.Errorf("report = %+v", r)
	}
	if w := r.Watched; w == nil || w.Processes != 1 || w.FirstBytes <= 0 || w.LastBytes <= 0 || w.Samples < 2 {
		t.Errorf("watched = %+v, want the server's memory before and after", w)
	}
	out := string(bench(t, "--idle", "100ms", "--sessions", "2", "--url", url, "--watch-pid", strconv.Itoa(pid)))
	if !strings.Contains(out, "KiB per session") || !strings.Contains(out, "held open") {
		t.Errorf("table lacks the memory per session:\n%s", out)
	}
}

func TestPacedCalls(t *testing.T) {
	url, pid := startFixtureHTTPProcess(t)
	var r benchReport
	benchJSON(t, &r, "--url", url, "--sessions", "4", "--concurrency", "4", "--rate", "400", "--count", "100",
		"--warmup", "0", "--watch-pid", strconv.Itoa(pid))
	checkCalls(t, r, 100)
	if r.RatePerSec != 400 || r.Unsent != 0 || r.Watched == nil || r.Watched.LastBytes <= 0 {
		t.Errorf("rate %v, unsent %d, watched %+v", r.RatePerSec, r.Unsent, r.Watched)
	}
	// 100 calls at 400 a second take a quarter of a second at least.
	if r.ElapsedSec < 0.2 {
		t.Errorf("100 calls paced to 400/s took %v s", r.ElapsedSec)
	}
}

func TestWatchingNoProcessFails(t *testing.T) {
	cmd := exec.Command(benchBin, "--count", "1", "--watch-pid", "999999999", "--", fixtureBin)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 1 || !strings.Contains(stderr.String(), "--watch-pid 999999999") {
		t.Errorf("exit %v, stderr %q; want status 1 naming the pid", err, stderr.String())
	}
}

func TestTableOutput(t *testing.T) {
	out := string(bench(t, "--count", "20", "--warmup", "0", "--tool", "no_such_tool", "--", fixtureBin))
	for _, want := range []string{"target", "stdio: " + fixtureBin, "throughput", "0 ok, 20 errors", "JSON-RPC -32602: 20", "peak rss"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	out = string(bench(t, "--count", "20", "--warmup", "0", "--", fixtureBin))
	if !strings.Contains(out, "p99.9") {
		t.Errorf("table lacks the percentiles:\n%s", out)
	}
}

func TestBadCommandLineExitsWith2(t *testing.T) {
	cmd := exec.Command(benchBin, "--count", "1", "--duration", "1s", "--", fixtureBin)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 2 || !strings.Contains(stderr.String(), "not both") {
		t.Errorf("exit %v, stderr %q; want status 2 and the reason", err, stderr.String())
	}
}
