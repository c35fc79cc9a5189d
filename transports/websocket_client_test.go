package transports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// wsTestTimeout bounds every wait in these tests; nothing should come near it.
const wsTestTimeout = 5 * time.Second

// wsPeer is the server end of one test connection, which the test drives
// as a tiny MCP server would. Only the test goroutine reads and writes it.
type wsPeer struct {
	t      *testing.T
	conn   *websocket.Conn
	header http.Header // of the upgrade request
}

// startWSServer serves WebSocket upgrades on 127.0.0.1 and hands out each
// connection; the server accepts the given subprotocols.
func startWSServer(t *testing.T, subprotocols ...string) (url string, peers <-chan *wsPeer) {
	t.Helper()
	ch := make(chan *wsPeer, 4)
	upgrader := websocket.Upgrader{Subprotocols: subprotocols}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		ch <- &wsPeer{t: t, conn: conn, header: r.Header.Clone()}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http"), ch
}

// connectWS starts a client on url and returns it with the server's end.
// tune, if given, adjusts the client before Start.
func connectWS(t *testing.T, url string, peers <-chan *wsPeer, opts WebSocketOptions, tune func(*WebSocket)) (*WebSocket, *wsPeer) {
	t.Helper()
	ws := NewWebSocket(url, opts)
	if tune != nil {
		tune(ws)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wsTestTimeout)
	defer cancel()
	if err := ws.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	peer := receive(t, peers, "the server's end of the connection")
	// Registered last, so run first: the client then sees the socket go
	// and its Close has no close handshake to wait for.
	t.Cleanup(func() { _ = peer.conn.Close() })
	return ws, peer
}

// read returns the next message the client sent.
func (p *wsPeer) read() Frame {
	p.t.Helper()
	_ = p.conn.SetReadDeadline(time.Now().Add(wsTestTimeout))
	kind, data, err := p.conn.ReadMessage()
	if err != nil {
		p.t.Fatalf("server read: %v", err)
	}
	if kind != websocket.TextMessage {
		p.t.Fatalf("server read a message of type %d; want text", kind)
	}
	f, err := ParseFrame(data)
	if err != nil {
		p.t.Fatalf("server read %s: %v", data, err)
	}
	return f
}

// readClose reads until the client's close frame and returns its code.
func (p *wsPeer) readClose() int {
	p.t.Helper()
	_ = p.conn.SetReadDeadline(time.Now().Add(wsTestTimeout))
	for {
		_, data, err := p.conn.ReadMessage()
		var ce *websocket.CloseError
		switch {
		case errors.As(err, &ce):
			return ce.Code
		case err != nil:
			p.t.Fatalf("server read: %v; want a close frame", err)
		default:
			p.t.Logf("server read %s while waiting for a close frame", data)
		}
	}
}

func (p *wsPeer) write(msg []byte) {
	p.t.Helper()
	_ = p.conn.SetWriteDeadline(time.Now().Add(wsTestTimeout))
	if err := p.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
		p.t.Fatalf("server write: %v", err)
	}
}

// drain reads on its own goroutine until the connection goes, so that the
// server's control-frame handlers run.
func (p *wsPeer) drain() {
	go func() {
		for {
			if _, _, err := p.conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
}

// wsResult is the server's response to id, with result as it is.
func wsResult(id json.RawMessage, result string) []byte {
	return []byte(`{"jsonrpc":"2.0","id":` + string(id) + `,"result":` + result + `}`)
}

type wsReply struct {
	resp *transport.JSONRPCResponse
	err  error
}

// sendAsync runs SendRequest on a goroutine of its own.
func sendAsync(ctx context.Context, ws *WebSocket, req transport.JSONRPCRequest) <-chan wsReply {
	ch := make(chan wsReply, 1)
	go func() {
		resp, err := ws.SendRequest(ctx, req)
		ch <- wsReply{resp, err}
	}()
	return ch
}

func wsRequest(id any, method string, params any) transport.JSONRPCRequest {
	return transport.JSONRPCRequest{JSONRPC: mcp.JSONRPC_VERSION, ID: mcp.NewRequestId(id), Method: method, Params: params}
}

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wsTestTimeout):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(wsTestTimeout):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestWebSocketRoundTrip(t *testing.T) {
	// The result's bytes must come through untouched: 2.50 is not 2.5, the
	// integer does not fit a float64, and the layout is the server's.
	const result = "{ \"price\": 2.50,\n  \"big\": 123456789012345678901234567890, \"text\": \"caf\\u00e9\" }"
	tests := []struct {
		name         string
		subprotocols []string
		want         string // the subprotocol negotiated
	}{
		{"server accepts mcp", []string{"mcp"}, "mcp"},
		{"server ignores the subprotocol", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, peers := startWSServer(t, tt.subprotocols...)
			ws, peer := connectWS(t, url, peers, WebSocketOptions{}, nil)
			if got := peer.conn.Subprotocol(); got != tt.want {
				t.Errorf("negotiated subprotocol %q; want %q", got, tt.want)
			}

			reply := sendAsync(context.Background(), ws, wsRequest(int64(1), "tools/call", json.RawMessage(`{"name":"echo"}`)))
			f := peer.read()
			if f.Method != "tools/call" || string(f.ID) != "1" || string(f.Params) != `{"name":"echo"}` {
				t.Fatalf("server got method %q id %s params %s", f.Method, f.ID, f.Params)
			}
			peer.write(wsResult(f.ID, result))

			r := receive(t, reply, "the response")
			if r.err != nil {
				t.Fatalf("SendRequest: %v", r.err)
			}
			if got := string(r.resp.Result); got != result {
				t.Errorf("result %s; want %s", got, result)
			}
			if r.resp.ID.String() != mcp.NewRequestId(int64(1)).String() {
				t.Errorf("response id %v; want 1", r.resp.ID.Value())
			}
		})
	}
}

func TestWebSocketSendsHeaders(t *testing.T) {
	url, peers := startWSServer(t, "mcp")
	_, peer := connectWS(t, url, peers, WebSocketOptions{Headers: map[string]string{
		"Authorization": "Bearer s3cret",
		"x-tenant":      "blue",
	}}, nil)
	if got := peer.header.Get("Authorization"); got != "Bearer s3cret" {
		t.Errorf("Authorization %q; want %q", got, "Bearer s3cret")
	}
	if got := peer.header.Get("X-Tenant"); got != "blue" {
		t.Errorf("X-Tenant %q; want %q", got, "blue")
	}
}

func TestWebSocketConcurrentRequests(t *testing.T) {
	const n = 50
	url, peers := startWSServer(t, "mcp")
	ws, peer := connectWS(t, url, peers, WebSocketOptions{}, nil)

	type outcome struct {
		i int
		wsReply
	}
	outcomes := make(chan outcome, n)
	for i := 1; i <= n; i++ {
		go func() {
			resp, err := ws.SendRequest(context.Background(), wsRequest(int64(i), "tools/call", nil))
			outcomes <- outcome{i, wsReply{resp, err}}
		}()
	}

	// Answer only once all are in, last first, so that order tells nothing.
	ids := make([]json.RawMessage, 0, n)
	for range n {
		ids = append(ids, peer.read().ID)
	}
	for i := len(ids) - 1; i >= 0; i-- {
		peer.write(wsResult(ids[i], fmt.Sprintf(`{"n":%s}`, ids[i])))
	}

	for range n {
		o := receive(t, outcomes, "a response")
		if o.err != nil {
			t.Errorf("request %d: %v", o.i, o.err)
			continue
		}
		if got, want := string(o.resp.Result), fmt.Sprintf(`{"n":%d}`, o.i); got != want {
			t.Errorf("request %d got %s; want %s", o.i, got, want)
		}
	}
}

func TestWebSocketNotifications(t *testing.T) {
	url, peers := startWSServer(t, "mcp")
	ws, peer := connectWS(t, url, peers, WebSocketOptions{}, nil)

	got := make(chan mcp.JSONRPCNotification, 1)
	ws.SetNotificationHandler(func(n mcp.JSONRPCNotification) {
		select {
		case got <- n:
		default:
		}
	})
	peer.write([]byte(`{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"hello"}}`))
	n := receive(t, got, "the notification")
	if n.Method != "notifications/message" || n.Params.AdditionalFields["data"] != "hello" {
		t.Errorf("got %s %v; want notifications/message with data hello", n.Method, n.Params.AdditionalFields)
	}

	note := mcp.JSONRPCNotification{JSONRPC: mcp.JSONRPC_VERSION, Notification: mcp.Notification{
		Method: "notifications/initialized",
	}}
	if err := ws.SendNotification(context.Background(), note); err != nil {
		t.Fatalf("SendNotification: %v", err)
	}
	if f := peer.read(); !f.IsNotification() || f.Method != "notifications/initialized" {
		t.Errorf("server got %+v; want notifications/initialized", f)
	}
}

func TestWebSocketServerRequests(t *testing.T) {
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
			url, peers := startWSServer(t, "mcp")
			ws, peer := connectWS(t, url, peers, WebSocketOptions{}, nil)
			if tt.handler != nil {
				ws.SetRequestHandler(tt.handler)
			}

			peer.write([]byte(`{"jsonrpc":"2.0","id":"s-1","method":"roots/list"}`))
			f := peer.read()
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

func TestWebSocketServerEndsConnection(t *testing.T) {
	tests := []struct {
		name      string
		end       func(*wsPeer)
		closeCode int // the code Err must carry; 0 for none
	}{
		{
			name: "drops the socket",
			end:  func(p *wsPeer) { _ = p.conn.Close() },
		},
		{
			name: "sends a close frame",
			end: func(p *wsPeer) {
				msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "restarting")
				_ = p.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(wsTestTimeout))
				_ = p.conn.Close()
			},
			closeCode: websocket.CloseGoingAway,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, peers := startWSServer(t, "mcp")
			ws, peer := connectWS(t, url, peers, WebSocketOptions{}, nil)

			reply := sendAsync(context.Background(), ws, wsRequest(int64(7), "tools/call", nil))
			peer.read() // the request is pending now
			tt.end(peer)

			if r := receive(t, reply, "SendRequest to return"); !errors.Is(r.err, transport.ErrTransportClosed) {
				t.Errorf("SendRequest: %v, %v; want ErrTransportClosed", r.resp, r.err)
			}
			waitClosed(t, ws.Done(), "Done")
			err := ws.Err()
			if err == nil {
				t.Fatal("Err is nil after the server ended the connection")
			}
			var ce *websocket.CloseError
			if tt.closeCode != 0 && (!errors.As(err, &ce) || ce.Code != tt.closeCode) {
				t.Errorf("Err = %v; want close code %d", err, tt.closeCode)
			}
			if _, err := ws.SendRequest(context.Background(), wsRequest(int64(8), "ping", nil)); !errors.Is(err, transport.ErrTransportClosed) {
				t.Errorf("SendRequest after the end: %v; want ErrTransportClosed", err)
			}
		})
	}
}

func TestWebSocketContextCancel(t *testing.T) {
	url, peers := startWSServer(t, "mcp")
	ws, peer := connectWS(t, url, peers, WebSocketOptions{}, nil)

	ctx, cancel := context.WithCancel(context.Background())
	reply := sendAsync(ctx, ws, wsRequest(int64(1), "tools/call", nil))
	first := peer.read()
	cancel()
	if r := receive(t, reply, "SendRequest to return"); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("SendRequest: %v, %v; want context.Canceled", r.resp, r.err)
	}
	if ws.ended() {
		t.Fatalf("the connection ended with the request's context: %v", ws.Err())
	}

	// The late response is dropped, and the connection goes on.
	reply = sendAsync(context.Background(), ws, wsRequest(int64(2), "tools/call", nil))
	second := peer.read()
	peer.write(wsResult(first.ID, `"late"`))
	peer.write(wsResult(second.ID, `"on time"`))
	if r := receive(t, reply, "the second response"); r.err != nil || string(r.resp.Result) != `"on time"` {
		t.Errorf("second request: %v, %v; want \"on time\"", r.resp, r.err)
	}
}

func TestWebSocketMessageLimit(t *testing.T) {
	const limit = 1024
	url, peers := startWSServer(t, "mcp")
	ws, peer := connectWS(t, url, peers, WebSocketOptions{MaxFrame: limit}, nil)
	got := make(chan mcp.JSONRPCNotification, 1)
	ws.SetNotificationHandler(func(n mcp.JSONRPCNotification) { got <- n })

	notification := func(size int) []byte {
		prefix, suffix := `{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"`, `"}}`
		return []byte(prefix + strings.Repeat("x", size-len(prefix)-len(suffix)) + suffix)
	}
	peer.write(notification(limit))
	receive(t, got, "the notification at the limit")

	peer.write(notification(limit + 1))
	waitClosed(t, ws.Done(), "Done after an oversized message")
	err := ws.Err()
	if !errors.Is(err, ErrFrameTooLarge) || !strings.Contains(err.Error(), "1024") {
		t.Errorf("Err = %v; want ErrFrameTooLarge naming the 1024-byte limit", err)
	}
	if code := peer.readClose(); code != websocket.CloseMessageTooBig {
		t.Errorf("server got close code %d; want %d", code, websocket.CloseMessageTooBig)
	}
}

func TestWebSocketKeepAlive(t *testing.T) {
	const pongWait = 200 * time.Millisecond
	tests := []struct {
		name        string
		ignorePings bool
	}{
		{"server ignores pings", true},
		{"server answers pings", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, peers := startWSServer(t, "mcp")
			ws, peer := connectWS(t, url, peers, WebSocketOptions{}, func(ws *WebSocket) {
				ws.pingInterval = 20 * time.Millisecond
				ws.pongWait = pongWait
			})
			if tt.ignorePings {
				peer.conn.SetPingHandler(func(string) error { return nil })
			}
			peer.drain()

			if tt.ignorePings {
				waitClosed(t, ws.Done(), "Done without pongs")
				if err := ws.Err(); err == nil || !strings.Contains(err.Error(), "pong") {
					t.Errorf("Err = %v; want one about the missing pong", err)
				}
				return
			}
			// Watching for something that must not happen takes a fixed time:
			// five pong waits.
			select {
			case <-ws.Done():
				t.Fatalf("connection ended though the server answers pings: %v", ws.Err())
			case <-time.After(5 * pongWait):
			}
		})
	}
}

func TestWebSocketClose(t *testing.T) {
	url, peers := startWSServer(t, "mcp")
	ws, peer := connectWS(t, url, peers, WebSocketOptions{}, nil)

	reply := sendAsync(context.Background(), ws, wsRequest(int64(1), "tools/call", nil))
	peer.read()
	closed := make(chan error, 1)
	go func() { closed <- ws.Close() }()

	if code := peer.readClose(); code != websocket.CloseNormalClosure {
		t.Errorf("server got close code %d; want %d", code, websocket.CloseNormalClosure)
	}
	if err := receive(t, closed, "Close to return"); err != nil {
		t.Errorf("Close: %v", err)
	}
	if r := receive(t, reply, "SendRequest to return"); !errors.Is(r.err, transport.ErrTransportClosed) {
		t.Errorf("pending SendRequest: %v, %v; want ErrTransportClosed", r.resp, r.err)
	}
	waitClosed(t, ws.Done(), "Done")
	if err := ws.Err(); err != nil {
		t.Errorf("Err after Close = %v; want nil", err)
	}
	if err := ws.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	note := mcp.JSONRPCNotification{JSONRPC: mcp.JSONRPC_VERSION, Notification: mcp.Notification{Method: "notifications/x"}}
	if err := ws.SendNotification(context.Background(), note); !errors.Is(err, transport.ErrTransportClosed) {
		t.Errorf("SendNotification after Close: %v; want ErrTransportClosed", err)
	}
}

func TestWebSocketCloseBeforeStart(t *testing.T) {
	ws := NewWebSocket("ws://127.0.0.1:1/", WebSocketOptions{})
	if _, err := ws.SendRequest(context.Background(), wsRequest(int64(1), "ping", nil)); !errors.Is(err, errWebSocketNotStarted) {
		t.Errorf("SendRequest before Start: %v; want errWebSocketNotStarted", err)
	}
	if err := ws.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitClosed(t, ws.Done(), "Done")
	if err := ws.Start(context.Background()); !errors.Is(err, transport.ErrTransportClosed) {
		t.Errorf("Start after Close: %v; want ErrTransportClosed", err)
	}
}

func TestWebSocketStartFails(t *testing.T) {
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "who are you", http.StatusUnauthorized)
	}))
	t.Cleanup(refuse.Close)
	tests := []struct {
		name string
		url  string
		want string // in the error
	}{
		{"server refuses the upgrade", refuse.URL + "/mcp?token=hush", "401"},
		{"not a websocket scheme", "ftp://127.0.0.1/mcp?token=hush", "scheme"},
		{"not a URL", "ws://127.0.0.1:port/mcp?token=hush", "not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := NewWebSocket(tt.url, WebSocketOptions{DialTimeout: wsTestTimeout})
			err := ws.Start(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Start: %v; want an error mentioning %q", err, tt.want)
			}
			t.Logf("Start: %v", err)
			if strings.Contains(err.Error(), "hush") {
				t.Errorf("Start error %q shows the URL's query, which may hold a secret", err)
			}
			waitClosed(t, ws.Done(), "Done after a failed Start")
			if ws.Err() != err {
				t.Errorf("Err = %v; want the Start error", ws.Err())
			}
		})
	}
}
