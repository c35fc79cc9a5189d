package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/plugboard/plugboard/actors"
)

// inFlightPoll is how often serve asks, while it shuts down, whether calls
// are still in flight.
const inFlightPoll = 100 * time.Millisecond

// awaitCalls waits until no server has a client's call in flight, for at
// most grace, or until a second signal.
func awaitCalls(sys *actors.System, grace time.Duration, signals <-chan os.Signal, log *slog.Logger) {
	deadline := time.Now().Add(grace)
	tick := time.NewTicker(inFlightPoll)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		counts, err := sys.InFlight(ctx)
		cancel()
		total := 0
		for _, n := range counts {
			total += n
		}
		if err == nil && total == 0 {
			return
		}
		if time.Now().After(deadline) {
			log.Warn("grace period over; stopping the servers with calls in flight", "grace", grace, "calls", total)
			return
		}
		select {
		case sig := <-signals:
			log.Warn("second signal; not waiting for calls in flight", "signal", sig.String(), "calls", total)
			return
		case <-tick.C:
		}
	}
}

// socketSessions are the MCP sessions and requests served on the unix
// socket, so that shutdown can end them once their calls are answered.
type socketSessions struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newSocketSessions() *socketSessions {
	return &socketSessions{conns: map[net.Conn]struct{}{}}
}

// accept serves each local connection until the listener closes: a
// session of newline-delimited JSON-RPC, or a request (serveSocketConn).
func (s *socketSessions) accept(ln net.Listener, d daemonParts) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[conn] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			serveSocketConn(conn, d)
			s.mu.Lock()
			delete(s.conns, conn)
			s.mu.Unlock()
		}()
	}
}

// drain ends every connection's reading side, so that each session ends
// once what it has written is flushed, and waits for them, at most wait.
func (s *socketSessions) drain(wait time.Duration) {
	if s == nil {
		return
	}
	s.mu.Lock()
	for conn := range s.conns {
		if uc, ok := conn.(*net.UnixConn); ok {
			_ = uc.CloseRead()
		} else {
			_ = conn.Close()
		}
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(wait):
		s.mu.Lock()
		for conn := range s.conns {
			_ = conn.Close()
		}
		s.mu.Unlock()
	}
}
