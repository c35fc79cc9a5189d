package transports

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/plugboard/plugboard/messages"
)

// ProcessSpec says how to run a stdio MCP server.
type ProcessSpec struct {
	Command    string
	Args       []string
	Env        map[string]string // set on top of what the process gets of plugboard's environment
	InheritEnv bool              // all of plugboard's environment (less PLUGBOARD_*), not just the default set (childEnv)
	Dir        string
	MaxFrame   int // largest frame accepted from the server; 0 means DefaultMaxFrame
	Handlers   Handlers
	// Server names the server in Children, which records the process's
	// pid while it runs (nil records nothing).
	Server   string
	Children *ChildRecords
	// Turn, when set, is the process's place among servers started
	// together: it is spawned after those before it.
	Turn *SpawnTurn
}

// How long a process gets to exit after its stdin closes, and then after
// SIGTERM, before it is killed.
const (
	gracePeriod = 2 * time.Second
	termPeriod  = 3 * time.Second
)

// Process is a downstream MCP server running as a child process, spoken to
// over its stdin and stdout with plugboard's line transport (lineConn),
// which passes raw JSON both ways. plugboard starts and reaps the process
// itself so that it learns the exit status at once.
type Process struct {
	mcpConn
	cmd       *exec.Cmd
	lines     *lineConn
	exited    chan struct{}
	status    string // set before exited is closed
	readErr   error  // set by the stdout guard before it fails
	readMu    sync.Mutex
	closeOnce sync.Once
}

// StartProcess starts the server's process and its transport.
func StartProcess(ctx context.Context, spec ProcessSpec) (*Process, error) {
	maxFrame := spec.MaxFrame
	if maxFrame <= 0 {
		maxFrame = DefaultMaxFrame
	}
	cmd := exec.Command(spec.Command, spec.Args...)
	cmd.Dir = spec.Dir
	cmd.Env = childEnv(os.Environ(), spec.Env, spec.InheritEnv)
	// Its own process group, so that a wrapper (npx, uvx) dies with its
	// server when plugboard has to kill it; on Linux, killed when
	// plugboard dies too.
	cmd.SysProcAttr = childSysProcAttr()

	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("stdin pipe: %w", err)
	}
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("stdout pipe: %w", err)
	}
	WidenPipe(stdoutR) // a server's listing of thousands of tools is megabytes
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		stdoutR.Close()
		stdoutW.Close()
		return nil, fmt.Errorf("stderr pipe: %w", err)
	}
	cmd.Stdout, cmd.Stderr = stdoutW, stderrW
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	started := make(chan error, 1)
	go p.run(started, spec.Server, spec.Children, spec.Turn)
	err = <-started
	stdoutW.Close()
	stderrW.Close()
	if err != nil {
		stdoutR.Close()
		stderrR.Close()
		return nil, err
	}

	go p.forwardStderr(stderrR, spec.Handlers.Stderr)

	// The guard fails the stream at the first line over the limit, before
	// the line reader's own limit (the same) could skip it.
	guard := &limitedLines{r: NewPolledReader(stdoutR), max: maxFrame}
	p.lines = newLineConn(&guardedReader{p: p, r: guard, file: stdoutR}, stdin, maxFrame, spec.Handlers)
	p.mcpConn.raw = p.lines
	p.lines.start()
	return p, nil
}

// mergeEnv returns base with extra's variables set, replacing any of the
// same name.
func mergeEnv(base []string, extra map[string]string) []string {
	if len(extra) == 0 {
		return base
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(base)+len(extra))
	for _, kv := range base {
		name := kv
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				name = kv[:i]
				break
			}
		}
		if _, replaced := extra[name]; !replaced {
			out = append(out, kv)
		}
	}
	for _, k := range keys {
		out = append(out, k+"="+extra[k])
	}
	return out
}

func (p *Process) forwardStderr(r io.ReadCloser, sink func(string)) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		if sink != nil {
			sink(sc.Text())
		}
	}
	// A line over 64 KiB ends the scan: keep draining so the child never
	// blocks on a full pipe.
	_, _ = io.Copy(io.Discard, r)
}

// run starts the process on the spawner's thread (spawn) and waits for
// it to exit, and reaps it.
func (p *Process) run(started chan<- error, server string, children *ChildRecords, turn *SpawnTurn) {
	turn.wait()
	err := spawn(p.cmd)
	turn.Done()
	if err != nil {
		started <- err
		return
	}
	children.Add(server, p.cmd.Process.Pid)
	started <- nil
	p.wait()
	children.Remove(p.cmd.Process.Pid)
	close(p.exited)
}

func (p *Process) wait() {
	awaitExit(p.cmd.Process)
	status := exitStatus(p.cmd.Wait())
	p.readMu.Lock()
	if p.readErr != nil {
		status = p.readErr.Error() + "; " + status
	}
	p.status = status
	p.readMu.Unlock()
}

// guardedReader is the process's stdout as the transport reads it. When
// the stream fails (the server closed stdout, or sent an oversized frame)
// the process is of no more use: it is stopped so that Done fires.
type guardedReader struct {
	p    *Process
	r    io.Reader
	file *os.File
	once sync.Once
}

func (g *guardedReader) Read(b []byte) (int, error) {
	n, err := g.r.Read(b)
	if err != nil {
		g.once.Do(func() {
			g.file.Close()
			if errors.Is(err, ErrFrameTooLarge) {
				g.p.readMu.Lock()
				g.p.readErr = err
				g.p.readMu.Unlock()
			}
			go g.p.stop()
		})
	}
	return n, err
}

// Done implements Downstream: it is closed once the process has exited.
func (p *Process) Done() <-chan struct{} { return p.exited }

// Reason implements Downstream: the exit status, once Done is closed.
func (p *Process) Reason() string {
	p.readMu.Lock()
	defer p.readMu.Unlock()
	return p.status
}

// Close implements Downstream: it closes the server's stdin, gives it
// gracePeriod to exit, then SIGTERM and termPeriod, then SIGKILL, and
// returns once the process is gone.
func (p *Process) Close() { p.stop() }

func (p *Process) stop() {
	p.closeOnce.Do(func() { _ = p.lines.close() })
	select {
	case <-p.exited:
		return
	case <-time.After(gracePeriod):
	}
	p.signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return
	case <-time.After(termPeriod):
	}
	p.signal(syscall.SIGKILL)
	<-p.exited
}

func (p *Process) signal(sig syscall.Signal) {
	// The negative pid reaches the whole process group.
	if err := syscall.Kill(-p.cmd.Process.Pid, sig); err != nil {
		_ = p.cmd.Process.Signal(sig)
	}
}

// StartCall implements CallStarter: the answer goes to done on the
// reader of the server's stdout.
func (p *Process) StartCall(id int64, method string, params json.RawMessage, done CallWaiter, batch messages.WriteBatch) error {
	params, _ = p.prepareRaw(method, params)
	return p.lines.startCall(id, method, params, done, batch)
}

// AbandonCall implements CallStarter.
func (p *Process) AbandonCall(id int64) bool { return p.lines.abandonCall(id) }

// PID is the operating system's id of the server's process.
func (p *Process) PID() int { return p.cmd.Process.Pid }
