package main

// The stdio client: one process per session, newline-delimited JSON-RPC
// on its stdin and stdout. Per call it costs one channel send to the
// session's writer goroutine, which batches whatever frames are waiting
// into one write, and one channel receive of the outcome that the reader
// goroutine matched by id. Ids encode the caller's slot, so matching is
// an index and a compare-and-swap, with no lock and no map.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// stdioTarget starts its command once per session.
type stdioTarget struct {
	argv       []string
	passStderr bool
	timeout    time.Duration
}

func (t *stdioTarget) open(_ context.Context, callers int) (session, error) {
	return startStdioSession(t.argv, callers, t.timeout, t.passStderr)
}

func (t *stdioTarget) info() targetInfo {
	return targetInfo{Transport: "stdio", Command: t.argv}
}

func (t *stdioTarget) release() {}

// Sizes of the stdio buffers: a read buffer that holds most frames whole,
// and the most the writer gathers into one write.
const (
	stdioReadBuffer = 64 << 10
	stdioWriteBatch = 64 << 10
)

// stdioSession is one target process and the session on its stdio.
type stdioSession struct {
	proc    *process
	stdin   io.WriteCloser
	timeout time.Duration
	// slots[0] is the handshake's; caller i uses slots[i+1].
	slots []*slot

	out        chan outFrame // to the writer
	quit       chan struct{} // closed by close: the writer closes stdin and returns
	writerDone chan struct{}
	dead       chan struct{} // closed once no more responses can come
	deadErr    error         // why, set before dead is closed
	failOnce   sync.Once
	closeOnce  sync.Once
	closeErr   error
}

// slot is where one caller's responses arrive.
type slot struct {
	want  atomic.Uint64 // the id awaited, 0 when none
	reply chan outcome  // buffered: the reader never blocks on it
	seq   uint64        // the caller's request count, owned by the caller
	timer *time.Timer
}

// outFrame is a frame for the writer to encode: a request (id > 0), a
// notification (id 0), or raw bytes when raw is set.
type outFrame struct {
	id     uint64
	method string
	params []byte
	raw    []byte
}

func startStdioSession(argv []string, callers int, timeout time.Duration, passStderr bool) (*stdioSession, error) {
	proc, stdin, stdout, err := startProcess(argv, passStderr)
	if err != nil {
		return nil, err
	}
	s := &stdioSession{
		proc:       proc,
		stdin:      stdin,
		timeout:    timeout,
		slots:      make([]*slot, callers+1),
		out:        make(chan outFrame, 2*(callers+1)),
		quit:       make(chan struct{}),
		writerDone: make(chan struct{}),
		dead:       make(chan struct{}),
	}
	for i := range s.slots {
		timer := time.NewTimer(time.Hour)
		timer.Stop()
		s.slots[i] = &slot{reply: make(chan outcome, 1), timer: timer}
	}
	go s.writeLoop()
	go s.readLoop(stdout)
	return s, nil
}

func (s *stdioSession) pid() int { return s.proc.pid() }

func (s *stdioSession) caller(i int) caller {
	return &stdioCaller{s: s, index: uint64(i + 1), slot: s.slots[i+1]}
}

func (s *stdioSession) handshake(ctx context.Context) (*serverInfo, error) {
	c := &stdioCaller{s: s, index: 0, slot: s.slots[0]}
	// Not a measured call: --timeout does not bound it (handshakeTimeout).
	info, err := initializeOutcome(c.callWithin(ctx, methodInitialize, []byte(initializeParams), max(s.timeout, handshakeTimeout)))
	if err != nil {
		return nil, s.withExit(err)
	}
	if !s.send(outFrame{method: methodInitialized}) {
		return nil, s.withExit(s.deadErr)
	}
	return info, nil
}

// withExit adds how the process exited to err, if it has exited by now.
func (s *stdioSession) withExit(err error) error {
	select {
	case <-s.proc.exited:
		if exit := s.proc.exitError(); exit != nil {
			return fmt.Errorf("%w (%v)", err, exit)
		}
	case <-time.After(100 * time.Millisecond):
	}
	return err
}

// close closes the target's stdin and waits for it to exit, killing it
// after killGrace.
func (s *stdioSession) close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		close(s.quit)
		s.closeErr = s.proc.stop(ctx, killGrace)
		<-s.writerDone
	})
	return s.closeErr
}

// send hands a frame to the writer, failing once the session is dead.
func (s *stdioSession) send(f outFrame) bool {
	select {
	case s.out <- f:
		return true
	case <-s.dead:
		return false
	}
}

// fail marks the session dead: calls waiting and to come fail with err.
func (s *stdioSession) fail(err error) {
	s.failOnce.Do(func() {
		s.deadErr = err
		close(s.dead)
	})
}

// writeLoop encodes frames and writes them to stdin, gathering those
// already waiting into one write. It closes stdin when told to quit.
func (s *stdioSession) writeLoop() {
	defer close(s.writerDone)
	defer s.stdin.Close()
	buf := make([]byte, 0, stdioWriteBatch)
	for {
		var f outFrame
		select {
		case f = <-s.out:
		case <-s.quit:
			return
		}
		buf = appendOutFrame(buf[:0], f)
	gather:
		for len(buf) < stdioWriteBatch {
			select {
			case f = <-s.out:
				buf = appendOutFrame(buf, f)
			default:
				break gather
			}
		}
		if _, err := s.stdin.Write(buf); err != nil {
			s.fail(fmt.Errorf("writing to the target's stdin: %w", err))
			return
		}
		if cap(buf) > 4*stdioWriteBatch {
			buf = make([]byte, 0, stdioWriteBatch)
		}
	}
}

func appendOutFrame(dst []byte, f outFrame) []byte {
	switch {
	case f.raw != nil:
		dst = append(dst, f.raw...)
	case f.id == 0:
		dst = appendNotification(dst, f.method, f.params)
	default:
		dst = appendRequest(dst, f.id, f.method, f.params)
	}
	return append(dst, '\n')
}

// errStdoutClosed is why a session dies when its target's stdout ends.
var errStdoutClosed = errors.New("the target closed its stdout")

// readLoop matches responses to their callers until stdout ends, then
// reaps the process.
func (s *stdioSession) readLoop(stdout io.Reader) {
	lines := newLineReader(stdout, stdioReadBuffer)
	for {
		line, err := lines.next()
		if len(line) > 0 {
			s.dispatch(line, time.Now())
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				s.fail(errStdoutClosed)
			} else {
				s.fail(fmt.Errorf("reading the target's stdout: %w", err))
			}
			break
		}
	}
	s.proc.reap()
}

// dispatch handles one line from the target, read at done.
func (s *stdioSession) dispatch(line []byte, done time.Time) {
	f, err := parseFrame(line)
	if err != nil {
		return // not JSON-RPC: some servers print other things to stdout
	}
	if f.method != nil {
		if f.isServerRequest() {
			s.send(outFrame{raw: serverRequestReply(append([]byte(nil), f.id...), f.method)})
		}
		return
	}
	id, ok := f.numericID()
	if !ok {
		return
	}
	sl := s.slots[id%uint64(len(s.slots))]
	if !sl.want.CompareAndSwap(id, 0) {
		return // a late answer to a call given up, or not ours
	}
	o := outcomeOf(f)
	o.done = done
	sl.reply <- o
}

// stdioCaller makes one call at a time through its slot.
type stdioCaller struct {
	s     *stdioSession
	index uint64
	slot  *slot
}

func (c *stdioCaller) call(ctx context.Context, method string, params []byte) outcome {
	return c.callWithin(ctx, method, params, c.s.timeout)
}

// callWithin is call with its own timeout.
func (c *stdioCaller) callWithin(ctx context.Context, method string, params []byte, timeout time.Duration) outcome {
	s, sl := c.s, c.slot
	sl.seq++
	id := sl.seq*uint64(len(s.slots)) + c.index
	sl.want.Store(id)
	if !s.send(outFrame{id: id, method: method, params: params}) {
		o, _ := c.giveUp(id, c.deadOutcome())
		return o
	}
	sl.timer.Reset(timeout)
	select {
	case o := <-sl.reply:
		sl.timer.Stop()
		return o
	case <-sl.timer.C:
		return c.cancel(id, outcome{kind: outcomeTimeout, message: fmt.Sprintf("no response within %s", timeout)}, "timeout")
	case <-s.dead:
		sl.timer.Stop()
		o, _ := c.giveUp(id, c.deadOutcome())
		return o
	case <-ctx.Done():
		sl.timer.Stop()
		return c.cancel(id, outcome{kind: outcomeCancelled}, "the benchmark is stopping")
	}
}

// giveUp stops waiting for id and returns instead, unless the response
// arrived meanwhile, which is then returned; abandoned says which.
func (c *stdioCaller) giveUp(id uint64, instead outcome) (o outcome, abandoned bool) {
	if c.slot.want.CompareAndSwap(id, 0) {
		instead.done = time.Now()
		return instead, true
	}
	return <-c.slot.reply, false
}

// cancel gives up on id and tells the target so.
func (c *stdioCaller) cancel(id uint64, instead outcome, reason string) outcome {
	o, abandoned := c.giveUp(id, instead)
	if abandoned {
		c.s.send(outFrame{method: methodCancelled, params: cancelledParams(id, reason)})
	}
	return o
}

func (c *stdioCaller) deadOutcome() outcome {
	return outcome{kind: outcomeTransport, message: c.s.deadErr.Error(), fatal: true}
}
