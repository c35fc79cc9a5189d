package transports

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// Legacy SSE client timing defaults. A POST unanswered for ssePostTimeout
// means a server that stopped serving; sseCloseGrace is how long Close waits
// for the stream reader to stop.
const (
	sseDialTimeout = 10 * time.Second
	ssePostTimeout = 30 * time.Second
	sseCloseGrace  = time.Second
)

// sseFieldSlack is how much longer than MaxFrame a stream line may be: room
// for the field name ("data: ") and a line ending.
const sseFieldSlack = 64

// sseErrorBodyLimit bounds how much of a failed response's body goes into
// the error; sseDrainLimit is the largest body read to its end so that its
// connection can be reused.
const (
	sseErrorBodyLimit = 256
	sseDrainLimit     = 64 << 10
)

var errSSENotStarted = errors.New("sse transport not started")

// SSEOptions configure a legacy HTTP+SSE MCP client connection.
type SSEOptions struct {
	Headers     map[string]string // sent with the stream's GET and every POST (e.g. Authorization)
	MaxFrame    int               // largest event data accepted; 0 means DefaultMaxFrame
	DialTimeout time.Duration     // for the GET and the endpoint event; 0 means 10s
	OAuth       *OAuth            // the server's login, added to the GET and every POST; nil for none
}

// LegacySSE is an MCP client transport for the HTTP+SSE transport of MCP
// 2024-11-05: a GET opens an event stream whose first event, "endpoint",
// names the URL the client POSTs its messages to; everything from the
// server, server-to-client requests included, comes as "message" events on
// the stream. It implements mcp-go's transport.BidirectionalInterface,
// which mcp-go's own SSE client does not.
//
// Once the stream ends, for whatever reason, Done is closed and every
// pending or later request fails with transport.ErrTransportClosed. A POST
// the server refuses fails its own call only; one that breaks on the
// network ends the transport.
type LegacySSE struct {
	url         string
	header      http.Header
	maxFrame    int
	dialTimeout time.Duration
	client      *http.Client
	httpTr      *http.Transport // the client's, so that Close can release its connections

	// Timing; fields rather than constants so that tests can shorten them
	// before Start.
	postTimeout time.Duration
	closeGrace  time.Duration

	mu         sync.Mutex // guards the fields below and the closing of done
	started    bool
	shown      string          // the stream URL, fit for messages
	connCtx    context.Context // the stream's, the POSTs' and the server requests'; ends with the transport
	cancelConn context.CancelFunc
	endpoint   *url.URL      // where messages are POSTed; nil until the endpoint event
	readerDone chan struct{} // nil until the stream is open
	err        error         // why the transport ended

	endpointReady chan struct{} // closed when endpoint is set

	rpcPeer

	done      chan struct{}
	closeOnce sync.Once
}

var _ transport.BidirectionalInterface = (*LegacySSE)(nil)

// configuredHeader is the HTTP header of a server's configured headers.
func configuredHeader(headers map[string]string) http.Header {
	header := make(http.Header, len(headers))
	for k, v := range headers {
		header.Set(k, v)
	}
	return header
}

// postingTransport is an HTTP transport of a remote server's own, like
// the default one, keeping enough idle connections for concurrent calls,
// which are concurrent POSTs.
func postingTransport() *http.Transport {
	var httpTr *http.Transport
	if def, ok := http.DefaultTransport.(*http.Transport); ok {
		httpTr = def.Clone()
	} else {
		httpTr = &http.Transport{Proxy: http.ProxyFromEnvironment}
	}
	httpTr.MaxIdleConnsPerHost = 16
	return httpTr
}

// NewLegacySSE returns a transport for the SSE stream at url (http:// or
// https://). Nothing is requested before Start.
func NewLegacySSE(url string, opts SSEOptions) *LegacySSE {
	header, httpTr := configuredHeader(opts.Headers), postingTransport()
	s := &LegacySSE{
		url:           url,
		header:        header,
		maxFrame:      opts.MaxFrame,
		dialTimeout:   opts.DialTimeout,
		client:        &http.Client{Transport: opts.OAuth.wrap(httpTr)},
		httpTr:        httpTr,
		postTimeout:   ssePostTimeout,
		closeGrace:    sseCloseGrace,
		endpointReady: make(chan struct{}),
		rpcPeer:       newRPCPeer("sse"),
		done:          make(chan struct{}),
	}
	if s.maxFrame <= 0 {
		s.maxFrame = DefaultMaxFrame
	}
	if s.dialTimeout <= 0 {
		s.dialTimeout = sseDialTimeout
	}
	return s
}

// Start opens the event stream and waits for the endpoint event. ctx bounds
// that only; the stream lives until Close or until it breaks. A failed
// Start ends the transport: Done closes and Err says why.
func (s *LegacySSE) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("sse transport already started")
	}
	s.started = true
	if s.ended() {
		s.mu.Unlock()
		return transport.ErrTransportClosed
	}
	target, shown, err := sseStreamURL(s.url)
	if err != nil {
		s.mu.Unlock()
		s.end(err)
		return err
	}
	s.shown = shown
	s.connCtx, s.cancelConn = context.WithCancel(context.WithoutCancel(ctx))
	connCtx := s.connCtx
	s.mu.Unlock()

	dialCtx, cancel := context.WithTimeout(ctx, s.dialTimeout)
	defer cancel()
	// Ending the transport cancels connCtx, which aborts the GET or the
	// wait for the endpoint, whichever is under way.
	stopWatch := context.AfterFunc(dialCtx, func() {
		s.mu.Lock()
		streamOpen := s.readerDone != nil
		s.mu.Unlock()
		if streamOpen {
			s.end(fmt.Errorf("connecting to %s: no endpoint event on the stream: %w", shown, dialCtx.Err()))
			return
		}
		s.end(fmt.Errorf("connecting to %s: %w", shown, dialCtx.Err()))
	})
	defer stopWatch()

	req, err := http.NewRequestWithContext(connCtx, http.MethodGet, target, nil)
	if err != nil {
		s.end(fmt.Errorf("connecting to %s: %w", shown, err))
		return s.startError()
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	for k, v := range s.header {
		req.Header[k] = v
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if !s.ended() { // else Close or the dial timeout came first, and said why
			s.end(fmt.Errorf("connecting to %s: %w", shown, sseUnwrapURLError(err)))
		}
		return s.startError()
	}
	if err := sseCheckStream(resp); err != nil {
		_ = resp.Body.Close() // not drained: it may be a stream of something else
		s.end(fmt.Errorf("connecting to %s: %w", shown, err))
		return s.startError()
	}

	s.mu.Lock()
	if s.ended() {
		s.mu.Unlock()
		_ = resp.Body.Close()
		return s.startError()
	}
	s.readerDone = make(chan struct{})
	readerDone := s.readerDone
	s.mu.Unlock()
	go s.read(resp, readerDone)

	select {
	case <-s.endpointReady:
	case <-s.done:
		return s.startError()
	}
	if !stopWatch() {
		// The dial timeout fired as the endpoint came: it is ending the
		// transport.
		<-s.done
		return s.startError()
	}
	return nil
}

// startError is what a Start that did not make it returns, once the
// transport has ended: why it ended, or ErrTransportClosed after Close.
func (s *LegacySSE) startError() error {
	<-s.done
	if err := s.Err(); err != nil {
		return err
	}
	return transport.ErrTransportClosed
}

// sseStreamURL checks that raw is an http(s) URL and returns it with a form
// fit for messages (RedactURL's: userinfo and query values may hold
// credentials).
func sseStreamURL(raw string) (target, shown string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		// Not err itself: it quotes the whole URL.
		return "", "", fmt.Errorf("sse url is not valid: %w", errors.Unwrap(err))
	}
	shown = sseShownURL(u)
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", "", fmt.Errorf("sse url %s: scheme %q is not http or https", shown, u.Scheme)
	}
	return u.String(), shown, nil
}

// sseShownURL returns u as RedactURL shows it.
func sseShownURL(u *url.URL) string { return redactURL(u) }

// sseUnwrapURLError returns the cause of a *url.Error, whose own message
// quotes the whole URL, query and all.
func sseUnwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// sseCheckStream reports whether resp opens an event stream.
func sseCheckStream(resp *http.Response) error {
	if resp.StatusCode != http.StatusOK {
		return sseStatusError(resp)
	}
	// No Content-Type is let through: such a server may still stream.
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "text/event-stream" {
			return fmt.Errorf("the server answered with %q, not an event stream (text/event-stream)", ct)
		}
	}
	return nil
}

// sseStatusError describes a response with an unwanted status, with the
// start of its body, where servers tend to say what was wrong.
func sseStatusError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, sseErrorBodyLimit))
	body := strings.Join(strings.Fields(string(bytes.ToValidUTF8(b, nil))), " ")
	if body == "" {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	return fmt.Errorf("HTTP %s: %s", resp.Status, body)
}

// sseDiscard reads a small body to its end, so that its connection can be
// reused, and closes it. A body of unknown length is not read: it may never
// end.
func sseDiscard(resp *http.Response) {
	if resp.ContentLength >= 0 && resp.ContentLength <= sseDrainLimit {
		_, _ = io.Copy(io.Discard, resp.Body)
	}
	_ = resp.Body.Close()
}

// read is the stream's only reader. It takes the endpoint event, then
// dispatches each message event until the stream ends, and then ends the
// transport with the reason.
func (s *LegacySSE) read(resp *http.Response, readerDone chan struct{}) {
	defer close(readerDone)
	defer resp.Body.Close()
	base := resp.Request.URL // after redirects: the endpoint is relative to it
	events := newSSEEventReader(resp.Body, s.maxFrame)
	for {
		ev, err := events.Next()
		if err != nil {
			s.end(s.streamError(err))
			return
		}
		if s.ended() {
			return
		}
		switch ev.Name {
		case "endpoint":
			if err := s.setEndpoint(base, ev.Data); err != nil {
				s.end(err)
				return
			}
		case "message":
			if s.endpointURL() == nil {
				slog.Default().Debug("sse: dropping a message that came before the endpoint event")
				continue
			}
			s.dispatch(ev.Data, s.answer)
		default:
			slog.Default().Debug("sse: dropping an event of unknown type", "event", ev.Name)
		}
	}
}

// streamError says why reading the stream stopped, in the transport's
// terms; before the endpoint event, as a failure to connect.
func (s *LegacySSE) streamError(err error) error {
	switch {
	case errors.Is(err, ErrFrameTooLarge):
		err = fmt.Errorf("%w: the server sent an event over the %d-byte limit", ErrFrameTooLarge, s.maxFrame)
	case errors.Is(err, io.EOF) && s.endpointURL() == nil:
		err = errors.New("the server ended the event stream before the endpoint event")
	case errors.Is(err, io.EOF):
		err = errors.New("the server ended the event stream")
	default:
		err = fmt.Errorf("reading the event stream: %w", err)
	}
	if s.endpointURL() == nil {
		s.mu.Lock()
		shown := s.shown
		s.mu.Unlock()
		return fmt.Errorf("connecting to %s: %w", shown, err)
	}
	return err
}

// setEndpoint takes the endpoint event: the URL, relative to the stream's,
// that messages go to. It must be on the stream's origin, since the POSTs
// carry the same headers, credentials included. Later endpoint events are
// ignored.
func (s *LegacySSE) setEndpoint(base *url.URL, data []byte) error {
	if s.endpointURL() != nil {
		slog.Default().Debug("sse: ignoring a repeated endpoint event")
		return nil
	}
	shownBase := sseShownURL(base)
	ref, err := url.Parse(strings.TrimSpace(string(data)))
	if err != nil {
		return fmt.Errorf("connecting to %s: the endpoint event does not hold a URL: %w", shownBase, errors.Unwrap(err))
	}
	endpoint := base.ResolveReference(ref)
	if endpoint.Scheme != base.Scheme || endpoint.Host != base.Host {
		return fmt.Errorf("connecting to %s: the endpoint %s is not on the stream's origin %s://%s; refusing to send it the connection's headers",
			shownBase, sseShownURL(endpoint), base.Scheme, base.Host)
	}
	endpoint.Fragment, endpoint.RawFragment = "", ""
	s.mu.Lock()
	s.endpoint = endpoint
	s.mu.Unlock()
	close(s.endpointReady)
	return nil
}

// answer answers a request from the server with a POST.
func (s *LegacySSE) answer(req transport.JSONRPCRequest) {
	s.mu.Lock()
	ctx := s.connCtx
	s.mu.Unlock()
	if err := s.post(ctx, "the response to "+req.Method, s.respond(ctx, req), nil); err != nil {
		slog.Default().Debug("sse: could not answer a server request", "method", req.Method, "err", err)
	}
}

// post sends one message to the endpoint; what names it in errors. A
// refusal (a status other than 2xx) fails this message only; a network
// failure, the POST timeout included, ends the transport. Whatever the
// server puts in an accepted POST's body is ignored: answers come on the
// stream.
func (s *LegacySSE) post(ctx context.Context, what string, msg []byte, extra http.Header) error {
	s.mu.Lock()
	endpoint, connCtx := s.endpoint, s.connCtx
	s.mu.Unlock()
	shown := sseShownURL(endpoint)

	postCtx, cancel := context.WithTimeout(ctx, s.postTimeout)
	defer cancel()
	stop := context.AfterFunc(connCtx, cancel) // Close aborts POSTs under way
	defer stop()
	req, err := http.NewRequestWithContext(postCtx, http.MethodPost, endpoint.String(), bytes.NewReader(msg))
	if err != nil {
		return fmt.Errorf("posting %s to %s: %w", what, shown, err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range s.header {
		req.Header[k] = v
	}
	for k, v := range extra {
		if _, set := req.Header[k]; !set {
			req.Header[k] = v
		}
	}

	resp, err := s.client.Do(req)
	if err != nil {
		switch {
		case s.ended():
			return s.closedError()
		case ctx.Err() != nil:
			return ctx.Err()
		}
		err = sseUnwrapURLError(err)
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer in %s", s.postTimeout)
		}
		err = fmt.Errorf("posting %s to %s: %w", what, shown, err)
		s.end(err)
		return fmt.Errorf("%w: %w", transport.ErrTransportClosed, err)
	}
	defer sseDiscard(resp)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("posting %s to %s: %w", what, shown, sseStatusError(resp))
	}
	return nil
}

// SendRequest POSTs a request and waits for the response with its id on
// the stream, the end of ctx (ctx.Err()), or the end of the transport
// (transport.ErrTransportClosed, with the reason when there is one). A POST
// the server refuses fails with an error naming the HTTP status. Headers
// in req.Header are added to the POST where the transport sets none of
// the same name.
func (s *LegacySSE) SendRequest(ctx context.Context, req transport.JSONRPCRequest) (*transport.JSONRPCResponse, error) {
	select {
	case <-s.done:
		return nil, s.closedError()
	case <-ctx.Done():
		return nil, ctx.Err()
	default:
	}
	if s.endpointURL() == nil {
		return nil, errSSENotStarted
	}
	return s.roundTrip(ctx, req, s.done, s.closedError, func(msg []byte) error {
		return s.post(ctx, "request "+req.Method, msg, req.Header)
	})
}

// SendNotification POSTs a notification to the server.
func (s *LegacySSE) SendNotification(ctx context.Context, n mcp.JSONRPCNotification) error {
	select {
	case <-s.done:
		return s.closedError()
	case <-ctx.Done():
		return ctx.Err()
	default:
	}
	if s.endpointURL() == nil {
		return errSSENotStarted
	}
	msg, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("encoding notification %s: %w", n.Method, err)
	}
	return s.post(ctx, "notification "+n.Method, msg, nil)
}

// Close ends the transport: pending requests fail at once, POSTs under way
// are abandoned, and the stream is closed. Calling it again does nothing.
func (s *LegacySSE) Close() error {
	s.closeOnce.Do(func() {
		s.end(nil)
		s.mu.Lock()
		readerDone := s.readerDone
		s.mu.Unlock()
		if readerDone != nil {
			// Its GET is cancelled; the wait is bounded in case Close was
			// called from the notification handler, on the reader itself.
			timer := time.NewTimer(s.closeGrace)
			select {
			case <-readerDone:
			case <-timer.C:
			}
			timer.Stop()
		}
		s.httpTr.CloseIdleConnections()
	})
	return nil
}

// GetSessionId returns "": the legacy transport's session lives in the
// endpoint URL, which the transport keeps to itself.
func (s *LegacySSE) GetSessionId() string { return "" }

// Done is closed when the transport ends, for any reason.
func (s *LegacySSE) Done() <-chan struct{} { return s.done }

// Err says why the transport ended, once Done is closed: nil after Close,
// otherwise what broke it.
func (s *LegacySSE) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// end records why the transport ended, the first time only, and releases
// everyone waiting on it: the stream, POSTs and server requests under way
// see their context end.
func (s *LegacySSE) end(err error) {
	s.mu.Lock()
	if s.ended() {
		s.mu.Unlock()
		return
	}
	s.err = err
	close(s.done)
	cancel := s.cancelConn
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// closedError is transport.ErrTransportClosed with the reason the
// transport ended, if it did not end by Close.
func (s *LegacySSE) closedError() error {
	if err := s.Err(); err != nil {
		return fmt.Errorf("%w: %w", transport.ErrTransportClosed, err)
	}
	return transport.ErrTransportClosed
}

// endpointURL returns where messages go, or nil before the endpoint event.
func (s *LegacySSE) endpointURL() *url.URL {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.endpoint
}

// ended reports whether the transport has ended.
func (s *LegacySSE) ended() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// sseEvent is one event from a stream. Name is "message" when the event
// did not name itself.
type sseEvent struct {
	Name string
	Data []byte
}

// sseEventReader parses a text/event-stream (the WHATWG Server-Sent Events
// format) into events: the data lines of an event joined with "\n", lines
// ended by "\r\n", "\n" or "\r", a leading byte order mark, comments
// ignored, the id and retry fields kept for resuming, events without data skipped. An event whose data would exceed
// max bytes fails with ErrFrameTooLarge, as does any line much longer
// than that.
type sseEventReader struct {
	lines     *bufio.Scanner
	max       int
	skipLF    bool // the last line ended with '\r', which a '\n' may follow
	pastFirst bool // the first line, which may start with a byte order mark, is read

	// lastID is the id of the last event ended (with or without data), and
	// retry the reconnection time the stream last asked for: what resuming
	// the stream needs.
	lastID string
	retry  time.Duration
	id     string // the id field of the event being read
	hasID  bool
}

// sseBOM is the UTF-8 byte order mark, which the format allows at the
// start of a stream.
var sseBOM = []byte("\xEF\xBB\xBF")

func newSSEEventReader(r io.Reader, max int) *sseEventReader {
	e := &sseEventReader{lines: bufio.NewScanner(r), max: max}
	limit := max + sseFieldSlack
	e.lines.Buffer(make([]byte, 0, min(limit, 64<<10)), limit)
	e.lines.Split(e.splitLine)
	return e
}

// Next returns the next event with data. At the end of the stream it
// returns io.EOF, dropping an event left without its closing blank line,
// as the format says.
func (e *sseEventReader) Next() (sseEvent, error) {
	var name string
	var data []byte
	hasData := false
	for e.lines.Scan() {
		line := e.lines.Bytes()
		if !e.pastFirst {
			e.pastFirst = true
			line = bytes.TrimPrefix(line, sseBOM)
		}
		if len(line) == 0 {
			if e.hasID {
				e.lastID, e.hasID = e.id, false
			}
			if hasData && len(data) > 0 {
				if name == "" {
					name = "message"
				}
				return sseEvent{Name: name, Data: data}, nil
			}
			name, data, hasData = "", nil, false
			continue
		}
		field, value, found := bytes.Cut(line, []byte(":"))
		if found {
			value = bytes.TrimPrefix(value, []byte(" "))
		}
		switch string(field) {
		case "": // a comment, often a keep-alive
		case "id":
			if bytes.IndexByte(value, 0) < 0 { // the format ignores an id with NUL
				e.id, e.hasID = string(value), true
			}
		case "retry":
			if ms, err := strconv.ParseUint(string(value), 10, 31); err == nil {
				e.retry = time.Duration(ms) * time.Millisecond
			}
		case "event":
			name = string(value)
		case "data":
			size := len(data) + len(value)
			if hasData {
				size++
			}
			if size > e.max {
				return sseEvent{}, fmt.Errorf("%w: an event over %d bytes", ErrFrameTooLarge, e.max)
			}
			if hasData {
				data = append(data, '\n')
			}
			data = append(data, value...)
			hasData = true
		}
	}
	switch err := e.lines.Err(); {
	case errors.Is(err, bufio.ErrTooLong):
		return sseEvent{}, fmt.Errorf("%w: a line over %d bytes", ErrFrameTooLarge, e.max+sseFieldSlack)
	case err != nil:
		return sseEvent{}, err
	default:
		return sseEvent{}, io.EOF
	}
}

// splitLine is a bufio.SplitFunc for the format's three line endings.
func (e *sseEventReader) splitLine(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if e.skipLF && len(data) > 0 {
		e.skipLF = false
		if data[0] == '\n' {
			return 1, nil, nil
		}
	}
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		if data[i] == '\n' {
			return i + 1, data[:i], nil
		}
		if i+1 < len(data) {
			if data[i+1] == '\n' {
				return i + 2, data[:i], nil
			}
			return i + 1, data[:i], nil
		}
		// A '\r' last in the buffer: the line is whole, but a '\n' may
		// still come and belongs to it.
		e.skipLF = true
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
