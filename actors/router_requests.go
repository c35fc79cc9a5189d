package actors

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/plugboard/plugboard/messages"
)

// resolveRequest finds the server a client request goes to and the params
// it gets there (with the original name restored). unknown is set when the
// name or URI is nobody's, as opposed to malformed.
func (r *routerActor) resolveRequest(method string, params json.RawMessage) (server string, out json.RawMessage, rpcErr *messages.RPCError, unknown bool) {
	var p routeParams
	if len(params) == 0 || json.Unmarshal(params, &p) != nil {
		return "", nil, &messages.RPCError{Code: messages.CodeInvalidParams, Message: method + ": params must be an object"}, false
	}
	switch method {
	case "tools/call", "prompts/get":
		kind, what := messages.Tools, "tool"
		if method == "prompts/get" {
			kind, what = messages.Prompts, "prompt"
		}
		if p.Name == "" {
			return "", nil, &messages.RPCError{Code: messages.CodeInvalidParams, Message: method + ": params.name is missing"}, false
		}
		server, original, ok := r.catalog.resolve(kind, p.Name)
		if !ok {
			return "", nil, &messages.RPCError{Code: messages.CodeInvalidParams, Message: fmt.Sprintf("unknown %s: %q", what, p.Name)}, true
		}
		if original == p.Name {
			return server, params, nil, false
		}
		out, err := replaceField(params, "name", quoteJSON(original))
		if err != nil {
			return "", nil, &messages.RPCError{Code: messages.CodeInvalidParams, Message: method + ": " + err.Error()}, false
		}
		return server, out, nil, false
	case "completion/complete":
		return r.resolveCompletion(params, &p)
	default: // resources/read, subscribe, unsubscribe: by URI
		server, ok := r.catalog.resolveURI(p.URI)
		if !ok {
			return "", nil, &messages.RPCError{Code: messages.CodeResourceNotFound, Message: fmt.Sprintf("resource not found: no server offers %q", p.URI),
				Data: mustJSON(map[string]string{"uri": p.URI})}, true
		}
		return server, params, nil, false
	}
}

// resolveCompletion routes completion/complete by its reference: a prompt
// by its client-facing name (restored to the original), a resource
// template by its URI template.
func (r *routerActor) resolveCompletion(params json.RawMessage, p *routeParams) (string, json.RawMessage, *messages.RPCError, bool) {
	if p.Ref == nil {
		return "", nil, &messages.RPCError{Code: messages.CodeInvalidParams, Message: "completion/complete: params.ref is missing"}, false
	}
	switch p.Ref.Type {
	case "ref/prompt":
		server, original, ok := r.catalog.resolve(messages.Prompts, p.Ref.Name)
		if !ok {
			return "", nil, &messages.RPCError{Code: messages.CodeInvalidParams, Message: fmt.Sprintf("unknown prompt: %q", p.Ref.Name)}, true
		}
		if original == p.Ref.Name {
			return server, params, nil, false
		}
		ref, err := replaceField(field(params, "ref"), "name", quoteJSON(original))
		if err == nil {
			params, err = replaceField(params, "ref", ref)
		}
		if err != nil {
			return "", nil, &messages.RPCError{Code: messages.CodeInvalidParams, Message: "completion/complete: " + err.Error()}, false
		}
		return server, params, nil, false
	case "ref/resource":
		if i, ok := r.catalog.index[messages.ResourceTemplates][p.Ref.URI]; ok {
			return r.catalog.items[messages.ResourceTemplates][i].server, params, nil, false
		}
		if server, ok := r.catalog.resolveURI(p.Ref.URI); ok {
			return server, params, nil, false
		}
		return "", nil, &messages.RPCError{Code: messages.CodeInvalidParams, Message: fmt.Sprintf("unknown resource template: %q", p.Ref.URI)}, true
	default:
		return "", nil, &messages.RPCError{Code: messages.CodeInvalidParams, Message: fmt.Sprintf("completion/complete: unknown ref type %q", p.Ref.Type)}, false
	}
}

// subscription keeps resource subscriptions counted across sessions: a
// URI is subscribed downstream until the server accepts (a session counts
// as a subscriber only then: see subscribed), and only the last subscriber
// to leave unsubscribes. It reports whether the request goes downstream;
// when not, it has answered the client itself.
func (r *routerActor) subscription(ctx actor.Context, msg *messages.Route, params json.RawMessage) bool {
	var p routeParams
	_ = json.Unmarshal(params, &p) // resolveRequest parsed it
	key := pidKey(msg.Session)
	subscribers := r.subs[p.URI]
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
	delete(r.subs, p.URI)
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
	server, _, rpcErr, _ := r.resolveRequest(msg.Method, msg.Params)
	if rpcErr != nil {
		return
	}
	if rs := r.servers[server]; rs != nil && rs.pid != nil {
		ctx.Send(rs.pid, &messages.Cancel{Session: msg.Session, ClientID: msg.ClientID, Reason: msg.Reason})
	}
}

// toServers sends a client's request or notification meant for every
// server (logging/setLevel, roots/list_changed) to each running one.
func (r *routerActor) toServers(ctx actor.Context, msg *messages.ToServers) {
	if msg.Method == "logging/setLevel" {
		r.logLevel = msg.Params
	}
	for _, rs := range r.servers {
		if rs.pid == nil || rs.status != statusReady {
			continue
		}
		if msg.Request {
			ctx.Send(rs.pid, &messages.Forward{Method: msg.Method, Params: msg.Params})
		} else {
			ctx.Send(rs.pid, &messages.Notify{Method: msg.Method, Params: msg.Params})
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
	var p struct {
		ProtocolVersion string                     `json:"protocolVersion"`
		Capabilities    map[string]json.RawMessage `json:"capabilities"`
	}
	_ = json.Unmarshal(msg.Params, &p) // a client without them gets the defaults
	if r.offer == nil {
		offer := map[string]json.RawMessage{}
		for _, k := range []string{"sampling", "elicitation", "roots"} {
			if v, ok := p.Capabilities[k]; ok {
				offer[k] = v
			}
		}
		r.offer = mustJSON(offer)
		r.sendOffer(ctx)
	}
	ctx.Send(msg.Session, &messages.Reply{ClientID: msg.ClientID, Result: initializeAnswer(p.ProtocolVersion, r.combinedInstructions())})
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
