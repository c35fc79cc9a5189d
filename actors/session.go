package actors

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"sort"
	"sync"
	"syscall"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/transports"
)

// Session is one client session: a front actor and the frames to and from
// it. It implements transports.ClientSession.
type Session struct {
	root      *actor.RootContext
	front     *actor.PID
	out       *outQueue
	credits   chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

// OpenSession starts a client session.
func (s *System) OpenSession() transports.ClientSession {
	return s.openIn("")
}

// Workspace is a SessionOpener whose sessions see one workspace.
type Workspace struct {
	sys  *System
	name string
}

// OpenSession implements transports.SessionOpener.
func (w Workspace) OpenSession() transports.ClientSession { return w.sys.openIn(w.name) }

// InWorkspace returns the opener of sessions that see workspace name, or
// false when the configuration has no such workspace. "" is the default
// workspace.
func (s *System) InWorkspace(name string) (Workspace, bool) {
	if name != "" {
		if known := s.workspaces.Load(); known == nil || !(*known)[name] {
			return Workspace{}, false
		}
	}
	return Workspace{sys: s, name: name}, true
}

// Workspaces returns the names of the configuration's workspaces.
func (s *System) Workspaces() []string {
	known := s.workspaces.Load()
	if known == nil {
		return nil
	}
	names := make([]string, 0, len(*known))
	for n := range *known {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (s *System) openIn(workspace string) transports.ClientSession {
	sess := &Session{
		root:    s.actors.Root,
		out:     newOutQueue(),
		credits: make(chan struct{}, maxInflightPerSession),
		closed:  make(chan struct{}),
	}
	sess.front = s.actors.Root.Spawn(actor.PropsFromProducer(func() actor.Actor {
		return newFront(s.router, s.log, sess.out, sess.credits, workspace, frontTelemetry{metrics: s.tel.metrics, tracer: s.tel.tracer})
	}, inlineDispatch()))
	return sess
}

// inlineDispatch makes an actor's messages run on the goroutine that sends
// one while the actor is idle (and on the goroutine already running it
// otherwise), not on a new goroutine per batch as protoactor's default
// dispatcher does. The actor is still run by one goroutine at a time, and
// its mailbox keeps its order. Each hop saved is a goroutine start, a
// wake-up of another thread and the growth of a fresh stack: a session's
// reader runs its front, the router and the server actor, which writes the
// request to the server, and the reader of the server's stdout runs the
// server actor and the front, which writes the answer (docs/CALL-PATH.md).
// It suits actors whose Receive never blocks (the rule for every actor
// here) on the path of every request: front, router and server.
func inlineDispatch() actor.PropsOption {
	return actor.WithDispatcher(actor.NewSynchronizedDispatcher(300)) // 300: protoactor's default throughput
}

// Deliver implements transports.ClientSession: a request takes a credit,
// which its answer returns.
func (s *Session) Deliver(f transports.Frame) {
	if f.IsRequest() {
		select {
		case s.credits <- struct{}{}:
		case <-s.closed:
			return
		}
	}
	s.root.Send(s.front, &clientFrame{frame: f})
}

// deliverHeld is Deliver for a frame of batch's read: the calls it starts
// are held by batch. Before waiting for a credit it flushes batch, since
// the calls held may be what would give one back.
func (s *Session) deliverHeld(f transports.Frame, batch *transports.WriteBatch) {
	if f.IsRequest() {
		select {
		case s.credits <- struct{}{}:
		default:
			batch.Flush()
			select {
			case s.credits <- struct{}{}:
			case <-s.closed:
				return
			}
		}
	}
	s.root.Send(s.front, &clientFrame{frame: f, batch: batch})
}

// Reject implements transports.ClientSession.
func (s *Session) Reject(e *transports.FrameError) {
	s.root.Send(s.front, &clientFrameError{err: e})
}

// Out implements transports.ClientSession.
func (s *Session) Out() <-chan transports.Outbound { return s.out.channel() }

// Consume implements transports.Consumer: frames go to deliver, from a
// goroutine that runs only while there are frames; ended is called once
// the session has ended and everything was handed over.
func (s *Session) Consume(deliver func(transports.Outbound), ended func()) {
	s.out.consume(deliver, ended)
}

// ConsumeDirect implements transports.DirectConsumer: direct is tried
// first for every frame, on the goroutine that has it.
func (s *Session) ConsumeDirect(direct func(transports.Outbound) bool, deliver func(transports.Outbound), ended func()) {
	s.out.consumeDirect(direct, deliver, ended)
}

// Listen implements transports.Listener: the session gets list changes
// without having initialized (a 2026-07-28 subscriptions/listen).
func (s *Session) Listen() {
	s.root.Send(s.front, &clientListening{})
}

// Abandon implements transports.ClientSession.
func (s *Session) Abandon(id json.RawMessage, reason string) {
	select {
	case <-s.closed: // the session's end cancels everything
	default:
		s.root.Send(s.front, &clientAbandoned{id: id, reason: reason})
	}
}

// Close implements transports.ClientSession.
func (s *Session) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.root.Send(s.front, &clientEnded{})
	})
}

// ServeStream serves one client session of newline-delimited JSON-RPC on
// in and out (plugboard's stdio, or a local socket) until in ends: a
// handshake-era session, and beside it the client's 2026-07-28 requests,
// each with a session of its own. The returned channel is closed once
// everything written has been flushed.
func (s *System) ServeStream(in io.Reader, out io.Writer, maxFrame int) <-chan struct{} {
	return s.ServeStreamOver("stdio", in, out, maxFrame)
}

// ServeStreamOver is ServeStream for a stream that status names
// transport ("stdio", "socket").
func (s *System) ServeStreamOver(transport string, in io.Reader, out io.Writer, maxFrame int) <-chan struct{} {
	w, _ := s.InWorkspace("")
	return w.ServeStreamOver(transport, in, out, maxFrame)
}

// ServeStreamOver is System.ServeStreamOver for a session of workspace w.
func (w Workspace) ServeStreamOver(transport string, in io.Reader, out io.Writer, maxFrame int) <-chan struct{} {
	s := w.sys
	sess := w.OpenSession()
	sess.(*Session).DescribeTransport(transport)
	done := make(chan struct{})
	sw := newStreamWriter(out, s.log)
	stop := make(chan struct{})
	modern := transports.NewModernStream(w, sw.writeNow, stop)
	if sw.raw != nil {
		// The answer is written by the goroutine that has it: no writer
		// goroutine unless the client falls behind (session_writer.go).
		sess.(*Session).out.consumeDirectCopying(sw.offerNow, func(o transports.Outbound) { sw.writeNow(o.Frame) }, func() {
			go func() {
				sw.finish()
				close(done)
			}()
		})
	} else {
		go writeFrames(sw, sess.Out(), done)
	}
	in, restore := pollable(in, s.log)
	go func() {
		defer restore()
		readFrames(in, maxFrame, sess, modern)
		close(stop)
		modern.Close()
	}()
	return done
}

// pollable returns a pipe or a socket handed over in blocking mode (as
// plugboard's stdin usually is) as a reader that the Go runtime's poller
// waits on, reading without a scheduled system call
// (transports.NewPolledReader): a read that has to wait for the client
// then parks its goroutine, instead of keeping a thread in a system call,
// whose processor the runtime's monitor takes back, waking every 20 us to
// do so, for as long as the client keeps sending. restore puts blocking mode back, for
// whoever shares the pipe once plugboard is done with it. Anything else
// (a terminal, a file, a net.Conn, an io.Pipe) is returned as it is.
func pollable(in io.Reader, log *slog.Logger) (io.Reader, func()) {
	f, ok := in.(*os.File)
	if !ok {
		return in, func() {}
	}
	polled, restore := pollableFile(f, log)
	if polled == nil {
		return in, func() {}
	}
	return transports.NewPolledReader(polled), restore
}

// pollableFile is pollable's file: a duplicate of f in non-blocking mode,
// or nil when f is neither a pipe nor a socket, or cannot be switched.
func pollableFile(f *os.File, log *slog.Logger) (*os.File, func()) {
	info, err := f.Stat()
	if err != nil || info.Mode()&(os.ModeNamedPipe|os.ModeSocket) == 0 {
		return nil, nil
	}
	raw, err := f.SyscallConn()
	if err != nil {
		return nil, nil
	}
	// A duplicate, so that closing it leaves f's descriptor alone; the
	// blocking mode belongs to the pipe, which both share.
	dup := -1
	_ = raw.Control(func(fd uintptr) {
		syscall.ForkLock.RLock()
		defer syscall.ForkLock.RUnlock()
		if d, err := syscall.Dup(int(fd)); err == nil {
			syscall.CloseOnExec(d)
			dup = d
		}
	})
	if dup < 0 {
		return nil, nil
	}
	if err := syscall.SetNonblock(dup, true); err != nil {
		syscall.Close(dup)
		return nil, nil
	}
	polled := os.NewFile(uintptr(dup), f.Name()) // in non-blocking mode: pollable
	key := nonBlockingUse(info)
	return polled, func() {
		polled.Close()
		if !key.release() {
			return // stdin and stdout are one socket, and the other is still in use
		}
		_ = raw.Control(func(fd uintptr) {
			if err := syscall.SetNonblock(int(fd), false); err != nil {
				log.Debug("restoring blocking mode on the client's stream", "err", err)
			}
		})
	}
}

// streamUses counts, per pipe or socket, the users of its non-blocking
// mode: when stdin and stdout are one socket, the reader that reaches the
// end of stdin must not put blocking mode back under the writer, whose
// writes would then block inside an actor.
var streamUses = struct {
	sync.Mutex
	n map[streamKey]int
}{n: map[streamKey]int{}}

type streamKey struct{ dev, ino uint64 }

// nonBlockingUse counts one more user of the stream info describes.
func nonBlockingUse(info os.FileInfo) streamKey {
	var key streamKey
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		key = streamKey{dev: uint64(st.Dev), ino: st.Ino}
	}
	streamUses.Lock()
	streamUses.n[key]++
	streamUses.Unlock()
	return key
}

// release counts a user less, and says whether it was the last.
func (k streamKey) release() bool {
	streamUses.Lock()
	defer streamUses.Unlock()
	streamUses.n[k]--
	if streamUses.n[k] > 0 {
		return false
	}
	delete(streamUses.n, k)
	return true
}

// readFrames parses the client's frames and delivers them until in ends.
//
// The frames of one read are handled under one transports.WriteBatch: the
// requests they start are written to each server together, once the last
// frame of the read is handled (or before the reader waits for a credit).
func readFrames(in io.Reader, maxFrame int, sess transports.ClientSession, modern *transports.ModernStream) {
	defer sess.Close()
	lines := transports.NewLineReader(in, maxFrame)
	held, _ := sess.(*Session)
	batch := transports.NewWriteBatch()
	defer func() { batch.Flush() }()
	for {
		if !lines.LineReady() {
			batch.Flush() // before the reader may wait for the client
			batch = transports.NewWriteBatch()
		}
		line, err := lines.Next()
		if errors.Is(err, transports.ErrFrameTooLarge) {
			sess.Reject(&transports.FrameError{Code: messages.CodeInvalidRequest, Message: "invalid request: " + err.Error()})
			continue
		}
		if err != nil {
			return
		}
		frame, err := transports.ParseFrame(line)
		if err != nil {
			var fe *transports.FrameError
			if errors.As(err, &fe) {
				sess.Reject(fe)
			}
			continue
		}
		if modern.Take(frame) {
			continue
		}
		if held != nil {
			held.deliverHeld(frame, batch)
		} else {
			sess.Deliver(frame)
		}
	}
}

// writeFrames writes the session's frames, flushing whenever it has no
// more to write, until frames is closed.
func writeFrames(w *streamWriter, frames <-chan transports.Outbound, done chan<- struct{}) {
	defer close(done)
	for o := range frames {
		w.write(o.Frame, len(frames) == 0)
	}
	w.finish()
}
