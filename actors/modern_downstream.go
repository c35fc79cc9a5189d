package actors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/transports"
)

// Downstream servers of the 2026-07-28 revision: plugboard probes with
// server/discover, remembers the answer across restarts (a server that
// ignores the probe costs its timeout once, not on every start), and
// speaks the revision to those that answer it. Requests from handshake-era
// clients get plugboard's _meta; a 2026-07-28 client's keep its own.

// Eras a server may speak, as remembered.
const (
	eraUnknown int32 = iota
	eraLegacy
	eraModern
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

// errNotModern is a server that does not speak the 2026-07-28 revision.
var errNotModern = errors.New("the server does not speak " + messages.ModernVersion)

// negotiate sets up the connection in the newest revision the server
// speaks: 2026-07-28 if it answers server/discover, else the handshake.
func (s *serverActor) negotiate(ctx context.Context, conn transports.Downstream, offer json.RawMessage) (*serverConnected, error) {
	md, ok := conn.(transports.ModernDownstream)
	if ok && md.SpeaksModern() && s.era.get() != eraLegacy {
		ready, err := discoverModern(ctx, md, offer)
		switch {
		case err == nil:
			s.era.set(eraModern)
			return ready, nil
		case errors.Is(err, errNotModern):
			s.log.Info("server speaks the handshake era", "why", err.Error())
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

// discoverModern probes the server with server/discover and, if it speaks
// the revision, fetches its lists. A server that does not answer the probe
// in discoverProbeTimeout is taken for one of the handshake era.
func discoverModern(ctx context.Context, md transports.ModernDownstream, offer json.RawMessage) (*serverConnected, error) {
	if len(offer) == 0 {
		offer = json.RawMessage(`{}`)
	}
	md.UseModern(offer)
	probeCtx, cancel := context.WithTimeout(ctx, discoverProbeTimeout)
	defer cancel()
	raw, rpcErr, err := md.Call(probeCtx, md.NewID(), "server/discover", nil)
	switch {
	case err != nil && ctx.Err() == nil && probeCtx.Err() != nil:
		return nil, fmt.Errorf("%w: no answer to server/discover within %s", errNotModern, discoverProbeTimeout)
	case err != nil:
		return nil, err
	case rpcErr != nil:
		return nil, fmt.Errorf("%w: server/discover: %s (%d)", errNotModern, rpcErr.Message, rpcErr.Code)
	}
	var d discoverResult
	if json.Unmarshal(raw, &d) != nil {
		return nil, fmt.Errorf("%w: malformed server/discover result", errNotModern)
	}
	speaks := false
	for _, v := range d.SupportedVersions {
		speaks = speaks || v == messages.ModernVersion
	}
	if !speaks {
		return nil, fmt.Errorf("%w: it supports %v", errNotModern, d.SupportedVersions)
	}
	ready := &serverConnected{instructions: d.Instructions, version: messages.ModernVersion, features: serverFeatures{
		logging:     d.Capabilities.Logging != nil,
		completions: d.Capabilities.Completions != nil,
		// resources/subscribe is gone from the revision: a server's
		// resource updates would come on a subscriptions/listen stream.
	}}
	if err := fetchLists(ctx, md, &d.Capabilities, ready); err != nil {
		return nil, err
	}
	return ready, nil
}

// listenModern keeps a subscriptions/listen request open on a modern
// server for the life of the connection, so that its list changes reach
// plugboard (they come as notifications, tagged, like any other).
func listenModern(ctx context.Context, conn transports.Downstream, caps *initializeCapabilities) {
	params, _ := json.Marshal(map[string]any{"notifications": map[string]bool{
		"toolsListChanged":     caps.Tools != nil,
		"promptsListChanged":   caps.Prompts != nil,
		"resourcesListChanged": caps.Resources != nil,
	}})
	_, _, _ = conn.Call(ctx, conn.NewID(), "subscriptions/listen", params)
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
	id      int64
	cancel  context.CancelFunc
	acked   bool
	waiting []*messages.Forward // subscribe requests answered once the server acknowledges
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
		id := conn.NewID()
		listenCtx, cancel := context.WithCancel(context.Background())
		s.listens[uri] = &resourceListen{id: id, cancel: cancel, waiting: []*messages.Forward{msg}}
		params := mustJSON(map[string]any{"notifications": map[string]any{"resourceSubscriptions": []string{uri}}})
		root, self, inc := s.root, s.self, s.incarnation
		go func() {
			_, rpcErr, err := conn.Call(listenCtx, id, "subscriptions/listen", params)
			reason := "ended it"
			switch {
			case rpcErr != nil:
				reason = fmt.Sprintf("refused it: %s (%d)", rpcErr.Message, rpcErr.Code)
			case err != nil:
				reason = "lost it: " + err.Error()
			}
			root.Send(self, &listenEnded{incarnation: inc, id: id, reason: reason})
		}()
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

func (s *serverActor) replySubscribed(ctx actor.Context, msg *messages.Forward, rpcErr *messages.RPCError) {
	if msg.Session == nil {
		return
	}
	if rpcErr != nil {
		ctx.Send(msg.Session, &messages.Reply{ClientID: msg.ClientID, Error: rpcErr})
		return
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
// server's acknowledgement of their listen.
func (s *serverActor) listenAcknowledged(ctx actor.Context, params json.RawMessage) {
	var p struct {
		Meta struct {
			ID int64 `json:"io.modelcontextprotocol/subscriptionId"`
		} `json:"_meta"`
	}
	if json.Unmarshal(params, &p) != nil {
		return
	}
	if _, l := s.listenFor(p.Meta.ID); l != nil && !l.acked {
		l.acked = true
		for _, w := range l.waiting {
			s.replySubscribed(ctx, w, nil)
		}
		l.waiting = nil
	}
}

// listenGone fails a listen that ended or was never acknowledged: its
// waiting subscribers get the reason, and a later subscribe starts anew.
func (s *serverActor) listenGone(ctx actor.Context, id int64, reason string, onlyUnacked bool) {
	uri, l := s.listenFor(id)
	if l == nil || (onlyUnacked && l.acked) {
		return
	}
	delete(s.listens, uri)
	l.cancel()
	for _, w := range l.waiting {
		s.replySubscribed(ctx, w, &messages.RPCError{Code: messages.CodeServerUnavailable, Message: fmt.Sprintf("server %s %s (subscription to %s)", s.cfg.Name, reason, uri)})
	}
}
