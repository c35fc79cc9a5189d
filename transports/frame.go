package transports

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/plugboard/plugboard/messages"
)

// DefaultMaxFrame is the largest frame accepted by default: 16 MiB.
const DefaultMaxFrame = 16 << 20

// Frame is one JSON-RPC message, decoded only as far as routing needs.
// A request has Method and ID; a notification Method only; a response ID
// and Result or Error.
type Frame struct {
	ID     json.RawMessage
	Method string
	Params json.RawMessage
	Result json.RawMessage
	Error  json.RawMessage
}

// IsRequest reports whether f expects a response.
func (f *Frame) IsRequest() bool { return f.Method != "" && f.ID != nil }

// IsNotification reports whether f is a notification.
func (f *Frame) IsNotification() bool { return f.Method != "" && f.ID == nil }

// FrameError is a frame that cannot be served, with the JSON-RPC error
// code the peer must be answered with. ID is the frame's id when it could
// be read, else nil (answered with a null id).
type FrameError struct {
	Code    int
	Message string
	ID      json.RawMessage
}

func (e *FrameError) Error() string { return fmt.Sprintf("%s (%d)", e.Message, e.Code) }

// ParseFrame decodes one JSON-RPC message. A frame that is not valid JSON
// is a parse error; valid JSON that is not a JSON-RPC 2.0 message is an
// invalid request; both come back as *FrameError, with the frame's id when
// it could be read. Member names are matched exactly, as JSON-RPC says.
func ParseFrame(b []byte) (Frame, error) {
	b = bytes.TrimSpace(b)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		if !json.Valid(b) {
			return Frame{}, &FrameError{Code: messages.CodeParseError, Message: "parse error: invalid JSON"}
		}
		if len(b) > 0 && b[0] == '[' {
			return Frame{}, &FrameError{Code: messages.CodeInvalidRequest, Message: "invalid request: JSON-RPC batches are not supported"}
		}
		return Frame{}, &FrameError{Code: messages.CodeInvalidRequest, Message: "invalid request: a JSON-RPC message must be an object"}
	}
	id, hasID := m["id"]
	if hasID && !validID(id) {
		return Frame{}, &FrameError{Code: messages.CodeInvalidRequest, Message: "invalid request: id must be a string or a number"}
	}
	var version string
	if json.Unmarshal(m["jsonrpc"], &version) != nil || version != "2.0" {
		return Frame{}, &FrameError{Code: messages.CodeInvalidRequest, Message: `invalid request: "jsonrpc" must be "2.0"`, ID: id}
	}
	f := Frame{ID: id, Params: m["params"], Result: m["result"], Error: m["error"]}
	if rawMethod, ok := m["method"]; ok {
		if json.Unmarshal(rawMethod, &f.Method) != nil || f.Method == "" {
			return Frame{}, &FrameError{Code: messages.CodeInvalidRequest, Message: `invalid request: "method" must be a non-empty string`, ID: id}
		}
		if string(id) == "null" {
			return Frame{}, &FrameError{Code: messages.CodeInvalidRequest, Message: "invalid request: a request id must not be null"}
		}
		return f, nil
	}
	if !hasID || (f.Result == nil && f.Error == nil) {
		return Frame{}, &FrameError{Code: messages.CodeInvalidRequest, Message: "invalid request: neither a request, a notification nor a response", ID: id}
	}
	return f, nil
}

// validID reports whether a raw id is a string, a number or null.
func validID(id json.RawMessage) bool {
	if len(id) == 0 {
		return false
	}
	switch c := id[0]; {
	case c == '"', c == '-', c >= '0' && c <= '9':
		return true
	default:
		return string(id) == "null"
	}
}

// oneLine returns raw JSON without line breaks, so that it fits one
// line-delimited frame or one SSE data line. Raw JSON from a server may be
// pretty-printed; most is not, and passes through untouched.
func oneLine(raw json.RawMessage) json.RawMessage {
	if bytes.IndexByte(raw, '\n') < 0 && bytes.IndexByte(raw, '\r') < 0 {
		return raw
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}

// ResultFrame renders a successful response.
func ResultFrame(id, result json.RawMessage) []byte {
	result = oneLine(result)
	b := make([]byte, 0, len(id)+len(result)+40)
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = appendID(b, id)
	b = append(b, `,"result":`...)
	b = append(b, result...)
	return append(b, '}')
}

// ErrorFrame renders an error response; a nil id is rendered as null.
func ErrorFrame(id json.RawMessage, e *messages.RPCError) []byte {
	body, err := json.Marshal(e)
	if err != nil { // only a Data that is not valid JSON gets here
		body, _ = json.Marshal(messages.RPCError{Code: e.Code, Message: e.Message})
	}
	b := make([]byte, 0, len(id)+len(body)+40)
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = appendID(b, id)
	b = append(b, `,"error":`...)
	b = append(b, body...)
	return append(b, '}')
}

// NotificationFrame renders a notification; nil params are left out.
func NotificationFrame(method string, params json.RawMessage) []byte {
	params = oneLine(params)
	b := make([]byte, 0, len(method)+len(params)+48)
	b = append(b, `{"jsonrpc":"2.0","method":`...)
	m, _ := json.Marshal(method) // a string always marshals
	b = append(b, m...)
	if params != nil {
		b = append(b, `,"params":`...)
		b = append(b, params...)
	}
	return append(b, '}')
}

func appendID(b []byte, id json.RawMessage) []byte {
	if id == nil {
		return append(b, "null"...)
	}
	return append(b, id...)
}

// RequestFrame renders a request; nil params are left out.
func RequestFrame(id json.RawMessage, method string, params json.RawMessage) []byte {
	params = oneLine(params)
	b := make([]byte, 0, len(id)+len(method)+len(params)+56)
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = append(b, id...)
	b = append(b, `,"method":`...)
	m, _ := json.Marshal(method) // a string always marshals
	b = append(b, m...)
	if params != nil {
		b = append(b, `,"params":`...)
		b = append(b, params...)
	}
	return append(b, '}')
}
