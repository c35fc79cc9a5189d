package actors

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/plugboard/plugboard/messages"
)

// listChangedDelay coalesces bursts of catalog changes into one
// notification per kind.
const listChangedDelay = 50 * time.Millisecond

// Server statuses as the router reports them.
const (
	statusStarting = "starting"
	statusReady    = "ready"
	statusDown     = "down"
	statusDisabled = "disabled"
)

// routedServer is the router's view of one server.
type routedServer struct {
	pid         *actor.PID
	incarnation uint64
	status      string
	reason      string
	triedOnce   bool // it became ready or failed at least once
}

// Messages the router sends itself.
type (
	startupDeadline  struct{}
	flushListChanged struct{}
)

// routerActor owns the catalog: it answers list requests from it, resolves
// names and URIs to servers, and tells sessions when lists change.
type routerActor struct {
	log         *slog.Logger
	headerTools *atomic.Pointer[map[string]json.RawMessage] // published for the HTTP front
	catalog     *catalog
	servers     map[string]*routedServer
	sessions    map[string]*actor.PID
	deadline    time.Time        // zero until the configuration arrives
	waiting     []waitingMessage // requests held while servers start
	pending     [numKinds]bool   // kinds changed since the last notification
	flushing    bool

	fleet        *actor.PID
	offer        json.RawMessage                  // the first client's capabilities to offer servers
	offered      bool                             // and they were sent to the fleet
	instructions map[string]string                // per server
	subs         map[string]map[string]*actor.PID // resource URI -> subscribed sessions
	logLevel     json.RawMessage                  // the last logging/setLevel params, for restarted servers
	noted        map[string]bool                  // the catalog's notes logged last
	ws           workspaces
	// catalogChanged is told, without waiting, of each change announced.
	catalogChanged chan<- struct{}
	// isolated are the isolation: session servers; instances, their
	// sessions' own instances, by server and session.
	isolated  map[string]bool
	instances map[string]map[string]*actor.PID
	// startupTimeout is how long requests wait for servers starting: at
	// start-up, after a reload, and when a workspace needs an idle one.
	startupTimeout time.Duration
}

// waitingMessage is a request the router holds until start-up is over.
type waitingMessage struct {
	msg    any
	sender *actor.PID
}

func newRouterProps(pageSize int, log *slog.Logger, headerTools *atomic.Pointer[map[string]json.RawMessage], catalogChanged chan<- struct{}) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor {
		return &routerActor{log: log, headerTools: headerTools, catalogChanged: catalogChanged, catalog: newCatalog(pageSize), servers: map[string]*routedServer{}, sessions: map[string]*actor.PID{},
			instructions: map[string]string{}, subs: map[string]map[string]*actor.PID{}, ws: newWorkspaces(),
			isolated: map[string]bool{}, instances: map[string]map[string]*actor.PID{}}
	}, inlineDispatch())
}

// Receive handles the router's messages.
func (r *routerActor) Receive(ctx actor.Context) {
	if _, arriving := ctx.Message().(*messages.ServerReady); !arriving && r.catalog.stale {
		// Servers that became ready since the last message: their lists
		// go into the catalog before anything reads it, and the requests
		// held for them go before this message.
		r.settle(ctx)
		if len(r.waiting) > 0 && r.startingUp() {
			r.releaseResolvable(ctx)
		}
	}
	switch msg := ctx.Message().(type) {
	case *messages.ExpectServers:
		r.expect(ctx, msg)
	case *messages.ServerStarting:
		r.starting(msg)
	case *messages.ServerReady:
		r.ready(ctx, msg)
	case *messages.ServerListsChanged:
		r.listsChanged(ctx, msg)
	case *messages.ServerDown:
		r.down(ctx, msg)
	case *messages.List:
		r.holdOr(ctx, msg, func() { r.list(ctx, msg) })
	case *messages.Route:
		r.route(ctx, msg, true)
	case *messages.SnapshotRequest:
		if msg.Wait {
			r.holdOr(ctx, msg, func() { ctx.Respond(r.snapshot()) })
		} else {
			snap := r.snapshot()
			if msg.Tools {
				snap.ServerTools = r.catalog.serverTools()
			}
			ctx.Respond(snap)
		}
	case *messages.SessionOpened:
		r.sessionOpened(ctx, msg)
	case *messages.SessionClosed:
		r.sessionClosed(ctx, msg.Session)
	case *messages.MayStopIdle:
		r.mayStopIdle(ctx, msg)
	case *sessionInstance:
		r.instanceStarted(msg)
	case *ownTools:
		r.addOwnTools(ctx, msg)
	case *messages.SessionsRequest:
		ctx.Respond(r.sessionList())
	case *messages.Initialize:
		r.initialize(ctx, msg)
	case *messages.CancelRequest:
		r.cancel(ctx, msg)
	case *messages.ToServers:
		r.toServers(ctx, msg)
	case *messages.Subscribed:
		r.subscribed(ctx, msg)
	case *messages.ServerNotification:
		r.fanOut(ctx, msg)
	case *startupDeadline:
		r.releaseIfStarted(ctx) // a reload may have moved the deadline
	case *flushListChanged:
		r.flush(ctx)
	}
}

func (r *routerActor) expect(ctx actor.Context, msg *messages.ExpectServers) {
	r.deadline, r.fleet = msg.Deadline, msg.Fleet
	r.startupTimeout = time.Until(msg.Deadline)
	r.sendOffer(ctx)
	r.configureWorkspaces(ctx, msg.Workspaces, msg.DefaultWorkspace)
	isolated := map[string]bool{}
	for _, s := range msg.Servers {
		if s.Isolated {
			isolated[s.Name] = true
		}
	}
	for name := range r.isolated {
		if !isolated[name] {
			r.forgetInstances(nil, name) // the fleet stops them: removed, or changed
		}
	}
	for _, name := range msg.Restarted {
		r.forgetInstances(nil, name)
	}
	r.isolated = isolated
	r.ws.needed = r.neededNow()
	if msg.Reload {
		// First what starts, so that the catalog's changes wait for it.
		for _, name := range msg.Restarted {
			// The incarnation stays: it tells the retired actor's late
			// messages from the new one's.
			if rs := r.servers[name]; rs != nil {
				rs.pid, rs.status, rs.reason, rs.triedOnce = nil, statusStarting, "", false
			} else {
				r.servers[name] = &routedServer{status: statusStarting}
			}
		}
		r.forgetServersNotIn(ctx, msg.Servers)
	}
	for _, s := range msg.Servers {
		status := statusStarting
		if !s.Enabled {
			status = statusDisabled
		}
		if rs := r.servers[s.Name]; rs == nil {
			r.servers[s.Name] = &routedServer{status: status}
		} else if !s.Enabled && rs.status != statusDisabled {
			rs.pid, rs.status, rs.reason = nil, statusDisabled, ""
			changed, notes := r.catalog.removeServer(s.Name) // its lists go with it
			r.logNotes(notes)
			r.changed(ctx, changed)
		}
		changed, notes := r.catalog.configureServer(s.Name, s.Prefix, s.Filters)
		r.logNotes(notes)
		r.changed(ctx, changed)
		if rs := r.servers[s.Name]; s.Enabled && !r.needs(s.Name) && rs.pid == nil {
			// The fleet does not run it. One it runs stays routable until
			// its idle grace is over and the fleet asks (mayStopIdle): a
			// switch back within the grace finds it as it was, not
			// "starting" with nothing to start it.
			rs.status, rs.reason = statusIdle, ""
		} else if s.Enabled && rs.status == statusIdle {
			rs.pid, rs.status, rs.reason, rs.triedOnce = nil, statusStarting, "", false
		}
	}
	if r.fleet != nil {
		ctx.Send(r.fleet, r.ws.needed)
	}
	changed, notes := r.catalog.setDisabled(msg.DisabledTools)
	r.logNotes(notes)
	r.changed(ctx, changed)
	root, self := ctx.ActorSystem().Root, ctx.Self()
	time.AfterFunc(time.Until(msg.Deadline), func() { root.Send(self, &startupDeadline{}) })
	r.releaseIfStarted(ctx)
	if msg.Reload {
		ctx.Respond(&messages.ServersExpected{})
	}
}

// forgetServersNotIn drops every server a reload's configuration no
// longer has, and what it offered.
func (r *routerActor) forgetServersNotIn(ctx actor.Context, servers []messages.ExpectedServer) {
	kept := make(map[string]bool, len(servers))
	for _, s := range servers {
		kept[s.Name] = true
	}
	for name := range r.servers {
		if kept[name] || name == ownServer {
			continue
		}
		delete(r.servers, name)
		delete(r.instructions, name)
		changed, notes := r.catalog.removeServer(name)
		r.logNotes(notes)
		r.changed(ctx, changed)
	}
}

func (r *routerActor) starting(msg *messages.ServerStarting) {
	rs := r.current(msg.Server, msg.Incarnation)
	if rs == nil {
		return
	}
	rs.pid, rs.incarnation = msg.PID, msg.Incarnation
	if rs.status != statusDown { // a restarting server stays down until it is ready
		rs.status = statusStarting
	}
}

func (r *routerActor) ready(ctx actor.Context, msg *messages.ServerReady) {
	rs := r.current(msg.Server, msg.Incarnation)
	if rs == nil {
		return
	}
	rs.pid, rs.incarnation, rs.status, rs.reason, rs.triedOnce = msg.PID, msg.Incarnation, statusReady, "", true
	r.instructions[msg.Server] = msg.Instructions
	// While servers are starting, their lists are stored and the catalog
	// rebuilt once: when the last has started, or before any other
	// message reads it (Receive settles it first). One rebuild per
	// arrival made start-up's cost grow with the square of the servers.
	r.catalog.storeLists(msg.Server, msg.Lists, [numKinds]bool{true, true, true, true})
	if msg.Incarnation > 1 {
		r.settle(ctx)
		r.reapply(ctx, msg.Server, msg.PID)
	}
	switch {
	case !r.startingUp():
		r.settle(ctx)
		r.releaseIfStarted(ctx)
	case r.holdsRoutes():
		// Requests are held that may be for this server: they go now,
		// not when the slowest server is up or another message comes.
		// The catalog is rebuilt for each arrival only while some are held.
		r.settle(ctx)
		r.releaseResolvable(ctx)
	}
}

// holdsRoutes says whether a request to a server (not a list) is held.
func (r *routerActor) holdsRoutes() bool {
	for _, w := range r.waiting {
		if _, ok := w.msg.(*messages.Route); ok {
			return true
		}
	}
	return false
}

// settle rebuilds the catalog with the lists stored since the last
// rebuild, and announces what changed.
func (r *routerActor) settle(ctx actor.Context) {
	changed, notes := r.catalog.settle()
	r.logNotes(notes)
	r.changed(ctx, changed)
}

func (r *routerActor) listsChanged(ctx actor.Context, msg *messages.ServerListsChanged) {
	if rs := r.servers[msg.Server]; rs == nil || rs.incarnation != msg.Incarnation {
		return
	}
	changed, notes := r.catalog.setLists(msg.Server, msg.Lists, msg.Changed)
	r.logNotes(notes)
	r.changed(ctx, changed)
}

func (r *routerActor) down(ctx actor.Context, msg *messages.ServerDown) {
	rs := r.current(msg.Server, msg.Incarnation)
	if rs == nil || rs.incarnation != msg.Incarnation {
		return
	}
	rs.status, rs.reason, rs.triedOnce = statusDown, msg.Reason, true
	r.releaseIfStarted(ctx)
}

// current returns the router's record of a server, unless the server is
// not configured (any more) or the message comes from an incarnation
// older than the one the router knows: a server actor a reload retired.
func (r *routerActor) current(name string, incarnation uint64) *routedServer {
	rs := r.servers[name]
	if rs == nil || incarnation < rs.incarnation {
		return nil
	}
	return rs
}

// startingUp reports whether requests should still wait for servers: until
// the configuration arrives, then until every server has started or failed
// once, or the deadline passes.
func (r *routerActor) startingUp() bool {
	if r.deadline.IsZero() {
		return true
	}
	if !time.Now().Before(r.deadline) {
		return false
	}
	for _, rs := range r.servers {
		if rs.status == statusStarting && !rs.triedOnce {
			return true
		}
	}
	return false
}

// holdOr runs serve now, or holds the message until start-up is over.
func (r *routerActor) holdOr(ctx actor.Context, msg any, serve func()) {
	if r.startingUp() {
		r.waiting = append(r.waiting, waitingMessage{msg: msg, sender: ctx.Sender()})
		return
	}
	serve()
}

// releaseIfStarted serves the held requests, and announces the catalog's
// changes, once start-up (or a reload's restarts) is over.
func (r *routerActor) releaseIfStarted(ctx actor.Context) {
	if r.startingUp() {
		return
	}
	if len(r.waiting) > 0 {
		r.releaseWaiting(ctx)
	}
	r.scheduleFlush(ctx)
}

// releaseResolvable routes the held calls whose server the catalog now
// knows, in the order they came, and keeps the rest held. A call held
// because its server was still starting must not be overtaken by a later
// one to the same server, routed as soon as that server is up: a client
// that sent a call first would find it queued behind its later ones.
// Listings stay held until start-up is over (the first is complete).
func (r *routerActor) releaseResolvable(ctx actor.Context) {
	waiting := r.waiting
	r.waiting = nil
	for _, w := range waiting {
		if msg, ok := w.msg.(*messages.Route); ok {
			r.route(ctx, msg, true) // held again while its server is unknown
			continue
		}
		r.waiting = append(r.waiting, w)
	}
}

func (r *routerActor) releaseWaiting(ctx actor.Context) {
	waiting := r.waiting
	r.waiting = nil
	for _, w := range waiting {
		switch msg := w.msg.(type) {
		case *messages.List:
			r.list(ctx, msg)
		case *messages.Route:
			r.route(ctx, msg, false)
		case *messages.SnapshotRequest:
			ctx.Send(w.sender, r.snapshot())
		}
	}
}

func (r *routerActor) list(ctx actor.Context, msg *messages.List) {
	page, err := r.catalog.pageIn(msg.Kind, msg.Cursor, r.viewOf(msg.Session))
	if err != nil {
		ctx.Send(msg.Session, messages.ErrorReply(msg.ClientID, messages.CodeInvalidParams, err.Error()))
		return
	}
	ctx.Send(msg.Session, &messages.Reply{ClientID: msg.ClientID, Result: page})
}

// route resolves a request to its server and forwards it there with the
// original name restored. A name or URI nobody offers waits, if hold is
// set, while servers are still starting: it may be one of theirs. After
// that, an unknown name that carries the prefix of a server not ready yet
// is that server's problem, not the client's: it is answered as the
// server being unavailable, not as an unknown name.
func (r *routerActor) route(ctx actor.Context, msg *messages.Route, hold bool) {
	server, params, rpcErr, unknown := r.catalog.resolveRequest(msg.Method, msg.Params)
	if unknown && hold && r.startingUp() {
		r.waiting = append(r.waiting, waitingMessage{msg: msg})
		return
	}
	if v := r.viewOf(msg.Session); server != "" && !v.allows(server) {
		rpcErr = notInWorkspace(msg.Method, v.name) // whether its server offers the name or not
	} else if rs := r.servers[server]; unknown && rs != nil {
		switch rs.status {
		case statusStarting:
			rpcErr = &messages.RPCError{Code: messages.CodeServerUnavailable, Message: fmt.Sprintf("server %s is still starting", server)}
		case statusDown:
			rpcErr = nil // answered below, with why it is down
		}
	}
	if rpcErr != nil {
		ctx.Send(msg.Session, &messages.Reply{ClientID: msg.ClientID, Error: rpcErr})
		return
	}
	rs := r.servers[server]
	if rs != nil && rs.pid == nil && rs.status == statusStarting && hold && r.startingUp() {
		r.waiting = append(r.waiting, waitingMessage{msg: msg}) // a reload is restarting it
		return
	}
	if rs == nil || rs.pid == nil || rs.status == statusDown || rs.status == statusDisabled {
		reason := "is not running"
		switch {
		case rs != nil && strings.HasPrefix(rs.reason, "needs login"):
			reason = rs.reason // it is retried, but only a login helps
		case rs != nil && rs.reason != "":
			reason = rs.reason + "; restarting"
		}
		ctx.Send(msg.Session, messages.ErrorReply(msg.ClientID, messages.CodeServerUnavailable, fmt.Sprintf("server %s is unavailable: %s", server, reason)))
		return
	}
	fwd := &messages.Forward{Session: msg.Session, ClientID: msg.ClientID, Method: msg.Method, Params: params, Batch: msg.Batch}
	if r.isolated[server] && msg.Session != nil {
		r.sendToOwn(ctx, server, msg.Session, fwd) // its subscriptions are its own too
		return
	}
	switch msg.Method {
	case "resources/subscribe", "resources/unsubscribe":
		if !r.subscription(ctx, msg, params) {
			return
		}
	}
	ctx.Send(rs.pid, fwd)
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only called with values that always marshal
	}
	return b
}

// changed records which kinds changed and schedules one notification.
func (r *routerActor) changed(ctx actor.Context, kinds [numKinds]bool) {
	if kinds[messages.Tools] && r.headerTools != nil {
		r.headerTools.Store(r.catalog.headerTools())
	}
	for k, c := range kinds {
		if c {
			r.pending[k] = true
		}
	}
	r.scheduleFlush(ctx)
}

// scheduleFlush schedules one notification of the pending changes, unless
// one is scheduled or servers are starting: a reload's changes, and
// start-up's, go out together once the servers have started.
func (r *routerActor) scheduleFlush(ctx actor.Context) {
	if r.flushing || r.pending == ([numKinds]bool{}) || r.startingUp() {
		return
	}
	r.flushing = true
	root, self := ctx.ActorSystem().Root, ctx.Self()
	time.AfterFunc(listChangedDelay, func() { root.Send(self, &flushListChanged{}) })
}

func (r *routerActor) flush(ctx actor.Context) {
	r.flushing = false
	kinds := r.pending
	r.pending = [numKinds]bool{}
	r.announce(ctx, kinds)
	if r.catalogChanged != nil {
		select {
		case r.catalogChanged <- struct{}{}:
		default: // one is pending already
		}
	}
}

func (r *routerActor) snapshot() *messages.Snapshot {
	snap := &messages.Snapshot{Entries: r.catalog.entries()}
	for name, rs := range r.servers {
		snap.Servers = append(snap.Servers, messages.ServerState{Name: name, Status: rs.status, Reason: rs.reason})
	}
	sort.Slice(snap.Servers, func(i, j int) bool { return snap.Servers[i].Name < snap.Servers[j].Name })
	return snap
}

// logNotes logs what the catalog renamed or dropped. Every rebuild notes
// the whole catalog's findings: only those the last rebuild did not note
// are new.
func (r *routerActor) logNotes(notes []string) {
	noted := make(map[string]bool, len(notes))
	for _, n := range notes {
		if !r.noted[n] {
			r.log.Warn("catalog", "note", n)
		}
		noted[n] = true
	}
	r.noted = noted
}
