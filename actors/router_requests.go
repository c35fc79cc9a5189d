package actors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/transports"
)

// subscription keeps resource subscriptions counted across sessions: a
// URI is subscribed downstream until the server accepts (a session counts
// as a subscriber only then: see subscribed), and only the last subscriber
// to leave unsubscribes. It reports whether the request goes downstream;
// when not, it has answered the client itself.
func (r *routerActor) subscription(ctx actor.Context, msg *messages.Route, params json.RawMessage) bool {
	uri := requestURI(params) // resolveRequest read it
	key := pidKey(msg.Session)
	subscribers := r.subs[uri]
	if msg.Method == "resources/subscribe" {
		if len(subscribers) == 0 {
			return true
		}
		subscribers[key] = msg.Session
		ctx.Send(msg.Session, &messages.Reply{ClientID: msg.ClientID, Result: json.RawMessage(`{}`)})
		return false
	}
	if _, ok := subscribers[key]; !ok {
		ctx.Send(msg.Session, &messages.Reply{ClientID: msg.ClientID, Result: json.RawMessage(`{}`)})
		return false
	}
	delete(subscribers, key)
	if len(subscribers) > 0 {
		ctx.Send(msg.Session, &messages.Reply{ClientID: msg.ClientID, Result: json.RawMessage(`{}`)})
		return false
	}
	delete(r.subs, uri)
	return true
}

// subscribed counts a session as a subscriber of a URI once its server
// accepted the subscription.
func (r *routerActor) subscribed(ctx actor.Context, msg *messages.Subscribed) {
	if r.sessions[pidKey(msg.Session)] == nil {
		// The session closed meanwhile: the server need not keep a
		// subscription nobody holds.
		if len(r.subs[msg.URI]) == 0 {
			r.unsubscribeDownstream(ctx, msg.URI)
		}
		return
	}
	subscribers := r.subs[msg.URI]
	if subscribers == nil {
		subscribers = map[string]*actor.PID{}
		r.subs[msg.URI] = subscribers
	}
	subscribers[pidKey(msg.Session)] = msg.Session
}

// dropSubscriptions removes a closed session's subscriptions, unsubscribing
// downstream where it was the last subscriber.
func (r *routerActor) dropSubscriptions(ctx actor.Context, session *actor.PID) {
	key := pidKey(session)
	for uri, subscribers := range r.subs {
		if _, ok := subscribers[key]; !ok {
			continue
		}
		delete(subscribers, key)
		if len(subscribers) > 0 {
			continue
		}
		delete(r.subs, uri)
		r.unsubscribeDownstream(ctx, uri)
	}
}

// unsubscribeDownstream ends plugboard's subscription to uri at its server.
func (r *routerActor) unsubscribeDownstream(ctx actor.Context, uri string) {
	if server, ok := r.catalog.resolveURI(uri); ok {
		if rs := r.servers[server]; rs != nil && rs.pid != nil {
			ctx.Send(rs.pid, &messages.Forward{Method: "resources/unsubscribe", Params: mustJSON(map[string]string{"uri": uri})})
		}
	}
}

// reapply gives a restarted server the state its clients set: the logging
// level and the resource subscriptions.
func (r *routerActor) reapply(ctx actor.Context, server string, pid *actor.PID) {
	if r.logLevel != nil {
		ctx.Send(pid, &messages.Forward{Method: "logging/setLevel", Params: r.logLevel})
	}
	for uri := range r.subs {
		if owner, ok := r.catalog.resolveURI(uri); ok && owner == server {
			ctx.Send(pid, &messages.Forward{Method: "resources/subscribe", Params: mustJSON(map[string]string{"uri": uri})})
		}
	}
}

// cancel passes a client's cancellation to the server the request went to.
func (r *routerActor) cancel(ctx actor.Context, msg *messages.CancelRequest) {
	if r.dropHeld(msg.Session, msg.ClientID) {
		return // held while its server started: it went nowhere, and gets no answer
	}
	server, _, rpcErr, _ := r.catalog.resolveRequest(msg.Method, msg.Params)
	if rpcErr != nil {
		return
	}
	cancel := &messages.Cancel{Session: msg.Session, ClientID: msg.ClientID, Reason: msg.Reason}
	if r.isolated[server] && msg.Session != nil {
		r.sendToOwn(ctx, server, msg.Session, cancel)
	} else if rs := r.servers[server]; rs != nil && rs.pid != nil {
		ctx.Send(rs.pid, cancel)
	}
}

// dropHeld forgets a call held until its server is up, which its client
// cancelled; it reports whether there was one. Without it the call went to
// its server once started, cancelled by nobody, and held a slot there.
func (r *routerActor) dropHeld(session *actor.PID, clientID json.RawMessage) bool {
	for i, w := range r.waiting {
		if m, ok := w.msg.(*messages.Route); ok && m.Session.Equal(session) && bytes.Equal(m.ClientID, clientID) {
			r.waiting = slices.Delete(r.waiting, i, i+1)
			return true
		}
	}
	return false
}

// toServers sends a client's request or notification meant for every
// server (logging/setLevel, roots/list_changed) to each running one.
func (r *routerActor) toServers(ctx actor.Context, msg *messages.ToServers) {
	if msg.Method == "logging/setLevel" {
		r.logLevel = msg.Params
	}
	send := func(pid *actor.PID) {
		if msg.Request {
			ctx.Send(pid, &messages.Forward{Method: msg.Method, Params: msg.Params})
		} else {
			ctx.Send(pid, &messages.Notify{Method: msg.Method, Params: msg.Params})
		}
	}
	for _, rs := range r.servers {
		if rs.pid != nil && rs.status == statusReady {
			send(rs.pid)
		}
	}
	// Sessions' own instances: the logging level is everyone's, a change
	// of roots the session's alone.
	for _, bySession := range r.instances {
		for key, pid := range bySession {
			if msg.Method == "logging/setLevel" || msg.Session != nil && key == pidKey(msg.Session) {
				send(pid)
			}
		}
	}
}

// fanOut passes a server's notification to the sessions it concerns: log
// messages to every session, resource updates to the URI's subscribers.
func (r *routerActor) fanOut(ctx actor.Context, msg *messages.ServerNotification) {
	note := &messages.Notify{Method: msg.Method, Params: msg.Params}
	if msg.Method == "notifications/resources/updated" {
		for _, session := range r.subs[msg.URI] {
			ctx.Send(session, note)
		}
		return
	}
	for _, session := range r.sessions {
		if msg.Except == nil || !session.Equal(msg.Except) {
			ctx.Send(session, note)
		}
	}
}

// initialize answers a client's initialize, and the first time offers the
// client's sampling, elicitation and roots capabilities to the servers.
func (r *routerActor) initialize(ctx actor.Context, msg *messages.Initialize) {
	// The front refused ambiguous members; a client without them gets
	// the defaults.
	caps, _ := initializeParams(msg.Params)
	var version [1]json.RawMessage
	_ = transports.ReadMembers(msg.Params, versionParams, version[:])
	protocolVersion, _ := stringMember("", "", version[0])
	if r.offer == nil {
		offer := map[string]json.RawMessage{}
		for _, k := range []string{"sampling", "elicitation", "roots"} {
			if v, ok := caps[k]; ok {
				offer[k] = v
			}
		}
		r.offer = mustJSON(offer)
		r.sendOffer(ctx)
	}
	ctx.Send(msg.Session, &messages.Reply{ClientID: msg.ClientID, Result: initializeAnswer(protocolVersion, r.combinedInstructions())})
}

// combinedInstructions joins the ready servers' instructions, each under
// its server's name.
func (r *routerActor) combinedInstructions() string {
	names := make([]string, 0, len(r.instructions))
	for name, text := range r.instructions {
		if strings.TrimSpace(text) != "" {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("plugboard serves the tools, prompts and resources of several MCP servers; each tool and prompt name starts with its server's prefix. Their instructions follow, each under its server's name.")
	for _, name := range names {
		fmt.Fprintf(&b, "\n\n## %s\n\n%s", name, strings.TrimSpace(r.instructions[name]))
	}
	return b.String()
}

// sendOffer gives the fleet the first client's capabilities once both are
// known: a client may initialize before the configuration has arrived.
func (r *routerActor) sendOffer(ctx actor.Context) {
	if r.offer != nil && r.fleet != nil && !r.offered {
		ctx.Send(r.fleet, &messages.OfferCapabilities{Capabilities: r.offer})
		r.offered = true
	}
}
