package messages

import (
	"encoding/json"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Kind names one of the lists a server offers.
type Kind int

// The lists plugboard aggregates.
const (
	Tools Kind = iota
	Prompts
	Resources
	ResourceTemplates
	numKinds
)

// Kinds lists every Kind, in order.
var Kinds = [numKinds]Kind{Tools, Prompts, Resources, ResourceTemplates}

// ServerLists is what one server offers, as the raw objects it sent.
type ServerLists [numKinds][]json.RawMessage

// ServerStarting tells the router a server's incarnation is starting.
type ServerStarting struct {
	Server      string
	PID         *actor.PID
	Incarnation uint64
}

// ServerReady tells the router a server finished its handshake, with its
// full catalog.
type ServerReady struct {
	Server       string
	PID          *actor.PID
	Incarnation  uint64
	Lists        ServerLists
	Instructions string
	Version      string // the protocol version the server agreed to
}

// ServerListsChanged replaces some of a ready server's lists (after a
// downstream list_changed). Lists of kinds not in Changed are ignored.
type ServerListsChanged struct {
	Server      string
	Incarnation uint64
	Changed     [numKinds]bool
	Lists       ServerLists
}

// ServerDown tells the router a server stopped answering: its process
// exited, its connection broke or it failed to start. RetryIn is the delay
// before the next start attempt, zero when the server is not restarted.
type ServerDown struct {
	Server      string
	Incarnation uint64
	Reason      string
	RetryIn     time.Duration
}

// ListChanged tells a session that the client-facing lists of these kinds
// changed.
type ListChanged struct {
	Kinds [numKinds]bool
}

// List asks the router for one page of a client-facing list.
type List struct {
	Session  *actor.PID
	ClientID json.RawMessage
	Kind     Kind
	Cursor   string
}

// Route asks the router to resolve a request by the name or URI in its
// params and forward it to the owning server.
type Route struct {
	Session  *actor.PID
	ClientID json.RawMessage
	Method   string
	Params   json.RawMessage
	Batch    WriteBatch // see Forward
}

// SessionOpened registers a client session with the router, so that it
// hears about list changes, in its workspace ("" for the default one).
type SessionOpened struct {
	Session   *actor.PID
	Workspace string
}

// SessionClosed unregisters a client session.
type SessionClosed struct{ Session *actor.PID }

// SnapshotRequest asks the router for the whole catalog and every server's
// state, answered with a Snapshot. Wait makes the router answer only when
// every expected server is ready or has failed at least once.
type SnapshotRequest struct {
	Wait  bool
	Tools bool // also each server's own tool list, as it sent it (Snapshot.ServerTools)
}

// Snapshot is the client-facing catalog and every server's state.
type Snapshot struct {
	Entries []SnapshotEntry
	Servers []ServerState
	// ServerTools are, when asked, each server's tools as it listed them:
	// its own names, none filtered out.
	ServerTools map[string][]json.RawMessage
}

// SnapshotEntry is one client-facing tool, prompt, resource or template.
type SnapshotEntry struct {
	Kind        Kind
	Name        string // client-facing name, or URI / URI template
	Server      string
	Original    string
	Description string
	Disabled    bool // a tool the user disabled: clients neither see nor call it
}

// ServerState is one server as the router sees it.
type ServerState struct {
	Name   string
	Status string // "starting", "ready", "down", "disabled"
	Reason string // why it is down
}
