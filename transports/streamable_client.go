package transports

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/plugboard/plugboard/messages"
)

// Streamable HTTP client timing defaults. A notification or an answer to
// the server unaccepted for streamableSendTimeout fails; DELETE on close
// waits streamableDeleteTimeout at most; the GET stream is re-opened after
// streamableRetryBase, doubling per failure up to streamableRetryCap; a
// response stream that ended or broke is resumed after
// streamableResumeDelay unless the server asked for another, giving up
// after streamableResumeTries in a row that bring nothing new. The
// handshake waits up to streamableListenWait for the server to answer the
// GET that opens the session's stream.
const (
	streamableSendTimeout   = 30 * time.Second
	streamableDeleteTimeout = 5 * time.Second
	streamableRetryBase     = time.Second
	streamableRetryCap      = 30 * time.Second
	streamableResumeDelay   = time.Second
	streamableMinResume     = 10 * time.Millisecond
	streamableResumeTries   = 5
	streamableListenWait    = 2 * time.Second
)

// headerLastEventID resumes an event stream (the others of the transport
// are in http_streamable.go).
const headerLastEventID = "Last-Event-ID"

// streamableErrorBodyLimit bounds how much of a refused POST's body is read
// for the JSON-RPC error it may hold.
const streamableErrorBodyLimit = 64 << 10

// StreamableOptions configure a Streamable HTTP client connection.
type StreamableOptions struct {
	Headers  map[string]string // sent with every request (e.g. Authorization)
	MaxFrame int               // largest message accepted; 0 means DefaultMaxFrame
	Quirks   *Quirks           // where broken transport rules are noted; nil notes nothing
	OAuth    *OAuth            // the server's login, added to every request; nil for none
}

// streamableClient is plugboard's client for the Streamable HTTP transport
// (MCP 2025-03-26 onwards, and the 2026-07-28 revision's stateless use of
// it). Each message goes up in a POST; a request's answer comes in the
// POST's response body, JSON or an event stream, carrying whatever the
// server sends about the request (notifications, requests of its own) and
// the response. It reads what real servers send, not only the happy path:
// several newline-delimited messages in a JSON body, an event stream
// labelled as JSON and the reverse; each such breach is noted once per
// server through Quirks.
//
// Like lineConn it carries params, results, notifications and the
// server's requests as raw JSON. The handshake era's session (the
// Mcp-Session-Id header, the GET stream, DELETE on close) is kept; on
// 2026-07-28 there is none.
type streamableClient struct {
	url      string // the target, with its query
	shown    string // fit for messages: without userinfo password or query
	header   http.Header
	maxFrame int
	quirks   *Quirks
	h        Handlers
	client   *http.Client
	httpTr   *http.Transport

	// Timing; fields so that tests can shorten them.
	retryBase, retryCap time.Duration
	resumeDelay         time.Duration
	resumeTries         int

	ctx    context.Context // the connection's; ends on close
	cancel context.CancelFunc

	mu        sync.Mutex
	session   string // Mcp-Session-Id, once initialize gave one
	version   string // sent as Mcp-Protocol-Version once known
	listening bool   // the GET stream is started
	pending   map[int64]chan lineAnswer

	closeOnce   sync.Once
	listenDone  chan struct{} // closed when the GET stream's loop returns, if it started
	listenReady chan struct{} // closed when the first GET has its answer, or failed
	readyOnce   sync.Once
}

// newStreamableClient returns a connection to the Streamable HTTP endpoint
// at rawURL (http:// or https://). Nothing is sent before the first call.
func newStreamableClient(rawURL string, opts StreamableOptions, h Handlers) (*streamableClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("streamable-http url is not valid: %w", errors.Unwrap(err))
	}
	shown := sseShownURL(u)
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("streamable-http url %s: scheme %q is not http or https", shown, u.Scheme)
	}
	header, httpTr := configuredHeader(opts.Headers), postingTransport()
	c := &streamableClient{
		url: u.String(), shown: shown, header: header, maxFrame: opts.MaxFrame, quirks: opts.Quirks, h: h,
		client: &http.Client{Transport: opts.OAuth.wrap(httpTr)}, httpTr: httpTr,
		retryBase: streamableRetryBase, retryCap: streamableRetryCap, resumeDelay: streamableResumeDelay, resumeTries: streamableResumeTries,
		pending: map[int64]chan lineAnswer{}, listenDone: make(chan struct{}), listenReady: make(chan struct{}),
	}
	if c.maxFrame <= 0 {
		c.maxFrame = DefaultMaxFrame
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// setProtocolVersion sets the version sent in Mcp-Protocol-Version; ""
// sends none.
func (c *streamableClient) setProtocolVersion(version string) {
	c.mu.Lock()
	c.version = version
	c.mu.Unlock()
}

// stateless reports whether the connection speaks the 2026-07-28
// revision, which has no session, no GET stream and no DELETE.
func (c *streamableClient) stateless() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version == messages.ModernVersion
}

// call POSTs a request and reads the answer: the messages the server sends
// before the response are delivered in order, then the response is
// returned. An answer that ends without the response fails the call.
func (c *streamableClient) call(ctx context.Context, id int64, method string, params json.RawMessage, header http.Header) (json.RawMessage, *messages.RPCError, error) {
	if c.ctx.Err() != nil {
		return nil, nil, transport.ErrTransportClosed
	}
	ch := make(chan lineAnswer, 1)
	c.mu.Lock()
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()

	reqCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(c.ctx, cancel)()
	what := "request " + method
	idBytes := strconv.AppendInt(nil, id, 10)
	resp, sentSession, err := c.post(reqCtx, RequestFrame(idBytes, method, params), header)
	if err != nil {
		return nil, nil, c.requestError(ctx, what, err)
	}
	defer resp.Body.Close()
	if err := c.checkStatus(resp, what, sentSession, method == "initialize"); err != nil {
		var rpcErr *refusedWithError
		if errors.As(err, &rpcErr) {
			return nil, rpcErr.err, nil
		}
		return nil, nil, err
	}
	if method == "initialize" {
		if s := resp.Header.Get(headerSessionID); s != "" {
			c.mu.Lock()
			c.session = s
			c.mu.Unlock()
		}
	}

	answered := func() bool { return len(ch) > 0 }
	var cursor sseCursor
	ended, err := c.readBody(reqCtx, resp, what, false, &cursor, answered)
	// Before 2026-07-28 a server may end a response stream before the
	// response once it has given an event id, for the client to resume
	// it with a GET carrying Last-Event-ID (SEP-1699); a proxy or load
	// balancer may cut it, and it is resumed the same way.
	if (ended || resumable(reqCtx, err)) && !answered() && cursor.lastID != "" && !c.stateless() {
		err = c.resumeAnswer(reqCtx, what, &cursor, answered, err)
	}
	select {
	case a := <-ch:
		if method == "initialize" && a.result != nil {
			c.takeVersion(a.result)
		}
		return a.result, a.rpcErr, nil
	default:
	}
	switch {
	case c.ctx.Err() != nil:
		return nil, nil, transport.ErrTransportClosed
	case ctx.Err() != nil:
		return nil, nil, ctx.Err()
	case err != nil:
		return nil, nil, err
	}
	return nil, nil, fmt.Errorf("the server at %s ended its answer to %s without a response", c.shown, what)
}

// takeVersion sends the protocol version initialize settled on from then
// on, as the transport requires, unless one was set already.
func (c *streamableClient) takeVersion(result json.RawMessage) {
	var r struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	if json.Unmarshal(result, &r) != nil || r.ProtocolVersion == "" {
		return
	}
	c.mu.Lock()
	if c.version == "" {
		c.version = r.ProtocolVersion
	}
	c.mu.Unlock()
}

// notify POSTs a notification. Once the handshake's
// notifications/initialized is accepted, the session's GET stream opens,
// and the handshake waits (up to streamableListenWait) for the server to
// answer it: a server may send a request outside any call as soon as a
// call arrives, on the GET stream alone, and drop it if none is open.
func (c *streamableClient) notify(ctx context.Context, method string, params json.RawMessage) error {
	if err := c.send(ctx, "notification "+method, NotificationFrame(method, params)); err != nil {
		return err
	}
	if method == "notifications/initialized" && c.startListening() {
		t := time.NewTimer(streamableListenWait)
		defer t.Stop()
		select {
		case <-c.listenReady:
		case <-t.C:
			slog.Default().Debug("streamable-http: the GET stream is not answered yet; going on", "url", c.shown)
		case <-ctx.Done():
		}
	}
	return nil
}

// send POSTs a message that expects no response (a notification, or the
// answer to a server's request). Messages the server sends back in the
// body anyway are delivered, read in the background.
func (c *streamableClient) send(ctx context.Context, what string, frame []byte) error {
	if c.ctx.Err() != nil {
		return transport.ErrTransportClosed
	}
	postCtx, cancel := context.WithTimeout(ctx, streamableSendTimeout)
	stop := context.AfterFunc(c.ctx, cancel)
	release := func() { stop(); cancel() }
	resp, sentSession, err := c.post(postCtx, frame, nil)
	if err != nil {
		release()
		return c.requestError(ctx, what, err)
	}
	if err := c.checkStatus(resp, what, sentSession, false); err != nil {
		resp.Body.Close()
		release()
		var rpcErr *refusedWithError
		if errors.As(err, &rpcErr) {
			return fmt.Errorf("the server at %s refused %s: %s (%d)", c.shown, what, rpcErr.err.Message, rpcErr.err.Code)
		}
		return err
	}
	if resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusNoContent || resp.ContentLength == 0 {
		sseDiscard(resp)
		release()
		return nil
	}
	go func() {
		defer release()
		defer resp.Body.Close()
		if _, err := c.readBody(postCtx, resp, what, false, nil, nil); err != nil && c.ctx.Err() == nil {
			slog.Default().Debug("streamable-http: reading the answer to a message", "what", what, "err", err)
		}
	}()
	return nil
}

// post sends one message, with the request's own headers, the transport's
// and the configured ones, in that order of precedence (last wins). It
// returns the session id it sent, if any.
func (c *streamableClient) post(ctx context.Context, body []byte, extra http.Header) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	for k, v := range extra {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	session := ""
	if extra.Get(headerProtocolVersion) != messages.ModernVersion {
		// A 2026-07-28 request has no session, whatever the connection's.
		session = c.protocolHeaders(req.Header)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	resp, err := c.client.Do(req)
	return resp, session, err
}

// protocolHeaders adds the session id and protocol version to h, and
// returns the session id it added.
func (c *streamableClient) protocolHeaders(h http.Header) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	session := ""
	if c.session != "" && c.version != messages.ModernVersion {
		session = c.session
		h.Set(headerSessionID, session)
	}
	if c.version != "" {
		h.Set(headerProtocolVersion, c.version)
	}
	return session
}

// refusedWithError is a POST refused with an HTTP error status whose body
// is a JSON-RPC error response: the error is the call's answer.
type refusedWithError struct{ err *messages.RPCError }

func (e *refusedWithError) Error() string { return e.err.Message }

// checkStatus accepts a 2xx answer. A 404 means the server no longer
// knows the session (transport.ErrSessionTerminated: the connection is
// set up anew), except for initialize; another status fails this message,
// with the JSON-RPC error the body holds if it holds one.
func (c *streamableClient) checkStatus(resp *http.Response, what, sentSession string, initialize bool) error {
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	if resp.StatusCode == http.StatusNotFound && !initialize {
		sseDiscard(resp)
		if sentSession != "" {
			return fmt.Errorf("posting %s to %s: %w: the server no longer knows the session", what, c.shown, transport.ErrSessionTerminated)
		}
		return fmt.Errorf("posting %s to %s: %w", what, c.shown, transport.ErrSessionTerminated)
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, streamableErrorBodyLimit))
	if t := bytes.TrimSpace(b); ValidJSON(t) && len(t) > 0 && t[0] == '{' {
		if e := scanEnvelope(t); e.error != nil && e.method == nil {
			rpcErr := &messages.RPCError{}
			if json.Unmarshal(e.error, rpcErr) == nil && rpcErr.Message != "" {
				return &refusedWithError{err: rpcErr}
			}
		}
	}
	body := strings.Join(strings.Fields(string(bytes.ToValidUTF8(b[:min(len(b), sseErrorBodyLimit)], nil))), " ")
	if body == "" {
		return fmt.Errorf("posting %s to %s: HTTP %s", what, c.shown, resp.Status)
	}
	return fmt.Errorf("posting %s to %s: HTTP %s: %s", what, c.shown, resp.Status, body)
}

// requestError says why a request could not be sent or read, without the
// URL's secrets: transport.ErrTransportClosed after close, ctx's error if
// it ended, else the network's (a net.Error, which ends the connection).
func (c *streamableClient) requestError(ctx context.Context, what string, err error) error {
	switch {
	case c.ctx.Err() != nil:
		return transport.ErrTransportClosed
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return fmt.Errorf("posting %s to %s: %w", what, c.shown, sseUnwrapURLError(err))
}

// get opens the session's event stream, or resumes one with the
// Last-Event-ID in extra.
func (c *streamableClient) get(ctx context.Context, extra http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range extra {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "text/event-stream")
	c.protocolHeaders(req.Header)
	for k, v := range c.header {
		req.Header[k] = v
	}
	return c.client.Do(req)
}

// startListening opens the session's GET stream, once, in the handshake
// era only, and reports whether the stream was started (now or before).
func (c *streamableClient) startListening() bool {
	c.mu.Lock()
	start := !c.listening && c.version != messages.ModernVersion
	c.listening = c.listening || start
	listening := c.listening
	c.mu.Unlock()
	if start {
		go c.listen()
	}
	return listening
}

// listenAnswered notes that the first GET has its answer, or failed.
func (c *streamableClient) listenAnswered() {
	c.readyOnce.Do(func() { close(c.listenReady) })
}

// listen keeps the session's GET stream open while the connection lives,
// for what the server sends outside any request: re-opened when it ends,
// with Last-Event-ID once the stream gave event ids, after the delay the
// stream asked for (retryBase if none), doubling with each failure up to
// retryCap. A server that offers no stream (405) or no longer knows the
// session (404) is left alone: the next POST finds out about the session.
func (c *streamableClient) listen() {
	defer close(c.listenDone)
	defer c.listenAnswered()
	var cursor sseCursor
	failures := 0
	for c.ctx.Err() == nil {
		resuming := cursor.lastID != ""
		opened, err := c.listenOnce(&cursor)
		if c.ctx.Err() != nil {
			return
		}
		var stop *noStream
		switch {
		case errors.As(err, &stop) && resuming:
			// The server may not keep the stream's events: open a new one.
			slog.Default().Debug("streamable-http: the GET stream could not be resumed; opening a new one", "url", c.shown, "why", stop.status)
			cursor = sseCursor{}
		case errors.As(err, &stop):
			slog.Default().Debug("streamable-http: no GET stream", "url", c.shown, "why", stop.status)
			return
		case !opened && resuming:
			cursor = sseCursor{}
		}
		if opened {
			failures = 0
		} else {
			failures++
		}
		if err != nil {
			slog.Default().Debug("streamable-http: the GET stream broke; re-opening", "url", c.shown, "err", err)
		}
		base := c.retryBase
		if cursor.retry > 0 {
			base = max(cursor.retry, streamableMinResume)
		}
		if !sleepCtx(c.ctx, retryDelay(base, max(base, c.retryCap), failures)) {
			return
		}
	}
}

// noStream is a GET stream the server will not give.
type noStream struct{ status string }

func (e *noStream) Error() string { return "no GET stream: HTTP " + e.status }

// listenOnce opens the GET stream, or resumes it from cursor, and reads it
// until it ends, keeping cursor up to date.
func (c *streamableClient) listenOnce(cursor *sseCursor) (opened bool, err error) {
	var h http.Header
	if cursor.lastID != "" {
		h = http.Header{}
		h.Set(headerLastEventID, cursor.lastID)
	}
	resp, err := c.get(c.ctx, h)
	c.listenAnswered()
	if err != nil {
		return false, sseUnwrapURLError(err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusMethodNotAllowed, resp.StatusCode == http.StatusNotFound:
		return false, &noStream{status: resp.Status}
	case resp.StatusCode != http.StatusOK:
		return false, sseStatusError(resp)
	}
	_, err = c.readBody(c.ctx, resp, "the GET stream", true, cursor, nil)
	return true, err
}

// retryDelay is base doubled per failure beyond the first, up to limit.
func retryDelay(base, limit time.Duration, failures int) time.Duration {
	d := base
	for i := 1; i < failures && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// sleepCtx waits d, or less if ctx ends first (then it reports false).
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// dispatch routes one message from the server: a response to the call
// waiting for it, a notification to its handler, a request to be answered
// by POST on a goroutine of its own. What is not JSON-RPC is dropped.
func (c *streamableClient) dispatch(msg []byte) {
	msg = bytes.TrimSpace(msg)
	if !ValidJSON(msg) || len(msg) == 0 || msg[0] != '{' {
		slog.Default().Debug("streamable-http: dropping a message that is not JSON-RPC", "url", c.shown)
		return
	}
	e := scanEnvelope(msg)
	hasID := e.id != nil && string(e.id) != "null"
	switch {
	case e.method != nil && !hasID:
		method, ok := jsonString(e.method)
		if !ok || c.h.Notification == nil {
			return
		}
		params := e.params
		if params == nil || string(params) == "null" {
			params = emptyParams
		}
		c.h.Notification(method, params)
	case e.method != nil:
		if method, ok := jsonString(e.method); ok {
			go c.answer(e.id, method, e.params)
		}
	default:
		c.respond(e)
	}
}

// respond hands a response to the call waiting for it.
func (c *streamableClient) respond(e envelope) {
	id, a, ok := answerOf(e)
	if !ok {
		return
	}
	c.mu.Lock()
	ch, ok := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if ok {
		ch <- a // buffered, and the only send: the entry is gone
	}
}

// answer runs the request handler on a request from the server and POSTs
// its answer.
func (c *streamableClient) answer(id json.RawMessage, method string, params json.RawMessage) {
	var frame []byte
	if c.h.Request == nil {
		frame = ErrorFrame(id, &messages.RPCError{Code: messages.CodeMethodNotFound, Message: "no request handler configured for " + method})
	} else {
		switch result, rpcErr := c.h.Request(c.ctx, id, method, params); {
		case rpcErr != nil:
			frame = ErrorFrame(id, rpcErr)
		case result == nil:
			frame = ResultFrame(id, json.RawMessage("null"))
		default:
			frame = ResultFrame(id, result)
		}
	}
	if err := c.send(c.ctx, "the answer to "+method, frame); err != nil && c.ctx.Err() == nil {
		slog.Default().Debug("streamable-http: could not answer a server request", "method", method, "err", err)
	}
}

// close ends the connection: calls under way fail, the GET stream stops,
// and a handshake-era session is ended with DELETE.
func (c *streamableClient) close() {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		session, stateless, listening := c.session, c.version == messages.ModernVersion, c.listening
		c.mu.Unlock()
		c.cancel()
		if listening {
			<-c.listenDone
		}
		if session != "" && !stateless {
			ctx, cancel := context.WithTimeout(context.Background(), streamableDeleteTimeout)
			defer cancel()
			if req, err := http.NewRequestWithContext(ctx, http.MethodDelete, c.url, nil); err == nil {
				c.protocolHeaders(req.Header)
				for k, v := range c.header {
					req.Header[k] = v
				}
				if resp, err := c.client.Do(req); err == nil {
					sseDiscard(resp)
				}
			}
		}
		c.httpTr.CloseIdleConnections()
	})
}
