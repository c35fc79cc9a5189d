package messages

import (
	"encoding/json"

	"github.com/asynkron/protoactor-go/actor"
)

// Initialize asks the router to answer a client's initialize: with the
// servers' instructions, and, the first time, offering the client's
// sampling, elicitation and roots capabilities to the servers.
type Initialize struct {
	Session  *actor.PID
	ClientID json.RawMessage
	Params   json.RawMessage
}

// Notify asks a session to send the client a notification, as it is.
type Notify struct {
	Method string
	Params json.RawMessage
	// RelatedTo is the id of the client request the notification belongs
	// to (a call's progress), so that a transport with a stream per
	// request sends it on that request's stream, ahead of its answer.
	RelatedTo json.RawMessage
}

// ClientRequest asks a session to send the client a request on behalf of
// a server (sampling, elicitation, roots) and to answer ReplyTo with a
// ClientAnswer carrying Token.
type ClientRequest struct {
	Method  string
	Params  json.RawMessage
	ReplyTo *actor.PID
	Token   string
	// RelatedTo is the client request the server asked during, if known.
	RelatedTo json.RawMessage
}

// ClientAnswer is a client's answer to a ClientRequest. Exactly one of
// Result and Error is set.
type ClientAnswer struct {
	Token  string
	Result json.RawMessage
	Error  *RPCError
}

// ClientCancelled tells a server that the client abandoned a request it
// sent for the server: the server's request with Token is void.
type ClientCancelled struct {
	Token string
}

// CancelRequest tells the router that a client cancelled one of its
// requests; Method and Params are the request's, to find its server.
type CancelRequest struct {
	Session  *actor.PID
	ClientID json.RawMessage
	Method   string
	Params   json.RawMessage
	Reason   string
}

// Cancel tells a server actor that the client cancelled a request.
type Cancel struct {
	Session  *actor.PID
	ClientID json.RawMessage
	Reason   string
}

// ToServers asks the router to send a notification, or a request whose
// answers nobody waits for, to every ready server.
type ToServers struct {
	Method  string
	Params  json.RawMessage
	Request bool
	Session *actor.PID // the session it comes from
}

// ServerNotification carries a notification from a server that is not
// tied to one session (logging, resource updates) to the router, which
// passes it to the sessions it concerns.
type ServerNotification struct {
	Server string
	Method string
	Params json.RawMessage
	URI    string     // for notifications/resources/updated
	Except *actor.PID // a session the server gave it to itself
}

// Subscribed tells the router that a server accepted a session's
// resources/subscribe for URI: only then does the session count as a
// subscriber, so that a refused subscribe leaves no trace.
type Subscribed struct {
	URI     string
	Session *actor.PID
}

// OfferCapabilities tells the fleet, and the fleet each server, which
// client capabilities (sampling, elicitation, roots) to offer downstream.
type OfferCapabilities struct {
	Capabilities json.RawMessage
}

// NeedCapabilities asks the fleet for the capabilities to offer, answered
// with OfferCapabilities when they are known.
type NeedCapabilities struct{}
