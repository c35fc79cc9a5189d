package transports

import (
	"encoding/json"

	"github.com/plugboard/plugboard/messages"
)

// Outbound is a frame for a client, with what a transport needs to route
// it: the id of the client request it answers, or nil for the
// notifications and requests plugboard sends on its own.
type Outbound struct {
	Frame      []byte
	ResponseTo json.RawMessage
	// RelatedTo is the client request a notification belongs to: it goes
	// on that request's stream while the request is open.
	RelatedTo json.RawMessage
	// Batch is the read of a server's stream an answer came in: a
	// client's stream may hold the frame until that read is handled
	// (messages.WriteBatch). nil: written at once.
	Batch messages.WriteBatch
}

// ClientSession is one client session as a transport sees it: frames in,
// frames out.
type ClientSession interface {
	// Deliver passes one frame from the client in. It blocks while the
	// session has its maximum of requests in flight: the transport stops
	// reading the client meanwhile.
	Deliver(f Frame)
	// Reject answers a frame that could not be parsed.
	Reject(e *FrameError)
	// Out carries the frames for the client; it is closed once the
	// session has ended and everything for the client was handed over.
	Out() <-chan Outbound
	// Abandon tells the session that the client will never read the
	// answer to its request id: the request is cancelled downstream, as by
	// the client's notifications/cancelled, with reason.
	Abandon(id json.RawMessage, reason string)
	// Close ends the session; what the session had started downstream is
	// cancelled. It may be called more than once.
	Close()
}

// connectionClosed is the reason a request whose answer can no longer be
// delivered is cancelled with: plugboard keeps no answers for a client to
// resume.
const connectionClosed = "the client's connection closed"

// SessionOpener opens client sessions.
type SessionOpener interface {
	OpenSession() ClientSession
}

// TransportDescriber is a ClientSession that can be told which transport
// it came over ("streamable", "sse", "ws", "socket", "stdio"), for status.
type TransportDescriber interface {
	DescribeTransport(name string)
}

// Listener is a ClientSession that can be told to receive list changes
// although its client never initialized: a 2026-07-28 subscriptions/listen.
type Listener interface {
	Listen()
}

// Consumer is a ClientSession that can hand its frames to a function
// instead of its Out channel, with no goroutine of the transport's
// waiting on it while the session is idle.
type Consumer interface {
	// Consume must be called before the session's first frame; from then
	// on Out is not used. deliver may block (the session waits, not its
	// actors); ended is called once, after the last frame.
	Consume(deliver func(Outbound), ended func())
}

// DirectConsumer is a Consumer that can also hand a frame over on the
// goroutine that produced it (a server connection's reader, with the
// session's actors running on it): direct must never block, and returns
// false when it cannot take the frame at once, which then goes to
// deliver, in order, from a goroutine of the session's.
type DirectConsumer interface {
	ConsumeDirect(direct func(Outbound) bool, deliver func(Outbound), ended func())
}
