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
	timer       *time.Timer
}

// startCall sends a request on a connection that hands answers to a
// waiter on its reader goroutine (a stdio server's), with no goroutine
// per call: the frame is written by the goroutine running the actor, with
// a write that never blocks (transports.CallStarter), and the answer is
// posted to the actor as callDone from the connection's reader, on which
// the actor, and then the session's front, run inline. The actor still
// owns the in-flight table: the connection only holds the waiter until
// the answer, the timeout or the connection's end, whichever comes first,
// and exactly one of them posts callDone.
func (s *serverActor) startCall(conn transports.CallStarter, p *pendingCall, id int64, method string, params json.RawMessage, batch messages.WriteBatch) {
	p.started = &startedCall{starter: conn, id: id, root: s.root, self: s.self, incarnation: s.incarnation}
	if s.cfg.Timeout > 0 {
		p.started.timer = time.AfterFunc(s.cfg.Timeout, p.started.timedOut)
	}
	if err := conn.StartCall(id, method, params, p.started, batch); err != nil {
		// Not sent: answered like a call that failed, after this message.
		s.root.Send(s.self, &callDone{incarnation: s.incarnation, id: id, err: err})
	}
}

// CallDone implements transports.CallWaiter: it posts the answer to the
// actor, on the connection's reader.
func (c *startedCall) CallDone(result json.RawMessage, rpcErr *messages.RPCError, err error) {
	c.root.Send(c.self, &callDone{incarnation: c.incarnation, id: c.id, result: result, rpcErr: rpcErr, err: err})
}

// timedOut posts the timeout, unless the answer came first.
func (c *startedCall) timedOut() {
	if c.starter.AbandonCall(c.id) {
		c.root.Send(c.self, &callDone{incarnation: c.incarnation, id: c.id, err: context.DeadlineExceeded})
	}
}

// stop lets go of what waits on the call: a started call's timer and
// its place at the connection (a late answer is dropped there), or the
// context of a call a goroutine waits on.
func (p *pendingCall) stop() {
	if p.started == nil {
		p.cancel()
		return
	}
	if p.started.timer != nil {
		p.started.timer.Stop()
	}
	p.started.starter.AbandonCall(p.started.id)
}
