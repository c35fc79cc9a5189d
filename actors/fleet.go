package actors

import (
	"cmp"
	"encoding/json"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/plugboard/plugboard/config"
	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/transports"
)

// applyServers tells the fleet which servers should run, and which to
// restart whatever their configuration.
type applyServers struct {
	servers   []config.Server
	restart   []string
	idleGrace time.Duration
}

// idleCheck is the fleet's reminder to stop a server that has not been
// needed since its timer started (token tells a later timer's).
type idleCheck struct {
	server string
	token  uint64
}

// fleetActor supervises one server actor per enabled server. It is the
// actors' supervisor strategy too: a failed server restarts after a
// capped, jittered exponential backoff.
type fleetActor struct {
	router   *actor.PID
	procs    *sync.WaitGroup
	log      *slog.Logger
	backoff  backoff
	children map[string]fleetChild
	offer    json.RawMessage // client capabilities to offer servers; nil until known
	waiting  []*actor.PID    // servers waiting to learn them
	eras     *eraCache       // which revision each server speaks, remembered
	records  *transports.ChildRecords
	restarts map[string]*messages.SupervisedServer // restarts and failures, for status
	// incarnations counts each server name's incarnations, kept when a
	// reload restarts or removes the server.
	incarnations map[string]*atomic.Uint64
	wanted       map[string]config.Server // the enabled servers of the configuration
	needed       *messages.ServersNeeded  // by the workspaces in use; nil until the router says
	idleGrace    time.Duration
	idleTokens   map[string]uint64 // servers not needed, waiting for their idle timer
	nextToken    uint64
	// sessions are the instances of isolation: session servers, by
	// server name and then session.
	sessions map[string]map[string]*actor.PID
	activity ActivitySink           // where calls to the plugged.in App's servers are reported
	stderr   map[string]*stderrRing // each server's standard error, kept across restarts (fleet_logs.go)
	tel      telemetry              // what its servers record into
}

type fleetChild struct {
	cfg config.Server
	pid *actor.PID
}

// newFleetProps returns the fleet's props. offer is what servers are
// offered of the client's capabilities; nil waits for the first client.
func newFleetProps(router *actor.PID, procs *sync.WaitGroup, log *slog.Logger, b backoff, offer json.RawMessage, eras *eraCache, records *transports.ChildRecords, activity ActivitySink, tel telemetry) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor {
		return &fleetActor{router: router, procs: procs, log: log, backoff: b, children: map[string]fleetChild{}, offer: offer, eras: eras, records: records,
			restarts: map[string]*messages.SupervisedServer{}, incarnations: map[string]*atomic.Uint64{}, idleTokens: map[string]uint64{}, sessions: map[string]map[string]*actor.PID{}, activity: activity, tel: tel}
	})
}

// Receive handles the fleet's messages.
func (f *fleetActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *applyServers:
		f.idleGrace = msg.idleGrace
		f.apply(ctx, msg.servers, msg.restart)
	case *messages.ServersNeeded:
		f.needed = msg
		f.startNeeded(ctx)
		f.timeIdle(ctx)
	case *sessionForward:
		f.forwardToOwn(ctx, msg)
	case *sessionEnded:
		f.endSessionInstances(ctx, msg.session, "was stopped: its session ended", nil)
	case *idleCheck:
		if f.idleTokens[msg.server] == msg.token && !f.isNeeded(msg.server) {
			ctx.Request(f.router, &messages.MayStopIdle{Server: msg.server})
		}
	case *messages.IdleStop:
		if child, running := f.children[msg.Server]; msg.OK && running {
			f.log.Info("stopping a server no workspace in use needs", "server", msg.Server, "idle", f.idleGrace)
			ctx.Send(child.pid, &retire{reason: "was stopped: no workspace in use needs it"})
			delete(f.children, msg.Server)
		}
	case *messages.NeedCapabilities:
		if f.offer != nil {
			ctx.Send(ctx.Sender(), &messages.OfferCapabilities{Capabilities: f.offer})
		} else {
			f.waiting = append(f.waiting, ctx.Sender())
		}
	case *messages.SupervisionRequest:
		ctx.Respond(f.supervision())
	case *messages.ServerStderr:
		f.keepStderr(msg)
	case *messages.LogsRequest:
		ctx.Respond(f.logs(msg))
	case *messages.ServersRequest:
		ctx.Respond(f.serverList())
	case *messages.OfferCapabilities:
		if f.offer == nil {
			f.offer = msg.Capabilities
			for _, pid := range f.waiting {
				ctx.Send(pid, msg)
			}
			f.waiting = nil
		}
	}
}

// apply starts servers that are new, stops those that are gone or
// disabled, and restarts those whose configuration changed.
func (f *fleetActor) apply(ctx actor.Context, servers []config.Server, restart []string) {
	wanted := map[string]config.Server{}
	for _, s := range servers {
		if s.Enabled {
			wanted[s.Name] = s
		}
	}
	for name, child := range f.children {
		cfg, ok := wanted[name]
		switch {
		case !ok:
			ctx.Send(child.pid, &retire{reason: "was removed from the configuration"})
		case !sameProcess(cfg, child.cfg):
			ctx.Send(child.pid, &retire{reason: "is restarting: its configuration changed"})
		case slices.Contains(restart, name):
			ctx.Send(child.pid, &retire{reason: "is restarting: plugboard restart"})
		default:
			child.cfg = cfg // a new prefix or filter: the router's business
			f.children[name] = child
			continue
		}
		delete(f.children, name)
		delete(f.restarts, name)
		f.endSessionInstances(ctx, nil, "is restarting: its configuration changed", &name)
	}
	f.wanted = wanted
	f.startNeeded(ctx)
	f.timeIdle(ctx)
}

// isNeeded reports whether a workspace in use needs the server; nothing is
// needed until the router has said.
func (f *fleetActor) isNeeded(name string) bool {
	return f.needed != nil && (f.needed.All || f.needed.Names[name])
}

// startNeeded starts the wanted servers that are needed and not running,
// slowest first (startOrder).
func (f *fleetActor) startNeeded(ctx actor.Context) {
	var starting []config.Server
	for name, cfg := range f.wanted {
		if _, running := f.children[name]; !running && f.isNeeded(name) {
			starting = append(starting, cfg)
		}
	}
	for _, cfg := range startOrder(starting, f.eras) {
		name := cfg.Name
		// One count of incarnations per name, across reloads, so that
		// the router can tell a stale message of a retired actor.
		count := f.incarnations[name]
		if count == nil {
			count = new(atomic.Uint64)
			f.incarnations[name] = count
		}
		pid := ctx.SpawnPrefix(newServerProps(cfg, nil, count, f.router, f.procs, f.log, f.eras, f.records, f.activity, f.tel), "server:"+name)
		f.children[name] = fleetChild{cfg: cfg, pid: pid}
		if f.restarts[name] == nil {
			f.restarts[name] = &messages.SupervisedServer{Name: name, Transport: cfg.Transport, Target: shownTarget(cfg)}
		}
	}
}

// startOrder sorts servers about to start together so that those whose
// last start took longest come first, and those never started before
// (whose start may be a package manager's download) before them: the
// catalog is complete when the slowest is up, so the slowest should not
// wait for the others' spawns. Servers alike keep the order of their
// names.
func startOrder(servers []config.Server, eras *eraCache) []config.Server {
	cost := make(map[string]time.Duration, len(servers))
	for _, cfg := range servers {
		d, known := eras.startCost(eraKey(cfg))
		if !known {
			d = math.MaxInt64
		}
		cost[cfg.Name] = d
	}
	slices.SortFunc(servers, func(a, b config.Server) int {
		if c := cmp.Compare(cost[b.Name], cost[a.Name]); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return servers
}

// timeIdle starts the idle timer of each running server no longer needed,
// and forgets the timers of those needed again.
func (f *fleetActor) timeIdle(ctx actor.Context) {
	for name := range f.children {
		_, timing := f.idleTokens[name]
		switch needed := f.isNeeded(name); {
		case needed && timing:
			delete(f.idleTokens, name)
		case !needed && !timing:
			f.nextToken++
			token := f.nextToken
			f.idleTokens[name] = token
			root, self := ctx.ActorSystem().Root, ctx.Self()
			time.AfterFunc(f.idleGrace, func() { root.Send(self, &idleCheck{server: name, token: token}) })
		}
	}
}

// shownTarget is what status shows of where a server is: a URL redacted,
// a command without its arguments (which may hold tokens).
func shownTarget(cfg config.Server) string {
	if cfg.URL != "" {
		return transports.RedactURL(cfg.URL)
	}
	return cfg.Command
}

// supervision answers a SupervisionRequest: a copy of every record.
func (f *fleetActor) supervision() *messages.Supervision {
	out := &messages.Supervision{Servers: make([]messages.SupervisedServer, 0, len(f.restarts))}
	for _, r := range f.restarts {
		out.Servers = append(out.Servers, *r)
	}
	return out
}

// HandleFailure implements actor.SupervisorStrategy for the fleet's
// children: it restarts a failed server after its backoff. A server that
// stayed up for the backoff's ResetAfter starts the count afresh.
func (f *fleetActor) HandleFailure(_ *actor.ActorSystem, supervisor actor.Supervisor, child *actor.PID, rs *actor.RestartStatistics, reason interface{}, _ interface{}) {
	failure, ok := reason.(*messages.ServerFailure)
	if !ok {
		f.log.Error("server actor crashed", "actor", child.Id, "panic", reason)
		failure = &messages.ServerFailure{Server: child.Id}
	}
	if failure.NeedsLogin {
		f.retryLogin(supervisor, child, failure)
		return
	}
	if f.backoff.healthy(failure.Uptime) {
		rs.Reset()
	}
	rs.Fail()
	delay := f.backoff.delay(rs.FailureCount(), randomFraction)
	// HandleFailure runs in the fleet's own context (protoactor calls an
	// actor that is its own strategy from its mailbox), so the records
	// are the fleet's state like the rest.
	if rec := f.restarts[failure.Server]; rec != nil {
		now := time.Now()
		if rec.Restarts == 0 {
			rec.FirstRestart = now
		}
		rec.Restarts++
		rec.LastReason, rec.LastFailure, rec.NextStart = failure.Reason, now, now.Add(delay)
		rec.NeedsLogin = false
	}
	f.log.Warn("server down; restarting", "server", failure.Server, "reason", failure.Reason,
		"attempt", rs.FailureCount(), "in", delay.Round(time.Millisecond))
	time.AfterFunc(delay, func() { supervisor.RestartChildren(child) })
}

// retryLogin starts a server that wants a login again after loginRetry,
// whatever its failures before: it is waiting for the user, not failing,
// so it neither counts as a restart nor grows the backoff. It is warned
// about once, until it fails otherwise or is reconfigured.
func (f *fleetActor) retryLogin(supervisor actor.Supervisor, child *actor.PID, failure *messages.ServerFailure) {
	now := time.Now()
	warn := true
	if rec := f.restarts[failure.Server]; rec != nil {
		warn = !rec.NeedsLogin
		rec.NeedsLogin, rec.LastReason, rec.LastFailure, rec.NextStart = true, failure.Reason, now, now.Add(loginRetry)
	}
	if warn {
		f.log.Warn("server down until it is logged in to; retrying every "+loginRetry.String(), "server", failure.Server, "reason", failure.Reason)
	} else {
		f.log.Debug("server still needs a login", "server", failure.Server)
	}
	time.AfterFunc(loginRetry, func() { supervisor.RestartChildren(child) })
}
