package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	neturl "net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// How long an HTTP server may take to say it is ready, and to exit once
// told to stop.
const (
	serverReadyTimeout = 30 * time.Second
	serverStopGrace    = 10 * time.Second
)

// httpServer is a server process listening on loopback, such as
// `plugboard serve` or `mcp-fixture --listen`, that the HTTP scenarios
// measure over many sessions.
type httpServer struct {
	name   string
	cmd    *exec.Cmd
	url    string // its /mcp endpoint
	exited chan struct{}

	mu   sync.Mutex
	tail []string // the last lines of its stderr, for errors
}

// startHTTPServer starts argv in a process group of its own and waits
// until its output (stderr and stdout, read as one) has said where it
// listens and, when readyText is not empty, a line containing readyText.
func startHTTPServer(ctx context.Context, name string, argv []string, readyText string) (*httpServer, error) {
	return startHTTPServerAt(ctx, name, argv, readyText, "")
}

// startHTTPServerAt is startHTTPServer for a server whose URL is known
// beforehand, url, which then waits for readyText alone.
func startHTTPServerAt(ctx context.Context, name string, argv []string, readyText, url string) (*httpServer, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// One pipe for both: some servers (punkpeye's mcp-proxy) say they
	// are ready on stdout, where an HTTP server has nothing else to say.
	output, writeEnd, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	cmd.Stdout, cmd.Stderr = writeEnd, writeEnd
	// stdin stays open, and empty, for as long as the server runs: the
	// fixture ends when it closes.
	if _, err := cmd.StdinPipe(); err != nil {
		output.Close()
		writeEnd.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	err = cmd.Start()
	writeEnd.Close() // the child has its copy; EOF comes when it exits
	if err != nil {
		output.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	stderr := output
	s := &httpServer{name: name, cmd: cmd, exited: make(chan struct{})}
	urls := make(chan string, 1)
	go s.readStderr(stderr, readyText, url, urls)

	timer := time.NewTimer(serverReadyTimeout)
	defer timer.Stop()
	select {
	case s.url = <-urls:
		// Some say they start before they listen: wait for the port.
		if err = waitForListener(ctx, s.url, timer.C); err == nil {
			return s, nil
		}
		err = fmt.Errorf("%s said it was ready but %w: %s", name, err, s.stderrTail())
	case <-s.exited:
		return nil, fmt.Errorf("%s exited before it was ready: %s", name, s.stderrTail())
	case <-timer.C:
		err = fmt.Errorf("%s was not ready within %s: %s", name, serverReadyTimeout, s.stderrTail())
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.stop()
	return nil, err
}

// waitForListener connects to the host and port of url until one
// connection succeeds, or until timeout fires or ctx ends.
func waitForListener(ctx context.Context, rawURL string, timeout <-chan time.Time) error {
	u, err := neturl.Parse(rawURL)
	if err != nil {
		return err
	}
	for {
		conn, err := net.DialTimeout("tcp", u.Host, time.Second)
		if err == nil {
			return conn.Close()
		}
		select {
		case <-timeout:
			return fmt.Errorf("nothing listened on %s within %s", u.Host, serverReadyTimeout)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// readStderr keeps the tail of the server's stderr, sends its URL once it
// is ready, and reaps the process when stderr ends.
func (s *httpServer) readStderr(stderr io.Reader, readyText, url string, urls chan<- string) {
	ready, sent := readyText == "", false
	lines := bufio.NewScanner(stderr)
	lines.Buffer(make([]byte, 64<<10), 1<<20)
	for lines.Scan() {
		line := lines.Text()
		s.mu.Lock()
		s.tail = append(s.tail, line)
		if len(s.tail) > 20 {
			s.tail = s.tail[1:]
		}
		s.mu.Unlock()
		if u := listenURL(line); u != "" && url == "" {
			url = u
		}
		if readyText != "" && strings.Contains(line, readyText) {
			ready = true
		}
		if url != "" && ready && !sent {
			urls <- url
			sent = true
		}
	}
	if c, ok := stderr.(io.Closer); ok {
		c.Close()
	}
	_ = s.cmd.Wait()
	close(s.exited)
}

// listenURL finds the /mcp URL in a line where a server says where it
// listens: the fixture's "listening on http://HOST:PORT", or plugboard's
// log line with url=http://HOST:PORT/mcp.
func listenURL(line string) string {
	if rest, ok := strings.CutPrefix(line, "listening on "); ok {
		return strings.TrimSpace(rest) + "/mcp"
	}
	if strings.Contains(line, "msg=listening") {
		for _, field := range strings.Fields(line) {
			if url, ok := strings.CutPrefix(field, "url="); ok {
				return url
			}
		}
	}
	return ""
}

func (s *httpServer) pid() int { return s.cmd.Process.Pid }

func (s *httpServer) stderrTail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tail) == 0 {
		return "no output on stderr"
	}
	return strings.Join(s.tail, "\n")
}

// stop sends SIGTERM and waits for the server to exit, killing its
// process group after serverStopGrace. It reports a server that had to
// be killed.
func (s *httpServer) stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(serverStopGrace)
	defer timer.Stop()
	select {
	case <-s.exited:
		return nil
	case <-timer.C:
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
	return errors.New(s.name + " did not exit within " + serverStopGrace.String() + " of SIGTERM and was killed")
}
