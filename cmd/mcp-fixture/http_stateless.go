package main

// 2026-07-28 requests over Streamable HTTP: a POST to /mcp without a
// session whose body is one request with per-request _meta. Its headers
// must mirror the body (MCP-Protocol-Version, Mcp-Method, Mcp-Name), and
// it is answered with a JSON body or, once something comes before the
// response, with an SSE stream of its own; closing that stream cancels
// the request.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"
	"sync"
)

const (
	methodHeader = "Mcp-Method"
	nameHeader   = "Mcp-Name"
)

// isModernPost reports whether a POSTed message is to be served
// statelessly: a request that says it is 2026-07-28 in its _meta or in
// its MCP-Protocol-Version header, or that exists only in 2026-07-28.
func isModernPost(r *http.Request, msg message) bool {
	if v := r.Header.Get(versionHeader); v != "" && !isLegacyVersion(v) {
		return true
	}
	return isModern(msg.Method, msg.Params)
}

// serveModern answers a 2026-07-28 request. The checks run in the order
// the specification gives them precedence: the required _meta fields, the
// headers that mirror the body, the version, the method.
func (h *streamableHTTP) serveModern(w http.ResponseWriter, r *http.Request, msg message) {
	m, rpcErr := readRequestMeta(msg.Params)
	status := http.StatusBadRequest
	if rpcErr == nil {
		rpcErr = checkMirroredHeaders(r.Header, msg, m)
	}
	if rpcErr == nil && msg.Method == "tools/call" {
		rpcErr = h.net.stateless.checkParamHeaders(r.Header, msg.Params)
	}
	if rpcErr == nil {
		if rpcErr = m.admit(msg.Method); rpcErr != nil && rpcErr.Code == codeMethodNotFound {
			status = http.StatusNotFound
		}
	}
	if rpcErr != nil {
		writeRPCError(w, status, msg.ID, rpcErr)
		return
	}
	m.id = msg.ID

	x := &exchange{w: w, rc: http.NewResponseController(w)}
	defer x.end()
	core := h.net.stateless
	result, err := core.callModern(withExchange(withModern(r.Context(), m), x), msg.Method, msg.Params)
	if r.Context().Err() != nil {
		core.logger.Printf("no response for %s %s: the client closed its stream", msg.Method, idKey(msg.ID))
		return
	}
	if err != nil {
		var rpcErr *rpcError
		if !errors.As(err, &rpcErr) {
			rpcErr = &rpcError{Code: codeInternalError, Message: err.Error()}
		}
		status := http.StatusOK
		if rpcErr.Code == codeMissingCapability {
			status = http.StatusBadRequest
		}
		x.finish(mustRaw(message{JSONRPC: "2.0", ID: msg.ID, Error: rpcErr}), status)
		return
	}
	x.finish(mustRaw(message{JSONRPC: "2.0", ID: msg.ID, Result: result}), http.StatusOK)
}

// checkMirroredHeaders fails with HeaderMismatch unless the headers that
// mirror the body are present and agree with it.
func checkMirroredHeaders(header http.Header, msg message, m requestMeta) *rpcError {
	switch v := header.Get(versionHeader); {
	case v == "":
		return headerMismatch("the %s header is missing", versionHeader)
	case v != m.protocolVersion:
		return headerMismatch("%s header %q does not match _meta %s %q", versionHeader, v, metaProtocolVersion, m.protocolVersion)
	}
	switch v := header.Get(methodHeader); {
	case v == "":
		return headerMismatch("the %s header is missing", methodHeader)
	case v != msg.Method:
		return headerMismatch("%s header %q does not match body method %q", methodHeader, v, msg.Method)
	}
	name, mirrored := mirroredName(msg.Method, msg.Params)
	if !mirrored {
		return nil
	}
	raw := header.Get(nameHeader)
	if raw == "" {
		return headerMismatch("the %s header is missing", nameHeader)
	}
	v, err := decodeHeaderValue(raw)
	if err != nil {
		return headerMismatch("%s header %q: %v", nameHeader, raw, err)
	}
	if v != name {
		return headerMismatch("%s header value %q does not match body value %q", nameHeader, v, name)
	}
	return nil
}

// mirroredName is the body value Mcp-Name mirrors: params.name of
// tools/call and prompts/get, params.uri of resources/read.
func mirroredName(method string, params json.RawMessage) (string, bool) {
	var p struct {
		Name string `json:"name"`
		URI  string `json:"uri"`
	}
	_ = json.Unmarshal(params, &p)
	switch method {
	case "tools/call", "prompts/get":
		return p.Name, true
	case "resources/read":
		return p.URI, true
	}
	return "", false
}

// decodeHeaderValue undoes the =?base64?...?= encoding that clients use
// for values a header cannot carry as they are.
func decodeHeaderValue(v string) (string, error) {
	inner, ok := strings.CutPrefix(v, "=?base64?")
	if !ok {
		return v, nil
	}
	inner, ok = strings.CutSuffix(inner, "?=")
	if !ok {
		return v, nil
	}
	b, err := base64.StdEncoding.DecodeString(inner)
	if err != nil {
		return "", fmt.Errorf("invalid base64: %w", err)
	}
	return string(b), nil
}

// writeRPCError fails an HTTP request with status and a JSON-RPC error
// response to the request id.
func writeRPCError(w http.ResponseWriter, status int, id json.RawMessage, rpcErr *rpcError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(mustRaw(message{JSONRPC: "2.0", ID: id, Error: rpcErr}), '\n'))
}

// exchange is the HTTP response to one 2026-07-28 request: a JSON body
// when the response is the first thing to send, otherwise an SSE stream
// that the first notification opens and the response ends. Its methods
// may be called from any goroutine until end.
type exchange struct {
	mu        sync.Mutex
	w         http.ResponseWriter
	rc        *http.ResponseController
	streaming bool
	over      bool // the response is written or the handler returned
}

// send puts a notification on the stream, opening it if need be.
func (x *exchange) send(frame []byte) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.over {
		return
	}
	if !x.streaming {
		x.w.Header().Set("Content-Type", "text/event-stream")
		x.w.Header().Set("Cache-Control", "no-cache")
		x.w.Header().Set("X-Accel-Buffering", "no")
		x.w.WriteHeader(http.StatusOK)
		x.streaming = true
	}
	x.writeEvent(frame)
}

// finish writes the response: the last event of the stream, or the JSON
// body with status when no stream was opened.
func (x *exchange) finish(response []byte, status int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.over {
		return
	}
	x.over = true
	if x.streaming {
		x.writeEvent(response)
		return
	}
	x.w.Header().Set("Content-Type", "application/json")
	x.w.WriteHeader(status)
	_, _ = x.w.Write(append(response, '\n'))
}

func (x *exchange) writeEvent(frame []byte) {
	if (sseEvent{name: "message", data: frame}).writeTo(x.w) == nil {
		_ = x.rc.Flush()
	}
}

// end makes later frames go nowhere: the handler is returning, and its
// ResponseWriter must not be touched after that.
func (x *exchange) end() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.over = true
}

// exchangeKey is the context key of the exchange a request's frames go to.
type exchangeKey struct{}

func withExchange(ctx context.Context, x *exchange) context.Context {
	return context.WithValue(ctx, exchangeKey{}, x)
}

func exchangeOf(ctx context.Context) *exchange {
	x, _ := ctx.Value(exchangeKey{}).(*exchange)
	return x
}

// statelessOutlet is the outlet of the session that serves 2026-07-28
// requests over HTTP: each frame goes to the exchange of its request.
type statelessOutlet struct {
	logger *log.Logger
}

func (o statelessOutlet) send(ctx context.Context, frame []byte) {
	if x := exchangeOf(ctx); x != nil {
		x.send(frame)
		return
	}
	o.logger.Printf("dropping a frame that belongs to no 2026-07-28 request: %s", frame)
}

func (o statelessOutlet) finish(ctx context.Context, response []byte) {
	if x := exchangeOf(ctx); x != nil && response != nil {
		x.finish(response, http.StatusOK)
	}
}

// disconnect does nothing: 2026-07-28 streams cannot be resumed, so
// closing one would lose the request.
func (statelessOutlet) disconnect(context.Context) {}
