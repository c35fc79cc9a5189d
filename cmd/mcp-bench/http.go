package main

// The Streamable HTTP client (MCP 2025-11-25): every message is a POST to
// the endpoint, a request's answer comes back as a JSON body or as an SSE
// stream whose events end with the response, the session is named by the
// Mcp-Session-Id header that initialize returned, and DELETE ends it.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

const (
	sessionHeader = "Mcp-Session-Id"
	versionHeader = "Mcp-Protocol-Version"
	acceptBoth    = "application/json, text/event-stream"
)

// drainGrace bounds how long a caller reads the rest of an event stream
// after its response, so that the connection can be reused: servers
// should end the stream there.
const drainGrace = time.Second

// httpTarget is a Streamable HTTP endpoint. Its sessions share one
// connection pool, sized so that every concurrent call keeps its
// connection alive.
type httpTarget struct {
	url       string
	headers   http.Header // the user's own, sent with every request
	timeout   time.Duration
	transport *http.Transport
	client    *http.Client
}

func newHTTPTarget(url string, headers http.Header, timeout time.Duration, conns int) *httpTarget {
	transport := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
		// Compressing small JSON bodies costs more than it saves.
		DisableCompression: true,
	}
	return &httpTarget{
		url:       url,
		headers:   headers,
		timeout:   timeout,
		transport: transport,
		client: &http.Client{
			Transport:     transport,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// open returns a session that connects with its handshake.
func (t *httpTarget) open(context.Context, int) (session, error) {
	return &httpSession{target: t}, nil
}

func (t *httpTarget) info() targetInfo {
	return targetInfo{Transport: "streamable-http", URL: t.url}
}

func (t *httpTarget) release() {
	t.transport.CloseIdleConnections()
}

// httpSession is one MCP session on the endpoint. Its id and version are
// set by the handshake, before any caller exists.
type httpSession struct {
	target  *httpTarget
	id      string
	version string
	nextID  atomic.Uint64
}

// headers returns what every POST of the session carries.
func (s *httpSession) headers() http.Header {
	h := s.target.headers.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", "application/json")
	h.Set("Accept", acceptBoth)
	if s.id != "" {
		h.Set(sessionHeader, s.id)
	}
	if s.version != "" {
		h.Set(versionHeader, s.version)
	}
	return h
}

func (s *httpSession) caller(int) caller {
	return s.newCaller()
}

func (s *httpSession) newCaller() *httpCaller {
	return &httpCaller{s: s, header: s.headers(), lines: newLineReader(nil, 16<<10)}
}

// handshakeTimeout is the least time a session's handshake is given.
const handshakeTimeout = 30 * time.Second

func (s *httpSession) handshake(ctx context.Context) (*serverInfo, error) {
	c := s.newCaller()
	id := s.nextID.Add(1)
	// The handshake is not a measured call: --timeout, which may be a
	// few milliseconds to count timeouts, does not bound it.
	o, header := c.requestWithin(ctx, id, appendRequest(nil, id, methodInitialize, []byte(initializeParams)), max(s.target.timeout, handshakeTimeout))
	info, err := initializeOutcome(o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.target.url, err)
	}
	s.id = header.Get(sessionHeader)
	s.version = info.ProtocolVersion
	c = s.newCaller()
	if err := c.postWithin(ctx, appendNotification(nil, methodInitialized, nil), max(s.target.timeout, handshakeTimeout)); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", s.target.url, methodInitialized, err)
	}
	return info, nil
}

// close sends DELETE for the session; a server that does not let
// clients end sessions answers 405, which is fine.
func (s *httpSession) close(ctx context.Context) error {
	if s.id == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, killGrace)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, s.target.url, nil)
	if err != nil {
		return fmt.Errorf("ending session %s: %w", s.id, err)
	}
	req.Header = s.headers()
	resp, err := s.target.client.Do(req)
	if err != nil {
		return fmt.Errorf("ending session %s: %w", s.id, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusMethodNotAllowed && resp.StatusCode != http.StatusNotFound {
		return fmt.Errorf("ending session %s: DELETE answered %s", s.id, resp.Status)
	}
	return nil
}

// httpCaller makes one call at a time, with buffers it keeps.
type httpCaller struct {
	s      *httpSession
	header http.Header // never changed once made, as requests in flight share it
	lines  *lineReader // reads event streams
	data   []byte      // an event's data
	body   []byte      // a JSON response body
}

func (c *httpCaller) call(ctx context.Context, method string, params []byte) outcome {
	id := c.s.nextID.Add(1)
	// A fresh body each time: the transport may still hold the last one.
	body := appendRequest(make([]byte, 0, len(params)+64+len(method)), id, method, params)
	o, _ := c.request(ctx, id, body)
	if o.kind == outcomeTimeout {
		// The server goes on with a request whose connection dropped
		// unless told to stop.
		_ = c.post(ctx, appendNotification(nil, methodCancelled, cancelledParams(id, "timeout")))
	}
	return o
}

// request POSTs the request id and reads its response, returning the
// response's headers too.
func (c *httpCaller) request(parent context.Context, id uint64, body []byte) (outcome, http.Header) {
	return c.requestWithin(parent, id, body, c.s.target.timeout)
}

// requestWithin is request with its own timeout.
func (c *httpCaller) requestWithin(parent context.Context, id uint64, body []byte, timeout time.Duration) (outcome, http.Header) {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	resp, err := c.send(ctx, body)
	if err != nil {
		return failure(parent, ctx, err), nil
	}
	defer resp.Body.Close()
	var o outcome
	contentType := resp.Header.Get("Content-Type")
	switch {
	case resp.StatusCode != http.StatusOK:
		o = statusOutcome(resp)
	case mediaTypeIs(contentType, "application/json"):
		o = c.readJSON(resp.Body, id)
	case mediaTypeIs(contentType, "text/event-stream"):
		o = c.readStream(ctx, cancel, resp.Body, id)
	default:
		o = outcome{kind: outcomeTransport, message: fmt.Sprintf("a response of Content-Type %q", contentType)}
	}
	if o.kind == outcomeTransport && ctx.Err() != nil {
		return failure(parent, ctx, ctx.Err()), resp.Header
	}
	return o, resp.Header
}

// post sends a notification or a response, which the server accepts
// with 202 and no body.
func (c *httpCaller) post(ctx context.Context, body []byte) error {
	return c.postWithin(ctx, body, c.s.target.timeout)
}

// postWithin is post with its own timeout.
func (c *httpCaller) postWithin(ctx context.Context, body []byte, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := c.send(ctx, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST answered %s", resp.Status)
	}
	return nil
}

func (c *httpCaller) send(ctx context.Context, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.s.target.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = c.header
	return c.s.target.client.Do(req)
}

// readJSON reads a response that came as the whole body.
func (c *httpCaller) readJSON(body io.Reader, id uint64) outcome {
	var err error
	c.body, err = readAllInto(c.body[:0], body)
	done := time.Now()
	if err != nil {
		return outcome{kind: outcomeTransport, message: "reading the response: " + err.Error()}
	}
	f, err := parseFrame(c.body)
	if err != nil {
		return outcome{kind: outcomeTransport, message: "the response is not JSON-RPC: " + err.Error()}
	}
	if got, ok := f.numericID(); !ok || got != id {
		return outcome{kind: outcomeTransport, message: fmt.Sprintf("a response to id %s instead of %d", f.id, id)}
	}
	o := outcomeOf(f)
	o.done = done
	return o
}

// readStream reads server-sent events until the response to id, answers
// the server's requests on the way, and then reads the stream to its end
// so that the connection can be reused.
func (c *httpCaller) readStream(ctx context.Context, cancel context.CancelFunc, body io.Reader, id uint64) outcome {
	c.lines.reset(body)
	c.data = c.data[:0]
	hasData := false
	for {
		line, err := c.lines.next()
		if len(line) == 0 && err == nil { // the end of an event
			if hasData {
				if o, ok := c.event(ctx, id); ok {
					o.done = time.Now()
					c.drain(cancel)
					return o
				}
			}
			c.data, hasData = c.data[:0], false
			continue
		}
		if name, value, found := bytes.Cut(line, []byte(":")); len(name) > 0 && string(name) == "data" {
			if found && len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
			if hasData {
				c.data = append(c.data, '\n')
			}
			c.data, hasData = append(c.data, value...), true
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return outcome{kind: outcomeTransport, message: "the event stream ended before the response"}
			}
			return outcome{kind: outcomeTransport, message: "reading the event stream: " + err.Error()}
		}
	}
}

// event handles the data of one event: it reports the outcome when the
// event is the response to id, and answers requests from the server.
func (c *httpCaller) event(ctx context.Context, id uint64) (outcome, bool) {
	if len(c.data) == 0 {
		return outcome{}, false // a priming event, there to resume from
	}
	f, err := parseFrame(c.data)
	if err != nil {
		return outcome{}, false
	}
	if f.method != nil {
		if f.isServerRequest() {
			_ = c.post(ctx, serverRequestReply(f.id, f.method))
		}
		return outcome{}, false
	}
	if got, ok := f.numericID(); !ok || got != id {
		return outcome{}, false
	}
	return outcomeOf(f), true
}

// drain reads what is left of an event stream, for up to drainGrace.
func (c *httpCaller) drain(cancel context.CancelFunc) {
	timer := time.AfterFunc(drainGrace, cancel)
	defer timer.Stop()
	_, _ = io.Copy(io.Discard, c.lines.r)
}

// failure classifies a request that got no response: the benchmark
// stopping, the call's timeout, or the transport failing.
func failure(parent, ctx context.Context, err error) outcome {
	switch {
	case parent.Err() != nil:
		return outcome{kind: outcomeCancelled, done: time.Now()}
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return outcome{kind: outcomeTimeout, message: "no response within the timeout", done: time.Now()}
	default:
		return outcome{kind: outcomeTransport, message: err.Error(), done: time.Now()}
	}
}

// statusOutcome is the outcome of a POST answered with an error status.
// 404 means the server no longer knows the session, which ends it.
func statusOutcome(resp *http.Response) outcome {
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	msg := "HTTP " + resp.Status
	if s := strings.TrimSpace(string(snippet)); s != "" {
		msg += ": " + s
	}
	return outcome{kind: outcomeTransport, message: msg, fatal: resp.StatusCode == http.StatusNotFound, done: time.Now()}
}

// mediaTypeIs reports whether a Content-Type is the media type want,
// whatever its parameters.
func mediaTypeIs(contentType, want string) bool {
	mediaType, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mediaType), want)
}

// readAllInto appends everything r yields to buf.
func readAllInto(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
