package actors

import (
	"fmt"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/plugboard/plugboard/messages"
)

// Messages between router and fleet about the instances of isolation:
// session servers.
type (
	// sessionForward asks the fleet to hand msg (a Forward or a Cancel)
	// to the session's own instance of server, starting it first if
	// need be.
	sessionForward struct {
		server  string
		session *actor.PID
		msg     any
	}
	// sessionInstance tells the router where a session's own instance
	// is, so that its next requests go there directly.
	sessionInstance struct {
		server  string
		session *actor.PID
		pid     *actor.PID
	}
	// sessionEnded tells the fleet to stop a session's own instances.
	sessionEnded struct{ session *actor.PID }
)

// forwardToOwn hands a request to the session's own instance of a server,
// started on its first use. The instance is the fleet's child like any
// server actor: it restarts after a crash, with its calls in flight
// answered with an error.
func (f *fleetActor) forwardToOwn(ctx actor.Context, msg *sessionForward) {
	cfg, wanted := f.wanted[msg.server]
	if !wanted {
		if fwd, ok := msg.msg.(*messages.Forward); ok && fwd.Session != nil {
			ctx.Send(fwd.Session, messages.ErrorReply(fwd.ClientID, messages.CodeServerUnavailable, fmt.Sprintf("server %s is not running", msg.server)))
		}
		return
	}
	key := pidKey(msg.session)
	pid := f.sessions[msg.server][key]
	if pid == nil {
		count := f.incarnations[msg.server+"\x00"+key]
		if count == nil {
			count = new(atomic.Uint64)
			f.incarnations[msg.server+"\x00"+key] = count
		}
		pid = ctx.SpawnPrefix(newServerProps(cfg, msg.session, count, f.router, f.procs, f.log.With("session", msg.session.Id), f.eras, f.records, f.activity, f.tel), "server:"+msg.server+":session")
		if f.sessions[msg.server] == nil {
			f.sessions[msg.server] = map[string]*actor.PID{}
		}
		f.sessions[msg.server][key] = pid
		f.log.Info("started a server instance of a session's own", "server", msg.server, "session", msg.session.Id)
	}
	ctx.Send(pid, msg.msg)
	ctx.Send(f.router, &sessionInstance{server: msg.server, session: msg.session, pid: pid})
}

// endSessionInstances stops the own instances of a session (nil: every
// session's), of one server (nil: every server), with why.
func (f *fleetActor) endSessionInstances(ctx actor.Context, session *actor.PID, reason string, server *string) {
	for name, bySession := range f.sessions {
		if server != nil && name != *server {
			continue
		}
		for key, pid := range bySession {
			if session != nil && key != pidKey(session) {
				continue
			}
			ctx.Send(pid, &retire{reason: reason})
			delete(bySession, key)
			delete(f.incarnations, name+"\x00"+key)
		}
		if len(bySession) == 0 {
			delete(f.sessions, name)
		}
	}
}

// ownInstance is where the router sends a request for an isolation:
// session server: the session's own instance, or the fleet, which starts
// it.
func (r *routerActor) sendToOwn(ctx actor.Context, server string, session *actor.PID, msg any) {
	if pid := r.instances[server][pidKey(session)]; pid != nil {
		ctx.Send(pid, msg)
		return
	}
	ctx.Send(r.fleet, &sessionForward{server: server, session: session, msg: msg})
}

// instanceStarted remembers a session's own instance.
func (r *routerActor) instanceStarted(msg *sessionInstance) {
	key := pidKey(msg.session)
	if r.sessions[key] == nil || !r.isolated[msg.server] {
		return // the session or the server's isolation went meanwhile
	}
	if r.instances[msg.server] == nil {
		r.instances[msg.server] = map[string]*actor.PID{}
	}
	r.instances[msg.server][key] = msg.pid
}

// forgetInstances drops what the router knows of the own instances of a
// session (nil: all sessions) of a server ("" every server).
func (r *routerActor) forgetInstances(session *actor.PID, server string) (had bool) {
	for name, bySession := range r.instances {
		if server != "" && name != server {
			continue
		}
		for key := range bySession {
			if session == nil || key == pidKey(session) {
				delete(bySession, key)
				had = true
			}
		}
	}
	return had
}
