package actors

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/plugboard/plugboard/messages"
)

// sessionList answers a SessionsRequest.
func (r *routerActor) sessionList() *messages.SessionList {
	out := &messages.SessionList{Sessions: make([]*actor.PID, 0, len(r.sessions))}
	for _, pid := range r.sessions {
		out.Sessions = append(out.Sessions, pid)
	}
	return out
}
