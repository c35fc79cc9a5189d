package actors

import (
	"bufio"
	"errors"
	"io"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/transports"
)

// ServeStream serves one client session of newline-delimited JSON-RPC on
// in and out (plugboard's stdio, or a local socket) until in ends. The
// returned channel is closed once everything written has been flushed.
func (s *System) ServeStream(in io.Reader, out io.Writer, maxFrame int) <-chan struct{} {
	frames := make(chan []byte, maxInflightPerSession+64)
	credits := make(chan struct{}, maxInflightPerSession)
	done := make(chan struct{})
	front := s.actors.Root.Spawn(actor.PropsFromProducer(func() actor.Actor {
		return newFront(s.router, s.log, frames, credits)
	}))
	go writeFrames(out, frames, done, s)
	go s.readFrames(in, maxFrame, front, credits)
	return done
}

// readFrames parses the client's frames and posts them to its front,
// taking a credit per request so that a client at its cap stops being read.
func (s *System) readFrames(in io.Reader, maxFrame int, front *actor.PID, credits chan<- struct{}) {
	root := s.actors.Root
	lines := transports.NewLineReader(in, maxFrame)
	for {
		line, err := lines.Next()
		if errors.Is(err, transports.ErrFrameTooLarge) {
			root.Send(front, &clientFrameError{err: &transports.FrameError{Code: messages.CodeInvalidRequest, Message: "invalid request: " + err.Error()}})
			continue
		}
		if err != nil {
			root.Send(front, &clientEnded{err: err})
			return
		}
		frame, err := transports.ParseFrame(line)
		if err != nil {
			var fe *transports.FrameError
			if errors.As(err, &fe) {
				root.Send(front, &clientFrameError{err: fe})
			}
			continue
		}
		if frame.IsRequest() {
			credits <- struct{}{}
		}
		root.Send(front, &clientFrame{frame: frame})
	}
}

// writeFrames writes frames, one per line, flushing whenever it has no
// more to write, until frames is closed.
func writeFrames(out io.Writer, frames <-chan []byte, done chan<- struct{}, s *System) {
	defer close(done)
	w := bufio.NewWriterSize(out, 64<<10)
	broken := false
	for frame := range frames {
		if broken {
			continue // drain, so that the front never blocks
		}
		_, _ = w.Write(frame)
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
