package transports

import (
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// wsWriteTimeout bounds one write to a WebSocket client.
const wsWriteTimeout = 30 * time.Second

// serveWebSocket serves /ws: one JSON-RPC message per text message, both
// ways, subprotocol "mcp".
func (h *HTTPFront) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	s, ok := h.openSession(r, kindWebSocket)
	if !ok {
		h.tooManySessions(w)
		return
	}
	defer h.endSession(s)
	upgrader := websocket.Upgrader{
		Subprotocols: []string{"mcp"},
		// guard has checked the Origin already.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered the client
	}
	defer conn.Close()
	conn.SetReadLimit(int64(h.opts.MaxFrame))
	st := newStream()
	s.setSink(st)
	defer s.remove(st, nil)
	go h.writeWebSocket(conn, s, st)
	for {
		kind, data, err := conn.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				_ = conn.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(websocket.CloseMessageTooBig, "message over the frame limit"), time.Now().Add(time.Second))
			}
			return
		}
		if kind != websocket.TextMessage {
			continue
		}
		s.touch()
		frame, err := ParseFrame(data)
		if err != nil {
			var fe *FrameError
			if errors.As(err, &fe) {
				s.cs.Reject(fe)
			}
			continue
		}
		s.cs.Deliver(frame)
	}
}

// writeWebSocket is the connection's one writer.
func (h *HTTPFront) writeWebSocket(conn *websocket.Conn, s *httpSession, st *stream) {
	for _, frame := range s.takeBacklog() {
		if conn.SetWriteDeadline(time.Now().Add(wsWriteTimeout)) != nil || conn.WriteMessage(websocket.TextMessage, frame) != nil {
			st.leave()
			return
		}
	}
	for {
		select {
		case f := <-st.frames:
			if conn.SetWriteDeadline(time.Now().Add(wsWriteTimeout)) != nil || conn.WriteMessage(websocket.TextMessage, f.data) != nil {
				st.leave()
				_ = conn.Close()
				return
			}
		case <-st.gone:
			return
		case <-s.ended:
			_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "session ended"), time.Now().Add(time.Second))
			return
		}
	}
}
