package transports

import (
	"context"
	"encoding/json"

	"github.com/plugboard/plugboard/messages"
)

// Downstream is a connection to one downstream MCP server.
type Downstream interface {
	// NewID returns a request id not yet used on this connection.
	NewID() int64
	// Call sends a request and waits for its response, ctx's end, or the
	// connection's end. A JSON-RPC error response comes back as rpcErr.
	Call(ctx context.Context, id int64, method string, params json.RawMessage) (result json.RawMessage, rpcErr *messages.RPCError, err error)
	// Notify sends a notification.
	Notify(ctx context.Context, method string, params json.RawMessage) error
	// Done is closed when the connection has ended for good.
	Done() <-chan struct{}
	// Reason says why the connection ended, once Done is closed.
	Reason() string
	// Close ends the connection and releases everything it holds.
	Close()
}

// CallStarter is a Downstream that can send a request without a goroutine
// waiting for its answer: the answer is handed to a CallWaiter on the
// connection's reader goroutine. The caller keeps its in-flight table;
// the connection keeps only the waiter until the answer comes.
type CallStarter interface {
	// StartCall sends a request and returns without waiting for the
	// answer. Unless it returns an error, w.CallDone is called exactly
	// once: with the answer, on the connection's reader goroutine; with
	// transport.ErrTransportClosed when the connection ends first; or
	// with the error of a write that failed after StartCall returned.
	// AbandonCall stops a call from being answered.
	StartCall(id int64, method string, params json.RawMessage, w CallWaiter, batch messages.WriteBatch) error
	// AbandonCall forgets a started call: it reports whether the call
	// was still waiting, in which case CallDone will not be called.
	AbandonCall(id int64) bool
}

// CallWaiter receives the outcome of a started call (CallStarter).
type CallWaiter interface {
	// CallDone must not block: it runs on the connection's reader. batch,
	// when not nil, is the read of the server's stream the answer came in:
	// a client's stream may hold the answer's frame for it (the answers of
	// one read then reach a client in one write).
	CallDone(result json.RawMessage, rpcErr *messages.RPCError, err error, batch messages.WriteBatch)
}

// CallDoneFunc is a function as a CallWaiter.
type CallDoneFunc func(result json.RawMessage, rpcErr *messages.RPCError, err error, batch messages.WriteBatch)

// CallDone implements CallWaiter.
func (f CallDoneFunc) CallDone(result json.RawMessage, rpcErr *messages.RPCError, err error, batch messages.WriteBatch) {
	f(result, rpcErr, err, batch)
}

// Handlers receive what a downstream sends on its own. They run on the
// connection's reader and must not block.
type Handlers struct {
	// Notification receives each notification the server sends.
	Notification func(method string, params json.RawMessage)
	// Stderr receives each line a process writes to its standard error.
	Stderr func(line string)
	// Request answers a request the server sends to its client (sampling,
	// elicitation, roots). It runs on a goroutine of its own and may block.
	Request func(ctx context.Context, id json.RawMessage, method string, params json.RawMessage) (json.RawMessage, *messages.RPCError)
}
