package transports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// wsSubprotocol is the WebSocket subprotocol asked for in the upgrade.
const wsSubprotocol = "mcp"

// WebSocket client timing defaults. A write that takes longer than
// wsClientWriteTimeout means a server that stopped reading; wsCloseGrace is
// how long Close waits for the server to answer its close frame.
const (
	wsDialTimeout        = 10 * time.Second
	wsPingInterval       = 30 * time.Second
	wsPongWait           = 60 * time.Second
	wsClientWriteTimeout = 30 * time.Second
	wsCloseGrace         = time.Second
)

var errWebSocketNotStarted = errors.New("websocket transport not started")

// WebSocketOptions configure a WebSocket MCP client connection.
type WebSocketOptions struct {
	Headers     map[string]string // sent with the upgrade request (e.g. Authorization)
	MaxFrame    int               // read limit per message; 0 means DefaultMaxFrame
	DialTimeout time.Duration     // 0 means 10s
	OAuth       *OAuth            // the server's login, added to the upgrade request; nil for none
}

// WebSocket is an MCP client transport over one WebSocket connection,
// subprotocol "mcp", one JSON-RPC message per text message. It implements
// mcp-go's transport.BidirectionalInterface.
//
// The connection is kept alive with pings; a server that leaves them
// unanswered for the pong wait is taken for dead. Once the connection ends,
// for whatever reason, Done is closed and every pending or later request
// fails with transport.ErrTransportClosed.
type WebSocket struct {
	url         string
	header      http.Header
	oauth       *OAuth
	maxFrame    int
	dialTimeout time.Duration

	// Timing; fields rather than constants so that tests can shorten them
	// before Start.
	pingInterval time.Duration
	pongWait     time.Duration
	writeTimeout time.Duration
	closeGrace   time.Duration

	mu             sync.Mutex // guards the fields below and the closing of done
	conn           *websocket.Conn
	started        bool
	cancelDial     context.CancelFunc
	handlerCtx     context.Context // for server-to-client requests; ends with the connection
	cancelHandlers context.CancelFunc
	err            error // why the connection ended

	// writeLock lets one goroutine write at a time, as gorilla requires;
	// a channel rather than a mutex so that waiting for it honours ctx.
	writeLock chan struct{}

	rpcPeer

	done       chan struct{}
	readerDone chan struct{}
	closeOnce  sync.Once
}

var _ transport.BidirectionalInterface = (*WebSocket)(nil)

// NewWebSocket returns a transport for the server at url (ws://, wss://,
// or http:// and https:// for the same). Nothing is dialled before Start.
func NewWebSocket(url string, opts WebSocketOptions) *WebSocket {
	header := make(http.Header, len(opts.Headers))
	for k, v := range opts.Headers {
		header.Set(k, v)
	}
	w := &WebSocket{
		url:          url,
		header:       header,
		oauth:        opts.OAuth,
		maxFrame:     opts.MaxFrame,
		dialTimeout:  opts.DialTimeout,
		pingInterval: wsPingInterval,
		pongWait:     wsPongWait,
		writeTimeout: wsClientWriteTimeout,
		closeGrace:   wsCloseGrace,
		writeLock:    make(chan struct{}, 1),
		rpcPeer:      newRPCPeer("websocket"),
		done:         make(chan struct{}),
		readerDone:   make(chan struct{}),
	}
	if w.maxFrame <= 0 {
		w.maxFrame = DefaultMaxFrame
	}
	if w.dialTimeout <= 0 {
		w.dialTimeout = wsDialTimeout
	}
	return w
}

// Start dials the server and starts reading from it. ctx bounds the dial
// only; the connection lives until Close or until it breaks. A failed Start
// ends the transport: Done closes and Err says why.
func (w *WebSocket) Start(ctx context.Context) error {
	w.mu.Lock()
	if w.started {
		w.mu.Unlock()
		return errors.New("websocket transport already started")
	}
	w.started = true
	if w.ended() {
		w.mu.Unlock()
		return transport.ErrTransportClosed
	}
	target, shown, err := websocketURL(w.url)
	if err != nil {
		w.mu.Unlock()
		w.end(err)
		return err
	}
	dialCtx, cancel := context.WithTimeout(ctx, w.dialTimeout)
	defer cancel()
	w.cancelDial = cancel
	w.mu.Unlock()

	dialer := websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: w.dialTimeout,
		Subprotocols:     []string{wsSubprotocol},
	}
	header, err := w.oauth.upgradeHeader(dialCtx, w.header)
	if err != nil {
		err = fmt.Errorf("connecting to %s: %w", shown, err)
		w.end(err)
		return err
	}
	conn, resp, err := dialer.DialContext(dialCtx, target, header)
	if err != nil {
		if w.ended() { // Close came during the dial
			return transport.ErrTransportClosed
		}
		if nl := w.oauth.refusal(dialCtx, resp, header.Get("Authorization")); nl != nil {
			err = nl
		} else if resp != nil {
			err = fmt.Errorf("%w (HTTP %s)", err, resp.Status)
		}
		err = fmt.Errorf("connecting to %s: %w", shown, err)
		w.end(err)
		return err
	}
	if p := conn.Subprotocol(); p != wsSubprotocol {
		// Many servers do not echo the subprotocol back; they still speak MCP.
		slog.Default().Debug("websocket server did not accept the mcp subprotocol; going on", "url", shown, "subprotocol", p)
	}
	conn.SetReadLimit(int64(w.maxFrame))

	w.mu.Lock()
	if w.ended() {
		w.mu.Unlock()
		_ = conn.Close()
		return transport.ErrTransportClosed
	}
	w.conn = conn
	w.handlerCtx, w.cancelHandlers = context.WithCancel(context.WithoutCancel(ctx))
	w.mu.Unlock()

	go w.read(conn)
	go w.keepAlive(conn)
	return nil
}

// websocketURL returns raw with an http(s) scheme turned into ws(s), and a
// form of it fit for messages (RedactURL's: userinfo and query values may
// hold credentials).
func websocketURL(raw string) (target, shown string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		// Not err itself: it quotes the whole URL.
		return "", "", fmt.Errorf("websocket url is not valid: %w", errors.Unwrap(err))
	}
	scheme := u.Scheme
	switch scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	}
	target = u.String()
	shown = redactURL(u)
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return "", "", fmt.Errorf("websocket url %s: scheme %q is not ws, wss, http or https", shown, scheme)
	}
	return target, shown, nil
}

// read is the connection's only reader. It dispatches each message until
// the connection fails, then ends the transport with the reason.
func (w *WebSocket) read(conn *websocket.Conn) {
	defer close(w.readerDone)
	_ = conn.SetReadDeadline(time.Now().Add(w.pongWait))
	conn.SetPongHandler(func(string) error {
		return conn.SetReadDeadline(time.Now().Add(w.pongWait))
	})
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			w.end(w.readError(err))
			_ = conn.Close()
			return
		}
		if w.ended() {
			continue // closing: only waiting for the server's close frame
		}
		w.dispatch(msg, w.answer)
	}
}

// readError says why reading failed, in the transport's terms.
func (w *WebSocket) readError(err error) error {
	var closeErr *websocket.CloseError
	var netErr net.Error // gorilla hides a timeout's os.ErrDeadlineExceeded
	switch {
	case errors.Is(err, websocket.ErrReadLimit):
		return fmt.Errorf("%w: the server sent a message over the %d-byte limit", ErrFrameTooLarge, w.maxFrame)
	case errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("no pong from the server in %s; the connection is taken for dead", w.pongWait)
	case errors.As(err, &closeErr):
		return fmt.Errorf("the server closed the connection: %w", err)
	default:
		return fmt.Errorf("reading from the server: %w", err)
	}
}

// answer answers a request from the server.
func (w *WebSocket) answer(req transport.JSONRPCRequest) {
	w.mu.Lock()
	ctx := w.handlerCtx
	w.mu.Unlock()
	if err := w.write(ctx, w.respond(ctx, req)); err != nil {
		slog.Default().Debug("websocket: could not answer a server request", "method", req.Method, "err", err)
	}
}

// keepAlive pings the server until the connection ends. The reader
// notices missing pongs.
func (w *WebSocket) keepAlive(conn *websocket.Conn) {
	ticker := time.NewTicker(w.pingInterval)
	defer ticker.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-ticker.C:
			// WriteControl may run alongside the one data writer.
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(w.writeTimeout)); err != nil {
				w.end(fmt.Errorf("sending a ping: %w", err))
				_ = conn.Close()
				return
			}
		}
	}
}

// write sends one text message. A failed write leaves the connection in an
// unknown state, so it ends the transport.
func (w *WebSocket) write(ctx context.Context, msg []byte) error {
	select {
	case w.writeLock <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-w.done:
		return w.closedError()
	}
	defer func() { <-w.writeLock }()
	if w.ended() {
		return w.closedError()
	}
	conn := w.connection()
	_ = conn.SetWriteDeadline(time.Now().Add(w.writeTimeout))
	if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
		err = fmt.Errorf("writing to the server: %w", err)
		w.end(err)
		_ = conn.Close()
		return fmt.Errorf("%w: %w", transport.ErrTransportClosed, err)
	}
	return nil
}

// SendRequest sends a request and waits for the response with its id, the
// end of ctx (ctx.Err()), or the end of the connection
// (transport.ErrTransportClosed, with the reason when there is one).
func (w *WebSocket) SendRequest(ctx context.Context, req transport.JSONRPCRequest) (*transport.JSONRPCResponse, error) {
	select {
	case <-w.done:
		return nil, w.closedError()
	case <-ctx.Done():
		return nil, ctx.Err()
	default:
	}
	if w.connection() == nil {
		return nil, errWebSocketNotStarted
	}
	return w.roundTrip(ctx, req, w.done, w.closedError, func(msg []byte) error { return w.write(ctx, msg) })
}

// SendNotification sends a notification to the server.
func (w *WebSocket) SendNotification(ctx context.Context, n mcp.JSONRPCNotification) error {
	select {
	case <-w.done:
		return w.closedError()
	case <-ctx.Done():
		return ctx.Err()
	default:
	}
	if w.connection() == nil {
		return errWebSocketNotStarted
	}
	msg, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("encoding notification %s: %w", n.Method, err)
	}
	return w.write(ctx, msg)
}

// Close ends the connection: pending requests fail at once, the server is
// sent a close frame and given a moment to answer it, then the socket is
// closed. Calling it again does nothing.
func (w *WebSocket) Close() error {
	w.closeOnce.Do(func() {
		w.end(nil)
		w.mu.Lock()
		conn, cancelDial := w.conn, w.cancelDial
		w.mu.Unlock()
		if cancelDial != nil {
			cancelDial()
		}
		if conn == nil {
			return
		}
		bye := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
		if conn.WriteControl(websocket.CloseMessage, bye, time.Now().Add(w.closeGrace)) == nil {
			// The reader stops when the server's close frame comes back.
			timer := time.NewTimer(w.closeGrace)
			select {
			case <-w.readerDone:
			case <-timer.C:
			}
			timer.Stop()
		}
		_ = conn.Close()
	})
	return nil
}

// GetSessionId returns "": a WebSocket connection has no MCP session id.
func (w *WebSocket) GetSessionId() string { return "" }

// Done is closed when the connection ends, for any reason.
func (w *WebSocket) Done() <-chan struct{} { return w.done }

// Err says why the connection ended, once Done is closed: nil after Close,
// otherwise what broke it.
func (w *WebSocket) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// end records why the connection ended, the first time only, and releases
// everyone waiting on it.
func (w *WebSocket) end(err error) {
	w.mu.Lock()
	if w.ended() {
		w.mu.Unlock()
		return
	}
	w.err = err
	close(w.done)
	cancel := w.cancelHandlers
	w.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// closedError is transport.ErrTransportClosed with the reason the
// connection ended, if it did not end by Close.
func (w *WebSocket) closedError() error {
	if err := w.Err(); err != nil {
		return fmt.Errorf("%w: %w", transport.ErrTransportClosed, err)
	}
	return transport.ErrTransportClosed
}

func (w *WebSocket) connection() *websocket.Conn {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.conn
}

// ended reports whether the connection has ended.
func (w *WebSocket) ended() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}
