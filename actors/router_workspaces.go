package actors

import (
	"fmt"
	"maps"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/plugboard/plugboard/messages"
)

// statusIdle is a server no workspace in use needs: not running, started
// when one does.
const statusIdle = "idle"

// workspaces is the router's view of the workspaces: which servers each
// holds, which one sessions that chose none see, and which each session
// chose.
type workspaces struct {
	sets      map[string]map[string]bool // by name
	def       string                     // "" for every server
	ofSession map[string]string          // by pidKey; "" for the default
	// seen is, per session, the fingerprint of each list as it was last
	// announced to it (or when it opened).
	seen   map[string][numKinds]uint64
	needed *messages.ServersNeeded // as last sent to the fleet
}

func newWorkspaces() workspaces {
	return workspaces{ofSession: map[string]string{}, seen: map[string][numKinds]uint64{}}
}

// viewNamed is the view of a workspace by name, the default for "".
func (w *workspaces) viewNamed(name string) view {
	if name == "" {
		name = w.def
	}
	if name == "" {
		return view{}
	}
	set, ok := w.sets[name]
	if !ok {
		// A workspace a reload removed: its sessions see nothing until
		// they reconnect to one that exists.
		set = map[string]bool{}
	}
	return view{name: name, servers: set}
}

// viewOf is the view of a session.
func (r *routerActor) viewOf(session *actor.PID) view {
	if session == nil || len(r.ws.sets) == 0 {
		return view{} // no workspaces: every session sees every server (the path of every call)
	}
	return r.ws.viewNamed(r.ws.ofSession[pidKey(session)])
}

// configureWorkspaces takes in a configuration's workspaces; sessions
// whose view changes hear of it at the next flush.
func (r *routerActor) configureWorkspaces(ctx actor.Context, sets map[string][]string, def string) {
	next := make(map[string]map[string]bool, len(sets))
	for name, servers := range sets {
		set := make(map[string]bool, len(servers)+1)
		for _, s := range servers {
			set[s] = true
		}
		set[ownServer] = true // plugboard's own tools are every workspace's
		next[name] = set
	}
	same := def == r.ws.def && len(next) == len(r.ws.sets)
	for name, set := range next {
		if same && !maps.Equal(set, r.ws.sets[name]) {
			same = false
		}
	}
	r.ws.sets, r.ws.def = next, def
	if !same {
		r.changed(ctx, [numKinds]bool{true, true, true, true}) // flush compares each session's view
	}
}

// sessionOpened registers a session in its workspace.
func (r *routerActor) sessionOpened(ctx actor.Context, msg *messages.SessionOpened) {
	key := pidKey(msg.Session)
	r.sessions[key] = msg.Session
	r.ws.ofSession[key] = msg.Workspace
	r.ws.seen[key] = r.fingerprints(r.viewOf(msg.Session))
	r.updateNeeded(ctx)
}

func (r *routerActor) sessionClosed(ctx actor.Context, session *actor.PID) {
	key := pidKey(session)
	delete(r.sessions, key)
	delete(r.ws.ofSession, key)
	delete(r.ws.seen, key)
	r.dropSubscriptions(ctx, session)
	if len(r.isolated) > 0 && r.fleet != nil {
		r.forgetInstances(session, "")
		ctx.Send(r.fleet, &sessionEnded{session: session})
	}
	r.updateNeeded(ctx)
}

func (r *routerActor) fingerprints(v view) [numKinds]uint64 {
	var out [numKinds]uint64
	for k := range out {
		out[k] = r.catalog.fingerprint(messages.Kind(k), v)
	}
	return out
}

// neededNow is the set of servers the workspaces in use hold: the
// default one and each session's.
func (r *routerActor) neededNow() *messages.ServersNeeded {
	views := map[string]bool{r.ws.def: true}
	for _, name := range r.ws.ofSession {
		if name == "" {
			name = r.ws.def
		}
		views[name] = true
	}
	if views[""] {
		return &messages.ServersNeeded{All: true}
	}
	names := map[string]bool{}
	for name := range views {
		for s := range r.ws.sets[name] {
			names[s] = true
		}
	}
	return &messages.ServersNeeded{Names: names}
}

// needs reports whether a server is needed by a workspace in use.
func (r *routerActor) needs(server string) bool {
	return r.ws.needed == nil || r.ws.needed.All || r.ws.needed.Names[server]
}

// updateNeeded tells the fleet when the servers needed change, and makes
// the ones newly needed start: requests for them wait as at start-up.
func (r *routerActor) updateNeeded(ctx actor.Context) {
	next := r.neededNow()
	prev := r.ws.needed
	if prev != nil && prev.All == next.All && maps.Equal(prev.Names, next.Names) {
		return
	}
	r.ws.needed = next
	starting := false
	for name, rs := range r.servers {
		if rs.status == statusIdle && r.needs(name) {
			rs.pid, rs.status, rs.reason, rs.triedOnce = nil, statusStarting, "", false
			starting = true
		}
	}
	if starting {
		r.extendDeadline(ctx)
	}
	if r.fleet != nil {
		ctx.Send(r.fleet, next)
	}
}

// extendDeadline gives servers started now the start-up timeout to be
// waited for.
func (r *routerActor) extendDeadline(ctx actor.Context) {
	deadline := time.Now().Add(r.startupTimeout)
	if deadline.Before(r.deadline) {
		return
	}
	r.deadline = deadline
	root, self := ctx.ActorSystem().Root, ctx.Self()
	time.AfterFunc(r.startupTimeout, func() { root.Send(self, &startupDeadline{}) })
}

// mayStopIdle answers the fleet: a server no workspace in use needs may
// stop, and the router routes nothing more to it.
func (r *routerActor) mayStopIdle(ctx actor.Context, msg *messages.MayStopIdle) {
	rs := r.servers[msg.Server]
	if rs == nil || r.needs(msg.Server) {
		ctx.Respond(&messages.IdleStop{Server: msg.Server})
		return
	}
	rs.pid, rs.status, rs.reason = nil, statusIdle, ""
	ctx.Respond(&messages.IdleStop{Server: msg.Server, OK: true})
}

// announce sends each session the list changes its own view saw since it
// last heard.
func (r *routerActor) announce(ctx actor.Context, kinds [numKinds]bool) {
	memo := map[string][numKinds]uint64{}
	for key, session := range r.sessions {
		v := r.viewOf(session)
		now, ok := memo[v.name]
		if !ok {
			for k := range now {
				if kinds[k] {
					now[k] = r.catalog.fingerprint(messages.Kind(k), v)
				}
			}
			memo[v.name] = now
		}
		seen := r.ws.seen[key]
		var changed [numKinds]bool
		any := false
		for k := range now {
			if kinds[k] && now[k] != seen[k] {
				changed[k], seen[k], any = true, now[k], true
			}
		}
		r.ws.seen[key] = seen
		if any {
			ctx.Send(session, &messages.ListChanged{Kinds: changed})
		}
	}
}

// notInWorkspace is the error for a request naming what the session's
// workspace does not hold: what the client would get for a name nobody
// offers, saying why.
func notInWorkspace(method, workspace string) *messages.RPCError {
	what := "the tool"
	code := messages.CodeInvalidParams
	switch method {
	case "prompts/get":
		what = "the prompt"
	case "resources/read", "resources/subscribe", "resources/unsubscribe":
		what, code = "the resource", messages.CodeResourceNotFound
	case "completion/complete":
		what = "the reference"
	}
	return &messages.RPCError{Code: code, Message: fmt.Sprintf("%s is not in workspace %s", what, workspace)}
}
