package transports

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/plugboard/plugboard/messages"
)

// mcpConn adapts one of mcp-go's client transports, or one of plugboard's
// raw ones, to the request, notify and id parts of Downstream.
type mcpConn struct {
	t      transport.Interface // nil when raw is set
	raw    rawConn
	ids    atomic.Int64
	modern atomic.Pointer[modernIdentity] // set once the server speaks 2026-07-28
	// clients carries, on a connection of the handshake era to a server
	// of both generations, the requests of 2026-07-28 clients: they keep
	// their own _meta and, over HTTP, get the revision's headers and no
	// session.
	clients modernIdentity
}

// rawConn is a transport of plugboard's own that carries params, results
// and errors as raw JSON, with nothing decoded or encoded on the way.
type rawConn interface {
	// call sends a request; header holds the HTTP headers the request
	// mirrors (nil on transports without headers).
	call(ctx context.Context, id int64, method string, params json.RawMessage, header http.Header) (json.RawMessage, *messages.RPCError, error)
	notify(ctx context.Context, method string, params json.RawMessage) error
}

// NewID implements Downstream.
func (c *mcpConn) NewID() int64 { return c.ids.Add(1) }

// Call implements Downstream.
func (c *mcpConn) Call(ctx context.Context, id int64, method string, params json.RawMessage) (json.RawMessage, *messages.RPCError, error) {
	if c.raw != nil {
		params, header := c.prepareRaw(method, params)
		return c.raw.call(ctx, id, method, params, header)
	}
	req := transport.JSONRPCRequest{JSONRPC: mcp.JSONRPC_VERSION, ID: mcp.NewRequestId(id), Method: method}
	if m := c.modern.Load(); m != nil {
		params, req.Header = m.prepare(method, params)
	}
	if params != nil {
		req.Params = params
	}
	resp, err := c.t.SendRequest(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	if resp.Error != nil {
		return nil, toRPCError(resp.Error), nil
	}
	return resp.Result, nil, nil
}

// prepareRaw gives a request for a raw transport what the connection's
// protocol revision adds: _meta members, and over HTTP headers.
func (c *mcpConn) prepareRaw(method string, params json.RawMessage) (json.RawMessage, http.Header) {
	var header http.Header
	if m := c.modern.Load(); m != nil {
		params, header = m.prepare(method, params)
	} else if c.clients.http && carriesModernMeta(params) {
		params, header = c.clients.prepare(method, params)
		header.Set(headerProtocolVersion, messages.ModernVersion)
	}
	return params, header
}

func toRPCError(e *mcp.JSONRPCErrorDetails) *messages.RPCError {
	out := &messages.RPCError{Code: e.Code, Message: e.Message}
	if e.Data != nil {
		if data, err := json.Marshal(e.Data); err == nil {
			out.Data = data
		}
	}
	return out
}

// Notify implements Downstream.
func (c *mcpConn) Notify(ctx context.Context, method string, params json.RawMessage) error {
	if c.raw != nil {
		return c.raw.notify(ctx, method, params)
	}
	n := mcp.JSONRPCNotification{JSONRPC: mcp.JSONRPC_VERSION, Notification: mcp.Notification{Method: method}}
	if len(params) > 0 {
		if err := json.Unmarshal(params, &n.Params); err != nil {
			return fmt.Errorf("notification params: %w", err)
		}
	}
	return c.t.SendNotification(ctx, n)
}

// setHandlers installs h on the transport. mcp-go hands notifications and
// requests over decoded; they are encoded again for plugboard.
func (c *mcpConn) setHandlers(h Handlers) {
	if h.Notification != nil {
		c.t.SetNotificationHandler(func(n mcp.JSONRPCNotification) {
			params, err := json.Marshal(n.Params)
			if err != nil {
				return
			}
			h.Notification(n.Method, params)
		})
	}
	bidi, ok := c.t.(transport.BidirectionalInterface)
	if h.Request == nil || !ok {
		return
	}
	bidi.SetRequestHandler(func(ctx context.Context, req transport.JSONRPCRequest) (*transport.JSONRPCResponse, error) {
		id, _ := json.Marshal(req.ID)
		var params json.RawMessage
		if req.Params != nil {
			var err error
			if params, err = json.Marshal(req.Params); err != nil {
				return transport.NewJSONRPCErrorResponse(req.ID, mcp.INVALID_PARAMS, err.Error(), nil), nil
			}
		}
		result, rpcErr := h.Request(ctx, id, req.Method, params)
		if rpcErr != nil {
			var data any
			if rpcErr.Data != nil {
				data = rpcErr.Data
			}
			return transport.NewJSONRPCErrorResponse(req.ID, rpcErr.Code, rpcErr.Message, data), nil
		}
		return transport.NewJSONRPCResultResponse(req.ID, result), nil
	})
}
