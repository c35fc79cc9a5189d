package messages

import (
	"encoding/json"

	"github.com/asynkron/protoactor-go/actor"
)

// JSON-RPC and MCP error codes plugboard answers with.
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternalError  = -32603
	// CodeResourceNotFound is MCP's code for an unknown resource URI.
	CodeResourceNotFound = -32002
	// CodeServerUnavailable is plugboard's code for a downstream that is
	// down, restarting, overloaded or timed out (JSON-RPC's server-error range).
	CodeServerUnavailable = -32000
	// Codes of the 2026-07-28 revision: an HTTP header that does not match
	// the body, a request that needs a capability the client did not
	// declare, and a protocol version the server does not speak.
	CodeHeaderMismatch             = -32020
	CodeMissingClientCapability    = -32021
	CodeUnsupportedProtocolVersion = -32022
)

// RPCError is a JSON-RPC error object.
type RPCError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// Forward asks a server actor to send one client request downstream. Params
// are already rewritten for the downstream (original names); the answer goes
// to Session as a Reply carrying ClientID.
type Forward struct {
	Session  *actor.PID
	ClientID json.RawMessage
	Method   string
	Params   json.RawMessage
	Batch    WriteBatch // the client's read it came in, which holds its write to the server; nil: none
}

// WriteBatch holds back the frames that one read of a stream makes until
// every frame of that read is handled, then each destination's frames go
// in one write: at high concurrency a read brings dozens of frames, each
// of which would otherwise cost a system call and a wake-up of whoever
// reads them. A read of a client's stream batches its requests to each
// server; a read of a stdio server's stream batches its answers to each
// client. Hold keeps w's frames for the batch's flush, or says no when
// the batch is flushed already (w then writes at once). The reader that
// made the batch flushes it before it reads again or waits.
type WriteBatch interface{ Hold(w HeldWriter) bool }

// HeldWriter is a connection with frames held for a WriteBatch: FlushHeld
// writes them.
type HeldWriter interface{ FlushHeld() }

// Reply is the answer to one client request, for the session that asked.
// Exactly one of Result and Error is set.
type Reply struct {
	ClientID json.RawMessage
	Result   json.RawMessage
	Error    *RPCError
	Batch    WriteBatch // the server's read the answer came in, which may hold its write to the client; nil: none
}

// ErrorReply builds a Reply that carries a JSON-RPC error.
func ErrorReply(clientID json.RawMessage, code int, message string) *Reply {
	return &Reply{ClientID: clientID, Error: &RPCError{Code: code, Message: message}}
}

// ModernVersion is the stateless revision of MCP: every request carries
// its protocol version, client capabilities and client info in _meta.
const ModernVersion = "2026-07-28"

// ProtocolVersions are the protocol versions plugboard speaks with peers
// that use the initialize handshake, newest first.
func ProtocolVersions() []string {
	return []string{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}
}
