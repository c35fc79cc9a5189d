package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// procStat is what the tests read of /proc/PID/stat; ok is false when the
// process is gone or a zombie (a container's init may never reap it).
func procStat(pid int) (ppid, pgrp int, ok bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, 0, false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 3 || f[0] == "Z" {
		return 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	pgrp, _ = strconv.Atoi(f[2])
	return ppid, pgrp, true
}

// childrenOf lists the live processes whose parent is ppid.
func childrenOf(ppid int) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if parent, _, ok := procStat(pid); ok && parent == ppid {
			pids = append(pids, pid)
		}
	}
	return pids
}

func needLinux(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("skipped: the parent-death signal and /proc are Linux's")
	}
}

// killOnCleanup makes sure a test leaves no process behind, whatever it
// found.
func killOnCleanup(t *testing.T, pids ...int) {
	t.Cleanup(func() {
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

func TestServersDieWhenPlugboardIsKilled(t *testing.T) {
	needLinux(t)
	c := startPlugboard(t, writeConfig(t, "servers:\n"+fixtureServer("stubborn", "--ignore-eof")))
	if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "stubborn__echo", "arguments": map[string]any{"text": "up"}})); got != "up" {
		t.Fatalf("echo: %q", got)
	}
	servers := childrenOf(c.cmd.Process.Pid)
	if len(servers) != 1 {
		t.Fatalf("plugboard has %d children, want the one server", len(servers))
	}
	killOnCleanup(t, servers...)
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, fmt.Sprintf("server pid %d, which ignores stdin EOF, gone after plugboard's SIGKILL", servers[0]), func() bool {
		_, _, alive := procStat(servers[0])
		return !alive
	})
}

func TestTheNextStartReportsServersADeadPlugboardLeft(t *testing.T) {
	needLinux(t)
	// A wrapper (as npx is) whose server outlives it: the parent-death
	// signal reaches the wrapper only.
	cfg := writeConfig(t, fmt.Sprintf("servers:\n  wrapped:\n    command: /bin/sh\n    args: [\"-c\", %q]\n",
		fmt.Sprintf("'%s' --name wrapped --ignore-eof; exit 0", fixtureBin)))
	first := startPlugboard(t, cfg)
	first.mustCall("tools/call", map[string]any{"name": "wrapped__echo", "arguments": map[string]any{"text": "up"}})
	wrappers := childrenOf(first.cmd.Process.Pid)
	if len(wrappers) != 1 {
		t.Fatalf("plugboard has %d children, want the wrapper", len(wrappers))
	}
	servers := childrenOf(wrappers[0])
	if len(servers) != 1 {
		t.Fatalf("the wrapper has %d children, want the server", len(servers))
	}
	killOnCleanup(t, append(wrappers, servers...)...)
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the wrapper gone", func() bool {
		_, _, alive := procStat(wrappers[0])
		return !alive
	})
	if _, pgrp, alive := procStat(servers[0]); !alive || pgrp != wrappers[0] {
		t.Fatalf("the wrapped server: alive %v in process group %d; the test needs it left running in the wrapper's group %d", alive, pgrp, wrappers[0])
	}

	second := startPlugboard(t, cfg)
	want := fmt.Sprintf("server=wrapped pid=%d pgid=%d", servers[0], wrappers[0])
	eventually(t, 10*time.Second, "the leftover server reported", func() bool {
		return strings.Contains(second.stderr.String(), want)
	})
	for _, line := range strings.Split(second.stderr.String(), "\n") {
		if strings.Contains(line, want) && !strings.Contains(line, "level=WARN") {
			t.Errorf("the report is not a warning: %s", line)
		}
	}
}
