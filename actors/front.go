package actors

import (
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/transports"
)

// maxInflightPerSession caps one client session's unanswered requests:
// at the cap the session's reader stops reading until an answer goes out.
const maxInflightPerSession = 512

// Messages from a session's reader goroutine to its front.
type (
	clientFrame struct {
		frame transports.Frame
		batch messages.WriteBatch // the read it came in (stdio and socket streams); nil: none
	}
	clientFrameError struct{ err *transports.FrameError }
	clientEnded      struct{ err error }
	clientAbandoned  struct {
		id     json.RawMessage
		reason string
	}
	clientListening struct{}
)

// frontActor is one client session: it turns the client's JSON-RPC into
// actor messages and what comes back into frames. It keeps the session's
// requests in flight (to drop answers to cancelled ones), the requests it
// sent the client for servers, and the client's logging level.
type frontActor struct {
	router  *actor.PID
	log     *slog.Logger
	out     *outQueue           // frames to the client, read by the session's transport
	credits <-chan struct{}     // taken by the reader per request, returned per answer
	batch   messages.WriteBatch // the batch of the client frame being handled, for its Route

	clientCaps map[string]json.RawMessage
	inflight   map[string]clientCall    // by the client's raw id
	questions  map[string]questionRoute // requests sent to the client, by plugboard's raw id
	byToken    map[string]string        // question token -> plugboard's raw id
	nextID     uint64
	logLevel   int // the lowest severity the client wants; -1 for all
	// listening: the client initialized, or spoke 2026-07-28; list
	// changes go only to such sessions (not to the idle handshake-era
	// session of a stream whose client speaks 2026-07-28 only).
	listening bool
	// transport and clientName describe the session in status.
	transport, clientName string
	workspace             string         // the one the session chose; "" for the default
	tel                   frontTelemetry // telemetry.go
}

// clientCall is a client request not yet answered.
type clientCall struct {
	method string
	params json.RawMessage
}

// questionRoute is where the client's answer to a server's request goes.
type questionRoute struct {
	replyTo *actor.PID
	token   string
}

func newFront(router *actor.PID, log *slog.Logger, out *outQueue, credits <-chan struct{}, workspace string, tel frontTelemetry) *frontActor {
	return &frontActor{router: router, log: log, out: out, credits: credits, workspace: workspace, tel: tel,
		inflight: map[string]clientCall{}, questions: map[string]questionRoute{}, byToken: map[string]string{}, logLevel: -1}
}

// Receive handles the front's messages.
func (f *frontActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		ctx.Send(f.router, &messages.SessionOpened{Session: ctx.Self(), Workspace: f.workspace})
	case *clientFrame:
		f.batch = msg.batch
		f.handle(ctx, &msg.frame)
		f.batch = nil
	case *clientFrameError:
		f.observeRejected(msg.err) // telemetry
		f.write(transports.Outbound{Frame: transports.ErrorFrame(msg.err.ID, &messages.RPCError{Code: msg.err.Code, Message: msg.err.Message}), ResponseTo: msg.err.ID})
	case *messages.Reply:
		f.answer(msg)
	case *messages.Notify:
		f.notify(msg)
	case *messages.ListChanged:
		f.listChanged(msg)
	case *messages.ClientRequest:
		f.ask(ctx, msg)
	case *messages.ClientCancelled:
		f.withdraw(msg.Token)
	case *clientListening:
		f.listening = true
	case *sessionTransport:
		f.transport = msg.name
		f.observeTransport(msg.name) // telemetry
	case *messages.SessionInfoRequest:
		ctx.Respond(f.info())
	case *clientAbandoned:
		f.cancelCall(ctx, string(msg.id), msg.reason)
	case *clientEnded:
		f.end(ctx)
	case *actor.Stopped:
		f.tel.frames.SessionClosed() // telemetry
		f.refuseQuestions(ctx)
		f.out.close()
	}
}

func (f *frontActor) handle(ctx actor.Context, fr *transports.Frame) {
	f.tel.frames.Received() // telemetry
	switch {
	case fr.IsRequest():
		f.request(ctx, fr)
	case fr.IsNotification():
		f.clientNotification(ctx, fr)
	default:
		f.clientAnswer(ctx, fr)
	}
}

func (f *frontActor) request(ctx actor.Context, fr *transports.Frame) {
	key := string(fr.ID)
	if _, dup := f.inflight[key]; dup {
		f.write(transports.Outbound{Frame: transports.ErrorFrame(fr.ID, &messages.RPCError{Code: messages.CodeInvalidRequest, Message: "invalid request: id " + key + " is already in use by a request in flight"}), ResponseTo: fr.ID})
		<-f.credits
		return
	}
	if f.tel.tracer != nil {
		f.traceRequest(fr) // telemetry: the request's span
	}
	f.inflight[key] = clientCall{method: fr.Method, params: fr.Params}
	f.adoptModernMeta(fr.Params)
	switch fr.Method {
	case "initialize":
		caps, rpcErr := initializeParams(fr.Params)
		if rpcErr != nil {
			f.answer(&messages.Reply{ClientID: fr.ID, Error: rpcErr})
			return
		}
		f.clientCaps = caps
		f.clientName = initializingClient(fr.Params)
		f.listening = true
		ctx.Send(f.router, &messages.Initialize{Session: ctx.Self(), ClientID: fr.ID, Params: fr.Params})
	case "ping":
		f.answer(&messages.Reply{ClientID: fr.ID, Result: json.RawMessage(`{}`)})
	case "tools/list", "prompts/list", "resources/list", "resources/templates/list":
		var cursor string
		if len(fr.Params) > 0 && string(fr.Params) != "null" {
			var v [1]json.RawMessage
			rpcErr := decidedMembers(fr.Method, "params", fr.Params, cursorParams, v[:])
			if rpcErr == nil {
				cursor, rpcErr = stringMember(fr.Method, "params.cursor", v[0])
			}
			if rpcErr != nil {
				f.answer(&messages.Reply{ClientID: fr.ID, Error: rpcErr})
				return
			}
		}
		ctx.Send(f.router, &messages.List{Session: ctx.Self(), ClientID: fr.ID, Kind: clientListKind(fr.Method), Cursor: cursor})
	case "tools/call", "prompts/get", "resources/read", "resources/subscribe", "resources/unsubscribe", "completion/complete":
		ctx.Send(f.router, &messages.Route{Session: ctx.Self(), ClientID: fr.ID, Method: fr.Method, Params: fr.Params, Batch: f.batch})
	case "logging/setLevel":
		var v [1]json.RawMessage
		if rpcErr := decidedMembers(fr.Method, "params", fr.Params, levelParams, v[:]); rpcErr != nil {
			f.answer(&messages.Reply{ClientID: fr.ID, Error: rpcErr})
			return
		}
		level, _ := stringMember(fr.Method, "params.level", v[0])
		if logSeverity(level) < 0 {
			f.answer(messages.ErrorReply(fr.ID, messages.CodeInvalidParams, "logging/setLevel: params.level must be one of debug, info, notice, warning, error, critical, alert, emergency"))
			return
		}
		f.logLevel = logSeverity(level)
		ctx.Send(f.router, &messages.ToServers{Method: fr.Method, Params: fr.Params, Request: true, Session: ctx.Self()})
		f.answer(&messages.Reply{ClientID: fr.ID, Result: json.RawMessage(`{}`)})
	default:
		f.answer(messages.ErrorReply(fr.ID, messages.CodeMethodNotFound, "method not found: "+fr.Method))
	}
}

func clientListKind(method string) messages.Kind {
	switch method {
	case "prompts/list":
		return messages.Prompts
	case "resources/list":
		return messages.Resources
	case "resources/templates/list":
		return messages.ResourceTemplates
	default:
		return messages.Tools
	}
}

func (f *frontActor) clientNotification(ctx actor.Context, fr *transports.Frame) {
	switch fr.Method {
	case "notifications/cancelled":
		// A notification cannot be refused with an error: an ambiguous
		// one is ignored, as is one naming no request in flight.
		var v [2]json.RawMessage
		if decidedMembers(fr.Method, "params", fr.Params, cancelParams, v[:]) != nil {
			f.log.Debug("ignored an ambiguous cancellation")
			return
		}
		requestID := v[0]
		if requestID == nil {
			return
		}
		reason, _ := stringMember(fr.Method, "params.reason", v[1])
		// The answer, if one still comes, is dropped: the client expects none.
		f.cancelCall(ctx, string(requestID), reason)
	case "notifications/roots/list_changed":
		ctx.Send(f.router, &messages.ToServers{Method: fr.Method, Params: fr.Params, Session: ctx.Self()})
	}
}

// answer writes the response to one request and returns its credit; the
// answer to a request the client cancelled is dropped.
func (f *frontActor) answer(r *messages.Reply) {
	key := string(r.ClientID)
	if _, ok := f.inflight[key]; !ok {
		return
	}
	delete(f.inflight, key)
	if f.tel.spans != nil {
		f.traceAnswered(key, outcomeOf(r), r.Error) // telemetry
	}
	if r.Error != nil {
		f.write(transports.Outbound{Frame: transports.ErrorFrame(r.ClientID, r.Error), ResponseTo: r.ClientID, Batch: r.Batch})
	} else {
		// Rendered into a pooled buffer: a listing's page is hundreds of
		// KiB, and allocating one per answer made the collector run
		// several times per listing (BENCHMARKS.md, tools/list).
		buf := answerBuffers.Get().(*[]byte)
		*buf = transports.AppendResultFrame((*buf)[:0], r.ClientID, r.Result)
		f.out.pushBorrowed(transports.Outbound{Frame: *buf, ResponseTo: r.ClientID, Batch: r.Batch})
		f.tel.frames.Sent() // telemetry
		answerBuffers.Put(buf)
	}
	<-f.credits
}

// answerBuffers hold rendered answers for as long as pushBorrowed reads
// them. The collector empties the pool, so an idle plugboard keeps none
// (cmd/plugboard's manageMemory collects twice).
var answerBuffers = sync.Pool{New: func() any { return new([]byte) }}

// write hands an answer to the transport. It never blocks for long:
// answers are bounded by credits.
func (f *frontActor) write(o transports.Outbound) {
	f.out.push(o)
	f.tel.frames.Sent() // telemetry
}

// cancelCall cancels a client request in flight: the client's
// notifications/cancelled, a request whose connection closed, a session
// that ended. Its answer, if one still comes, is dropped: the client
// expects none; its credit returns, and its server is told.
func (f *frontActor) cancelCall(ctx actor.Context, id, reason string) {
	call, ok := f.inflight[id]
	if !ok || call.method == "initialize" {
		return // answered already, or not cancellable
	}
	delete(f.inflight, id)
	if f.tel.spans != nil {
		f.traceAnswered(id, "cancelled", nil) // telemetry
	}
	<-f.credits
	ctx.Send(f.router, &messages.CancelRequest{Session: ctx.Self(), ClientID: json.RawMessage(id), Method: call.method, Params: call.params, Reason: reason})
}

// end closes the session: what it started downstream is cancelled.
func (f *frontActor) end(ctx actor.Context) {
	for id := range f.inflight {
		f.cancelCall(ctx, id, "the client session ended")
	}
	ctx.Send(f.router, &messages.SessionClosed{Session: ctx.Self()})
	ctx.Stop(ctx.Self())
}

// send writes a frame the client did not ask for; one the client is not
// reading fast enough for is dropped rather than blocking the session.
func (f *frontActor) send(frame []byte, what string, relatedTo json.RawMessage) {
	if !f.out.offer(transports.Outbound{Frame: frame, RelatedTo: relatedTo}) {
		f.log.Warn("client is not reading; dropped a message", "method", what)
		return
	}
	f.tel.frames.Sent() // telemetry
}

func (f *frontActor) notify(msg *messages.Notify) {
	if msg.Method == "notifications/message" && f.logLevel == logNone {
		return
	}
	if msg.Method == "notifications/message" && f.logLevel > 0 {
		var p struct {
			Level string `json:"level"`
		}
		if json.Unmarshal(msg.Params, &p) == nil && logSeverity(p.Level) >= 0 && logSeverity(p.Level) < f.logLevel {
			return
		}
	}
	f.send(transports.NotificationFrame(msg.Method, msg.Params), msg.Method, msg.RelatedTo)
}

// logSeverity orders MCP's (syslog's) log levels; -1 for an unknown one.
func logSeverity(level string) int {
	for i, l := range []string{"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"} {
		if l == level {
			return i
		}
	}
	return -1
}

// listChangedMethods are the notifications for each kind; templates share
// the resources one.
var listChangedMethods = [numKinds]string{
	"notifications/tools/list_changed",
	"notifications/prompts/list_changed",
	"notifications/resources/list_changed",
	"notifications/resources/list_changed",
}

func (f *frontActor) listChanged(msg *messages.ListChanged) {
	if !f.listening {
		return
	}
	sent := map[string]bool{}
	for k, changed := range msg.Kinds {
		method := listChangedMethods[k]
		if !changed || sent[method] {
			continue
		}
		sent[method] = true
		f.send(transports.NotificationFrame(method, nil), method, nil)
	}
}

// clientCapability names the capability a server-to-client request needs.
func clientCapability(method string) string {
	switch method {
	case "sampling/createMessage":
		return "sampling"
	case "elicitation/create":
		return "elicitation"
	case "roots/list":
		return "roots"
	}
	return ""
}

// ask sends the client a server's request under an id of plugboard's.
func (f *frontActor) ask(ctx actor.Context, msg *messages.ClientRequest) {
	if capability := clientCapability(msg.Method); capability != "" && f.clientCaps[capability] == nil {
		ctx.Send(msg.ReplyTo, &messages.ClientAnswer{Token: msg.Token, Error: &messages.RPCError{
			Code: messages.CodeMethodNotFound, Message: "the client does not support " + capability}})
		return
	}
	f.nextID++
	id := quoteJSON("pb-" + strconv.FormatUint(f.nextID, 10))
	f.questions[string(id)] = questionRoute{replyTo: msg.ReplyTo, token: msg.Token}
	f.byToken[msg.Token] = string(id)
	frame := transports.RequestFrame(id, msg.Method, msg.Params)
	f.send(frame, msg.Method, msg.RelatedTo)
}

// clientAnswer passes the client's answer to a server's request back.
func (f *frontActor) clientAnswer(ctx actor.Context, fr *transports.Frame) {
	q, ok := f.questions[string(fr.ID)]
	if !ok {
		return
	}
	delete(f.questions, string(fr.ID))
	delete(f.byToken, q.token)
	answer := &messages.ClientAnswer{Token: q.token, Result: fr.Result}
	if fr.Error != nil {
		answer.Result = nil
		answer.Error = &messages.RPCError{}
		if json.Unmarshal(fr.Error, answer.Error) != nil {
			answer.Error = &messages.RPCError{Code: messages.CodeInternalError, Message: "the client answered with a malformed error"}
		}
	}
	ctx.Send(q.replyTo, answer)
}

// withdraw tells the client that a server no longer waits for an answer.
func (f *frontActor) withdraw(token string) {
	id, ok := f.byToken[token]
	if !ok {
		return
	}
	delete(f.byToken, token)
	delete(f.questions, id)
	f.send(transports.NotificationFrame("notifications/cancelled", mustJSON(map[string]json.RawMessage{"requestId": json.RawMessage(id)})), "notifications/cancelled", nil)
}

// refuseQuestions answers every server waiting on this session's client.
func (f *frontActor) refuseQuestions(ctx actor.Context) {
	for id, q := range f.questions {
		delete(f.questions, id)
		ctx.Send(q.replyTo, &messages.ClientAnswer{Token: q.token, Error: &messages.RPCError{Code: messages.CodeInternalError, Message: "the client session ended"}})
	}
}
