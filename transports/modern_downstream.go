package transports

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"sync/atomic"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/plugboard/plugboard/messages"
)

// ModernDownstream is a downstream connection that can speak the
// 2026-07-28 revision: stdio, and Streamable HTTP.
type ModernDownstream interface {
	Downstream
	// SpeaksModern reports whether the connection's transport carries the
	// revision at all (the legacy SSE transport and WebSocket do not).
	SpeaksModern() bool
	// UseModern switches the connection to the revision: from then on a
	// request that does not carry its own client's _meta gets plugboard's
	// (the capabilities caps, the client info, the log level), and over
	// HTTP the headers the revision mirrors from the body. A nil caps
	// switches back to the handshake era.
	UseModern(caps json.RawMessage)
	// SetTools tells the connection the server's tools, for the
	// Mcp-Param-* headers of calls to those with x-mcp-header parameters.
	SetTools(tools []json.RawMessage)
	// SetLogLevel sets the log level plugboard's own requests declare; ""
	// asks for no log messages.
	SetLogLevel(level string)
}

// modernIdentity is what a modern connection declares on requests that
// come from plugboard itself or from a handshake-era client.
type modernIdentity struct {
	http        bool // the headers the revision mirrors are sent
	members     atomic.Pointer[metaCache]
	caps        json.RawMessage
	logLevel    atomic.Pointer[string]
	headerTools atomic.Pointer[map[string]*mcp.Tool] // tools with x-mcp-header parameters, by name
}

// clientInfo is how plugboard introduces itself to servers.
var clientInfo = json.RawMessage(`{"name":"plugboard","version":"0.1.0"}`)

// SpeaksModern implements ModernDownstream: a process over stdio does.
func (p *Process) SpeaksModern() bool { return true }

// SpeaksModern implements ModernDownstream: only Streamable HTTP does.
func (r *Remote) SpeaksModern() bool { return r.stream != nil }

// UseModern implements ModernDownstream.
func (c *mcpConn) UseModern(caps json.RawMessage) { c.useModern(caps, false) }

func (c *mcpConn) useModern(caps json.RawMessage, http bool) {
	if caps == nil {
		c.modern.Store(nil)
		return
	}
	m := &modernIdentity{caps: caps, http: http}
	// Until a client sets a level, ask for every message, as servers of
	// the handshake era send them: each session filters by its own level.
	debug := "debug"
	m.logLevel.Store(&debug)
	c.modern.Store(m)
}

// UseModern implements ModernDownstream; over HTTP the protocol version
// header follows.
func (r *Remote) UseModern(caps json.RawMessage) {
	r.mcpConn.useModern(caps, true)
	if caps == nil {
		r.SetProtocolVersion("")
	} else {
		r.SetProtocolVersion(messages.ModernVersion)
	}
}

// SetTools implements ModernDownstream: the tools whose parameters a call
// must mirror into Mcp-Param-* headers are kept.
func (c *mcpConn) SetTools(tools []json.RawMessage) {
	marked := map[string]*mcp.Tool{}
	for _, raw := range tools {
		if !bytes.Contains(raw, []byte(`"x-mcp-header"`)) {
			continue
		}
		var tool mcp.Tool
		if json.Unmarshal(raw, &tool) == nil {
			marked[tool.Name] = &tool
		}
	}
	if m := c.modern.Load(); m != nil {
		m.headerTools.Store(&marked)
	}
	c.clients.headerTools.Store(&marked)
}

// SetLogLevel implements ModernDownstream.
func (c *mcpConn) SetLogLevel(level string) {
	if m := c.modern.Load(); m != nil {
		m.logLevel.Store(&level)
	}
}

// prepare gives a request on a modern connection its _meta and, over
// HTTP, its headers. A request already carrying a protocol version is a
// 2026-07-28 client's own and keeps its client's declarations. plugboard's
// members are spliced into the params' bytes; nothing else is re-encoded.
func (m *modernIdentity) prepare(method string, params json.RawMessage) (json.RawMessage, http.Header) {
	if !carriesModernMeta(params) {
		params = withMetaMembers(params, m.metaMembers())
	}
	if !m.http {
		return params, nil // stdio has no headers
	}
	header := http.Header{}
	for k, v := range mcp.StandardHeaders(messages.ModernVersion, mcp.MCPMethod(method), params) {
		header.Set(k, v)
	}
	if tools := m.headerTools.Load(); method == "tools/call" && tools != nil && len(*tools) > 0 {
		var name [1]json.RawMessage
		var tool string
		if ReadMembers(params, toolNameMember, name[:]) == nil && name[0] != nil && json.Unmarshal(name[0], &tool) == nil && (*tools)[tool] != nil {
			for k, v := range mcp.GenerateParamHeaders((*tools)[tool], params) {
				header.Set(k, v)
			}
		}
	}
	return params, header
}

// carriesModernMeta reports whether params are a 2026-07-28 client's own,
// carrying the revision's _meta.
func carriesModernMeta(params json.RawMessage) bool {
	return bytes.Contains(params, []byte(`"`+MetaProtocolVersion+`"`))
}

// metaMembers are the _meta members plugboard declares, as JSON members
// without braces: built once per capabilities and log level.
func (m *modernIdentity) metaMembers() []byte {
	level := ""
	if l := m.logLevel.Load(); l != nil {
		level = *l
	}
	if cached := m.members.Load(); cached != nil && cached.level == level {
		return cached.bytes
	}
	b := []byte(`"` + MetaProtocolVersion + `":"` + messages.ModernVersion + `","` + MetaClientCapabilities + `":`)
	b = append(b, m.caps...)
	b = append(b, `,"`+MetaClientInfo+`":`...)
	b = append(b, clientInfo...)
	if level != "" {
		b = append(b, `,"`+MetaLogLevel+`":`...)
		b = append(b, mustMarshal(level)...)
	}
	m.members.Store(&metaCache{level: level, bytes: b})
	return b
}

// metaCache is metaMembers' last answer.
type metaCache struct {
	level string
	bytes []byte
}

// withMetaMembers adds members to the _meta object of params, creating
// _meta (or params) if absent. Params that are not a JSON object are
// replaced by one holding only _meta.
func withMetaMembers(params json.RawMessage, members []byte) json.RawMessage {
	start, end, err := MemberBounds(params, "_meta")
	switch {
	case err == nil && params[start] == '{':
		return spliceIntoObject(params, start, end, members)
	case err == nil: // a _meta that is not an object: replaced
		out := make([]byte, 0, len(params)+len(members)+2)
		out = append(out, params[:start]...)
		out = append(out, '{')
		out = append(out, members...)
		out = append(out, '}')
		return append(out, params[end:]...)
	case errors.Is(err, ErrNoMember):
		meta := make([]byte, 0, len(members)+10)
		meta = append(append(append(meta, `"_meta":{`...), members...), '}')
		open := skipSpace(params, 0)
		return spliceIntoObject(params, open, len(params), meta)
	default:
		meta := make([]byte, 0, len(members)+12)
		return append(append(append(meta, `{"_meta":{`...), members...), "}}"...)
	}
}

// spliceIntoObject inserts members right after the '{' at obj[start], in
// the object that ends before obj[end], with a comma if it had members.
func spliceIntoObject(obj []byte, start, end int, members []byte) []byte {
	out := make([]byte, 0, len(obj)+len(members)+1)
	out = append(out, obj[:start+1]...)
	out = append(out, members...)
	if rest := skipSpace(obj, start+1); rest < end && obj[rest] != '}' {
		out = append(out, ',')
	}
	return append(out, obj[start+1:]...)
}

// IsInputRequired reports whether a result is the 2026-07-28 revision's
// interim answer asking the client for input.
func IsInputRequired(result json.RawMessage) bool {
	if !bytes.Contains(result, []byte(`"input_required"`)) {
		return false
	}
	var r struct {
		ResultType string `json:"resultType"`
	}
	return json.Unmarshal(result, &r) == nil && r.ResultType == "input_required"
}

// toolNameMember is the member of a tools/call's params that names the tool.
var toolNameMember = []string{"name"}
