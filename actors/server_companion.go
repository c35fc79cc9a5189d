package actors

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/metrics"
	"github.com/plugboard/plugboard/transports"
)

// A stdio server of both generations is served over its handshake-era
// session for handshake-era clients; a 2026-07-28 client's requests go to
// a second process of the same server, spoken to in 2026-07-28 only, its
// companion. Some servers (the TypeScript SDK's) serve a stdio connection
// in the generation of its first request, so that one process cannot
// serve both. The companion starts with the first 2026-07-28 request and
// lives as long as the incarnation. (Over HTTP each 2026-07-28 request
// goes on its own, without the session: no companion is needed.)

// companion is the state of a server's 2026-07-28 companion connection.
type companion struct {
	conn    transports.Downstream // nil while it starts
	waiting []*messages.Forward   // 2026-07-28 requests waiting for it to start
	stop    context.CancelFunc
}

// maxCompanionWaiting bounds the requests waiting for a companion to start.
const maxCompanionWaiting = 1024

// Messages from a companion's goroutine to its actor.
type (
	companionReady struct {
		incarnation uint64
		conn        transports.Downstream
	}
	companionEnded struct {
		incarnation uint64
		reason      string
	}
)

// needsCompanion reports whether a request goes to the companion: a
// 2026-07-28 client's, to a stdio server of both generations.
func (s *serverActor) needsCompanion(msg *messages.Forward) bool {
	return s.bothEras && !s.noCompanion && s.cfg.URL == "" && clientSpeaksModern(msg.Params)
}

// viaCompanion sends a request to the companion, starting it first if
// needed; it reports false when the companion is ready and the request
// is for the ordinary path (with the companion's connection).
func (s *serverActor) viaCompanion(ctx actor.Context, msg *messages.Forward) bool {
	switch {
	case s.companion != nil && s.companion.conn != nil:
		return false
	case s.companion == nil:
		s.startCompanion()
	}
	if len(s.companion.waiting) >= maxCompanionWaiting {
		if msg.Session != nil {
			s.meter.Called(msg.Method, "", metrics.Overloaded, 0) // telemetry
			ctx.Send(msg.Session, messages.ErrorReply(msg.ClientID, messages.CodeServerUnavailable,
				fmt.Sprintf("server %s is overloaded: %d requests wait for its 2026-07-28 connection", s.cfg.Name, len(s.companion.waiting))))
		}
		return true
	}
	s.companion.waiting = append(s.companion.waiting, msg)
	return true
}

// startCompanion starts the companion process in a goroutine of its own,
// which reports when it is ready and when it ends.
func (s *serverActor) startCompanion() {
	runCtx, stop := context.WithCancel(context.Background())
	s.companion = &companion{stop: stop}
	root, self, inc, offer := s.root, s.self, s.incarnation, s.offered
	s.procs.Add(1)
	go func() {
		defer s.procs.Done()
		conn, err := s.dial(nil)
		if err != nil {
			root.Send(self, &companionEnded{incarnation: inc, reason: "failed to start: " + err.Error()})
			return
		}
		defer conn.Close()
		md, ok := conn.(transports.ModernDownstream)
		if !ok {
			root.Send(self, &companionEnded{incarnation: inc, reason: "its transport does not carry 2026-07-28"})
			return
		}
		probeCtx, cancel := context.WithTimeout(runCtx, s.cfg.Timeout)
		_, err = discoverModern(probeCtx, md, offer)
		cancel()
		if err != nil {
			root.Send(self, &companionEnded{incarnation: inc, reason: "server/discover failed: " + err.Error()})
			return
		}
		root.Send(self, &companionReady{incarnation: inc, conn: conn})
		select {
		case <-conn.Done():
			root.Send(self, &companionEnded{incarnation: inc, reason: conn.Reason()})
		case <-runCtx.Done():
		}
	}()
}

// companionIsReady sends the requests that waited for the companion.
func (s *serverActor) companionIsReady(ctx actor.Context, conn transports.Downstream) {
	if s.companion == nil {
		conn.Close()
		return
	}
	s.log.Info("2026-07-28 connection ready", "for", "2026-07-28 clients")
	s.companion.conn = conn
	waiting := s.companion.waiting
	s.companion.waiting = nil
	for _, msg := range waiting {
		s.accept(ctx, msg)
	}
}

// companionGone forgets a companion that ended: its calls in flight and
// the requests waiting for it are answered with the reason, and the next
// 2026-07-28 request starts a new one.
func (s *serverActor) companionGone(ctx actor.Context, reason string) {
	c := s.companion
	if c == nil {
		return
	}
	s.companion = nil
	if c.conn == nil {
		// It never started: 2026-07-28 clients use the session from now on.
		s.noCompanion = true
	}
	c.stop()
	text := fmt.Sprintf("server %s (its 2026-07-28 connection) %s", s.cfg.Name, reason)
	s.log.Warn("2026-07-28 connection ended", "reason", reason)
	for _, msg := range c.waiting {
		if msg.Session != nil {
			s.meter.Called(msg.Method, "", metrics.ServerDown, 0) // telemetry
			ctx.Send(msg.Session, messages.ErrorReply(msg.ClientID, messages.CodeServerUnavailable, text))
		}
	}
	for id, p := range s.inflight {
		if c.conn != nil && p.conn == c.conn {
			s.forget(id, p)
			s.observeEnd(p, metrics.ServerDown, text) // telemetry
			if p.session != nil {
				ctx.Send(p.session, messages.ErrorReply(p.clientID, messages.CodeServerUnavailable, text))
			}
		}
	}
	s.drainQueue(ctx)
}

// stopCompanion ends the companion with its incarnation.
func (s *serverActor) stopCompanion() {
	if s.companion != nil {
		s.companion.stop()
		s.companion = nil
	}
}

// offeredCapabilities is the client capabilities the incarnation offered.
func offeredCapabilities(offer json.RawMessage) json.RawMessage {
	if len(offer) == 0 {
		return json.RawMessage(`{}`)
	}
	return offer
}
