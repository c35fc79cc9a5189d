package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/transports"
)

// spawnWait bounds how long `attach --spawn` waits for the daemon it
// started to answer on its socket.
const spawnWait = 30 * time.Second

// spawnLog is the file in the state directory that a daemon started by
// `attach --spawn` writes its log to.
const spawnLog = "serve.log"

// attachBridge copies frames between a client's stdio and the daemon's
// socket, keeping the ids of the client's requests the daemon has not
// answered yet, so that they can be answered if the daemon goes away.
// It reads only the members "id" and "method" of each frame.
type attachBridge struct {
	socket      string
	conn        net.Conn
	stdinEnded  atomic.Bool
	mu          sync.Mutex // guards pending and writes to out
	pending     map[string]json.RawMessage
	out         io.Writer
	frameFields [2]string
}

func newAttachBridge(socket string, conn net.Conn, out io.Writer) *attachBridge {
	return &attachBridge{socket: socket, conn: conn, out: out, pending: map[string]json.RawMessage{},
		frameFields: [2]string{"id", "method"}}
}

// run bridges until the daemon's side ends. It returns nil when the
// client ended the session first, and an error saying how the daemon went
// away otherwise, after answering every request in flight.
func (b *attachBridge) run(stdin io.Reader) error {
	go b.forwardRequests(stdin)
	err := b.forwardAnswers()
	if b.stdinEnded.Load() {
		return nil
	}
	if err == nil {
		err = errors.New("it closed the connection")
	}
	n := b.failPending()
	return fmt.Errorf("the plugboard serve at %s went away (%v); %d request(s) in flight were answered with an error", b.socket, err, n)
}

// forwardRequests copies the client's frames to the daemon, recording the
// ids of requests first, and half-closes the connection when stdin ends.
func (b *attachBridge) forwardRequests(stdin io.Reader) {
	lines := transports.NewLineReader(stdin, transports.DefaultMaxFrame)
	for {
		line, err := lines.Next()
		if errors.Is(err, transports.ErrFrameTooLarge) {
			b.write(transports.ErrorFrame(nil, &messages.RPCError{Code: messages.CodeInvalidRequest, Message: "invalid request: " + err.Error()}))
			continue
		}
		if err != nil {
			break
		}
		b.track(line)
		frame := append(line, '\n')
		if _, err := b.conn.Write(frame); err != nil {
			return // the answers' side sees the daemon gone
		}
	}
	b.stdinEnded.Store(true)
	if uc, ok := b.conn.(*net.UnixConn); ok {
		_ = uc.CloseWrite()
	}
}

// forwardAnswers copies the daemon's frames to the client, forgetting the
// requests they answer. It returns when the connection ends: nil at its
// end, else the error.
func (b *attachBridge) forwardAnswers() error {
	lines := transports.NewLineReader(b.conn, transports.DefaultMaxFrame)
	for {
		line, err := lines.Next()
		if errors.Is(err, transports.ErrFrameTooLarge) {
			continue // the daemon caps its frames as the client does; never seen
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		b.answered(line)
		b.write(line)
	}
}

// track records the ids of the requests in a frame or a batch.
func (b *attachBridge) track(line []byte) {
	ids := b.requestIDs(line)
	if len(ids) == 0 {
		return
	}
	b.mu.Lock()
	for _, id := range ids {
		b.pending[string(id)] = id
	}
	b.mu.Unlock()
}

// answered forgets the requests a frame or a batch answers.
func (b *attachBridge) answered(line []byte) {
	each(line, func(member []byte) {
		var v [2]json.RawMessage
		if transports.ReadMembers(member, b.frameFields[:], v[:]) != nil || v[0] == nil || v[1] != nil {
			return // not a response
		}
		b.mu.Lock()
		delete(b.pending, string(v[0]))
		b.mu.Unlock()
	})
}

// requestIDs returns the ids of the requests in a frame or a batch; the
// ids share line's bytes' copies.
func (b *attachBridge) requestIDs(line []byte) []json.RawMessage {
	var ids []json.RawMessage
	each(line, func(member []byte) {
		var v [2]json.RawMessage
		if transports.ReadMembers(member, b.frameFields[:], v[:]) != nil || v[0] == nil || v[1] == nil || string(v[0]) == "null" {
			return // a notification, a response, or nothing the daemon answers by id
		}
		ids = append(ids, append(json.RawMessage(nil), v[0]...))
	})
	return ids
}

// each calls f with a frame, or with each member of a batch.
func each(line []byte, f func([]byte)) {
	i := 0
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	if i == len(line) || line[i] != '[' {
		f(line)
		return
	}
	var batch []json.RawMessage
	if json.Unmarshal(line, &batch) != nil {
		return
	}
	for _, m := range batch {
		f(m)
	}
}

// failPending answers every request still in flight with an error saying
// the daemon is gone, and returns how many there were.
func (b *attachBridge) failPending() int {
	b.mu.Lock()
	ids := make([]json.RawMessage, 0, len(b.pending))
	for _, id := range b.pending {
		ids = append(ids, id)
	}
	b.pending = map[string]json.RawMessage{}
	b.mu.Unlock()
	for _, id := range ids {
		b.write(transports.ErrorFrame(id, &messages.RPCError{Code: messages.CodeServerUnavailable,
			Message: fmt.Sprintf("plugboard serve (%s) is gone: the request was not answered", b.socket)}))
	}
	return len(ids)
}

// write writes one frame to the client, whole.
func (b *attachBridge) write(frame []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, _ = b.out.Write(append(frame, '\n'))
}

// spawnDaemon starts `plugboard serve` on socket, detached from this
// process (a session of its own, its log in the state directory), and
// waits until it answers there.
func spawnDaemon(socket, configPath string) (net.Conn, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding plugboard's own executable: %w", err)
	}
	stateDir := transports.DefaultStateDir()
	if err := transports.EnsurePrivateDir(stateDir); err != nil {
		return nil, err
	}
	logPath := filepath.Join(stateDir, spawnLog)
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the daemon's log: %w", err)
	}
	defer logFile.Close()
	args := []string{"serve", "--socket", socket}
	if configPath != "" {
		args = append(args, "--config", configPath)
	}
	cmd := exec.Command(self, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile // stdin is /dev/null
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting plugboard serve: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	deadline := time.Now().Add(spawnWait)
	for {
		conn, dialErr := transports.DialLocalSocket(socket)
		if dialErr == nil {
			return conn, nil
		}
		select {
		case err := <-exited:
			// Another attach may have started one first: this one then
			// refused the socket, and the other answers.
			if conn, dialErr := transports.DialLocalSocket(socket); dialErr == nil {
				return conn, nil
			}
			return nil, fmt.Errorf("the plugboard serve it started ended (%v); its log is %s", err, logPath)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the plugboard serve it started (pid %d) did not answer on %s within %s; its log is %s", cmd.Process.Pid, socket, spawnWait, logPath)
		}
	}
}
