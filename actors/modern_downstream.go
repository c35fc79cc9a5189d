package actors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/transports"
)

// Downstream servers of the 2026-07-28 revision: plugboard probes with
// server/discover and remembers the answer across restarts (a server that
// ignores the probe costs its timeout once, not on every start). A server
// that speaks both generations gets a handshake-era session, which serves
// handshake-era clients as they would be served directly, and 2026-07-28
// clients' requests go to it as they are, in their own revision: bridging
// is only for servers of one generation. A server of 2026-07-28 alone is
// spoken to in the revision, handshake-era clients' requests with
// plugboard's _meta.

// Eras a server may speak, as remembered.
const (
	eraUnknown int32 = iota
	eraLegacy        // the initialize handshake only
	eraModern        // 2026-07-28 only
	eraBoth          // both: a handshake-era session, and 2026-07-28 requests beside it
)

// discoverProbeTimeout bounds the first server/discover probe of a server
// whose era is not known yet.
const discoverProbeTimeout = 3 * time.Second

// maxInputRounds bounds the input_required rounds plugboard drives for a
// handshake-era client before it gives up.
const maxInputRounds = 10

// eraMemory is which revision a server was found to speak, kept across
// the server's restarts and, through the cache, across runs of plugboard.
type eraMemory struct {
	v     atomic.Int32
	cache *eraCache
	key   string
}

func newEraMemory(cache *eraCache, key string) *eraMemory {
	m := &eraMemory{cache: cache, key: key}
	if cache != nil {
		m.v.Store(cache.get(key))
	}
	return m
}

func (m *eraMemory) get() int32 { return m.v.Load() }

// set remembers era; a change is written to the cache.
func (m *eraMemory) set(era int32) {
	if m.v.Swap(era) != era && m.cache != nil {
		m.cache.set(m.key, era)
	}
}

// tookToStart remembers how long this start of the server took.
func (m *eraMemory) tookToStart(d time.Duration) {
	if m.cache != nil {
		m.cache.tookToStart(m.key, d)
	}
}

// errFreshConnection asks for the handshake on a new connection: the
// server's answer to server/discover is known and remembered.
var errFreshConnection = errors.New("a new connection is needed for the handshake")

// errNotModern is a server that does not speak the 2026-07-28 revision.
var errNotModern = errors.New("the server does not speak " + messages.ModernVersion)

// negotiate sets up the connection in the generations the server speaks:
// a handshake-era session unless it speaks 2026-07-28 alone, found with
// server/discover.
func (s *serverActor) negotiate(ctx context.Context, conn transports.Downstream, offer json.RawMessage) (*serverConnected, error) {
	if len(offer) == 0 {
		offer = json.RawMessage(`{}`)
	}
	md, ok := conn.(transports.ModernDownstream)
	era := s.era.get()
	if era == eraBoth {
		ready, err := handshake(ctx, conn, offer)
		switch {
		case err == nil:
			ready.bothEras = true
			return ready, nil
		case ctx.Err() != nil || errors.Is(err, transport.ErrTransportClosed):
			return nil, err
		default:
			// It answered server/discover, and refuses a handshake-era
			// session even on a connection of its own: a server of
			// 2026-07-28 alone after all.
			s.log.Warn("server refuses an initialize session: speaking 2026-07-28 to it alone", "why", err.Error())
			s.era.set(eraModern)
			return nil, errFreshConnection
		}
	}
	if ok && md.SpeaksModern() && era != eraLegacy {
		ready, err := discoverModern(ctx, md, offer)
		switch {
		case err == nil && era != eraModern:
			// Whatever server/discover lists (the TypeScript SDK lists
			// 2026-07-28 alone though it takes initialize), the server is
			// asked for the handshake too: only one that does not know
			// initialize is of 2026-07-28 alone.
			md.UseModern(nil)
			hs, hsErr := handshake(ctx, conn, offer)
			switch {
			case hsErr == nil:
				s.era.set(eraBoth)
				hs.bothEras = true
				return hs, nil
			case ctx.Err() != nil || errors.Is(hsErr, transport.ErrTransportClosed):
				return nil, hsErr
			case speaksNoHandshake(hsErr):
				md.UseModern(offer)
			default:
				// Some servers (the Go SDK's, over stdio) take
				// server/discover for the start of a 2026-07-28 session and
				// refuse initialize after it: a new connection goes
				// straight to the handshake.
				s.era.set(eraBoth)
				s.log.Info("server speaks 2026-07-28 and the initialize handshake; opening a new connection for its initialize session", "why", hsErr.Error())
				return nil, errFreshConnection
			}
			fallthrough
		case err == nil:
			if err := fetchLists(ctx, md, ready.caps, ready); err != nil {
				return nil, err
			}
			s.era.set(eraModern)
			return ready, nil
		case errors.Is(err, errNotModern):
			s.log.Info("server speaks only the initialize handshake (protocol 2024-11-05 to 2025-11-25)", "why", err.Error())
			s.era.set(eraLegacy)
			md.UseModern(nil)
		default:
			return nil, err
		}
	}
	ready, err := handshake(ctx, conn, offer)
	if err != nil && s.era.get() == eraLegacy {
		// Perhaps it was wrongly remembered: the next start probes again.
		s.era.set(eraUnknown)
	}
	return ready, err
}

// discoverResult is what plugboard reads of a server's server/discover answer.
type discoverResult struct {
	SupportedVersions []string                   `json:"supportedVersions"`
	Capabilities      initializeCapabilities     `json:"capabilities"`
	Instructions      string                     `json:"instructions"`
	Meta              map[string]json.RawMessage `json:"_meta"`
}

// discoverModern probes the server with server/discover and tells whether
// it speaks the revision. The lists are not fetched yet: that waits until
// the generation they are fetched in is chosen. A server that has not
// answered within discoverProbeTimeout is pinged: one that answers the
// ping and not the probe ignores methods it does not know, and is taken
// for one of the handshake era; one that answers neither is slow to start
// (a package manager fetching it, a busy machine) and is waited for.
func discoverModern(ctx context.Context, md transports.ModernDownstream, offer json.RawMessage) (ready *serverConnected, err error) {
	md.UseModern(offer)
	probeCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	type answer struct {
		raw    json.RawMessage
		rpcErr *messages.RPCError
		err    error
	}
	probe, alive := make(chan answer, 1), make(chan struct{}, 1)
	go func() {
		raw, rpcErr, err := md.Call(probeCtx, md.NewID(), "server/discover", nil)
		probe <- answer{raw, rpcErr, err}
	}()
	var a answer
	select {
	case a = <-probe:
	case <-time.After(discoverProbeTimeout):
		go func() {
			_, _, err := md.Call(probeCtx, md.NewID(), "ping", nil)
			if err == nil {
				alive <- struct{}{}
			}
		}()
		select {
		case a = <-probe:
		case <-alive:
			select {
			case a = <-probe: // it was just slow, and answered in order
			case <-time.After(discoverProbeTimeout / 6):
				return nil, fmt.Errorf("%w: it answers ping but not server/discover", errNotModern)
			}
		case <-time.After(3 * discoverProbeTimeout):
			// Silent to ping too: the handshake will tell.
			return nil, fmt.Errorf("%w: no answer to server/discover or ping within %s", errNotModern, 4*discoverProbeTimeout)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	switch {
	case a.err != nil:
		return nil, a.err
	case a.rpcErr != nil:
		return nil, fmt.Errorf("%w: server/discover: %s (%d)", errNotModern, a.rpcErr.Message, a.rpcErr.Code)
	}
	var d discoverResult
	if json.Unmarshal(a.raw, &d) != nil {
		return nil, fmt.Errorf("%w: malformed server/discover result", errNotModern)
	}
	if !slices.Contains(d.SupportedVersions, messages.ModernVersion) {
		return nil, fmt.Errorf("%w: it supports %v", errNotModern, d.SupportedVersions)
	}
	ready = &serverConnected{instructions: d.Instructions, version: messages.ModernVersion, caps: &d.Capabilities, features: serverFeatures{
		logging:     d.Capabilities.Logging != nil,
		completions: d.Capabilities.Completions != nil,
		// resources/subscribe is gone from the revision: a server's
		// resource updates would come on a subscriptions/listen stream.
	}}
	return ready, nil
}

// listenModern keeps a subscriptions/listen request open on a modern
// server while the connection lives, so that its list changes reach
// plugboard (they come as notifications, tagged, like any other). A listen
// that ends while the connection lives (the server closed it, refused it,
// or its answer could not be read) is logged at warn and opened again
// after b's capped exponential backoff; only a server without the method
// is left alone, once said so. opened is told each listen's request id
// before it goes out, and whether it is a re-opening: changes made while
// no listen was open were not heard.
func listenModern(ctx context.Context, log *slog.Logger, conn transports.Downstream, caps *initializeCapabilities, b backoff, opened func(id int64, again bool)) {
	params, _ := json.Marshal(map[string]any{"notifications": map[string]bool{
		"toolsListChanged":     caps.Tools != nil,
		"promptsListChanged":   caps.Prompts != nil,
		"resourcesListChanged": caps.Resources != nil,
	}})
	failures := 0
	for again := false; ; again = true {
		start := time.Now()
		id := conn.NewID()
		opened(id, again)
		_, rpcErr, err := conn.Call(ctx, id, "subscriptions/listen", params)
		select {
		case <-ctx.Done():
			return
		case <-conn.Done():
			return
		default:
		}
		if rpcErr != nil && rpcErr.Code == messages.CodeMethodNotFound {
			log.Warn("the server has no subscriptions/listen; its list changes will not be heard", "error", rpcErr.Message)
			return
		}
		if b.healthy(time.Since(start)) {
			failures = 0
		}
		failures++
		wait := b.delay(failures, randomFraction)
		log.Warn("the list-change listen ended; re-opening", "why", listenEndReason(rpcErr, err), "retry_in", wait.Round(time.Millisecond))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		case <-conn.Done():
			t.Stop()
			return
		}
	}
}

// listListenOpened is the list-change listen going out under id, from
// listenModern to the actor; again marks a re-opening, whose
// acknowledgement has the lists fetched anew.
type listListenOpened struct {
	incarnation uint64
	id          int64
	again       bool
	kinds       []messages.Kind // the lists the server has
}

// listKinds are the lists a server's capabilities say it has.
func listKinds(caps *initializeCapabilities) []messages.Kind {
	var kinds []messages.Kind
	if caps.Tools != nil {
		kinds = append(kinds, messages.Tools)
	}
	if caps.Prompts != nil {
		kinds = append(kinds, messages.Prompts)
	}
	if caps.Resources != nil {
		kinds = append(kinds, messages.Resources, messages.ResourceTemplates)
	}
	return kinds
}

// listenEndReason says how a subscriptions/listen request ended.
func listenEndReason(rpcErr *messages.RPCError, err error) string {
	switch {
	case rpcErr != nil:
		return fmt.Sprintf("refused it: %s (%d)", rpcErr.Message, rpcErr.Code)
	case err != nil:
		return "lost it: " + err.Error()
	}
	return "ended it"
}

// clientSpeaksModern reports whether a request comes from a 2026-07-28
// client: its params carry the revision's _meta.
func clientSpeaksModern(params json.RawMessage) bool {
	return bytes.Contains(params, []byte(`"`+transports.MetaProtocolVersion+`"`))
}

// inputRequired is a server's interim answer asking for input.
type inputRequired struct {
	InputRequests map[string]struct {
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	} `json:"inputRequests"`
	RequestState *string `json:"requestState"`
}

// fulfil drives a modern server's input_required answers for a
// handshake-era client: each input request goes to the client as an
// ordinary request of its own, and the call is retried with the answers
// until the server completes it. It runs on the call's goroutine.
func (s *serverActor) fulfil(ctx context.Context, inc uint64, conn transports.Downstream, method string, params, result json.RawMessage) (json.RawMessage, *messages.RPCError, error) {
	for round := 1; ; round++ {
		if !transports.IsInputRequired(result) {
			return result, nil, nil
		}
		if round > maxInputRounds {
			return nil, &messages.RPCError{Code: messages.CodeInternalError, Message: fmt.Sprintf("server %s asked for input more than %d times", s.cfg.Name, maxInputRounds)}, nil
		}
		var ir inputRequired
		if err := json.Unmarshal(result, &ir); err != nil {
			return nil, &messages.RPCError{Code: messages.CodeInternalError, Message: fmt.Sprintf("server %s sent a malformed input_required result: %v", s.cfg.Name, err)}, nil
		}
		responses := make(map[string]json.RawMessage, len(ir.InputRequests))
		for key, req := range ir.InputRequests {
			id := quoteJSON(fmt.Sprintf("mrtr-%d-%s", round, key))
			answer, rpcErr := s.askClient(ctx, inc, id, req.Method, req.Params)
			if rpcErr != nil {
				return nil, &messages.RPCError{Code: rpcErr.Code, Message: fmt.Sprintf("server %s needs %s from the client: %s", s.cfg.Name, req.Method, rpcErr.Message)}, nil
			}
			responses[key] = answer
		}
		retry, err := setField(params, "inputResponses", mustJSON(responses))
		if err == nil && ir.RequestState != nil {
			retry, err = setField(retry, "requestState", mustJSON(*ir.RequestState))
		}
		if err != nil {
			return nil, &messages.RPCError{Code: messages.CodeInternalError, Message: "retrying with the client's input: " + err.Error()}, nil
		}
		var rpcErr *messages.RPCError
		result, rpcErr, err = conn.Call(ctx, conn.NewID(), method, retry)
		if rpcErr != nil || err != nil {
			return nil, rpcErr, err
		}
	}
}

// setModernLogLevel keeps a client's logging/setLevel for a modern server,
// which has no such method: the level goes on each request instead.
func (s *serverActor) setModernLogLevel(ctx actor.Context, msg *messages.Forward) {
	var level [1]json.RawMessage
	_ = transports.ReadMembers(msg.Params, levelParams, level[:]) // the front checked it
	if md, ok := s.conn.(transports.ModernDownstream); ok {
		name, _ := stringMember("", "", level[0])
		md.SetLogLevel(name)
	}
	if msg.Session != nil {
		ctx.Send(msg.Session, &messages.Reply{ClientID: msg.ClientID, Result: json.RawMessage(`{}`)})
	}
}

// resourceListen is a subscriptions/listen request held open on a modern
// server for one resource URI.
type resourceListen struct {
	id       int64
	cancel   context.CancelFunc
	acked    bool
	waiting  []*messages.Forward // subscribe requests answered once the server acknowledges
	failures int                 // consecutive ends of an acknowledged listen, for the backoff
	opened   time.Time
	reopened bool // an acknowledged listen opened again: updates may have been missed meanwhile
}

// Messages about a resource listen, from its goroutines to the actor.
type (
	listenEnded struct {
		incarnation uint64
		id          int64
		reason      string
	}
	listenAckOverdue struct {
		incarnation uint64
		id          int64
	}
	listenReopen struct {
		incarnation uint64
		uri         string
		id          int64 // of the listen that ended: a later subscribe or unsubscribe supersedes it
	}
)

// subscribeModern turns resources/subscribe and unsubscribe, which the
// revision dropped, into a subscriptions/listen per URI: opened on
// subscribe (answered once the server acknowledges it), cancelled on
// unsubscribe. The router counts subscribers, so each URI is subscribed
// here once.
func (s *serverActor) subscribeModern(ctx actor.Context, msg *messages.Forward) {
	uri := requestURI(msg.Params) // as the router resolved it
	conn := s.conn
	l, open := s.listens[uri]
	switch {
	case msg.Method == "resources/subscribe" && open && !l.acked:
		l.waiting = append(l.waiting, msg)
		return
	case msg.Method == "resources/subscribe" && !open:
		l = &resourceListen{waiting: []*messages.Forward{msg}}
		s.listens[uri] = l
		s.openResourceListen(uri, l)
		root, self, inc, id := s.root, s.self, s.incarnation, l.id
		time.AfterFunc(s.cfg.Timeout, func() { root.Send(self, &listenAckOverdue{incarnation: inc, id: id}) })
		return
	case msg.Method == "resources/unsubscribe" && open:
		delete(s.listens, uri)
		l.cancel()
		// On stdio the notification ends the subscription; over HTTP
		// closing its stream (the cancel above) already did. The client
		// hears back once it is written, so that its next request cannot
		// overtake it.
		root := ctx.ActorSystem().Root
		session, clientID := msg.Session, msg.ClientID
		go func() {
			notifyCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
			defer done()
			_ = conn.Notify(notifyCtx, "notifications/cancelled", mustJSON(map[string]any{"requestId": l.id, "reason": "unsubscribed"}))
			if session != nil {
				root.Send(session, &messages.Reply{ClientID: clientID, Result: json.RawMessage(`{}`)})
			}
		}()
		return
	}
	s.replySubscribed(ctx, msg, nil)
}

// openResourceListen sends l's subscriptions/listen for uri under a new
// id; its end comes back to the actor as listenEnded.
func (s *serverActor) openResourceListen(uri string, l *resourceListen) {
	conn := s.conn
	id := conn.NewID()
	listenCtx, cancel := context.WithCancel(context.Background())
	l.id, l.cancel, l.opened = id, cancel, time.Now()
	params := mustJSON(map[string]any{"notifications": map[string]any{"resourceSubscriptions": []string{uri}}})
	root, self, inc := s.root, s.self, s.incarnation
	go func() {
		_, rpcErr, err := conn.Call(listenCtx, id, "subscriptions/listen", params)
		root.Send(self, &listenEnded{incarnation: inc, id: id, reason: listenEndReason(rpcErr, err)})
	}()
}

func (s *serverActor) replySubscribed(ctx actor.Context, msg *messages.Forward, rpcErr *messages.RPCError) {
	if msg.Session == nil {
		return
	}
	if rpcErr != nil {
		ctx.Send(msg.Session, &messages.Reply{ClientID: msg.ClientID, Error: rpcErr})
		return
	}
	if msg.Method == "resources/subscribe" {
		s.tell(ctx, &messages.Subscribed{URI: requestURI(msg.Params), Session: msg.Session})
	}
	ctx.Send(msg.Session, &messages.Reply{ClientID: msg.ClientID, Result: json.RawMessage(`{}`)})
}

// listenFor finds a resource listen by its request id.
func (s *serverActor) listenFor(id int64) (string, *resourceListen) {
	for uri, l := range s.listens {
		if l.id == id {
			return uri, l
		}
	}
	return "", nil
}

// listenAcknowledged answers the subscribe requests waiting for the
// server's acknowledgement of their listen. A re-opened listen's
// acknowledgement stands for what may have been missed while none was
// open: the lists are fetched anew (clients hear of real changes only),
// and a resource's subscribers are told it may have been updated.
func (s *serverActor) listenAcknowledged(ctx actor.Context, params json.RawMessage) {
	var p struct {
		Meta struct {
			ID int64 `json:"io.modelcontextprotocol/subscriptionId"`
		} `json:"_meta"`
	}
	if json.Unmarshal(params, &p) != nil {
		return
	}
	if l := s.listListen; l != nil && l.id == p.Meta.ID {
		if l.again {
			s.refetch(ctx, l.kinds...)
		}
		s.listListen = nil
		return
	}
	uri, l := s.listenFor(p.Meta.ID)
	if l != nil && l.reopened {
		l.reopened = false
		s.tell(ctx, &messages.ServerNotification{Server: s.cfg.Name, Method: "notifications/resources/updated",
			Params: mustJSON(map[string]string{"uri": uri}), URI: uri})
	}
	if l != nil && !l.acked {
		l.acked = true
		for _, w := range l.waiting {
			s.replySubscribed(ctx, w, nil)
		}
		l.waiting = nil
	}
}

// listenGone handles a listen that ended or was never acknowledged. One
// that subscribers wait on fails them with the reason, and a later
// subscribe starts anew. One the server had acknowledged carries a live
// subscription: it is logged and opened again after the backoff.
func (s *serverActor) listenGone(ctx actor.Context, id int64, reason string, onlyUnacked bool) {
	uri, l := s.listenFor(id)
	if l == nil || (onlyUnacked && l.acked) {
		return
	}
	l.cancel()
	if l.acked && len(l.waiting) == 0 {
		b := defaultBackoff()
		if b.healthy(time.Since(l.opened)) {
			l.failures = 0
		}
		l.failures++
		wait := b.delay(l.failures, randomFraction)
		s.log.Warn("a resource subscription's listen ended; re-opening", "uri", uri, "why", "the server "+reason, "retry_in", wait.Round(time.Millisecond))
		root, self, inc := s.root, s.self, s.incarnation
		time.AfterFunc(wait, func() { root.Send(self, &listenReopen{incarnation: inc, uri: uri, id: id}) })
		return
	}
	delete(s.listens, uri)
	s.log.Warn("a resource subscription failed", "uri", uri, "why", "the server "+reason)
	for _, w := range l.waiting {
		s.replySubscribed(ctx, w, &messages.RPCError{Code: messages.CodeServerUnavailable, Message: fmt.Sprintf("server %s %s (subscription to %s)", s.cfg.Name, reason, uri)})
	}
}

// listenReopened opens again the listen of a subscription still wanted.
func (s *serverActor) listenReopened(msg *listenReopen) {
	if l, ok := s.listens[msg.uri]; ok && l.id == msg.id && s.conn != nil {
		l.reopened = true
		s.openResourceListen(msg.uri, l)
	}
}
