package actors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/plugboard/plugboard/config"
	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/transports"
)

// Limits of one server actor: requests sent downstream at once, and
// requests waiting for a slot (or for the server to be ready).
const (
	maxInflightPerServer = 512
	maxQueuedPerServer   = 1024
)

// serverActor owns one downstream server: its connection, its in-flight
// table and its queue. Its connection lives in a goroutine of its own
// (runIncarnation); the actor only posts work to it and hears back.
type serverActor struct {
	cfg         config.Server
	router      *actor.PID
	procs       *sync.WaitGroup
	log         *slog.Logger
	incarnation uint64
	root        *actor.RootContext // for the incarnation's goroutines to post to self
	self        *actor.PID

	conn     transports.Downstream
	readyAt  time.Time
	stop     context.CancelFunc
	inflight map[int64]*pendingCall
	queue    []*messages.Forward
}

// pendingCall is a client request sent downstream and not yet answered.
type pendingCall struct {
	session  *actor.PID
	clientID json.RawMessage
	method   string
	cancel   context.CancelFunc
}

// Messages from an incarnation's goroutines to its actor.
type (
	serverConnected struct {
		incarnation  uint64
		conn         transports.Downstream
		lists        messages.ServerLists
		instructions string
		version      string
	}
	serverEnded struct {
		incarnation uint64
		reason      string
	}
	callDone struct {
		incarnation uint64
		id          int64
		result      json.RawMessage
		rpcErr      *messages.RPCError
		err         error
	}
	downstreamNotification struct {
		incarnation uint64
		method      string
		params      json.RawMessage
	}
	listsFetched struct {
		incarnation uint64
		which       [numKinds]bool
		lists       messages.ServerLists
	}
)

// newServerProps returns the props of the actor for one configured server.
// Each (re)start gets the next incarnation number.
func newServerProps(cfg config.Server, router *actor.PID, procs *sync.WaitGroup, log *slog.Logger) *actor.Props {
	var incarnations atomic.Uint64
	return actor.PropsFromProducer(func() actor.Actor {
		return &serverActor{
			cfg:         cfg,
			router:      router,
			procs:       procs,
			log:         log.With("server", cfg.Name),
			incarnation: incarnations.Add(1),
			inflight:    map[int64]*pendingCall{},
		}
	})
}

// Receive handles the actor's messages.
func (s *serverActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		s.start(ctx)
	case *actor.Restarting, *actor.Stopping:
		s.release()
	case *messages.Forward:
		s.accept(ctx, msg)
	case *serverConnected:
		if msg.incarnation == s.incarnation {
			s.connected(ctx, msg)
		}
	case *callDone:
		if msg.incarnation == s.incarnation {
			s.finishCall(ctx, msg)
		}
	case *downstreamNotification:
		if msg.incarnation == s.incarnation {
			s.notified(ctx, msg)
		}
	case *listsFetched:
		if msg.incarnation == s.incarnation {
			ctx.Send(s.router, &messages.ServerListsChanged{Server: s.cfg.Name, Incarnation: s.incarnation, Changed: msg.which, Lists: msg.lists})
		}
	case *serverEnded:
		if msg.incarnation == s.incarnation {
			s.fail(ctx, msg.reason)
		}
	}
}

func (s *serverActor) start(ctx actor.Context) {
	ctx.Send(s.router, &messages.ServerStarting{Server: s.cfg.Name, PID: ctx.Self(), Incarnation: s.incarnation})
	s.root, s.self = ctx.ActorSystem().Root, ctx.Self()
	runCtx, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.procs.Add(1)
	go s.runIncarnation(runCtx, s.root, s.self, s.incarnation)
}

// release ends the incarnation's connection (in its goroutine, which
// closes it) and answers whatever is still pending.
func (s *serverActor) release() {
	if s.stop != nil {
		s.stop()
	}
	for id, p := range s.inflight {
		p.cancel()
		delete(s.inflight, id)
	}
	s.queue = nil
}

func (s *serverActor) accept(ctx actor.Context, msg *messages.Forward) {
	if s.conn == nil || len(s.inflight) >= maxInflightPerServer {
		if len(s.queue) >= maxQueuedPerServer {
			ctx.Send(msg.Session, messages.ErrorReply(msg.ClientID, messages.CodeServerUnavailable,
				fmt.Sprintf("server %s is overloaded: %d requests in flight and %d queued", s.cfg.Name, len(s.inflight), len(s.queue))))
			return
		}
		s.queue = append(s.queue, msg)
		return
	}
	s.dispatch(ctx, msg)
}

// dispatch sends one request downstream from a goroutine of its own and
// records it as in flight.
func (s *serverActor) dispatch(ctx actor.Context, msg *messages.Forward) {
	id := s.conn.NewID()
	callCtx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
	s.inflight[id] = &pendingCall{session: msg.Session, clientID: msg.ClientID, method: msg.Method, cancel: cancel}
	conn, root, self, inc := s.conn, ctx.ActorSystem().Root, ctx.Self(), s.incarnation
	go func() {
		result, rpcErr, err := conn.Call(callCtx, id, msg.Method, msg.Params)
		root.Send(self, &callDone{incarnation: inc, id: id, result: result, rpcErr: rpcErr, err: err})
	}()
}

func (s *serverActor) finishCall(ctx actor.Context, msg *callDone) {
	p, ok := s.inflight[msg.id]
	if !ok {
		return
	}
	if msg.err != nil && !errors.Is(msg.err, context.DeadlineExceeded) {
		// The connection broke: serverEnded follows with the reason and
		// answers every pending call.
		return
	}
	delete(s.inflight, msg.id)
	p.cancel()
	switch {
	case msg.err != nil:
		s.cancelDownstream(msg.id, "timed out")
		ctx.Send(p.session, messages.ErrorReply(p.clientID, messages.CodeServerUnavailable,
			fmt.Sprintf("server %s did not answer %s within %s: timed out", s.cfg.Name, p.method, s.cfg.Timeout)))
	case msg.rpcErr != nil:
		ctx.Send(p.session, &messages.Reply{ClientID: p.clientID, Error: msg.rpcErr})
	default:
		ctx.Send(p.session, &messages.Reply{ClientID: p.clientID, Result: msg.result})
	}
	s.drainQueue(ctx)
}

// cancelDownstream tells the server to stop working on request id.
func (s *serverActor) cancelDownstream(id int64, reason string) {
	params, _ := json.Marshal(map[string]any{"requestId": id, "reason": reason})
	conn := s.conn
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = conn.Notify(ctx, "notifications/cancelled", params)
	}()
}

func (s *serverActor) drainQueue(ctx actor.Context) {
	for len(s.queue) > 0 && s.conn != nil && len(s.inflight) < maxInflightPerServer {
		next := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.dispatch(ctx, next)
	}
}

func (s *serverActor) connected(ctx actor.Context, msg *serverConnected) {
	s.conn = msg.conn
	s.readyAt = time.Now()
	s.log.Info("server ready", "protocol", msg.version, "incarnation", s.incarnation,
		"tools", len(msg.lists[messages.Tools]), "prompts", len(msg.lists[messages.Prompts]),
		"resources", len(msg.lists[messages.Resources]), "templates", len(msg.lists[messages.ResourceTemplates]))
	ctx.Send(s.router, &messages.ServerReady{Server: s.cfg.Name, PID: ctx.Self(), Incarnation: s.incarnation,
		Lists: msg.lists, Instructions: msg.instructions, Version: msg.version})
	s.drainQueue(ctx)
}

// notified handles a notification the server sent on its own.
func (s *serverActor) notified(ctx actor.Context, msg *downstreamNotification) {
	var which [numKinds]bool
	switch msg.method {
	case "notifications/tools/list_changed":
		which[messages.Tools] = true
	case "notifications/prompts/list_changed":
		which[messages.Prompts] = true
	case "notifications/resources/list_changed":
		which[messages.Resources], which[messages.ResourceTemplates] = true, true
	default:
		return
	}
	if s.conn == nil {
		return // the lists are fetched once the handshake is done anyway
	}
	conn, root, self, inc, timeout := s.conn, ctx.ActorSystem().Root, ctx.Self(), s.incarnation, s.cfg.Timeout
	go func() {
		fetchCtx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		var lists messages.ServerLists
		for k, want := range which {
			if !want {
				continue
			}
			items, err := fetchList(fetchCtx, conn, messages.Kind(k))
			if err != nil {
				which[k] = false
				s.log.Warn("refreshing list failed", "list", listKeys[k], "err", err)
				continue
			}
			lists[k] = items
		}
		root.Send(self, &listsFetched{incarnation: inc, which: which, lists: lists})
	}()
}

// fail answers everything pending with the reason, tells the router, and
// fails the actor so that the fleet restarts it after a backoff.
func (s *serverActor) fail(ctx actor.Context, reason string) {
	text := fmt.Sprintf("server %s %s", s.cfg.Name, reason)
	for id, p := range s.inflight {
		p.cancel()
		ctx.Send(p.session, messages.ErrorReply(p.clientID, messages.CodeServerUnavailable, text))
		delete(s.inflight, id)
	}
	for _, f := range s.queue {
		ctx.Send(f.Session, messages.ErrorReply(f.ClientID, messages.CodeServerUnavailable, text))
	}
	s.queue = nil
	ctx.Send(s.router, &messages.ServerDown{Server: s.cfg.Name, Incarnation: s.incarnation, Reason: reason})
	var uptime time.Duration
	if s.conn != nil {
		uptime = time.Since(s.readyAt)
	}
	s.conn = nil
	panic(&messages.ServerFailure{Server: s.cfg.Name, Uptime: uptime, Reason: reason})
}
