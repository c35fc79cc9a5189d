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
