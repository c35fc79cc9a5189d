package transports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// sseTestTimeout bounds every wait in these tests; nothing should come near it.
const sseTestTimeout = 5 * time.Second

// sseServerConfig sets up a test server; the zero value is a well-behaved
// legacy SSE MCP server.
type sseServerConfig struct {
	getStatus   int    // the GET's status; 0 means 200
	getBody     string // written with a getStatus other than 200
	contentType string // of the stream; "" means text/event-stream
	endpoint    string // the endpoint event's data, "{base}" standing for the server's URL; "" means "/message?sessionId=abc"
	noEndpoint  bool   // send no endpoint event
	// postReply answers a POST; nil means 202 with no body.
	postReply func(f Frame) (status int, body string)
	dropPosts bool          // hijack each POST's connection and close it
	holdPosts chan struct{} // when set, POSTs are answered only once it is closed
}

// sseTestServer is a tiny legacy SSE MCP server that the test drives: GET
// (any path) opens a stream, POST (any path) takes a message. The test
// reads what was POSTed from posts and writes events through the stream.
type sseTestServer struct {
	URL     string // the server's base URL, without a path
	streams chan *sseTestStream
	posts   chan ssePost
}

// sseTestStream is the server end of one event stream.
type sseTestStream struct {
	t      *testing.T
	header http.Header // of the GET
	path   string      // of the GET
	events chan string // raw text to write and flush
	end    chan struct{}
	drop   chan struct{}
	gone   chan struct{} // closed when the handler has returned
}

// ssePost is one POST the server took.
type ssePost struct {
	header http.Header
	url    *url.URL
	frame  Frame
	body   []byte
}

func startSSEServer(t *testing.T, cfg sseServerConfig) *sseTestServer {
	t.Helper()
	s := &sseTestServer{streams: make(chan *sseTestStream, 4), posts: make(chan ssePost, 256)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			s.serveStream(t, cfg, w, r)
		case http.MethodPost:
			s.servePost(t, cfg, w, r)
		default:
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

func (s *sseTestServer) serveStream(t *testing.T, cfg sseServerConfig, w http.ResponseWriter, r *http.Request) {
	if cfg.getStatus != 0 && cfg.getStatus != http.StatusOK {
		http.Error(w, cfg.getBody, cfg.getStatus)
		return
	}
	ct := cfg.contentType
	if ct == "" {
		ct = "text/event-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	flush := func() { w.(http.Flusher).Flush() }
	flush()
	if !cfg.noEndpoint {
		ep := cfg.endpoint
		if ep == "" {
			ep = "/message?sessionId=abc"
		}
		fmt.Fprintf(w, "event: endpoint\ndata: %s\n\n", strings.ReplaceAll(ep, "{base}", s.URL))
		flush()
	}
	st := &sseTestStream{
		t:      t,
		header: r.Header.Clone(),
		path:   r.URL.Path,
		events: make(chan string),
		end:    make(chan struct{}),
		drop:   make(chan struct{}),
		gone:   make(chan struct{}),
	}
	defer close(st.gone)
	s.streams <- st
	for {
		select {
		case raw := <-st.events:
			_, _ = io.WriteString(w, raw)
			flush()
		case <-st.end:
			return
		case <-st.drop:
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				_ = conn.Close()
			}
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (s *sseTestServer) servePost(t *testing.T, cfg sseServerConfig, w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	f, err := ParseFrame(body)
	if err != nil {
		t.Errorf("server got a POST that is not JSON-RPC: %s: %v", body, err)
	}
	select {
	case s.posts <- ssePost{header: r.Header.Clone(), url: r.URL, frame: f, body: body}:
	case <-r.Context().Done():
		return
	}
	if cfg.dropPosts {
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			_ = conn.Close()
		}
		return
	}
	if cfg.holdPosts != nil {
		select {
		case <-cfg.holdPosts:
		case <-r.Context().Done():
			return
		}
	}
	status, reply := http.StatusAccepted, ""
	if cfg.postReply != nil {
		status, reply = cfg.postReply(f)
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, reply)
}

// post returns the next message the client POSTed.
func (s *sseTestServer) post(t *testing.T) ssePost {
	t.Helper()
	return sseReceive(t, s.posts, "a POST from the client")
}

// connectSSE starts a client on the server's /sse stream and returns it
// with the server's end of the stream. tune, if given, adjusts the client
// before Start.
func connectSSE(t *testing.T, s *sseTestServer, opts SSEOptions, tune func(*LegacySSE)) (*LegacySSE, *sseTestStream) {
	t.Helper()
	c := NewLegacySSE(s.URL+"/sse", opts)
	if tune != nil {
		tune(c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), sseTestTimeout)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, sseReceive(t, s.streams, "the server's end of the stream")
}

// send writes raw text on the stream, as it is.
func (st *sseTestStream) send(raw string) {
	st.t.Helper()
	select {
	case st.events <- raw:
	case <-st.gone:
		st.t.Fatalf("server write: the stream is gone")
	case <-time.After(sseTestTimeout):
		st.t.Fatalf("server write: timed out")
	}
}

// message sends one message event with msg as its single data line.
func (st *sseTestStream) message(msg string) {
	st.t.Helper()
	st.send("event: message\ndata: " + msg + "\n\n")
}

type sseReply struct {
	resp *transport.JSONRPCResponse
	err  error
}

// sseSendAsync runs SendRequest on a goroutine of its own.
func sseSendAsync(ctx context.Context, c *LegacySSE, req transport.JSONRPCRequest) <-chan sseReply {
	ch := make(chan sseReply, 1)
	go func() {
		resp, err := c.SendRequest(ctx, req)
		ch <- sseReply{resp, err}
	}()
	return ch
}

func sseRequest(id any, method string, params any) transport.JSONRPCRequest {
	return transport.JSONRPCRequest{JSONRPC: mcp.JSONRPC_VERSION, ID: mcp.NewRequestId(id), Method: method, Params: params}
}

// sseResult is the server's response to id, with result as it is.
func sseResult(id json.RawMessage, result string) string {
	return `{"jsonrpc":"2.0","id":` + string(id) + `,"result":` + result + `}`
}

func sseReceive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(sseTestTimeout):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

func sseWaitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(sseTestTimeout):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestSSERoundTrip(t *testing.T) {
	// The result's bytes must come through untouched: 2.50 is not 2.5, the
	// integer does not fit a float64, and the layout is the server's.
	const result = `{ "price": 2.50,  "big": 123456789012345678901234567890, "text": "caf\u00e9" }`
	srv := startSSEServer(t, sseServerConfig{})
	c, stream := connectSSE(t, srv, SSEOptions{}, nil)

	reply := sseSendAsync(context.Background(), c, sseRequest(int64(1), "tools/call", json.RawMessage(`{"name":"echo"}`)))
	p := srv.post(t)
	if p.frame.Method != "tools/call" || string(p.frame.ID) != "1" || string(p.frame.Params) != `{"name":"echo"}` {
		t.Fatalf("server got method %q id %s params %s", p.frame.Method, p.frame.ID, p.frame.Params)
	}
	if got := p.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("POST Content-Type %q; want application/json", got)
	}
	stream.message(sseResult(p.frame.ID, result))

	r := sseReceive(t, reply, "the response")
	if r.err != nil {
		t.Fatalf("SendRequest: %v", r.err)
	}
	if got := string(r.resp.Result); got != result {
		t.Errorf("result %s; want %s", got, result)
	}
	if r.resp.ID.String() != mcp.NewRequestId(int64(1)).String() {
		t.Errorf("response id %v; want 1", r.resp.ID.Value())
	}
	if got := c.GetSessionId(); got != "" {
		t.Errorf("GetSessionId %q; want \"\"", got)
	}
}

func TestSSEEndpointURIs(t *testing.T) {
	tests := []struct {
		name      string
		endpoint  string
		wantPath  string
		wantQuery string
	}{
		{"absolute path", "/message?sessionId=abc", "/message", "sessionId=abc"},
		{"relative path", "messages/?session_id=def", "/mcp/messages/", "session_id=def"},
		{"absolute URI", "{base}/rpc/message?sessionId=ghi", "/rpc/message", "sessionId=ghi"},
		{"padded", "  /message?sessionId=jkl  ", "/message", "sessionId=jkl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSSEServer(t, sseServerConfig{endpoint: tt.endpoint})
			c := NewLegacySSE(srv.URL+"/mcp/sse", SSEOptions{})
			ctx, cancel := context.WithTimeout(context.Background(), sseTestTimeout)
			defer cancel()
			if err := c.Start(ctx); err != nil {
				t.Fatalf("Start: %v", err)
			}
			t.Cleanup(func() { _ = c.Close() })
			sseReceive(t, srv.streams, "the stream")

			note := mcp.JSONRPCNotification{JSONRPC: mcp.JSONRPC_VERSION, Notification: mcp.Notification{Method: "notifications/initialized"}}
			if err := c.SendNotification(ctx, note); err != nil {
				t.Fatalf("SendNotification: %v", err)
			}
			p := srv.post(t)
			if p.url.Path != tt.wantPath || p.url.RawQuery != tt.wantQuery {
				t.Errorf("POST went to %s?%s; want %s?%s", p.url.Path, p.url.RawQuery, tt.wantPath, tt.wantQuery)
			}
		})
	}
}

func TestSSEMultiLineData(t *testing.T) {
	// A message over several data lines, with a comment among them, "data:"
	// without its space and CRLF line endings: the lines join with "\n",
	// which stays in the result.
	const result = "{ \"price\": 2.50,\n  \"big\": 123456789012345678901234567890 }"
	srv := startSSEServer(t, sseServerConfig{})
	c, stream := connectSSE(t, srv, SSEOptions{}, nil)

	reply := sseSendAsync(context.Background(), c, sseRequest("a", "tools/call", nil))
	p := srv.post(t)
	lines := strings.Split(sseResult(p.frame.ID, result), "\n")
	stream.send(": keep-alive\r\n" +
		"data:" + lines[0] + "\r\n" +
		": between the lines\r\n" +
		"data: " + lines[1] + "\r\n" +
		"event: message\r\n" +
		"\r\n")

	r := sseReceive(t, reply, "the response")
	if r.err != nil {
		t.Fatalf("SendRequest: %v", r.err)
	}
	if got := string(r.resp.Result); got != result {
		t.Errorf("result %q; want %q", got, result)
	}
}

func TestSSESendsHeaders(t *testing.T) {
	srv := startSSEServer(t, sseServerConfig{})
	c, stream := connectSSE(t, srv, SSEOptions{Headers: map[string]string{
		"Authorization": "Bearer s3cret",
		"x-tenant":      "blue",
	}}, nil)
	check := func(what string, h http.Header) {
		t.Helper()
		if got := h.Get("Authorization"); got != "Bearer s3cret" {
			t.Errorf("%s: Authorization %q; want %q", what, got, "Bearer s3cret")
		}
		if got := h.Get("X-Tenant"); got != "blue" {
			t.Errorf("%s: X-Tenant %q; want %q", what, got, "blue")
		}
	}
	check("GET", stream.header)
	if got := stream.header.Get("Accept"); got != "text/event-stream" {
		t.Errorf("GET Accept %q; want text/event-stream", got)
	}

	req := sseRequest(int64(1), "ping", nil)
	req.Header = http.Header{"X-Request": {"one"}, "Authorization": {"not this"}}
	reply := sseSendAsync(context.Background(), c, req)
	p := srv.post(t)
	check("request POST", p.header)
	if got := p.header.Get("X-Request"); got != "one" {
		t.Errorf("request POST: X-Request %q; want the request's own header", got)
	}
	stream.message(sseResult(p.frame.ID, `{}`))
	if r := sseReceive(t, reply, "the response"); r.err != nil {
		t.Fatalf("SendRequest: %v", r.err)
	}

	stream.message(`{"jsonrpc":"2.0","id":9,"method":"roots/list"}`)
	check("response POST", srv.post(t).header)
}

func TestSSEConcurrentRequests(t *testing.T) {
	const n = 50
	srv := startSSEServer(t, sseServerConfig{})
	c, stream := connectSSE(t, srv, SSEOptions{}, nil)

	type outcome struct {
		i int
		sseReply
	}
	outcomes := make(chan outcome, n)
	for i := 1; i <= n; i++ {
		go func() {
			resp, err := c.SendRequest(context.Background(), sseRequest(int64(i), "tools/call", nil))
			outcomes <- outcome{i, sseReply{resp, err}}
		}()
	}

	// Answer only once all are in, last first, so that order tells nothing.
	ids := make([]json.RawMessage, 0, n)
	for range n {
		ids = append(ids, srv.post(t).frame.ID)
	}
	for i := len(ids) - 1; i >= 0; i-- {
		stream.message(sseResult(ids[i], fmt.Sprintf(`{"n":%s}`, ids[i])))
	}

	for range n {
		o := sseReceive(t, outcomes, "a response")
		if o.err != nil {
			t.Errorf("request %d: %v", o.i, o.err)
			continue
		}
		if got, want := string(o.resp.Result), fmt.Sprintf(`{"n":%d}`, o.i); got != want {
			t.Errorf("request %d got %s; want %s", o.i, got, want)
		}
	}
}

func TestSSENotifications(t *testing.T) {
	srv := startSSEServer(t, sseServerConfig{})
	c, stream := connectSSE(t, srv, SSEOptions{}, nil)

	got := make(chan mcp.JSONRPCNotification, 1)
	c.SetNotificationHandler(func(n mcp.JSONRPCNotification) {
		select {
		case got <- n:
		default:
		}
	})
	// An event without a name is a message event.
	stream.send(`data: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"hello"}}` + "\n\n")
	n := sseReceive(t, got, "the notification")
	if n.Method != "notifications/message" || n.Params.AdditionalFields["data"] != "hello" {
		t.Errorf("got %s %v; want notifications/message with data hello", n.Method, n.Params.AdditionalFields)
	}

	note := mcp.JSONRPCNotification{JSONRPC: mcp.JSONRPC_VERSION, Notification: mcp.Notification{
		Method: "notifications/initialized",
	}}
	if err := c.SendNotification(context.Background(), note); err != nil {
		t.Fatalf("SendNotification: %v", err)
	}
	if f := srv.post(t).frame; !f.IsNotification() || f.Method != "notifications/initialized" {
		t.Errorf("server got %+v; want notifications/initialized", f)
	}
}

func TestSSEServerRequests(t *testing.T) {
	type rpcError struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	tests := []struct {
		name       string
		handler    transport.RequestHandler
		wantResult string
		wantError  *rpcError
	}{
		{
			name: "answered by the handler",
			handler: func(_ context.Context, req transport.JSONRPCRequest) (*transport.JSONRPCResponse, error) {
				return transport.NewJSONRPCResultResponse(req.ID, json.RawMessage(`{"method":"`+req.Method+`"}`)), nil
			},
			wantResult: `{"method":"roots/list"}`,
		},
		{
			name: "handler answers with another id",
			handler: func(context.Context, transport.JSONRPCRequest) (*transport.JSONRPCResponse, error) {
				return transport.NewJSONRPCResultResponse(mcp.NewRequestId("other"), json.RawMessage(`{}`)), nil
			},
			wantResult: `{}`,
		},
		{
			name: "handler fails",
			handler: func(context.Context, transport.JSONRPCRequest) (*transport.JSONRPCResponse, error) {
				return nil, errors.New("no roots today")
			},
			wantError: &rpcError{Code: mcp.INTERNAL_ERROR, Message: "no roots today"},
		},
		{
			name:      "no handler",
			wantError: &rpcError{Code: mcp.METHOD_NOT_FOUND, Message: "no request handler configured for roots/list"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSSEServer(t, sseServerConfig{})
			c, stream := connectSSE(t, srv, SSEOptions{}, nil)
			if tt.handler != nil {
				c.SetRequestHandler(tt.handler)
			}

			stream.message(`{"jsonrpc":"2.0","id":"s-1","method":"roots/list"}`)
			p := srv.post(t)
			if p.url.Path != "/message" || p.url.Query().Get("sessionId") != "abc" {
				t.Errorf("the response went to %s; want the endpoint", p.url)
			}
			f := p.frame
			if string(f.ID) != `"s-1"` || f.Method != "" {
				t.Fatalf("server got id %s method %q; want a response to \"s-1\"", f.ID, f.Method)
			}
			if tt.wantError == nil {
				if string(f.Result) != tt.wantResult || f.Error != nil {
					t.Errorf("result %s error %s; want result %s", f.Result, f.Error, tt.wantResult)
				}
				return
			}
			var got rpcError
			if err := json.Unmarshal(f.Error, &got); err != nil {
				t.Fatalf("error %s: %v", f.Error, err)
			}
			if got != *tt.wantError {
				t.Errorf("error %+v; want %+v", got, *tt.wantError)
			}
		})
	}
}

func TestSSEServerEndsStream(t *testing.T) {
	tests := []struct {
		name string
		end  func(*sseTestStream)
		want string // in Err
	}{
		{"ends the response", func(st *sseTestStream) { close(st.end) }, "ended the event stream"},
		{"drops the connection", func(st *sseTestStream) { close(st.drop) }, "reading the event stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSSEServer(t, sseServerConfig{})
			c, stream := connectSSE(t, srv, SSEOptions{}, nil)

			reply := sseSendAsync(context.Background(), c, sseRequest(int64(7), "tools/call", nil))
			srv.post(t) // the request is pending now
			// Half an event, which must not be taken for a whole one.
			stream.send("event: message\ndata: " + sseResult(json.RawMessage("7"), `"half"`) + "\n")
			tt.end(stream)

			if r := sseReceive(t, reply, "SendRequest to return"); !errors.Is(r.err, transport.ErrTransportClosed) {
				t.Errorf("SendRequest: %v, %v; want ErrTransportClosed", r.resp, r.err)
			}
			sseWaitClosed(t, c.Done(), "Done")
			if err := c.Err(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Err = %v; want one saying %q", err, tt.want)
			}
			if _, err := c.SendRequest(context.Background(), sseRequest(int64(8), "ping", nil)); !errors.Is(err, transport.ErrTransportClosed) {
				t.Errorf("SendRequest after the end: %v; want ErrTransportClosed", err)
			}
		})
	}
}

func TestSSEContextCancel(t *testing.T) {
	t.Run("waiting for the response", func(t *testing.T) {
		srv := startSSEServer(t, sseServerConfig{})
		c, stream := connectSSE(t, srv, SSEOptions{}, nil)

		ctx, cancel := context.WithCancel(context.Background())
		reply := sseSendAsync(ctx, c, sseRequest(int64(1), "tools/call", nil))
		first := srv.post(t)
		cancel()
		if r := sseReceive(t, reply, "SendRequest to return"); !errors.Is(r.err, context.Canceled) {
			t.Fatalf("SendRequest: %v, %v; want context.Canceled", r.resp, r.err)
		}
		if c.ended() {
			t.Fatalf("the transport ended with the request's context: %v", c.Err())
		}

		// The late response is dropped, and the transport goes on.
		reply = sseSendAsync(context.Background(), c, sseRequest(int64(2), "tools/call", nil))
		second := srv.post(t)
		stream.message(sseResult(first.frame.ID, `"late"`))
		stream.message(sseResult(second.frame.ID, `"on time"`))
		if r := sseReceive(t, reply, "the second response"); r.err != nil || string(r.resp.Result) != `"on time"` {
			t.Errorf("second request: %v, %v; want \"on time\"", r.resp, r.err)
		}
	})

	t.Run("during the POST", func(t *testing.T) {
		hold := make(chan struct{})
		srv := startSSEServer(t, sseServerConfig{holdPosts: hold})
		c, _ := connectSSE(t, srv, SSEOptions{}, nil)

		ctx, cancel := context.WithCancel(context.Background())
		reply := sseSendAsync(ctx, c, sseRequest(int64(1), "tools/call", nil))
		srv.post(t) // the server holds it
		cancel()
		if r := sseReceive(t, reply, "SendRequest to return"); !errors.Is(r.err, context.Canceled) {
			t.Fatalf("SendRequest: %v, %v; want context.Canceled", r.resp, r.err)
		}
		if c.ended() {
			t.Fatalf("an abandoned POST ended the transport: %v", c.Err())
		}
		close(hold)
	})
}

func TestSSEEventLimit(t *testing.T) {
	const limit = 1024
	srv := startSSEServer(t, sseServerConfig{})
	c, stream := connectSSE(t, srv, SSEOptions{MaxFrame: limit}, nil)
	got := make(chan mcp.JSONRPCNotification, 1)
	c.SetNotificationHandler(func(n mcp.JSONRPCNotification) { got <- n })

	notification := func(size int) string {
		prefix, suffix := `{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"`, `"}}`
		return prefix + strings.Repeat("x", size-len(prefix)-len(suffix)) + suffix
	}
	stream.message(notification(limit))
	sseReceive(t, got, "the notification at the limit")

	stream.message(notification(limit + 1))
	sseWaitClosed(t, c.Done(), "Done after an oversized event")
	err := c.Err()
	if !errors.Is(err, ErrFrameTooLarge) || !strings.Contains(err.Error(), "1024") {
		t.Errorf("Err = %v; want ErrFrameTooLarge naming the 1024-byte limit", err)
	}
	sseWaitClosed(t, stream.gone, "the server to see the stream go")
}

func TestSSEPostRefused(t *testing.T) {
	srv := startSSEServer(t, sseServerConfig{postReply: func(f Frame) (int, string) {
		if f.Method == "tools/call" || f.Method == "notifications/cancelled" {
			return http.StatusInternalServerError, "boom:\n  no such session"
		}
		return http.StatusOK, `{"ignored":true}` // 200 is tolerated, its body ignored
	}})
	c, stream := connectSSE(t, srv, SSEOptions{}, nil)

	_, err := c.SendRequest(context.Background(), sseRequest(int64(1), "tools/call", nil))
	if err == nil || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "boom: no such session") || errors.Is(err, transport.ErrTransportClosed) {
		t.Errorf("SendRequest: %v; want an error naming status 500 and the server's words", err)
	}
	if strings.Contains(fmt.Sprint(err), "abc") {
		t.Errorf("SendRequest error %q shows the session id", err)
	}
	srv.post(t)
	note := mcp.JSONRPCNotification{JSONRPC: mcp.JSONRPC_VERSION, Notification: mcp.Notification{Method: "notifications/cancelled"}}
	if err := c.SendNotification(context.Background(), note); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("SendNotification: %v; want an error naming status 500", err)
	}
	srv.post(t)

	// The transport goes on.
	reply := sseSendAsync(context.Background(), c, sseRequest(int64(2), "ping", nil))
	p := srv.post(t)
	stream.message(sseResult(p.frame.ID, `{}`))
	if r := sseReceive(t, reply, "the response"); r.err != nil {
		t.Errorf("SendRequest after a refused POST: %v", r.err)
	}
	if c.ended() {
		t.Errorf("a refused POST ended the transport: %v", c.Err())
	}
}

func TestSSEPostBroken(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(hold chan struct{}) sseServerConfig
		want string // in the error
	}{
		{
			name: "connection dropped",
			cfg:  func(chan struct{}) sseServerConfig { return sseServerConfig{dropPosts: true} },
			want: "posting request tools/call",
		},
		{
			name: "no answer in time",
			cfg:  func(hold chan struct{}) sseServerConfig { return sseServerConfig{holdPosts: hold} },
			want: "no answer in 50ms",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hold := make(chan struct{})
			t.Cleanup(func() { close(hold) })
			srv := startSSEServer(t, tt.cfg(hold))
			c, stream := connectSSE(t, srv, SSEOptions{}, func(c *LegacySSE) { c.postTimeout = 50 * time.Millisecond })

			_, err := c.SendRequest(context.Background(), sseRequest(int64(1), "tools/call", nil))
			if !errors.Is(err, transport.ErrTransportClosed) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("SendRequest: %v; want ErrTransportClosed saying %q", err, tt.want)
			}
			if strings.Contains(strings.ReplaceAll(fmt.Sprint(err), "sessionId=***", ""), "sessionId") {
				t.Errorf("SendRequest error %q shows the endpoint's query values", err)
			}
			sseWaitClosed(t, c.Done(), "Done after a broken POST")
			if err := c.Err(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Err = %v; want the POST's failure", err)
			}
			sseWaitClosed(t, stream.gone, "the server to see the stream go")
		})
	}
}

func TestSSEClose(t *testing.T) {
	srv := startSSEServer(t, sseServerConfig{})
	c, stream := connectSSE(t, srv, SSEOptions{}, nil)

	reply := sseSendAsync(context.Background(), c, sseRequest(int64(1), "tools/call", nil))
	srv.post(t)
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if r := sseReceive(t, reply, "SendRequest to return"); !errors.Is(r.err, transport.ErrTransportClosed) {
		t.Errorf("pending SendRequest: %v, %v; want ErrTransportClosed", r.resp, r.err)
	}
	sseWaitClosed(t, c.Done(), "Done")
	sseWaitClosed(t, stream.gone, "the server to see the stream go")
	if err := c.Err(); err != nil {
		t.Errorf("Err after Close = %v; want nil", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	note := mcp.JSONRPCNotification{JSONRPC: mcp.JSONRPC_VERSION, Notification: mcp.Notification{Method: "notifications/x"}}
	if err := c.SendNotification(context.Background(), note); !errors.Is(err, transport.ErrTransportClosed) {
		t.Errorf("SendNotification after Close: %v; want ErrTransportClosed", err)
	}
}

func TestSSECloseBeforeStart(t *testing.T) {
	c := NewLegacySSE("http://127.0.0.1:1/sse", SSEOptions{})
	if _, err := c.SendRequest(context.Background(), sseRequest(int64(1), "ping", nil)); !errors.Is(err, errSSENotStarted) {
		t.Errorf("SendRequest before Start: %v; want errSSENotStarted", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	sseWaitClosed(t, c.Done(), "Done")
	if err := c.Start(context.Background()); !errors.Is(err, transport.ErrTransportClosed) {
		t.Errorf("Start after Close: %v; want ErrTransportClosed", err)
	}
}

func TestSSEStartTwice(t *testing.T) {
	srv := startSSEServer(t, sseServerConfig{})
	c, _ := connectSSE(t, srv, SSEOptions{}, nil)
	if err := c.Start(context.Background()); err == nil {
		t.Error("second Start succeeded")
	}
	if c.ended() {
		t.Errorf("a second Start ended the transport: %v", c.Err())
	}
}

func TestSSEStartFails(t *testing.T) {
	tests := []struct {
		name        string
		cfg         sseServerConfig
		url         string // "{base}" stands for the server's URL
		dialTimeout time.Duration
		want        string // in the error
	}{
		{
			name: "server refuses the stream",
			cfg:  sseServerConfig{getStatus: http.StatusUnauthorized, getBody: "who are you"},
			want: "401 Unauthorized: who are you",
		},
		{
			name: "not an event stream",
			cfg:  sseServerConfig{contentType: "text/html; charset=utf-8"},
			want: "not an event stream",
		},
		{
			name: "stream ends before the endpoint",
			cfg:  sseServerConfig{noEndpoint: true, postReply: nil},
			want: "before the endpoint event",
		},
		{
			name: "endpoint on another origin",
			cfg:  sseServerConfig{endpoint: "http://elsewhere.invalid/message?sessionId=hush"},
			want: "origin",
		},
		{
			name:        "no endpoint in time",
			cfg:         sseServerConfig{noEndpoint: true},
			dialTimeout: 50 * time.Millisecond,
			want:        "no endpoint event on the stream: context deadline exceeded",
		},
		{"not an http scheme", sseServerConfig{}, "ftp://127.0.0.1/sse?token=hush", 0, "scheme"},
		{"not a URL", sseServerConfig{}, "http://127.0.0.1:port/sse?token=hush", 0, "not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSSEServer(t, tt.cfg)
			target := tt.url
			if target == "" {
				target = "{base}/sse?token=hush"
			}
			c := NewLegacySSE(strings.ReplaceAll(target, "{base}", srv.URL), SSEOptions{DialTimeout: tt.dialTimeout})
			if tt.dialTimeout == 0 {
				c.dialTimeout = sseTestTimeout
			}
			// The server ends the stream at once where the case wants it to.
			if tt.cfg.noEndpoint && tt.dialTimeout == 0 {
				go func() {
					select {
					case st := <-srv.streams:
						close(st.end)
					case <-c.Done():
					}
				}()
			}
			err := c.Start(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Start: %v; want an error mentioning %q", err, tt.want)
			}
			t.Logf("Start: %v", err)
			if strings.Contains(err.Error(), "hush") {
				t.Errorf("Start error %q shows a URL's query, which may hold a secret", err)
			}
			sseWaitClosed(t, c.Done(), "Done after a failed Start")
			if c.Err() != err {
				t.Errorf("Err = %v; want the Start error", c.Err())
			}
		})
	}
}

func TestSSEStartCanceled(t *testing.T) {
	srv := startSSEServer(t, sseServerConfig{noEndpoint: true})
	c := NewLegacySSE(srv.URL+"/sse", SSEOptions{DialTimeout: sseTestTimeout})
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan error, 1)
	go func() { started <- c.Start(ctx) }()
	stream := sseReceive(t, srv.streams, "the GET")
	cancel()
	if err := sseReceive(t, started, "Start to return"); !errors.Is(err, context.Canceled) {
		t.Errorf("Start: %v; want context.Canceled", err)
	}
	sseWaitClosed(t, c.Done(), "Done")
	sseWaitClosed(t, stream.gone, "the server to see the stream go")
}

func TestSSEEventReader(t *testing.T) {
	const limit = 16
	tests := []struct {
		name    string
		in      string
		want    []sseEvent
		wantErr error // after the events; nil means io.EOF
	}{
		{
			name: "one event",
			in:   "event: endpoint\ndata: /message\n\n",
			want: []sseEvent{{"endpoint", []byte("/message")}},
		},
		{
			name: "a byte order mark at the start",
			in:   "\xEF\xBB\xBFevent: endpoint\ndata: /message\n\n",
			want: []sseEvent{{"endpoint", []byte("/message")}},
		},
		{
			name: "unnamed events are messages",
			in:   "data: {}\n\ndata: []\n\n",
			want: []sseEvent{{"message", []byte("{}")}, {"message", []byte("[]")}},
		},
		{
			name: "data lines join with LF",
			in:   "data: a\ndata: b\ndata\ndata: c\n\n",
			want: []sseEvent{{"message", []byte("a\nb\n\nc")}},
		},
		{
			name: "CRLF and CR line endings",
			in:   "event: x\r\ndata: a\r\ndata: b\r\n\r\nevent: y\rdata: c\r\r",
			want: []sseEvent{{"x", []byte("a\nb")}, {"y", []byte("c")}},
		},
		{
			name: "only one space after the colon goes",
			in:   "data:a\ndata:  b \n\n",
			want: []sseEvent{{"message", []byte("a\n b ")}},
		},
		{
			name: "comments, id, retry and unknown fields are ignored",
			in:   ": hello\nid: 7\nretry: 10\nfoo: bar\ndata: a\n\n",
			want: []sseEvent{{"message", []byte("a")}},
		},
		{
			name: "events without data are skipped",
			in:   "event: endpoint\n\n: ping\n\ndata:\n\n\n\ndata: a\n\n",
			want: []sseEvent{{"message", []byte("a")}},
		},
		{
			name: "an event cut off by the end of the stream is dropped",
			in:   "data: a\n\ndata: b\n",
			want: []sseEvent{{"message", []byte("a")}},
		},
		{
			name: "data at the limit",
			in:   "data: " + strings.Repeat("x", limit) + "\n\n",
			want: []sseEvent{{"message", []byte(strings.Repeat("x", limit))}},
		},
		{
			name:    "data over the limit",
			in:      "data: a\n\ndata: " + strings.Repeat("x", limit+1) + "\n\n",
			want:    []sseEvent{{"message", []byte("a")}},
			wantErr: ErrFrameTooLarge,
		},
		{
			name:    "data lines over the limit together",
			in:      "data: " + strings.Repeat("x", limit/2) + "\ndata: " + strings.Repeat("x", limit/2) + "\n\n",
			wantErr: ErrFrameTooLarge,
		},
		{
			name:    "a line far over the limit",
			in:      ": " + strings.Repeat("x", limit+sseFieldSlack+1) + "\n\ndata: a\n\n",
			wantErr: ErrFrameTooLarge,
		},
	}
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"whole", func(r io.Reader) io.Reader { return r }},
		{"byte by byte", iotest.OneByteReader},
	}
	for _, tt := range tests {
		for _, rd := range readers {
			t.Run(tt.name+"/"+rd.name, func(t *testing.T) {
				events := newSSEEventReader(rd.wrap(strings.NewReader(tt.in)), limit)
				var got []sseEvent
				var err error
				for {
					var ev sseEvent
					if ev, err = events.Next(); err != nil {
						break
					}
					got = append(got, ev)
				}
				if len(got) != len(tt.want) {
					t.Fatalf("got %d events %q; want %q", len(got), got, tt.want)
				}
				for i := range got {
					if got[i].Name != tt.want[i].Name || string(got[i].Data) != string(tt.want[i].Data) {
						t.Errorf("event %d: %s %q; want %s %q", i, got[i].Name, got[i].Data, tt.want[i].Name, tt.want[i].Data)
					}
				}
				wantErr := tt.wantErr
				if wantErr == nil {
					wantErr = io.EOF
				}
				if !errors.Is(err, wantErr) {
					t.Errorf("ended with %v; want %v", err, wantErr)
				}
			})
		}
	}
}
