package actors

import (
	"context"
	"encoding/json"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/transports"
)

// startedCall is what a call started on a transports.CallStarter needs
// off the actor: where its outcome is posted. Its fields are set before
// the call starts and never change, so that the connection's reader and
// the call's timer may read them.
type startedCall struct {
	starter     transports.CallStarter
	id          int64
	root        *actor.RootContext
	self        *actor.PID
	incarnation uint64
	deadline    time.Time // when it times out; zero: never
}

// startCall sends a request on a connection that hands answers to a
// waiter on its reader goroutine (a stdio server's), with no goroutine
// per call: the frame is written by the goroutine running the actor, with
// a write that never blocks (transports.CallStarter), and the answer is
// posted to the actor as callDone from the connection's reader, on which
// the actor, and then the session's front, run inline. The actor still
// owns the in-flight table: the connection only holds the waiter until
// the answer, the timeout or the connection's end, whichever comes first,
// and exactly one of them posts callDone, after taking the waiter out (a
// call StartCall refused had none): finishCall has none to abandon.
func (s *serverActor) startCall(conn transports.CallStarter, p *pendingCall, id int64, method string, params json.RawMessage, batch messages.WriteBatch) {
	p.startedAs = startedCall{starter: conn, id: id, root: s.root, self: s.self, incarnation: s.incarnation}
	p.started = &p.startedAs
	if s.cfg.Timeout > 0 {
		p.started.deadline = time.Now().Add(s.cfg.Timeout)
		s.armDeadlines()
	}
	if err := conn.StartCall(id, method, params, p.started, batch); err != nil {
		// Not sent: answered like a call that failed, after this message.
		s.root.Send(s.self, &callDone{incarnation: s.incarnation, id: id, err: err})
	}
}

// CallDone implements transports.CallWaiter: it posts the answer to the
// actor, on the connection's reader.
func (c *startedCall) CallDone(result json.RawMessage, rpcErr *messages.RPCError, err error, batch messages.WriteBatch) {
	c.root.Send(c.self, &callDone{incarnation: c.incarnation, id: c.id, result: result, rpcErr: rpcErr, err: err, batch: batch})
}

// checkDeadlines asks a server actor to time out its started calls
// whose deadline has passed (sweepDeadlines).
type checkDeadlines struct{ incarnation uint64 }

// armDeadlines makes sure a deadline check is coming. Started calls have
// no timer each: a timer per call cost about 2 µs of processor time at
// hundreds of calls in flight (starting it, stopping it, the runtime's
// timer heap), where one check per deadlineTick costs nothing per call.
func (s *serverActor) armDeadlines() {
	if s.deadlinesArmed {
		return
	}
	s.deadlinesArmed = true
	root, self, inc := s.root, s.self, s.incarnation
	time.AfterFunc(deadlineTick(s.cfg.Timeout), func() { root.Send(self, &checkDeadlines{incarnation: inc}) })
}

// deadlineTick is how often the started calls' deadlines are checked
// while any is in flight: an eighth of the timeout, between 10 ms and a
// second. A call times out that much after its deadline at most.
func deadlineTick(timeout time.Duration) time.Duration {
	return min(max(timeout/8, 10*time.Millisecond), time.Second)
}

// sweepDeadlines times out every started call past its deadline that is
// still waiting at its connection, and checks again later while started
// calls remain.
func (s *serverActor) sweepDeadlines(ctx actor.Context) {
	s.deadlinesArmed = false
	now := time.Now()
	waiting := false
	for id, p := range s.inflight {
		if p.started == nil || p.started.deadline.IsZero() {
			continue
		}
		if now.Before(p.started.deadline) {
			waiting = true
			continue
		}
		if p.started.starter.AbandonCall(id) {
			// Its answer did not come first: answered as timed out.
			s.finishCall(ctx, &callDone{incarnation: s.incarnation, id: id, err: context.DeadlineExceeded})
		}
	}
	if waiting {
		s.armDeadlines()
	}
}

// stop lets go of what waits on the call: a started call's place at the
// connection (a late answer is dropped there), or the context of a call
// a goroutine waits on.
func (p *pendingCall) stop() {
	if p.started == nil {
		p.cancel()
		return
	}
	p.started.starter.AbandonCall(p.started.id)
}
