package transports

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"

	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// rpcPeer is the message half of plugboard's own client transports
// (WebSocket, legacy SSE): it matches responses to the requests waiting for
// them and hands notifications and the server's requests to their handlers.
// Each transport adds how messages travel.
type rpcPeer struct {
	name string // for logs

	pendingMu sync.Mutex
	pending   map[string]chan *transport.JSONRPCResponse

	handlerMu      sync.RWMutex
	onNotification func(mcp.JSONRPCNotification)
	onRequest      transport.RequestHandler
}

func newRPCPeer(name string) rpcPeer {
	return rpcPeer{name: name, pending: make(map[string]chan *transport.JSONRPCResponse)}
}

// SetNotificationHandler sets the function that receives the server's
// notifications; those that come before it is set are dropped. It runs on
// the transport's reader and must not block.
func (p *rpcPeer) SetNotificationHandler(handler func(mcp.JSONRPCNotification)) {
	p.handlerMu.Lock()
	defer p.handlerMu.Unlock()
	p.onNotification = handler
}

// SetRequestHandler sets the function that answers the server's requests
// (sampling, elicitation, roots), each on a goroutine of its own. Without
// one, requests are answered with METHOD_NOT_FOUND.
func (p *rpcPeer) SetRequestHandler(handler transport.RequestHandler) {
	p.handlerMu.Lock()
	defer p.handlerMu.Unlock()
	p.onRequest = handler
}

// roundTrip sends a request with send and waits for the response with its
// id, the end of ctx, or done (then closedErr). The request is registered
// before it is sent: the response may arrive before send returns.
func (p *rpcPeer) roundTrip(ctx context.Context, req transport.JSONRPCRequest, done <-chan struct{}, closedErr func() error, send func([]byte) error) (*transport.JSONRPCResponse, error) {
	msg, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encoding request %s: %w", req.Method, err)
	}
	key := req.ID.String()
	ch := make(chan *transport.JSONRPCResponse, 1)
	p.pendingMu.Lock()
	if _, taken := p.pending[key]; taken {
		p.pendingMu.Unlock()
		return nil, fmt.Errorf("request %s: id %v is already waiting for a response", req.Method, req.ID.Value())
	}
	p.pending[key] = ch
	p.pendingMu.Unlock()
	defer func() {
		p.pendingMu.Lock()
		if p.pending[key] == ch {
			delete(p.pending, key)
		}
		p.pendingMu.Unlock()
	}()

	if err := send(msg); err != nil {
		return nil, err
	}
	select {
	case resp := <-ch:
		return resp, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-done:
		// The response may have come just before the connection ended.
		select {
		case resp := <-ch:
			return resp, nil
		default:
		}
		return nil, closedErr()
	}
}

// dispatch routes one message from the server: a response to its waiting
// request, a notification to the handler, a request to answer (called on a
// goroutine of its own). Messages that are none of these are dropped.
func (p *rpcPeer) dispatch(msg []byte, answer func(transport.JSONRPCRequest)) {
	var base struct {
		ID     *mcp.RequestId `json:"id"`
		Method string         `json:"method"`
	}
	if err := json.Unmarshal(msg, &base); err != nil {
		slog.Default().Debug(p.name+": dropping a message that is not JSON-RPC", "err", err)
		return
	}
	switch {
	case base.Method != "" && base.ID == nil:
		var n mcp.JSONRPCNotification
		if err := json.Unmarshal(msg, &n); err != nil {
			slog.Default().Debug(p.name+": dropping a malformed notification", "method", base.Method, "err", err)
			return
		}
		p.handlerMu.RLock()
		handler := p.onNotification
		p.handlerMu.RUnlock()
		if handler != nil {
			handler(n)
		}
	case base.Method != "":
		var req transport.JSONRPCRequest
		if err := json.Unmarshal(msg, &req); err != nil {
			slog.Default().Debug(p.name+": dropping a malformed request", "method", base.Method, "err", err)
			return
		}
		go answer(req)
	default:
		var resp transport.JSONRPCResponse
		if err := json.Unmarshal(msg, &resp); err != nil {
			slog.Default().Debug(p.name+": dropping a malformed response", "err", err)
			return
		}
		key := resp.ID.String()
		p.pendingMu.Lock()
		ch, ok := p.pending[key]
		delete(p.pending, key)
		p.pendingMu.Unlock()
		if !ok {
			slog.Default().Debug(p.name+": dropping a response nobody waits for", "id", key)
			return
		}
		ch <- &resp // buffered, and only this send: the entry is gone
	}
}

// respond runs the request handler on a request from the server and
// returns the encoded response, with the request's id whatever the handler
// put there.
func (p *rpcPeer) respond(ctx context.Context, req transport.JSONRPCRequest) []byte {
	p.handlerMu.RLock()
	handler := p.onRequest
	p.handlerMu.RUnlock()

	var resp transport.JSONRPCResponse
	if handler == nil {
		resp = *transport.NewJSONRPCErrorResponse(req.ID, mcp.METHOD_NOT_FOUND, "no request handler configured for "+req.Method, nil)
	} else {
		r, err := handler(ctx, req)
		switch {
		case err != nil:
			resp = *transport.NewJSONRPCErrorResponse(req.ID, mcp.INTERNAL_ERROR, err.Error(), nil)
		case r == nil:
			resp = *transport.NewJSONRPCErrorResponse(req.ID, mcp.INTERNAL_ERROR, "the request handler gave no response", nil)
		default:
			resp = *r
		}
	}
	resp.ID = req.ID
	if resp.JSONRPC == "" {
		resp.JSONRPC = mcp.JSONRPC_VERSION
	}
	b, err := json.Marshal(resp)
	if err != nil {
		b, _ = json.Marshal(transport.NewJSONRPCErrorResponse(req.ID, mcp.INTERNAL_ERROR, "encoding the response: "+err.Error(), nil))
	}
	return b
}
