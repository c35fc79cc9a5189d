package transports

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The parent-death signal fires when the thread that forked the child
// ends (golang/go#27505), and Go ends a thread whose locked goroutine
// returns: a server must not die because the goroutine that started it
// did.
func TestAServerOutlivesTheThreadThatStartedIt(t *testing.T) {
	type started struct {
		p   *Process
		tid int
		err error
	}
	got := make(chan started, 1)
	var s started
	// Go never ends the main thread: start from another one.
	for s.tid = os.Getpid(); s.tid == os.Getpid(); {
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
			if syscall.Gettid() == os.Getpid() {
				got <- started{tid: os.Getpid()}
				return
			}
			p, err := StartProcess(context.Background(), ProcessSpec{Command: "cat"})
			got <- started{p, syscall.Gettid(), err}
		}()
		s = <-got
	}
	if s.err != nil {
		t.Fatal(s.err)
	}
	t.Cleanup(s.p.Close)
	task := filepath.Join("/proc/self/task", strconv.Itoa(s.tid))
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := os.Stat(task); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("thread %d did not end", s.tid)
		}
		runtime.Gosched()
	}
	// The signal, had it been sent, went at the thread's end: the process
	// would be reaped within moments.
	select {
	case <-s.p.Done():
		t.Fatalf("the server died with the thread that started it: %s", s.p.Reason())
	case <-time.After(time.Second):
	}
}

// Records of a dead plugboard: a child provably the recorded process is
// killed with its group; a live owner's children and reused pids are left
// alone.
func TestLeftoverChildrenOfADeadPlugboard(t *testing.T) {
	dead := exitedPID(t)
	for _, tc := range []struct {
		name       string
		owner      func(child int) procID
		childStart func(child int) string
		killed     bool
		log        string
	}{
		{"dead owner, same process", func(int) procID { return dead }, processStart, true, "killed a server left running by a plugboard that died"},
		{"dead owner, pid reused", func(int) procID { return dead }, func(int) string { return "other-boot/1" }, false, ""},
		{"live owner", func(int) procID { s := startSleeper(t); return procID{PID: s.pid, Start: processStart(s.pid)} }, processStart, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			child := startSleeper(t)
			f := childrenFile{Config: "/cfg/plugboard.yaml", Owner: tc.owner(child.pid), Children: []childRecord{{Server: "s", procID: procID{PID: child.pid, Start: tc.childStart(child.pid)}}}}
			writeRecords(t, dir, f)
			var log lockedLog
			r, err := OpenChildRecords(dir, f.Config, log.logger())
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			select {
			case <-child.exited:
				if !tc.killed {
					t.Errorf("the child was killed")
				}
			case <-time.After(time.Second):
				if tc.killed {
					t.Errorf("the child still runs")
				}
			}
			if got := log.String(); (tc.log == "") != (got == "") || !containsAll(got, tc.log, "server=s", "pid="+strconv.Itoa(child.pid)) && tc.log != "" {
				t.Errorf("log %q, want %q", got, tc.log)
			}
		})
	}
}

// exitedPID is the identity of a process that has exited and been reaped.
func exitedPID(t *testing.T) procID {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	id := procID{PID: cmd.Process.Pid, Start: processStart(cmd.Process.Pid)}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	return id
}

type sleeper struct {
	pid    int
	exited chan struct{}
}

// startSleeper starts a process leading its own group, as plugboard's
// servers do, killed at the end of the test.
func startSleeper(t *testing.T) sleeper {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := sleeper{pid: cmd.Process.Pid, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-s.exited })
	return s
}

func writeRecords(t *testing.T, dir string, f childrenFile) {
	t.Helper()
	b, _ := json.Marshal(f)
	if err := os.WriteFile(recordsPrefix(dir, f.Config)+strconv.Itoa(f.Owner.PID)+".json", b, 0o600); err != nil {
		t.Fatal(err)
	}
}

type lockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *lockedLog) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// The records file follows what is added and removed, written behind;
// Close removes it and nothing writes it again.
func TestChildRecordsFileFollowsTheChildren(t *testing.T) {
	dir := t.TempDir()
	var log lockedLog
	r, err := OpenChildRecords(dir, "/cfg/a.yaml", log.logger())
	if err != nil {
		t.Fatal(err)
	}
	read := func() []childRecord {
		b, err := os.ReadFile(r.behind.path)
		if err != nil {
			return nil
		}
		var f childrenFile
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		return f.Children
	}
	for i := range 50 {
		r.Add(fmt.Sprintf("s%d", i), 100000+i)
	}
	r.Remove(100007)
	deadline := time.Now().Add(10 * time.Second)
	for len(read()) != 49 {
		if time.Now().After(deadline) {
			t.Fatalf("the file holds %d children, want 49", len(read()))
		}
		time.Sleep(time.Millisecond)
	}
	for _, c := range read() {
		if c.PID == 100007 {
			t.Errorf("a removed child is still recorded")
		}
	}
	r.Close()
	r.Add("late", 1)
	r.Close()
	time.Sleep(50 * time.Millisecond)
	if _, err := os.Stat(r.behind.path); !os.IsNotExist(err) {
		t.Errorf("the records file after Close: %v", err)
	}
}

// A running server costs no OS thread of plugboard's: its exit is waited
// for in Go's poller, not in a wait4 that holds a thread each.
func TestRunningServersHoldNoThreadEach(t *testing.T) {
	threads := func() int {
		b, err := os.ReadFile("/proc/self/status")
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if n, ok := strings.CutPrefix(line, "Threads:"); ok {
				count, _ := strconv.Atoi(strings.TrimSpace(n))
				return count
			}
		}
		t.Fatal("no Threads line in /proc/self/status")
		return 0
	}
	const servers = 20
	before := threads()
	var procs []*Process
	for range servers {
		p, err := StartProcess(context.Background(), ProcessSpec{Command: "cat"})
		if err != nil {
			t.Fatal(err)
		}
		procs = append(procs, p)
	}
	time.Sleep(200 * time.Millisecond) // their readers and waits settle
	if grown := threads() - before; grown >= servers/2 {
		t.Errorf("%d servers running added %d threads; want far fewer than one each", servers, grown)
	}
	for _, p := range procs {
		p.Close() // stdin closed: cat exits, and its exit must still be seen
		select {
		case <-p.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("pid %d: exit not seen", p.PID())
		}
		if !strings.Contains(p.Reason(), "exit") {
			t.Errorf("pid %d ended with %q, want its exit status", p.PID(), p.Reason())
		}
	}
}
