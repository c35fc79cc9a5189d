package actors

import (
	"context"
	"encoding/json"
	"time"

	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/transports"
)

// startCall sends a request on a connection that hands answers to a
// callback on its reader goroutine (a stdio server's), with no goroutine
// per call: the frame is written by the goroutine running the actor, with
// a write that never blocks (transports.CallStarter), and the answer is
// posted to the actor as callDone from the connection's reader, on which
// the actor, and then the session's front, run inline. The actor still
// owns the in-flight table: the connection only holds the callback until
// the answer, the timeout or the connection's end, whichever comes first,
// and exactly one of them posts callDone.
func (s *serverActor) startCall(conn transports.CallStarter, p *pendingCall, id int64, method string, params json.RawMessage) {
	root, self, inc := s.root, s.self, s.incarnation
	var timer *time.Timer
	if s.cfg.Timeout > 0 {
		timer = time.AfterFunc(s.cfg.Timeout, func() {
			if conn.AbandonCall(id) {
				root.Send(self, &callDone{incarnation: inc, id: id, err: context.DeadlineExceeded})
			}
		})
	}
	p.cancel = func() {
		if timer != nil {
			timer.Stop()
		}
		conn.AbandonCall(id) // a late answer is dropped by the connection
	}
	err := conn.StartCall(id, method, params, func(result json.RawMessage, rpcErr *messages.RPCError, err error) {
		root.Send(self, &callDone{incarnation: inc, id: id, result: result, rpcErr: rpcErr, err: err})
	})
	if err != nil {
		// Not sent: answered like a call that failed, after this message.
		root.Send(self, &callDone{incarnation: inc, id: id, err: err})
	}
}
