package main

// MCP over WebSocket at /ws: the client asks for the subprotocol "mcp",
// and each text message carries one JSON-RPC message, in both directions.
// The session lasts as long as the connection.

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

const (
	wsSubprotocol = "mcp"
	// wsWriteTimeout bounds one write to a client that stopped reading.
	wsWriteTimeout = 10 * time.Second
)

// webSocketMCP serves /ws.
type webSocketMCP struct {
	net      *network
	sessions *sessionTable[*wsSession]
}

func (h *webSocketMCP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !slices.Contains(websocket.Subprotocols(r), wsSubprotocol) {
		writeHTTPError(w, http.StatusBadRequest, codeServerError, `Bad Request: the WebSocket subprotocol "mcp" is required`)
		return
	}
	upgrader := websocket.Upgrader{
		Subprotocols: []string{wsSubprotocol},
		// localOnly has checked Origin already, and more strictly than
		// the upgrader's same-origin rule would.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered the request
	}
	conn.SetReadLimit(maxBodyBytes)

	ws := &wsSession{id: newSessionID(), conn: conn}
	ws.ctx, ws.cancel = context.WithCancel(context.Background())
	ws.core = h.net.newSession(ws, "websocket "+ws.id)
	h.sessions.add(ws.id, ws)
	defer func() {
		if _, ok := h.sessions.remove(ws.id); ok {
			ws.close()
		}
	}()

	for {
		kind, data, err := conn.ReadMessage()
		if err != nil {
			var closeErr *websocket.CloseError
			if !errors.As(err, &closeErr) {
				ws.core.logger.Printf("reading: %v", err)
			}
			return
		}
		if kind != websocket.TextMessage {
			ws.core.logger.Print("closing: a binary message, but MCP messages are text")
			ws.goodbye(websocket.CloseUnsupportedData, "MCP messages are text messages")
			return
		}
		ws.core.handle(ws.ctx, data)
	}
}

// wsSession is one WebSocket connection's session, and its outlet.
type wsSession struct {
	id     string
	core   *session
	conn   *websocket.Conn
	ctx    context.Context // ends with the connection, cancelling its calls
	cancel context.CancelFunc

	writeMu   sync.Mutex // gorilla allows one writer at a time
	closeOnce sync.Once
}

func (ws *wsSession) send(_ context.Context, frame []byte) {
	ws.writeMu.Lock()
	defer ws.writeMu.Unlock()
	err := ws.conn.SetWriteDeadline(time.Now().Add(wsWriteTimeout))
	if err == nil {
		err = ws.conn.WriteMessage(websocket.TextMessage, frame)
	}
	if err != nil {
		ws.core.logger.Printf("writing frame: %v", err)
	}
}

func (ws *wsSession) finish(ctx context.Context, response []byte) {
	if response != nil {
		ws.send(ctx, response)
	}
}

// disconnect does nothing: closing the connection would end the session.
func (ws *wsSession) disconnect(context.Context) {}

// goodbye sends a close message before the connection goes.
func (ws *wsSession) goodbye(code int, reason string) {
	ws.writeMu.Lock()
	defer ws.writeMu.Unlock()
	_ = ws.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
}

// close drops the connection at once, as a crashing server would; the
// read loop then ends.
func (ws *wsSession) close() {
	ws.closeOnce.Do(func() {
		ws.cancel()
		ws.core.clientClosed()
		_ = ws.conn.Close()
		ws.core.logger.Print("session closed")
	})
}
