package transports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"

	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/plugboard/plugboard/messages"
)

// Remote transport names, as the configuration spells them.
const (
	RemoteStreamableHTTP = "streamable-http"
	RemoteSSE            = "sse"
	RemoteWebSocket      = "websocket"
)

// RemoteSpec says how to reach a remote MCP server.
type RemoteSpec struct {
	URL       string
	Transport string // RemoteStreamableHTTP, RemoteSSE or RemoteWebSocket
	Headers   map[string]string
	MaxFrame  int
	Handlers  Handlers
	// Auth is how to log in to the server, should it ask; nil never
	// does. A configured Authorization header takes its place.
	Auth *AuthSpec
	// Quirks notes a Streamable HTTP server's breaches of the transport's
	// rules, once per server; nil notes nothing.
	Quirks *Quirks
}

// Remote is a connection to a downstream MCP server over the network,
// through plugboard's own client transports: Streamable HTTP (mcp-go's
// reads one message per JSON body, and re-encodes what it carries), legacy
// SSE and WebSocket (mcp-go's SSE client cannot answer a server's
// requests, and it has no WebSocket one). It ends (Done) when the
// connection breaks: a lost stream or socket, a request that fails on the
// network, or a session the server no longer knows.
type Remote struct {
	mcpConn
	stream  *streamableClient // for Streamable HTTP; else mcpConn.t is the transport
	host    string
	secrets *secretText // removes the URL's and headers' secrets from errors
	done    chan struct{}
	endOnce sync.Once
	mu      sync.Mutex
	reason  string
	login   *NeedsLoginError // why the connection ended, when for want of a login
}

// DialRemote connects to a remote server. ctx bounds the connection's
// set-up only. No error or log record of the connection shows the URL's
// userinfo or query values or the headers' values (RedactURL).
func DialRemote(ctx context.Context, spec RemoteSpec) (*Remote, error) {
	u, err := url.Parse(spec.URL)
	if err != nil {
		return nil, fmt.Errorf("url is not valid: %w", errors.Unwrap(err)) // err quotes the URL, secrets and all
	}
	r := &Remote{host: u.Host, done: make(chan struct{}), secrets: newSecretText(spec.URL, spec.Headers)}
	var oauth *OAuth
	if spec.Auth != nil && configuredHeader(spec.Headers).Get("Authorization") == "" {
		if oauth, err = NewOAuth(spec.URL, *spec.Auth); err != nil {
			return nil, r.secrets.Error(err)
		}
	}
	switch spec.Transport {
	case RemoteStreamableHTTP:
		// Nothing to connect: each message is a request of its own.
		c, err := newStreamableClient(spec.URL, StreamableOptions{Headers: spec.Headers, MaxFrame: spec.MaxFrame, Quirks: spec.Quirks, OAuth: oauth}, spec.Handlers)
		if err != nil {
			return nil, r.secrets.Error(err)
		}
		r.stream, r.raw = c, c
		r.clients.http = true
		return r, nil
	case RemoteSSE:
		sse := NewLegacySSE(spec.URL, SSEOptions{Headers: spec.Headers, MaxFrame: spec.MaxFrame, OAuth: oauth})
		go r.endWith(sse.Done(), sse.Err, "the SSE stream from")
		r.t = sse
	case RemoteWebSocket:
		ws := NewWebSocket(spec.URL, WebSocketOptions{Headers: spec.Headers, MaxFrame: spec.MaxFrame, OAuth: oauth})
		go r.endWith(ws.Done(), ws.Err, "the WebSocket to")
		r.t = ws
	default:
		return nil, fmt.Errorf("unknown transport %q", spec.Transport)
	}
	r.setHandlers(spec.Handlers)
	// The transports keep the context they start with for their streams.
	started := make(chan error, 1)
	go func() { started <- r.t.Start(context.Background()) }()
	select {
	case err := <-started:
		if err != nil {
			r.Close()
			return nil, r.secrets.Error(err)
		}
	case <-ctx.Done():
		r.Close()
		return nil, fmt.Errorf("connecting to %s: %w", r.host, ctx.Err())
	}
	return r, nil
}

// Call implements Downstream. A broken connection or a session the server
// forgot ends the connection, which is then re-established from scratch;
// other failures (an HTTP error for one request) are the call's alone.
func (r *Remote) Call(ctx context.Context, id int64, method string, params json.RawMessage) (json.RawMessage, *messages.RPCError, error) {
	result, rpcErr, err := r.mcpConn.Call(ctx, id, method, params)
	err = r.secrets.Error(err)
	if err != nil && ctx.Err() == nil {
		var netErr net.Error
		switch nl := AsNeedsLogin(err); {
		case nl != nil:
			r.needsLogin(nl)
		case errors.Is(err, transport.ErrSessionTerminated):
			r.end("the server at " + r.host + " ended the session (404); re-initializing")
		case errors.Is(err, transport.ErrTransportClosed), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &netErr):
			r.end(fmt.Sprintf("lost the connection to %s: %v", r.host, err))
		}
	}
	return result, rpcErr, err
}

// Notify implements Downstream.
func (r *Remote) Notify(ctx context.Context, method string, params json.RawMessage) error {
	return r.secrets.Error(r.mcpConn.Notify(ctx, method, params))
}

// SetProtocolVersion tells an HTTP transport the version to send in the
// MCP-Protocol-Version header.
func (r *Remote) SetProtocolVersion(version string) {
	if r.stream != nil {
		r.stream.setProtocolVersion(version)
		return
	}
	if h, ok := r.t.(transport.HTTPConnection); ok {
		h.SetProtocolVersion(version)
	}
}

// endWith ends the connection when a transport's own Done closes.
func (r *Remote) endWith(done <-chan struct{}, err func() error, what string) {
	<-done
	if nl := AsNeedsLogin(err()); nl != nil {
		r.needsLogin(nl)
		return
	}
	if e := err(); e != nil {
		r.end(fmt.Sprintf("%s %s broke: %v", what, r.host, e))
	} else {
		r.end(fmt.Sprintf("%s %s closed", what, r.host))
	}
}

func (r *Remote) end(reason string) {
	r.endOnce.Do(func() {
		r.mu.Lock()
		r.reason = r.secrets.String(reason)
		r.mu.Unlock()
		close(r.done)
	})
}

// needsLogin ends the connection because the server wants a login.
func (r *Remote) needsLogin(nl *NeedsLoginError) {
	r.mu.Lock()
	if r.login == nil {
		r.login = nl
	}
	r.mu.Unlock()
	r.end(nl.Error())
}

// LoginNeeded returns why the connection ended when it ended for want of
// a login (plugboard login fixes it); nil otherwise.
func (r *Remote) LoginNeeded() *NeedsLoginError {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.login
}

// Done implements Downstream.
func (r *Remote) Done() <-chan struct{} { return r.done }

// Reason implements Downstream.
func (r *Remote) Reason() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reason
}

// Close implements Downstream.
func (r *Remote) Close() {
	if r.stream != nil {
		r.stream.close()
	} else {
		_ = r.t.Close()
	}
	r.end("closed")
}
