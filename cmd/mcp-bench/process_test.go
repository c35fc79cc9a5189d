package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestStatusBytes(t *testing.T) {
	status := []byte("Name:\tmcp-fixture\nVmPeak:\t 1250000 kB\nVmHWM:\t   13204 kB\nVmRSS:\t   12000 kB\nThreads:\t7\n")
	tests := []struct {
		name string
		want int64
	}{
		{"VmHWM", 13204 << 10},
		{"VmRSS", 12000 << 10},
		{"Threads", 7},
		{"VmSwap", 0},
		{"Vm", 0},
	}
	for _, tt := range tests {
		if got := statusBytes(status, tt.name); got != tt.want {
			t.Errorf("statusBytes(%s) = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestParsePPID(t *testing.T) {
	tests := []struct {
		stat string
		want int
		ok   bool
	}{
		{"1234 (mcp-fixture) S 1200 1234 1200 0 -1", 1200, true},
		{"77 (a) b (c) d) R 76 77 1", 76, true},
		{"garbage", 0, false},
		{"5 (x) S", 0, false},
	}
	for _, tt := range tests {
		got, ok := parsePPID([]byte(tt.stat))
		if got != tt.want || ok != tt.ok {
			t.Errorf("parsePPID(%q) = %d, %v; want %d, %v", tt.stat, got, ok, tt.want, tt.ok)
		}
	}
	if got := parsePIDs([]byte("12 34 \n56\n")); !slices.Equal(got, []int{12, 34, 56}) {
		t.Errorf("parsePIDs = %v", got)
	}
}

func TestDescendants(t *testing.T) {
	tree := map[int][]int{1: {2, 3}, 2: {4}, 3: {5, 6}, 6: {1}} // a cycle must not loop
	got := descendants(1, func(pid int) []int { return tree[pid] })
	if !slices.Equal(got, []int{2, 3, 4, 5, 6}) {
		t.Errorf("descendants = %v", got)
	}
}

func TestReadMemoryOfThisProcess(t *testing.T) {
	m, err := readMemory(os.Getpid())
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	if m.rss <= 0 || m.hwm < m.rss || m.anon <= 0 || m.file <= 0 || m.anon+m.file > m.rss+(1<<20) {
		t.Errorf("memory = %+v", m)
	}
}

// startTestProcess starts argv as a target would be started, reading its
// stdout to the end as a session does.
func startTestProcess(t *testing.T, argv ...string) (*process, io.WriteCloser) {
	t.Helper()
	p, stdin, stdout, err := startProcess(argv, false)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, _ = io.Copy(io.Discard, stdout)
		p.reap()
	}()
	t.Cleanup(func() { _ = p.stop(context.Background(), 0) })
	return p, stdin
}

func TestProcessTreeIsFoundAndKilledTogether(t *testing.T) {
	// The shell waits on its child, which holds stdout too: both must be
	// found, and both must die for stdout to end.
	p, stdin := startTestProcess(t, "sh", "-c", "sleep 60 & wait")
	childrenOf := childrenFunc()
	deadline := time.Now().Add(10 * time.Second)
	for len(descendants(p.pid(), childrenOf)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the shell's child never showed up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	sampler := startRSSSampler([]int{p.pid()})
	rss := sampler.finish()
	if rss.PeakBytes <= 0 || rss.TreePeakBytes <= 0 || rss.TreeProcesses < 2 {
		t.Errorf("rss = %+v, want memory for a tree of at least 2 processes", rss)
	}

	stdin.Close()
	err := p.stop(context.Background(), 50*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("stop = %v, want an error saying it was killed", err)
	}
	select {
	case <-p.exited:
	default:
		t.Error("stop returned before the process was reaped")
	}
}

func TestProcessThatExitsOnEOF(t *testing.T) {
	p, stdin := startTestProcess(t, "cat")
	stdin.Close()
	if err := p.stop(context.Background(), 10*time.Second); err != nil {
		t.Errorf("stop = %v", err)
	}
}

func TestProcessExitStatusAndStderrReported(t *testing.T) {
	p, stdin := startTestProcess(t, "sh", "-c", "echo it broke >&2; exit 3")
	stdin.Close()
	err := p.stop(context.Background(), 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "it broke") {
		t.Errorf("stop = %v, want the exit status and the stderr", err)
	}
}

func TestProcessEscapedFromItsGroupStillEnds(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid")
	}
	// The shell's child leaves the process group, so the group kill misses
	// it, yet it holds stdout open; stop must end anyway.
	p, stdin, stdout, err := startProcess([]string{"sh", "-c", "setsid sleep 60 & echo $!; wait"}, false)
	if err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewReader(stdout)
	first, err := lines.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	escaped, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		t.Fatalf("pid line %q: %v", first, err)
	}
	t.Cleanup(func() { _ = syscall.Kill(escaped, syscall.SIGKILL) })
	go func() {
		_, _ = io.Copy(io.Discard, lines)
		p.reap()
	}()

	stdin.Close()
	if err := p.stop(context.Background(), 10*time.Millisecond); err == nil {
		t.Error("stop = nil, want an error saying it was killed")
	}
}
