package actors

import (
	"bufio"
	"errors"
	"io"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/transports"
)

// Session is one client session: a front actor and the frames to and from
// it. It implements transports.ClientSession.
type Session struct {
	root      *actor.RootContext
	front     *actor.PID
	out       chan transports.Outbound
	credits   chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

// OpenSession starts a client session.
func (s *System) OpenSession() transports.ClientSession {
	sess := &Session{
		root:    s.actors.Root,
		out:     make(chan transports.Outbound, maxInflightPerSession+64),
		credits: make(chan struct{}, maxInflightPerSession),
		closed:  make(chan struct{}),
	}
	sess.front = s.actors.Root.Spawn(actor.PropsFromProducer(func() actor.Actor {
		return newFront(s.router, s.log, sess.out, sess.credits)
	}))
	return sess
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

// Reject implements transports.ClientSession.
func (s *Session) Reject(e *transports.FrameError) {
	s.root.Send(s.front, &clientFrameError{err: e})
}

// Out implements transports.ClientSession.
func (s *Session) Out() <-chan transports.Outbound { return s.out }

// Close implements transports.ClientSession.
func (s *Session) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.root.Send(s.front, &clientEnded{})
	})
}

// ServeStream serves one client session of newline-delimited JSON-RPC on
// in and out (plugboard's stdio, or a local socket) until in ends. The
// returned channel is closed once everything written has been flushed.
func (s *System) ServeStream(in io.Reader, out io.Writer, maxFrame int) <-chan struct{} {
	sess := s.OpenSession()
	done := make(chan struct{})
	go writeFrames(out, sess.Out(), done, s)
	go readFrames(in, maxFrame, sess)
	return done
}

// readFrames parses the client's frames and delivers them until in ends.
func readFrames(in io.Reader, maxFrame int, sess transports.ClientSession) {
	defer sess.Close()
	lines := transports.NewLineReader(in, maxFrame)
	for {
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
		sess.Deliver(frame)
	}
}

// writeFrames writes frames, one per line, flushing whenever it has no
// more to write, until frames is closed.
func writeFrames(out io.Writer, frames <-chan transports.Outbound, done chan<- struct{}, s *System) {
	defer close(done)
	w := bufio.NewWriterSize(out, 64<<10)
	broken := false
	for o := range frames {
		if broken {
			continue // drain, so that the front never blocks
		}
		_, _ = w.Write(o.Frame)
		if err := w.WriteByte('\n'); err != nil {
			s.log.Error("writing to the client failed", "err", err)
			broken = true
			continue
		}
		if len(frames) == 0 {
			if err := w.Flush(); err != nil {
				s.log.Error("writing to the client failed", "err", err)
				broken = true
			}
		}
	}
	_ = w.Flush()
}
