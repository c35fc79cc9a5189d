package transports

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plugboard/plugboard/messages"
)

// The 2026-07-28 revision on /mcp: no sessions. Every request opens a
// ClientSession of its own that lives as long as the request; a call that
// a handshake-era server answers with a request of its own (sampling,
// elicitation, roots) is parked, and the client gets an input_required
// result whose requestState names the parked call. Its retry answers the
// server's requests and takes the parked call's answer.

// parkedTTL is how long a parked call waits for the client's retry.
const parkedTTL = 10 * time.Minute

// stateVersion prefixes the requestState plugboard mints; a requestState
// without it is a downstream server's own and goes to it untouched.
const stateVersion = "pb1."

// keepAliveEvery is how often a quiet subscriptions/listen stream gets an
// SSE comment, so that idle timeouts in between do not close it.
const keepAliveEvery = 15 * time.Second

// modernCalls holds the parked calls of 2026-07-28 clients.
type modernCalls struct {
	key         []byte // signs requestState
	opener      SessionOpener
	maxSessions int
	closed      <-chan struct{} // closed when plugboard stops

	refused func(reason string) // told of a request refused past maxSessions; nil for none

	mu     sync.Mutex
	parked map[string]*parkedCall // by token
	open   int                    // sessions open for modern requests, parked ones included
}

// parkedCall is a call waiting for the client's answers to its server's
// requests.
type parkedCall struct {
	cs      ClientSession
	id      json.RawMessage // the call's id in cs: that of its first attempt
	method  string
	name    string
	pending map[string]json.RawMessage // input request by key (plugboard's id of the server's request)
	timer   *time.Timer
}

func newModernCalls(opener SessionOpener, maxSessions int, closed <-chan struct{}) *modernCalls {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // never fails on the platforms Go supports
	return &modernCalls{key: key, opener: opener, maxSessions: maxSessions, closed: closed, parked: map[string]*parkedCall{}}
}

// modernSink is where the answer to one 2026-07-28 request goes: an HTTP
// response, or the stdio stream.
type modernSink interface {
	// send writes one message of the answer; final ends it. A lone final
	// message goes with the HTTP status given.
	send(frame []byte, final bool, status int) error
	// keepAlive tells a quiet long-lived answer that it is still open.
	keepAlive() error
	// gone is closed when the client has abandoned the request.
	gone() <-chan struct{}
}

// fail answers a request with an error and nothing else.
func fail(sink modernSink, id json.RawMessage, status int, e *messages.RPCError) {
	_ = sink.send(ErrorFrame(id, e), true, status)
}

// sign mints the requestState for a parked call: the token, and a MAC over
// it and the request it belongs to.
func (m *modernCalls) sign(token, method, name string) string {
	return stateVersion + token + "." + m.mac(token, method, name)
}

func (m *modernCalls) mac(token, method, name string) string {
	h := hmac.New(sha256.New, m.key)
	h.Write([]byte(token + "\x00" + method + "\x00" + name))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// verify checks a requestState of plugboard's against the retry carrying
// it and returns its token.
func (m *modernCalls) verify(state, method, name string) (string, bool) {
	token, mac, ok := strings.Cut(strings.TrimPrefix(state, stateVersion), ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(m.mac(token, method, name))) {
		return "", false
	}
	return token, true
}

// serveModern serves one request of the 2026-07-28 revision.
func (h *HTTPFront) serveModern(w http.ResponseWriter, r *http.Request, frame Frame) {
	if !frame.IsRequest() {
		if frame.IsNotification() {
			// The revision defines no client notifications over HTTP:
			// closing a response stream is the cancellation.
			w.WriteHeader(http.StatusAccepted)
			return
		}
		httpRPCError(w, http.StatusBadRequest, frame.ID, &messages.RPCError{Code: messages.CodeInvalidRequest, Message: "a " + messages.ModernVersion + " client sends no responses: answers to input requests go in the retry's inputResponses"})
		return
	}
	req, rpcErr, status := parseModern(r.Header, &frame)
	if rpcErr == nil {
		if rpcErr = checkParamHeaders(r.Header, h.opener, req); rpcErr != nil {
			status = http.StatusBadRequest
		}
	}
	if rpcErr != nil {
		httpRPCError(w, status, frame.ID, rpcErr)
		return
	}
	h.modernFor(r).dispatch(&httpSink{w: w, r: r}, req)
}

// dispatch serves a validated 2026-07-28 request.
func (m *modernCalls) dispatch(sink modernSink, req *modernRequest) {
	frame := req.frame
	switch {
	case removedMethods[frame.Method]:
		fail(sink, frame.ID, http.StatusNotFound, &messages.RPCError{Code: messages.CodeMethodNotFound, Message: "method not found: " + frame.Method + " is not part of protocol version " + messages.ModernVersion})
	case frame.Method == "server/discover":
		m.discover(sink, req)
	case frame.Method == "subscriptions/listen":
		m.listen(sink, req)
	case strings.HasPrefix(req.requestState, stateVersion):
		m.resume(sink, req)
	default:
		cs, ok := m.openModern()
		if !ok {
			fail(sink, frame.ID, http.StatusServiceUnavailable, tooMany)
			return
		}
		cs.Deliver(frame)
		m.relay(sink, cs, req, frame.ID)
	}
}

// shuttingDown is the error for requests plugboard can no longer serve.
var shuttingDown = &messages.RPCError{Code: messages.CodeServerUnavailable, Message: "plugboard is shutting down"}

// tooMany is the error past the session cap.
var tooMany = &messages.RPCError{Code: messages.CodeServerUnavailable, Message: "too many sessions; retry later"}

// openModern opens a session for one modern request, within the cap.
func (m *modernCalls) openModern() (ClientSession, bool) {
	m.mu.Lock()
	if m.open >= m.maxSessions {
		m.mu.Unlock()
		if m.refused != nil {
			m.refused(RefusedOverloaded) // telemetry
		}
		return nil, false
	}
	m.open++
	m.mu.Unlock()
	cs := m.opener.OpenSession()
	if d, ok := cs.(TransportDescriber); ok {
		d.DescribeTransport("2026-07-28 request")
	}
	return cs, true
}

// closeModern ends a modern request's session.
func (m *modernCalls) closeModern(cs ClientSession) {
	cs.Close()
	go func() {
		for range cs.Out() { // drain, so that the front can finish
		}
	}()
	m.mu.Lock()
	m.open--
	m.mu.Unlock()
}

// httpSink answers a 2026-07-28 request over HTTP: a lone final message
// as the JSON body, else everything as SSE events.
type httpSink struct {
	w   http.ResponseWriter
	r   *http.Request
	sse bool
}

func (hs *httpSink) send(frame []byte, final bool, status int) error {
	if !hs.sse && final {
		hs.w.Header().Set("Content-Type", "application/json")
		hs.w.WriteHeader(status)
		_, err := hs.w.Write(frame)
		return err
	}
	if !hs.sse {
		startSSE(hs.w)
		hs.sse = true
	}
	return writeSSE(hs.w, "message", frame)
}

func (hs *httpSink) keepAlive() error {
	if _, err := hs.w.Write([]byte(":\n\n")); err != nil {
		return err
	}
	if f, ok := hs.w.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

func (hs *httpSink) gone() <-chan struct{} { return hs.r.Context().Done() }

// relay streams a session's frames to the client until the request's
// answer: request-scoped notifications as SSE events, the answer last.
// Requests the server sends the client park the call instead. callID is
// the call's id in cs.
func (m *modernCalls) relay(sink modernSink, cs ClientSession, req *modernRequest, callID json.RawMessage) {
	for {
		var o Outbound
		var open bool
		select {
		case o, open = <-cs.Out():
		case <-sink.gone():
			// A closed stream cancels the request.
			cs.Abandon(callID, connectionClosed)
			m.closeModern(cs)
			return
		}
		if !open {
			fail(sink, req.frame.ID, http.StatusServiceUnavailable, &messages.RPCError{Code: messages.CodeInternalError, Message: "plugboard is shutting down"})
			m.closeModern(cs)
			return
		}
		f, err := ParseFrame(o.Frame)
		if err != nil {
			continue
		}
		switch {
		case f.IsRequest():
			if m.park(sink, cs, req, callID, &f) {
				return
			}
		case f.IsNotification():
			if f.Method == "notifications/progress" || f.Method == "notifications/message" {
				_ = sink.send(o.Frame, false, 0)
			}
		default:
			frame, status := finalAnswer(req, &f)
			_ = sink.send(frame, true, status)
			m.closeModern(cs)
			return
		}
	}
}

// finalAnswer is a request's answer as a 2026-07-28 client gets it: under
// the id of its latest attempt, with the members the revision requires.
func finalAnswer(req *modernRequest, f *Frame) ([]byte, int) {
	if f.Error != nil {
		var e messages.RPCError
		if json.Unmarshal(f.Error, &e) != nil {
			e = messages.RPCError{Code: messages.CodeInternalError, Message: "the server answered with a malformed error"}
		}
		if e.Code == messages.CodeResourceNotFound {
			e.Code = messages.CodeInvalidParams // the revision's code for an unknown resource
		}
		return ErrorFrame(req.frame.ID, &e), modernStatus(&e)
	}
	return ResultFrame(req.frame.ID, completeResult(req.frame.Method, f.Result)), http.StatusOK
}

// inputRequestMethods are the methods the revision allows to answer with
// input_required.
var inputRequestMethods = map[string]bool{"tools/call": true, "prompts/get": true, "resources/read": true}

// park answers the client with input_required for a server's request
// (and any others already waiting) and keeps the call for the retry. It
// reports whether it answered.
func (m *modernCalls) park(sink modernSink, cs ClientSession, req *modernRequest, callID json.RawMessage, first *Frame) bool {
	if !inputRequestMethods[req.frame.Method] {
		cs.Deliver(Frame{ID: first.ID, Error: mustMarshal(&messages.RPCError{Code: messages.CodeMethodNotFound,
			Message: "the client cannot be asked during " + req.frame.Method}), Result: nil})
		return false
	}
	pending := map[string]json.RawMessage{}
	addInput(pending, first)
	for more := true; more; { // take the requests already waiting too
		select {
		case o, ok := <-cs.Out():
			if !ok {
				more = false
				break
			}
			f, err := ParseFrame(o.Frame)
			switch {
			case err != nil:
			case f.IsRequest():
				addInput(pending, &f)
			case f.IsNotification():
				if f.Method == "notifications/progress" || f.Method == "notifications/message" {
					_ = sink.send(o.Frame, false, 0)
				}
			default:
				// The call was answered after all (the server gave up
				// waiting): that answer is final.
				frame, status := finalAnswer(req, &f)
				_ = sink.send(frame, true, status)
				m.closeModern(cs)
				return true
			}
		default:
			more = false
		}
	}
	token := newSessionID()
	call := &parkedCall{cs: cs, id: callID, method: req.frame.Method, name: req.name, pending: pending}
	m.mu.Lock()
	m.parked[token] = call
	call.timer = time.AfterFunc(parkedTTL, func() { m.expireParked(token) })
	m.mu.Unlock()
	_ = sink.send(ResultFrame(req.frame.ID, inputRequired(pending, m.sign(token, req.frame.Method, req.name))), true, http.StatusOK)
	return true
}

// addInput records a server's request as an input request keyed by
// plugboard's id for it.
func addInput(pending map[string]json.RawMessage, f *Frame) {
	var key string
	if json.Unmarshal(f.ID, &key) != nil {
		key = string(f.ID)
	}
	params := f.Params
	if params == nil {
		params = json.RawMessage(`{}`)
	}
	pending[key] = mustMarshal(map[string]any{"method": f.Method, "params": params})
}

// inputRequired is the interim result asking the client for input.
func inputRequired(pending map[string]json.RawMessage, state string) json.RawMessage {
	return mustMarshal(map[string]any{"resultType": "input_required", "inputRequests": pending, "requestState": state})
}

func (m *modernCalls) expireParked(token string) {
	m.mu.Lock()
	call := m.parked[token]
	delete(m.parked, token)
	m.mu.Unlock()
	if call != nil {
		m.closeModern(call.cs)
	}
}

// claim takes a parked call for a retry; nil if none is parked under the
// token (expired, or taken by another retry).
func (m *modernCalls) claim(token string) *parkedCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	call := m.parked[token]
	if call != nil {
		delete(m.parked, token)
		call.timer.Stop()
	}
	return call
}

// resume serves the retry of a parked call: the client's input responses
// answer the server's requests, and the call goes on.
func (m *modernCalls) resume(sink modernSink, req *modernRequest) {
	id := req.frame.ID
	var responses map[string]json.RawMessage
	if len(req.inputResponses) > 0 && string(req.inputResponses) != "null" && json.Unmarshal(req.inputResponses, &responses) != nil {
		fail(sink, id, http.StatusBadRequest, &messages.RPCError{Code: messages.CodeInvalidParams, Message: "invalid params: inputResponses must be an object of results by input request key"})
		return
	}
	token, ok := m.verify(req.requestState, req.frame.Method, req.name)
	if !ok {
		fail(sink, id, http.StatusBadRequest, &messages.RPCError{Code: messages.CodeInvalidParams, Message: "invalid params: requestState failed its integrity check or belongs to another request"})
		return
	}
	call := m.claim(token)
	if call == nil {
		fail(sink, id, http.StatusBadRequest, &messages.RPCError{Code: messages.CodeInvalidParams, Message: "invalid params: requestState has expired or was already used; send the request again without it"})
		return
	}
	for key := range call.pending {
		answer, ok := responses[key]
		if !ok || !isJSONObject(answer) {
			continue // asked again below
		}
		delete(call.pending, key)
		call.cs.Deliver(Frame{ID: mustMarshal(key), Result: answer})
	}
	if len(call.pending) > 0 {
		m.mu.Lock()
		m.parked[token] = call
		call.timer = time.AfterFunc(parkedTTL, func() { m.expireParked(token) })
		m.mu.Unlock()
		_ = sink.send(ResultFrame(id, inputRequired(call.pending, req.requestState)), true, http.StatusOK)
		return
	}
	m.relay(sink, call.cs, req, call.id)
}

// discover answers server/discover from plugboard's own initialize
// answer, which the router gives any session.
func (m *modernCalls) discover(sink modernSink, req *modernRequest) {
	cs, ok := m.openModern()
	if !ok {
		fail(sink, req.frame.ID, http.StatusServiceUnavailable, tooMany)
		return
	}
	defer m.closeModern(cs)
	clientInfo := req.clientInfo
	if clientInfo == nil {
		clientInfo = json.RawMessage(`{"name":"unknown","version":"0"}`)
	}
	cs.Deliver(Frame{ID: json.RawMessage(`"discover"`), Method: "initialize",
		Params: mustMarshal(map[string]json.RawMessage{"protocolVersion": mustMarshal(messages.ProtocolVersions()[0]), "capabilities": req.caps, "clientInfo": clientInfo})})
	for {
		select {
		case o, open := <-cs.Out():
			if !open {
				fail(sink, req.frame.ID, http.StatusServiceUnavailable, shuttingDown)
				return
			}
			f, err := ParseFrame(o.Frame)
			if err != nil || f.Method != "" {
				continue
			}
			var init struct {
				Capabilities json.RawMessage `json:"capabilities"`
				ServerInfo   json.RawMessage `json:"serverInfo"`
				Instructions string          `json:"instructions,omitempty"`
			}
			if f.Error != nil || json.Unmarshal(f.Result, &init) != nil {
				fail(sink, req.frame.ID, http.StatusInternalServerError, &messages.RPCError{Code: messages.CodeInternalError, Message: "plugboard could not describe itself"})
				return
			}
			result := map[string]any{
				"resultType":        "complete",
				"supportedVersions": supportedVersions(),
				"capabilities":      init.Capabilities,
				"_meta":             map[string]json.RawMessage{MetaServerInfo: init.ServerInfo},
				"ttlMs":             0,
				"cacheScope":        "public",
			}
			if init.Instructions != "" {
				result["instructions"] = init.Instructions
			}
			_ = sink.send(ResultFrame(req.frame.ID, mustMarshal(result)), true, http.StatusOK)
			return
		case <-sink.gone():
			return
		}
	}
}

// subscriptionFilter is what a subscriptions/listen request opts in to.
type subscriptionFilter struct {
	ToolsListChanged      bool     `json:"toolsListChanged,omitempty"`
	PromptsListChanged    bool     `json:"promptsListChanged,omitempty"`
	ResourcesListChanged  bool     `json:"resourcesListChanged,omitempty"`
	ResourceSubscriptions []string `json:"resourceSubscriptions,omitempty"`
}

// listen serves subscriptions/listen: an SSE stream that stays open and
// carries the change notifications the client opted in to, each tagged
// with the subscription's id.
func (m *modernCalls) listen(sink modernSink, req *modernRequest) {
	var p struct {
		Notifications *subscriptionFilter `json:"notifications"`
	}
	if json.Unmarshal(req.frame.Params, &p) != nil || p.Notifications == nil {
		fail(sink, req.frame.ID, http.StatusBadRequest, &messages.RPCError{Code: messages.CodeInvalidParams, Message: "invalid params: subscriptions/listen needs params.notifications, the notifications to listen for"})
		return
	}
	cs, ok := m.openModern()
	if !ok {
		fail(sink, req.frame.ID, http.StatusServiceUnavailable, tooMany)
		return
	}
	defer m.closeModern(cs)
	if l, ok := cs.(Listener); ok {
		l.Listen()
	}
	filter := *p.Notifications
	// Resource subscriptions ride on the session's own subscribe requests:
	// the router counts them across sessions and ends them when it closes.
	subscribed := map[string]bool{}
	waiting := map[string]string{} // id of a subscribe request -> its URI
	for i, uri := range filter.ResourceSubscriptions {
		id := strconv.Quote("listen-" + strconv.Itoa(i))
		waiting[id] = uri
		cs.Deliver(Frame{ID: json.RawMessage(id), Method: "resources/subscribe", Params: mustMarshal(map[string]string{"uri": uri})})
	}
	subID := req.frame.ID
	var early [][]byte
	for len(waiting) > 0 {
		select {
		case o, open := <-cs.Out():
			if !open {
				fail(sink, req.frame.ID, http.StatusServiceUnavailable, shuttingDown)
				return
			}
			f, err := ParseFrame(o.Frame)
			if err != nil {
				continue
			}
			if uri, ok := waiting[string(f.ID)]; ok && f.Method == "" {
				delete(waiting, string(f.ID))
				subscribed[uri] = f.Error == nil
				continue
			}
			if f.IsNotification() {
				early = append(early, o.Frame)
			}
		case <-sink.gone():
			return
		}
	}
	honored := filter
	honored.ResourceSubscriptions = nil
	for _, uri := range filter.ResourceSubscriptions {
		if subscribed[uri] {
			honored.ResourceSubscriptions = append(honored.ResourceSubscriptions, uri)
		}
	}
	ack := withMeta(mustMarshal(map[string]any{"notifications": honored}), MetaSubscriptionID, subID)
	if sink.send(NotificationFrame("notifications/subscriptions/acknowledged", ack), false, 0) != nil {
		return
	}
	forward := func(frame []byte) error {
		f, err := ParseFrame(frame)
		if err != nil || !f.IsNotification() || !honored.wants(&f) {
			return nil
		}
		return sink.send(NotificationFrame(f.Method, withMeta(f.Params, MetaSubscriptionID, subID)), false, 0)
	}
	for _, frame := range early {
		if forward(frame) != nil {
			return
		}
	}
	keepAlive := time.NewTicker(keepAliveEvery)
	defer keepAlive.Stop()
	for {
		select {
		case o, open := <-cs.Out():
			if !open {
				return
			}
			if forward(o.Frame) != nil {
				return
			}
		case <-keepAlive.C:
			if sink.keepAlive() != nil {
				return
			}
		case <-m.closed:
			// A graceful end: the listen request gets its result.
			_ = sink.send(ResultFrame(subID, withMeta(json.RawMessage(`{"resultType":"complete"}`), MetaSubscriptionID, subID)), true, http.StatusOK)
			return
		case <-sink.gone():
			return
		}
	}
}

// wants reports whether a notification is one the filter opted in to.
func (sf *subscriptionFilter) wants(f *Frame) bool {
	switch f.Method {
	case "notifications/tools/list_changed":
		return sf.ToolsListChanged
	case "notifications/prompts/list_changed":
		return sf.PromptsListChanged
	case "notifications/resources/list_changed":
		return sf.ResourcesListChanged
	case "notifications/resources/updated":
		var uri [1]json.RawMessage
		var updated string
		if ReadMembers(f.Params, uriMember, uri[:]) != nil || json.Unmarshal(uri[0], &updated) != nil {
			return false
		}
		for _, u := range sf.ResourceSubscriptions {
			if u == updated {
				return true
			}
		}
	}
	return false
}

// closeParked ends every parked call; plugboard is stopping.
func (m *modernCalls) closeParked() {
	m.mu.Lock()
	calls := make([]*parkedCall, 0, len(m.parked))
	for token, call := range m.parked {
		call.timer.Stop()
		calls = append(calls, call)
		delete(m.parked, token)
	}
	m.mu.Unlock()
	for _, call := range calls {
		m.closeModern(call.cs)
	}
}

func mustMarshal(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plugboard's own values are marshalled here
	}
	return b
}

// uriMember is the member of a resource update that names the resource.
var uriMember = []string{"uri"}
