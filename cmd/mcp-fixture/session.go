package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"slices"
	"sync"
)

// supportedVersions are the MCP protocol revisions the fixture speaks; the
// last one is offered when a client asks for anything else.
var supportedVersions = []string{"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"}

const serverVersion = "1.0.0"

const serverCapabilities = `{"tools":{"listChanged":true},` +
	`"prompts":{"listChanged":true},` +
	`"resources":{"subscribe":true,"listChanged":true},` +
	`"logging":{},"completions":{}}`

// errClientGone fails server-to-client requests once the client can no
// longer answer them.
var errClientGone = errors.New("client connection closed")

// config is what the command line decides about a session.
type config struct {
	name       string // serverInfo.name, also embedded in URIs and texts
	extraTools int    // number of generated echo tools for catalog benchmarks
	pageSize   int    // list page size; 0 disables pagination
	legacyOnly bool   // a server of the handshake era only: no 2026-07-28
	// statelessOnly is a server of 2026-07-28 only: no initialize.
	statelessOnly bool
	// silentDiscover: server/discover gets no answer at all, as from a
	// server that ignores methods it does not know (implies legacyOnly).
	silentDiscover bool
	// demo offers only what the README's demo shows (see keepDemoItems).
	demo bool
}

// negotiation is what initialize settled: the protocol version and the
// client capabilities that server-to-client requests depend on.
type negotiation struct {
	protocolVersion string
	sampling        bool
	elicitation     bool
	roots           bool
}

// outlet carries a session's frames to its client; each transport has its
// own. Its methods are safe for concurrent use and write each frame whole.
//
// ctx says which client request a frame belongs to: handle passes its ctx
// on to the handler of each request, and whatever that handler sends
// carries the handler's context, while frames about the session as a whole
// carry context.Background(). Streamable HTTP puts each frame on the SSE
// stream of its request this way; the other transports have one channel
// and ignore ctx.
type outlet interface {
	// send delivers a notification or a server-to-client request.
	send(ctx context.Context, frame []byte)
	// finish delivers the response to the request ctx belongs to or, with
	// a nil response, says that the request ends without one because it
	// was cancelled. Nothing about that request follows.
	finish(ctx context.Context, response []byte)
	// disconnect closes the connection that carries ctx's request without
	// ending the request, so that the client has to reconnect for the rest
	// (SEP-1699 polling), where the transport can resume a stream.
	disconnect(ctx context.Context)
}

// session is one MCP connection seen from the server side. It is
// transport-agnostic: frames come in through handle and go out through out.
type session struct {
	cfg     config
	shared  *shared // what every session of the process has in common
	out     outlet
	exit    func(code int)
	logger  *log.Logger
	closing chan struct{} // closed once the client is gone: subscriptions end
	closed  sync.Once

	tools     []tool
	prompts   []prompt
	resources []staticResource
	templates []templateResource

	calls sync.WaitGroup // running request handlers

	mu            sync.Mutex
	inFlight      map[string]context.CancelFunc // client requests by id key
	outgoing      map[string]chan message       // server-to-client requests by id key
	outgoingSeq   int
	clientGone    bool
	negotiation   negotiation
	logLevel      int
	subscriptions map[string]bool
}

// newSession starts the session of a connection, or of the 2026-07-28
// requests of many. It hears of list changes once initialize has made it
// a legacy session; 2026-07-28 clients hear of them through
// subscriptions/listen instead.
func newSession(cfg config, sh *shared, out outlet, exit func(int), logger *log.Logger) *session {
	s := &session{
		cfg:           cfg,
		shared:        sh,
		out:           out,
		exit:          exit,
		logger:        logger,
		closing:       make(chan struct{}),
		inFlight:      make(map[string]context.CancelFunc),
		outgoing:      make(map[string]chan message),
		subscriptions: make(map[string]bool),
	}
	s.tools = s.builtinTools()
	s.prompts = s.builtinPrompts()
	s.resources = builtinResources(cfg.name)
	s.templates = builtinTemplates(cfg.name)
	if cfg.demo {
		s.keepDemoItems()
	}
	return s
}

// handle processes one incoming frame. Requests run in their own goroutine,
// derived from ctx, so that a slow call never holds up the next frame;
// notifications and responses are handled before handle returns.
func (s *session) handle(ctx context.Context, frame []byte) {
	if !json.Valid(frame) {
		s.respond(ctx, message{JSONRPC: "2.0", ID: json.RawMessage("null"),
			Error: &rpcError{Code: codeParseError, Message: "Parse error"}})
		return
	}
	var msg message
	if err := json.Unmarshal(frame, &msg); err != nil || msg.JSONRPC != "2.0" {
		id := msg.ID
		if isAbsent(id) {
			id = json.RawMessage("null")
		}
		s.respond(ctx, message{JSONRPC: "2.0", ID: id,
			Error: &rpcError{Code: codeInvalidRequest, Message: "Invalid Request: not a JSON-RPC 2.0 message"}})
		return
	}
	switch {
	case msg.Method == "" && !isAbsent(msg.ID):
		s.deliverResponse(msg)
	case msg.Method == "":
		s.respond(ctx, message{JSONRPC: "2.0", ID: json.RawMessage("null"),
			Error: &rpcError{Code: codeInvalidRequest, Message: "Invalid Request: no method and no id"}})
	case len(msg.ID) == 0:
		s.handleNotification(msg.Method, msg.Params)
	case isAbsent(msg.ID):
		s.respond(ctx, message{JSONRPC: "2.0", ID: json.RawMessage("null"),
			Error: &rpcError{Code: codeInvalidRequest, Message: "Invalid Request: MCP request ids must not be null"}})
	case s.cfg.silentDiscover && msg.Method == "server/discover":
		s.logger.Printf("ignoring server/discover, as told")
	default:
		s.startCall(ctx, msg)
	}
}

func (s *session) startCall(ctx context.Context, msg message) {
	key := idKey(msg.ID)
	callCtx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	_, duplicate := s.inFlight[key]
	if !duplicate {
		s.inFlight[key] = cancel
	}
	s.mu.Unlock()
	if duplicate {
		cancel()
		s.reply(ctx, msg.ID, nil, &rpcError{Code: codeInvalidRequest,
			Message: fmt.Sprintf("Invalid Request: id %s is already in flight", key)})
		return
	}

	s.calls.Add(1)
	go func() {
		defer s.calls.Done()
		result, err := s.serve(callCtx, msg)
		s.mu.Lock()
		delete(s.inFlight, key)
		s.mu.Unlock()
		if callCtx.Err() != nil {
			// Cancelled by the client or abandoned at shutdown: the spec
			// says the receiver of a cancellation should not respond.
			s.logger.Printf("no response for cancelled request %s (%s)", key, msg.Method)
			s.out.finish(callCtx, nil)
			cancel()
			return
		}
		cancel()
		s.reply(callCtx, msg.ID, result, err)
	}()
}

// serve runs a request of either era.
func (s *session) serve(ctx context.Context, msg message) (any, error) {
	if !s.cfg.legacyOnly && isModern(msg.Method, msg.Params) {
		return s.serveModern(ctx, msg.ID, msg.Method, msg.Params)
	}
	if s.cfg.statelessOnly {
		return nil, &rpcError{Code: codeMethodNotFound, Message: "Method not found: " + msg.Method + " (this server speaks " + modernVersion + " only)"}
	}
	return s.dispatch(ctx, msg.Method, msg.Params)
}

// dispatch runs a request of the legacy session.
func (s *session) dispatch(ctx context.Context, method string, params json.RawMessage) (any, error) {
	switch method {
	case "initialize":
		return s.initialize(params)
	case "ping":
		return struct{}{}, nil
	case "tools/list":
		return s.listTools(params)
	case "tools/call":
		return s.callTool(ctx, params)
	case "prompts/list":
		return s.listPrompts(params)
	case "prompts/get":
		return s.getPrompt(ctx, params)
	case "resources/list":
		return s.listResources(params)
	case "resources/templates/list":
		return s.listTemplates(params)
	case "resources/read":
		return s.readResource(params)
	case "resources/subscribe":
		return s.subscribe(params, true)
	case "resources/unsubscribe":
		return s.subscribe(params, false)
	case "completion/complete":
		return s.complete(params)
	case "logging/setLevel":
		return s.setLogLevel(params)
	default:
		return nil, &rpcError{Code: codeMethodNotFound, Message: "Method not found: " + method}
	}
}

func (s *session) handleNotification(method string, params json.RawMessage) {
	switch method {
	case "notifications/initialized", "notifications/progress":
	case "notifications/roots/list_changed":
		s.logger.Printf("client roots changed")
	case "notifications/cancelled":
		var p struct {
			RequestID json.RawMessage `json:"requestId"`
		}
		if err := json.Unmarshal(params, &p); err != nil || isAbsent(p.RequestID) {
			s.logger.Printf("ignoring malformed notifications/cancelled: %s", params)
			return
		}
		s.mu.Lock()
		cancel := s.inFlight[idKey(p.RequestID)]
		s.mu.Unlock()
		if cancel != nil {
			cancel()
		}
	default:
		s.logger.Printf("ignoring notification %s", method)
	}
}

type implementation struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type initializeResult struct {
	ProtocolVersion string          `json:"protocolVersion"`
	Capabilities    json.RawMessage `json:"capabilities"`
	ServerInfo      implementation  `json:"serverInfo"`
	Instructions    string          `json:"instructions"`
}

func (s *session) initialize(params json.RawMessage) (any, error) {
	var p struct {
		ProtocolVersion string `json:"protocolVersion"`
		Capabilities    struct {
			Sampling    json.RawMessage `json:"sampling"`
			Elicitation json.RawMessage `json:"elicitation"`
			Roots       json.RawMessage `json:"roots"`
		} `json:"capabilities"`
	}
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	version := supportedVersions[len(supportedVersions)-1]
	if slices.Contains(supportedVersions, p.ProtocolVersion) {
		version = p.ProtocolVersion
	}
	s.mu.Lock()
	s.negotiation = negotiation{
		protocolVersion: version,
		sampling:        !isAbsent(p.Capabilities.Sampling),
		elicitation:     !isAbsent(p.Capabilities.Elicitation),
		roots:           !isAbsent(p.Capabilities.Roots),
	}
	if !s.clientGone {
		// Under s.mu, so that clientClosed, which unwatches after
		// setting clientGone, cannot miss this.
		s.shared.tools.watch(s)
		s.shared.prompts.watch(s)
	}
	s.mu.Unlock()
	return initializeResult{
		ProtocolVersion: version,
		Capabilities:    json.RawMessage(serverCapabilities),
		ServerInfo:      implementation{Name: s.cfg.name, Version: serverVersion},
		Instructions:    s.instructions(),
	}, nil
}

func (s *session) instructions() string {
	return fmt.Sprintf("Fixture server %s for plugboard tests.", s.cfg.name)
}

func (s *session) negotiated() negotiation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.negotiation
}

// request sends a server-to-client request and waits for the client's
// answer. A JSON-RPC error from the client comes back as *rpcError.
func (s *session) request(ctx context.Context, method string, params any) (json.RawMessage, error) {
	s.mu.Lock()
	if s.clientGone {
		s.mu.Unlock()
		return nil, errClientGone
	}
	s.outgoingSeq++
	id := mustRaw(fmt.Sprintf("fx-%d", s.outgoingSeq))
	key := idKey(id)
	answer := make(chan message, 1)
	s.outgoing[key] = answer
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.outgoing, key)
		s.mu.Unlock()
	}()

	s.emit(ctx, message{JSONRPC: "2.0", ID: id, Method: method, Params: optionalRaw(params)})
	select {
	case <-ctx.Done():
		s.notify(ctx, "notifications/cancelled", map[string]any{"requestId": id, "reason": "tool call cancelled"})
		return nil, ctx.Err()
	case resp, ok := <-answer:
		if !ok {
			return nil, errClientGone
		}
		if resp.Error != nil {
			return nil, resp.Error
		}
		return resp.Result, nil
	}
}

func (s *session) deliverResponse(msg message) {
	key := idKey(msg.ID)
	s.mu.Lock()
	answer, ok := s.outgoing[key]
	delete(s.outgoing, key)
	s.mu.Unlock()
	if !ok {
		s.logger.Printf("ignoring response to unknown request %s", key)
		return
	}
	answer <- msg
}

// clientClosed fails every pending and future server-to-client request
// and ends every subscription; it is called once the client can no longer
// send anything.
func (s *session) clientClosed() {
	s.mu.Lock()
	s.clientGone = true // initialize watches no more
	for key, answer := range s.outgoing {
		close(answer)
		delete(s.outgoing, key)
	}
	s.mu.Unlock()
	s.shared.tools.unwatch(s)
	s.shared.prompts.unwatch(s)
	s.closed.Do(func() { close(s.closing) })
}

// drain waits until every running request handler has returned, or until
// ctx is done. handle must not be called once drain has begun.
func (s *session) drain(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.calls.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// reply answers the request ctx belongs to with its result or error.
func (s *session) reply(ctx context.Context, id json.RawMessage, result any, err error) {
	if err != nil {
		var rpcErr *rpcError
		if !errors.As(err, &rpcErr) {
			rpcErr = &rpcError{Code: codeInternalError, Message: err.Error()}
		}
		s.respond(ctx, message{JSONRPC: "2.0", ID: id, Error: rpcErr})
		return
	}
	s.respond(ctx, message{JSONRPC: "2.0", ID: id, Result: mustRaw(result)})
}

// notify sends a notification about the request ctx belongs to.
func (s *session) notify(ctx context.Context, method string, params any) {
	s.emit(ctx, message{JSONRPC: "2.0", Method: method, Params: optionalRaw(params)})
}

// announce sends a notification about the session as a whole rather than
// about the request being handled, such as a list change; over Streamable
// HTTP it goes on the standalone stream that GET opens.
func (s *session) announce(method string, params any) {
	s.notify(context.Background(), method, params)
}

// emit sends a notification or a server-to-client request.
func (s *session) emit(ctx context.Context, msg message) {
	if frame, ok := s.encode(msg); ok {
		s.out.send(ctx, frame)
	}
}

// respond sends the response that ends the request ctx belongs to; a
// response that cannot be encoded ends the request without one.
func (s *session) respond(ctx context.Context, msg message) {
	frame, _ := s.encode(msg)
	s.out.finish(ctx, frame)
}

func (s *session) encode(msg message) ([]byte, bool) {
	frame, err := encodeJSON(msg)
	if err != nil {
		s.logger.Printf("dropping unencodable frame: %v", err)
		return nil, false
	}
	return frame, true
}
