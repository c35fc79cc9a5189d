package transports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

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
//
// Only the envelope is read: the members' values are located by a scan of
// the top-level object, not decoded, and come back as raw bytes of one copy
// of b (b itself may be reused by the caller).
func ParseFrame(b []byte) (Frame, error) {
	b = bytes.TrimSpace(b)
	if !ValidJSON(b) {
		return Frame{}, &FrameError{Code: messages.CodeParseError, Message: "parse error: invalid JSON"}
	}
	if b[0] != '{' {
		if b[0] == '[' {
			return Frame{}, &FrameError{Code: messages.CodeInvalidRequest, Message: "invalid request: JSON-RPC batches are not supported"}
		}
		return Frame{}, &FrameError{Code: messages.CodeInvalidRequest, Message: "invalid request: a JSON-RPC message must be an object"}
	}
	m, err := readEnvelope(bytes.Clone(b))
	if err != nil {
		// The id is echoed only when it is itself unambiguous.
		return Frame{}, &FrameError{Code: messages.CodeInvalidRequest, Message: "invalid request: " + err.Error(), ID: usableID(m.id)}
	}
	id, hasID := m.id, m.id != nil
	if hasID && !validID(id) {
		return Frame{}, &FrameError{Code: messages.CodeInvalidRequest, Message: "invalid request: id must be a number or a string of valid UTF-8"}
	}
	if version, ok := jsonString(m.jsonrpc); !ok || version != "2.0" {
		return Frame{}, &FrameError{Code: messages.CodeInvalidRequest, Message: `invalid request: "jsonrpc" must be "2.0"`, ID: id}
	}
	f := Frame{ID: id, Params: m.params, Result: m.result, Error: m.error}
	if m.method != nil {
		method, ok := jsonString(m.method)
		if !ok || method == "" {
			return Frame{}, &FrameError{Code: messages.CodeInvalidRequest, Message: `invalid request: "method" must be a non-empty string`, ID: id}
		}
		if string(id) == "null" {
			return Frame{}, &FrameError{Code: messages.CodeInvalidRequest, Message: "invalid request: a request id must not be null"}
		}
		f.Method = method
		return f, nil
	}
	if !hasID || (f.Result == nil && f.Error == nil) {
		return Frame{}, &FrameError{Code: messages.CodeInvalidRequest, Message: "invalid request: neither a request, a notification nor a response", ID: id}
	}
	return f, nil
}

// envelope holds the raw values of a JSON-RPC message's members; a member
// that is absent is nil.
type envelope struct {
	id, jsonrpc, method, params, result, error json.RawMessage
}

// envelopeNames are the members of a JSON-RPC message, in the order of
// readEnvelope's values.
var envelopeNames = []string{"id", "jsonrpc", "method", "params", "result", "error"}

// readEnvelope finds the members of the object b, which must be valid JSON
// (json.Valid) starting with '{', by exact name: a member given twice or
// beside a case-variant of its name is an *AmbiguousMemberError, and then
// only the id is set, when it is not ambiguous itself.
func readEnvelope(b []byte) (envelope, error) {
	var v [6]json.RawMessage
	err := readMembers(b, 0, envelopeNames, v[:])
	e := envelope{id: v[0], jsonrpc: v[1], method: v[2], params: v[3], result: v[4], error: v[5]}
	if err != nil {
		// The scan stopped at the ambiguous member: read the id on its own,
		// to answer under it when it is not ambiguous itself.
		var id [1]json.RawMessage
		e.id = nil
		if readMembers(b, 0, envelopeNames[:1], id[:]) == nil {
			e.id = id[0]
		}
	}
	return e, err
}

// scanEnvelope finds the members of the object b, which must be valid JSON
// (json.Valid) starting with '{'. Member names are compared exactly, after
// unescaping; of a member given twice the last counts, as with
// encoding/json.
func scanEnvelope(b []byte) envelope {
	var e envelope
	scanMembers(b, 0, func(key []byte, start, end int) { e.set(key, b[start:end:end]) })
	return e
}

// scanMembers calls member with the raw key (quoted) and the value's
// bounds of each member of the object at b[i], in order. b must be valid
// JSON.
func scanMembers(b []byte, i int, member func(key []byte, start, end int)) {
	i++ // past '{'
	for {
		i = skipSpace(b, i)
		switch b[i] {
		case '}':
			return
		case ',':
			i++
			continue
		}
		keyStart := i
		i = skipString(b, i)
		key := b[keyStart:i]
		i = skipSpace(b, i) + 1 // past ':'
		i = skipSpace(b, i)
		valueStart := i
		i = skipValue(b, i)
		member(key, valueStart, i)
	}
}

// keyIs reports whether the raw (quoted) member name key spells name.
func keyIs(key []byte, name string) bool {
	inner := key[1 : len(key)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner) == name
	}
	s, ok := unquoteJSON(key)
	return ok && s == name
}

// ErrNoMember reports that a JSON object lacks the member asked for.
var ErrNoMember = errors.New("no such member")

// ErrNotObject reports raw JSON that should be an object and is not, or is
// not valid JSON at all.
var ErrNotObject = errors.New("not a JSON object")

// MemberBounds returns where the value of the top-level member name of
// obj starts and ends in obj, which may have white space around it. Names
// compare after unescaping; of a member given twice the last counts, as
// encoding/json decodes it. The errors are ErrNotObject and ErrNoMember.
func MemberBounds(obj []byte, name string) (start, end int, err error) {
	i := skipSpace(obj, 0)
	if i == len(obj) || obj[i] != '{' || !ValidJSON(obj) {
		return 0, 0, ErrNotObject
	}
	start, end = -1, -1
	scanMembers(obj, i, func(key []byte, s, e int) {
		if keyIs(key, name) {
			start, end = s, e
		}
	})
	if start < 0 {
		return 0, 0, ErrNoMember
	}
	return start, end, nil
}

// ExactMembers finds the top-level members of the JSON object obj named
// names and stores the raw value of names[i] in values[i] (nil when
// absent; values shares obj's bytes). Names compare exactly, after
// unescaping, and of a member given twice the last counts: what
// encoding/json gives when it decodes obj into a map, without decoding
// the rest. obj that is not a JSON object (white space around it is
// fine) is ErrNotObject. len(values) must be at least len(names).
func ExactMembers(obj []byte, names []string, values []json.RawMessage) error {
	i := skipSpace(obj, 0)
	if i == len(obj) || obj[i] != '{' || !ValidJSON(obj) {
		return ErrNotObject
	}
	clear(values[:len(names)])
	scanMembers(obj, i, func(key []byte, start, end int) {
		for n, name := range names {
			if keyIs(key, name) {
				values[n] = obj[start:end:end]
			}
		}
	})
	return nil
}

// ErrNotArray is a value that is not a JSON array.
var ErrNotArray = errors.New("not a JSON array")

// ArrayElements returns the raw elements of the JSON array arr, in one
// copy of arr's bytes that the elements share: what decoding arr into a
// []json.RawMessage gives, with one allocation for the bytes instead of
// one per element. arr that is not a JSON array (white space around it is
// fine) is ErrNotArray.
func ArrayElements(arr []byte) ([]json.RawMessage, error) {
	i := skipSpace(arr, 0)
	if i == len(arr) || arr[i] != '[' || !ValidJSON(arr) {
		return nil, ErrNotArray
	}
	b := bytes.Clone(arr)
	var elems []json.RawMessage
	i++ // past '['
	for {
		i = skipSpace(b, i)
		switch b[i] {
		case ']':
			return elems, nil
		case ',':
			i++
			continue
		}
		start := i
		i = skipValue(b, i)
		elems = append(elems, b[start:i:i])
	}
}

func (e *envelope) set(key []byte, value json.RawMessage) {
	name := key[1 : len(key)-1]
	if bytes.IndexByte(name, '\\') >= 0 {
		s, ok := unquoteJSON(key)
		if !ok {
			return
		}
		name = []byte(s)
	}
	switch string(name) {
	case "id":
		e.id = value
	case "jsonrpc":
		e.jsonrpc = value
	case "method":
		e.method = value
	case "params":
		e.params = value
	case "result":
		e.result = value
	case "error":
		e.error = value
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipString returns the index just past the valid JSON string at b[i].
func skipString(b []byte, i int) int {
	start := i
	i++
	for {
		i += bytes.IndexByte(b[i:], '"')
		escapes := 0
		for k := i - 1; k > start && b[k] == '\\'; k-- {
			escapes++
		}
		if escapes%2 == 0 {
			return i + 1
		}
		i++
	}
}

// skipValue returns the index just past the valid JSON value at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	default: // a number, true, false or null
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && !isSpace(b[i]) {
			i++
		}
		return i
	}
}

// jsonString returns the value of the raw JSON string s; ok is false when
// s is not a string.
func jsonString(s json.RawMessage) (string, bool) {
	if len(s) < 2 || s[0] != '"' {
		return "", false
	}
	inner := s[1 : len(s)-1]
	if bytes.IndexByte(inner, '\\') >= 0 || !utf8.Valid(inner) {
		return unquoteJSON(s) // as encoding/json decodes them
	}
	return knownString(inner), true
}

func unquoteJSON(s json.RawMessage) (string, bool) {
	var v string
	err := json.Unmarshal(s, &v)
	return v, err == nil
}

// knownString returns b as a string, without allocating for the version
// and the methods every session sends.
func knownString(b []byte) string {
	switch string(b) {
	case "2.0":
		return "2.0"
	case "tools/call":
		return "tools/call"
	case "tools/list":
		return "tools/list"
	case "ping":
		return "ping"
	case "initialize":
		return "initialize"
	case "notifications/initialized":
		return "notifications/initialized"
	case "notifications/cancelled":
		return "notifications/cancelled"
	case "notifications/progress":
		return "notifications/progress"
	case "notifications/message":
		return "notifications/message"
	case "prompts/get":
		return "prompts/get"
	case "resources/read":
		return "resources/read"
	}
	return string(b)
}

// validID reports whether a raw id (valid JSON) is a string, a number or
// null that every client reads as plugboard echoes it: byte for byte. A
// string with bytes that are not UTF-8 is not one: JSON text is UTF-8,
// and a client's decoder would read another id (U+FFFD) than it sent.
func validID(id json.RawMessage) bool {
	if len(id) == 0 {
		return false
	}
	switch c := id[0]; {
	case c == '"':
		return utf8.Valid(id)
	case c == '-', c >= '0' && c <= '9':
		return true
	default:
		return string(id) == "null"
	}
}

// usableID returns id when it may be echoed in an error, else nil (null).
func usableID(id json.RawMessage) json.RawMessage {
	if id == nil || !validID(id) {
		return nil
	}
	return id
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
func ResultFrame(id, result json.RawMessage) []byte { return AppendResultFrame(nil, id, result) }

// AppendResultFrame renders a successful response at the end of dst.
func AppendResultFrame(dst []byte, id, result json.RawMessage) []byte {
	result = oneLine(result)
	b := slices.Grow(dst, len(id)+len(result)+40)
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
	b = AppendJSONString(b, method)
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
	b = AppendJSONString(b, method)
	if params != nil {
		b = append(b, `,"params":`...)
		b = append(b, params...)
	}
	return append(b, '}')
}
