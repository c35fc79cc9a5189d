package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// killGrace is how long a target may take to exit once its stdin is
// closed before its process group is killed.
const killGrace = 5 * time.Second

// process is a running stdio target.
type process struct {
	cmd    *exec.Cmd
	stdout io.Closer
	stderr *tailBuffer // nil when the target's stderr is passed through
	exited chan struct{}
	status error // how it exited; set before exited is closed
}

// startProcess starts argv in a process group of its own, so that a
// wrapper and everything it spawned can be killed together. The caller
// must read stdout to its end and then call reap.
func startProcess(argv []string, passStderr bool) (*process, io.WriteCloser, io.ReadCloser, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A grandchild that keeps stderr open must not hold up reaping.
	cmd.WaitDelay = time.Second
	p := &process{cmd: cmd, exited: make(chan struct{})}
	if passStderr {
		cmd.Stderr = os.Stderr
	} else {
		p.stderr = &tailBuffer{max: 4 << 10}
		cmd.Stderr = p.stderr
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("starting %s: %w", argv[0], err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("starting %s: %w", argv[0], err)
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, nil, fmt.Errorf("starting %s: %w", argv[0], err)
	}
	p.stdout = stdout
	return p, stdin, stdout, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// reap waits for the process once its stdout has ended.
func (p *process) reap() {
	p.status = p.cmd.Wait()
	if errors.Is(p.status, exec.ErrWaitDelay) {
		p.status = nil // it exited well; a descendant still holds its stderr
	}
	close(p.exited)
}

// stop waits for the process to exit, which closing its stdin should
// make it do, and kills its process group after grace or once ctx is
// done. It returns an error when the process had to be killed or exited
// with a failure.
func (p *process) stop(ctx context.Context, grace time.Duration) error {
	select {
	case <-p.exited:
		return p.exitError()
	default:
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	why := fmt.Sprintf("did not exit within %s of its stdin closing", grace)
	select {
	case <-p.exited:
		return p.exitError()
	case <-timer.C:
	case <-ctx.Done():
		why = "was still running when the benchmark was stopped"
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	timer.Reset(time.Second)
	select {
	case <-p.exited:
	case <-timer.C:
		// Something outside the group, such as a daemon started with
		// setsid, still holds stdout open: stop reading it.
		_ = p.stdout.Close()
		<-p.exited
	}
	return fmt.Errorf("%s %s and was killed", p.cmd.Path, why)
}

// exitError describes an exit that was not a success, once exited.
func (p *process) exitError() error {
	if p.status == nil {
		return nil
	}
	var exitErr *exec.ExitError
	if errors.As(p.status, &exitErr) {
		return fmt.Errorf("%s %s%s", p.cmd.Path, exitErr.ProcessState, p.stderrTail())
	}
	return fmt.Errorf("%s: %w%s", p.cmd.Path, p.status, p.stderrTail())
}

// stderrTail is the end of what the target wrote to stderr, set off for
// an error message, or "" when there is none or it was passed through.
func (p *process) stderrTail() string {
	if p.stderr == nil {
		return ""
	}
	if s := strings.TrimRight(p.stderr.String(), "\n"); s != "" {
		return "; its stderr ended with:\n" + s
	}
	return ""
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
