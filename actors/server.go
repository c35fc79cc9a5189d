package actors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/plugboard/plugboard/config"
	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/metrics"
	"github.com/plugboard/plugboard/tracing"
	"github.com/plugboard/plugboard/transports"
)

// Default limits of one server actor (max_inflight and max_queued):
// requests sent downstream at once, and requests waiting for a slot (or
// for the server to be ready). The sessions share them (fairqueue.go).
const (
	maxInflightPerServer = 512
	maxQueuedPerServer   = 1024
)

// ownCalls is the session key of plugboard's own requests to a server.
// (A session's key is never without a "/".)
const ownCalls = "plugboard"

// serverActor owns one downstream server: its connection, its in-flight
// table, its queue, and the maps that translate the server's ids and
// progress tokens back to the client sessions they belong to. The
// connection lives in a goroutine of its own (runIncarnation); the actor
// only posts work to it and hears back.
type serverActor struct {
	cfg         config.Server
	owner       *actor.PID // the session of an instance of its own (isolation: session); nil when shared
	activity    ActivitySink
	router      *actor.PID
	procs       *sync.WaitGroup
	log         *slog.Logger
	incarnation uint64
	era         *eraMemory                 // which revision the server speaks, once learnt; kept across restarts
	records     *transports.ChildRecords   // where its process's pid is recorded
	quirks      *transports.Quirks         // the transport rules the server breaks, each logged once; kept across restarts
	modern      bool                       // the current incarnation speaks 2026-07-28
	bothEras    bool                       // the current incarnation is a handshake-era session with a server of both generations
	companion   *companion                 // a stdio server of both generations: the connection for 2026-07-28 clients
	noCompanion bool                       // the companion could not be started: 2026-07-28 clients use the session
	offered     json.RawMessage            // the client capabilities the incarnation offered
	listens     map[string]*resourceListen // a modern server's subscriptions/listen per subscribed URI
	listListen  *listListenOpened          // the list-change listen, until its acknowledgement
	root        *actor.RootContext         // for the incarnation's goroutines to post to self
	self        *actor.PID
	offer       chan json.RawMessage // the client capabilities to offer, for the handshake

	conn     transports.Downstream
	features serverFeatures
	readyAt  time.Time
	stop     context.CancelFunc
	inflight map[int64]*pendingCall
	byClient map[string]int64              // a session's request (callKey) -> downstream id
	progress map[string]*progressRoute     // downstream progress token -> client's
	asked    map[string]*pendingQuestion   // server-to-client requests by token
	calls    *fairQueue[*messages.Forward] // slots and queue, shared among sessions
	caller   *actor.PID                    // the session that most recently called this server
	revision string                        // the protocol revision the incarnation negotiated
	fleet    *actor.PID                    // its supervisor, which keeps its standard error
	meter    *metrics.Server               // telemetry.go: nil when metrics are off
	tracer   *tracing.Tracer               // telemetry.go: nil when traces are off

	deadlinesArmed bool // a checkDeadlines is coming (server_calls.go)
}

// serverFeatures are the optional capabilities a server declared.
type serverFeatures struct {
	logging, completions, subscribe bool
}

// callKey identifies one client request of one session: the session's
// key and the client's raw id, apart by a NUL, which neither holds (a raw
// JSON id escapes control characters). One string, made once per call:
// a map of them hashes faster than of a struct of two.
func callKey(owner string, clientID json.RawMessage) string {
	return owner + "\x00" + string(clientID)
}

// pidKey identifies an actor in maps: its id, unique in plugboard's one
// actor system, whose PIDs all have the same address. (PID.String renders
// protobuf text, far too slow for every call; joining the address made a
// string per call.)
func pidKey(pid *actor.PID) string {
	return pid.Id
}

// pendingCall is a request sent downstream and not yet answered. session
// is nil for plugboard's own requests, whose answers are dropped.
type pendingCall struct {
	session  *actor.PID
	owner    string // the session's key (pidKey), or ownCalls
	clientID json.RawMessage
	// key is the call's in byClient (callKey), made once: drop then
	// deletes with it.
	key    string
	method string
	token  string // downstream progress token, if the client asked for progress
	uri    string // the resource of a resources/subscribe
	// activity is what is reported to the plugged.in App of a call to
	// one of its servers, when it ends; nil for every other call.
	activity  *pendingActivity
	conn      transports.Downstream // the connection it went on
	cancel    context.CancelFunc    // a call a goroutine waits on: its context's
	started   *startedCall          // a call started on a transports.CallStarter (server_calls.go): &startedAs
	startedAs startedCall           // started's value, allocated with the call
	observed  callObservation       // telemetry.go: for its metrics and span
}

// progressRoute is where a downstream progress token's notifications go.
type progressRoute struct {
	session     *actor.PID
	clientID    json.RawMessage // the call the progress is about
	clientToken json.RawMessage
}

// pendingQuestion is a server-to-client request waiting for a client.
type pendingQuestion struct {
	session      *actor.PID
	downstreamID json.RawMessage
	answer       chan<- *messages.ClientAnswer
}

// tell sends the router a message about the server. A session's own
// instance has no place in the catalog: its notifications go to its
// session alone, and its comings and goings stay with it.
func (s *serverActor) tell(ctx actor.Context, msg any) {
	if s.owner == nil {
		ctx.Send(s.router, msg)
		return
	}
	if n, ok := msg.(*messages.ServerNotification); ok && (n.Except == nil || !n.Except.Equal(s.owner)) {
		ctx.Send(s.owner, &messages.Notify{Method: n.Method, Params: n.Params})
	}
}

// retire tells a server actor to answer what is pending with an error
// saying why the server is going, and stop: a reload removed or changed it.
type retire struct{ reason string }

// Messages from an incarnation's goroutines to its actor.
type (
	serverConnected struct {
		incarnation  uint64
		conn         transports.Downstream
		lists        messages.ServerLists
		instructions string
		version      string
		features     serverFeatures
		caps         *initializeCapabilities
		bothEras     bool            // a handshake-era session with a server that speaks 2026-07-28 too
		offer        json.RawMessage // the client capabilities offered
	}
	serverEnded struct {
		incarnation uint64
		reason      string
		needsLogin  bool // the server wants a login (plugboard login): retried, not backed off
	}
	callDone struct {
		incarnation uint64
		id          int64
		result      json.RawMessage
		rpcErr      *messages.RPCError
		err         error
		batch       messages.WriteBatch // the read of the server's stream the answer came in, or nil
	}
	downstreamNotification struct {
		incarnation uint64
		method      string
		params      json.RawMessage
	}
	downstreamRequest struct {
		incarnation uint64
		token       string
		id          json.RawMessage
		method      string
		params      json.RawMessage
		answer      chan<- *messages.ClientAnswer
	}
	questionAbandoned struct {
		incarnation uint64
		token       string
	}
	listsFetched struct {
		incarnation uint64
		which       [numKinds]bool
		lists       messages.ServerLists
	}
)

// newServerProps returns the props of the actor for one configured server.
// Each (re)start gets the next incarnation number.
//
// owner is nil for the instance every session shares, and the session of
// an instance of its own (isolation: session).
func newServerProps(cfg config.Server, owner *actor.PID, incarnations *atomic.Uint64, router *actor.PID, procs *sync.WaitGroup, log *slog.Logger, eras *eraCache, records *transports.ChildRecords, activity ActivitySink, tel telemetry) *actor.Props {
	era := newEraMemory(eras, eraKey(cfg))
	quirks := transports.NewQuirks(log.With("server", cfg.Name))
	return actor.PropsFromProducer(func() actor.Actor {
		return &serverActor{
			era:         era,
			records:     records,
			quirks:      quirks,
			cfg:         cfg,
			owner:       owner,
			activity:    activity,
			router:      router,
			procs:       procs,
			log:         log.With("server", cfg.Name),
			incarnation: incarnations.Add(1),
			offer:       make(chan json.RawMessage, 1),
			inflight:    map[int64]*pendingCall{},
			byClient:    map[string]int64{},
			progress:    map[string]*progressRoute{},
			asked:       map[string]*pendingQuestion{},
			listens:     map[string]*resourceListen{},
			meter:       tel.metrics.Server(cfg.Name),
			tracer:      tel.tracer,
			calls:       newFairQueue[*messages.Forward](orDefault(cfg.MaxInflight, maxInflightPerServer), orDefault(cfg.MaxQueued, maxQueuedPerServer)),
		}
	}, inlineDispatch()) // its Receive never blocks: calls run on goroutines of their own
}

// Receive handles the actor's messages.
func (s *serverActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		s.start(ctx)
	case *actor.Restarting, *actor.Stopping:
		s.release()
	case *retire:
		s.answerPending(ctx, fmt.Sprintf("server %s %s", s.cfg.Name, msg.reason))
		ctx.Stop(ctx.Self())
	case *messages.ServerInfoRequest:
		ctx.Respond(s.info())
	case *messages.OfferCapabilities:
		select {
		case s.offer <- msg.Capabilities:
		default: // offered already
		}
	case *messages.Forward:
		s.accept(ctx, msg)
	case *messages.Cancel:
		s.cancel(ctx, msg)
	case *messages.Notify:
		s.notifyDownstream(msg)
	case *messages.ClientAnswer:
		s.answered(msg)
	case *serverConnected:
		if msg.incarnation == s.incarnation {
			s.connected(ctx, msg)
		}
	case *callDone:
		if msg.incarnation == s.incarnation {
			s.finishCall(ctx, msg)
		}
	case *checkDeadlines:
		if msg.incarnation == s.incarnation {
			s.sweepDeadlines(ctx)
		}
	case *downstreamNotification:
		if msg.incarnation == s.incarnation {
			s.notified(ctx, msg)
		}
	case *downstreamRequest:
		if msg.incarnation == s.incarnation {
			s.asks(ctx, msg)
		} else {
			msg.answer <- &messages.ClientAnswer{Error: &messages.RPCError{Code: messages.CodeInternalError, Message: "the connection that asked is gone"}}
		}
	case *questionAbandoned:
		if msg.incarnation == s.incarnation {
			s.abandoned(ctx, msg.token)
		}
	case *listsFetched:
		if msg.incarnation == s.incarnation {
			s.tell(ctx, &messages.ServerListsChanged{Server: s.cfg.Name, Incarnation: s.incarnation, Changed: msg.which, Lists: msg.lists})
		}
	case *companionReady:
		if msg.incarnation == s.incarnation {
			s.companionIsReady(ctx, msg.conn)
		} else {
			msg.conn.Close()
		}
	case *companionEnded:
		if msg.incarnation == s.incarnation {
			s.companionGone(ctx, msg.reason)
		}
	case *serverEnded:
		if msg.incarnation == s.incarnation {
			s.fail(ctx, msg.reason, msg.needsLogin)
		}
	case *listenEnded:
		if msg.incarnation == s.incarnation {
			s.listenGone(ctx, msg.id, msg.reason, false)
		}
	case *listListenOpened:
		if msg.incarnation == s.incarnation {
			s.listListen = msg
		}
	case *listenReopen:
		if msg.incarnation == s.incarnation {
			s.listenReopened(msg)
		}
	case *listenAckOverdue:
		if msg.incarnation == s.incarnation {
			s.listenGone(ctx, msg.id, fmt.Sprintf("did not acknowledge within %s", s.cfg.Timeout), true)
		}
	}
}

func (s *serverActor) start(ctx actor.Context) {
	s.tell(ctx, &messages.ServerStarting{Server: s.cfg.Name, PID: ctx.Self(), Incarnation: s.incarnation})
	ctx.Request(ctx.Parent(), &messages.NeedCapabilities{})
	s.root, s.self, s.fleet = ctx.ActorSystem().Root, ctx.Self(), ctx.Parent()
	runCtx, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.procs.Add(1)
	var turn *transports.SpawnTurn
	if s.cfg.URL == "" {
		// Taken here, in the order fleet starts its servers, not in
		// runIncarnation's goroutine, which the scheduler may run late.
		turn = transports.TakeSpawnTurn()
	}
	go s.runIncarnation(runCtx, s.root, s.self, s.incarnation, turn)
}

// release ends the incarnation's connection (in its goroutine, which
// closes it) and lets go of whatever is still pending.
func (s *serverActor) release() {
	if s.stop != nil {
		s.stop()
	}
	s.stopCompanion()
	for id, p := range s.inflight {
		p.stop()
		delete(s.inflight, id)
	}
	for uri, l := range s.listens {
		l.cancel()
		delete(s.listens, uri)
	}
	s.refuseQuestions("the server is stopping")
	s.calls.reset()
}

// orDefault is n, or def when n is unset (0).
func orDefault(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// sessionKey is the key a request's session is counted under.
func sessionKey(session *actor.PID) string {
	if session == nil {
		return ownCalls
	}
	return pidKey(session)
}

// accept takes a request for the server: sent now, queued while the server
// starts or is at its in-flight cap, refused past the queue's cap.
func (s *serverActor) accept(ctx actor.Context, msg *messages.Forward) {
	if s.modern && s.conn != nil {
		switch msg.Method {
		case "logging/setLevel":
			s.setModernLogLevel(ctx, msg)
			return
		case "resources/subscribe", "resources/unsubscribe":
			s.subscribeModern(ctx, msg)
			return
		}
	}
	if s.conn != nil && !s.supports(msg.Method) {
		// plugboard offers logging and subscriptions for every server: a
		// server without them has nothing to send, which is what the
		// client hears.
		if msg.Session != nil {
			ctx.Send(msg.Session, &messages.Reply{ClientID: msg.ClientID, Result: json.RawMessage(`{}`)})
		}
		return
	}
	if s.conn != nil && s.needsCompanion(msg) && s.viaCompanion(ctx, msg) {
		return
	}
	owner := sessionKey(msg.Session)
	if s.conn == nil || !s.calls.start(owner) {
		if refused, ok := s.calls.push(owner, msg); ok && refused.Session != nil {
			s.meter.Called(refused.Method, "", metrics.Overloaded, 0) // telemetry
			ctx.Send(refused.Session, messages.ErrorReply(refused.ClientID, messages.CodeServerUnavailable,
				fmt.Sprintf("server %s is overloaded: %d requests in flight and %d queued, shared among the sessions calling it", s.cfg.Name, s.calls.inflight, s.calls.queued)))
		}
		return
	}
	s.dispatch(ctx, msg, owner)
}

// supports reports whether the server declared the capability a method
// needs. completion/complete is always sent: servers that complete do not
// all declare it (or declare it in one protocol generation only), and one
// that does not answers method-not-found, which finishCall turns into an
// empty completion.
func (s *serverActor) supports(method string) bool {
	switch method {
	case "logging/setLevel":
		return s.features.logging
	case "resources/subscribe", "resources/unsubscribe":
		return s.features.subscribe
	}
	return true
}

// emptyCompletion answers a completion/complete that the server cannot
// serve: no suggestions.
var emptyCompletion = json.RawMessage(`{"completion":{"values":[],"total":0,"hasMore":false}}`)

// progressTokenKey marks params that may carry a progress token; only
// those are decoded on the way down.
var progressTokenKey = []byte(`"progressToken"`)

// dispatch records one request as in flight and sends it downstream:
// started on a connection that answers on its reader (startCall), else
// from a goroutine of its own that waits for the answer.
func (s *serverActor) dispatch(ctx actor.Context, msg *messages.Forward, owner string) {
	id := s.conn.NewID()
	params := msg.Params
	if !s.modern && !s.bothEras && clientSpeaksModern(params) {
		// A server of the handshake era gets a 2026-07-28 client's request
		// as one of its session's: the revision's _meta would tell it
		// otherwise (the Go SDK refuses it with -32022).
		params = withoutModernMeta(params)
	}
	p := &pendingCall{session: msg.Session, owner: owner, clientID: msg.ClientID, method: msg.Method}
	if msg.Method == "resources/subscribe" {
		p.uri = requestURI(params)
	}
	if s.activity != nil && s.cfg.AppUUID != "" && msg.Session != nil {
		p.activity = appActivity(s.cfg, msg.Method, params)
	}
	if msg.Session != nil {
		s.caller = msg.Session
		p.key = callKey(owner, msg.ClientID)
		s.byClient[p.key] = id
		if bytes.Contains(params, progressTokenKey) {
			params = s.mapProgress(p, id, params)
		}
	}
	params = s.observeSent(p, params) // telemetry: metrics and the call's span
	p.conn = s.conn
	if s.needsCompanion(msg) && s.companion != nil && s.companion.conn != nil {
		p.conn = s.companion.conn
	}
	s.inflight[id] = p
	// A 2026-07-28 server's input_required goes back to a client of that
	// revision as it is; for a handshake-era client plugboard asks it.
	fulfil := s.modern && !clientSpeaksModern(msg.Params)
	if starter, ok := p.conn.(transports.CallStarter); ok && !fulfil {
		s.startCall(starter, p, id, msg.Method, params, msg.Batch) // server_calls.go: no goroutine per call
		return
	}
	callCtx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
	p.cancel = cancel
	conn, root, self, inc := p.conn, s.root, s.self, s.incarnation
	go func() {
		result, rpcErr, err := conn.Call(callCtx, id, msg.Method, params)
		if fulfil && err == nil && rpcErr == nil {
			result, rpcErr, err = s.fulfil(callCtx, inc, conn, msg.Method, params, result)
		}
		root.Send(self, &callDone{incarnation: inc, id: id, result: result, rpcErr: rpcErr, err: err})
	}()
}

// mapProgress gives the request a progress token of plugboard's, unique on
// this connection, and remembers where its notifications go.
func (s *serverActor) mapProgress(p *pendingCall, id int64, params json.RawMessage) json.RawMessage {
	meta := field(params, "_meta")
	clientToken := field(meta, "progressToken")
	if clientToken == nil {
		return params
	}
	token := "pb-" + strconv.FormatInt(id, 10)
	newMeta, err := replaceField(meta, "progressToken", quoteJSON(token))
	if err != nil {
		return params
	}
	newParams, err := replaceField(params, "_meta", newMeta)
	if err != nil {
		return params
	}
	p.token = token
	s.progress[token] = &progressRoute{session: p.session, clientID: p.clientID, clientToken: clientToken}
	return newParams
}

func (s *serverActor) finishCall(ctx actor.Context, msg *callDone) {
	p, ok := s.inflight[msg.id]
	if !ok {
		return
	}
	if msg.err != nil && connectionLost(p.conn, msg.err) {
		// serverEnded (or companionEnded) follows with the reason and
		// answers every pending call.
		return
	}
	if p.started == nil {
		p.stop()
	} // else its waiter is gone already: callDone comes after it is (server_calls.go)
	s.drop(msg.id, p)
	s.observeDone(p, msg) // telemetry
	if p.activity != nil {
		s.reportActivity(p, msg)
	}
	switch {
	case p.session == nil:
		// plugboard's own request: nobody waits for the answer
	case msg.err != nil && !errors.Is(msg.err, context.DeadlineExceeded):
		ctx.Send(p.session, messages.ErrorReply(p.clientID, messages.CodeServerUnavailable,
			fmt.Sprintf("server %s: %s failed: %v", s.cfg.Name, p.method, msg.err)))
	case msg.err != nil:
		s.cancelDownstream(p.conn, msg.id, "timed out")
		ctx.Send(p.session, messages.ErrorReply(p.clientID, messages.CodeServerUnavailable,
			fmt.Sprintf("server %s did not answer %s within %s: timed out", s.cfg.Name, p.method, s.cfg.Timeout)))
	case msg.rpcErr != nil && msg.rpcErr.Code == messages.CodeMethodNotFound && p.method == "completion/complete":
		ctx.Send(p.session, &messages.Reply{ClientID: p.clientID, Result: emptyCompletion})
	case msg.rpcErr != nil:
		ctx.Send(p.session, &messages.Reply{ClientID: p.clientID, Error: msg.rpcErr, Batch: msg.batch})
	default:
		if p.method == "resources/subscribe" {
			s.tell(ctx, &messages.Subscribed{URI: p.uri, Session: p.session})
		}
		ctx.Send(p.session, &messages.Reply{ClientID: p.clientID, Result: msg.result, Batch: msg.batch})
	}
	s.drainQueue(ctx)
}

// connectionLost reports whether a call failed because the connection
// ended, as opposed to failing alone (an HTTP error for that request).
func connectionLost(conn transports.Downstream, err error) bool {
	if errors.Is(err, transport.ErrTransportClosed) {
		return true
	}
	select {
	case <-conn.Done():
		return true
	default:
		return false
	}
}

// forget drops a call from every table and stops what waits for it: its
// waiter at the connection, or its goroutine's context.
func (s *serverActor) forget(id int64, p *pendingCall) {
	p.stop()
	s.drop(id, p)
}

// drop takes a call out of the server's tables.
func (s *serverActor) drop(id int64, p *pendingCall) {
	delete(s.inflight, id)
	s.calls.done(p.owner)
	if p.session != nil {
		delete(s.byClient, p.key)
	}
	if p.token != "" {
		delete(s.progress, p.token)
	}
}

// cancel handles a client's cancellation: the request is dropped, and the
// server told, with its own id, to stop working on it.
func (s *serverActor) cancel(ctx actor.Context, msg *messages.Cancel) {
	owner := pidKey(msg.Session)
	id, ok := s.byClient[callKey(owner, msg.ClientID)]
	if !ok {
		s.calls.withdraw(owner, func(f *messages.Forward) bool { return bytes.Equal(f.ClientID, msg.ClientID) && s.observeWithdrawn(f) }) // telemetry: observeWithdrawn
		return
	}
	p := s.inflight[id]
	s.forget(id, p)
	s.observeEnd(p, metrics.Cancelled, "cancelled: "+msg.Reason) // telemetry
	s.cancelDownstream(p.conn, id, msg.Reason)
	s.drainQueue(ctx)
}

// cancelDownstream tells the server, on the connection the request went
// on, to stop working on request id.
func (s *serverActor) cancelDownstream(conn transports.Downstream, id int64, reason string) {
	params := mustJSON(map[string]any{"requestId": id, "reason": reason})
	s.notifyOn(conn, &messages.Notify{Method: "notifications/cancelled", Params: params})
}

// notifyDownstream sends a notification to the server, from a goroutine.
func (s *serverActor) notifyDownstream(msg *messages.Notify) {
	s.notifyOn(s.conn, msg)
}

func (s *serverActor) notifyOn(conn transports.Downstream, msg *messages.Notify) {
	if conn == nil || (s.modern && msg.Method == "notifications/roots/list_changed") {
		return // the revision has no roots notification: roots are asked per request
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := conn.Notify(ctx, msg.Method, msg.Params); err != nil {
			s.log.Debug("notification not delivered", "method", msg.Method, "err", err)
		}
	}()
}

// drainQueue sends queued requests while slots are free, in the order the
// fair queue picks.
func (s *serverActor) drainQueue(ctx actor.Context) {
	for s.conn != nil {
		next, ok := s.calls.pop()
		if !ok {
			return
		}
		s.accept(ctx, next)
	}
}

func (s *serverActor) connected(ctx actor.Context, msg *serverConnected) {
	s.conn = msg.conn
	s.modern = msg.version == messages.ModernVersion
	s.bothEras = msg.bothEras
	s.offered = offeredCapabilities(msg.offer)
	s.features = msg.features
	s.readyAt = time.Now()
	s.revision = msg.version
	s.log.Info("server ready", "protocol", msg.version, "incarnation", s.incarnation,
		"tools", len(msg.lists[messages.Tools]), "prompts", len(msg.lists[messages.Prompts]),
		"resources", len(msg.lists[messages.Resources]), "templates", len(msg.lists[messages.ResourceTemplates]))
	s.tell(ctx, &messages.ServerReady{Server: s.cfg.Name, PID: ctx.Self(), Incarnation: s.incarnation,
		Lists: msg.lists, Instructions: msg.instructions, Version: msg.version})
	s.drainQueue(ctx)
}

// fail answers everything pending with the reason, tells the router, and
// fails the actor so that the fleet restarts it after a backoff.
func (s *serverActor) fail(ctx actor.Context, reason string, needsLogin bool) {
	s.answerPending(ctx, fmt.Sprintf("server %s %s", s.cfg.Name, reason))
	s.tell(ctx, &messages.ServerDown{Server: s.cfg.Name, Incarnation: s.incarnation, Reason: reason})
	var uptime time.Duration
	if s.conn != nil {
		uptime = time.Since(s.readyAt)
	}
	s.conn = nil
	panic(&messages.ServerFailure{Server: s.cfg.Name, Uptime: uptime, Reason: reason, NeedsLogin: needsLogin})
}

// answerPending answers every call in flight or queued, and every
// subscription waiting, with an error of text; and refuses the questions
// the server asked.
func (s *serverActor) answerPending(ctx actor.Context, text string) {
	for id, p := range s.inflight {
		s.forget(id, p)
		s.observeEnd(p, metrics.ServerDown, text) // telemetry
		if p.activity != nil {
			s.reportActivity(p, &callDone{err: errors.New(text)})
		}
		if p.session != nil {
			ctx.Send(p.session, messages.ErrorReply(p.clientID, messages.CodeServerUnavailable, text))
		}
	}
	for _, f := range s.calls.takeQueued() {
		if f.Session != nil {
			s.meter.Called(f.Method, "", metrics.ServerDown, 0) // telemetry
			ctx.Send(f.Session, messages.ErrorReply(f.ClientID, messages.CodeServerUnavailable, text))
		}
	}
	for _, l := range s.listens {
		for _, w := range l.waiting {
			s.replySubscribed(ctx, w, &messages.RPCError{Code: messages.CodeServerUnavailable, Message: text})
		}
		l.waiting = nil
	}
	s.refuseQuestions(text)
}
