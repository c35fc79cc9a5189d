package transports

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync/atomic"

	"github.com/mark3labs/mcp-go/client/transport"
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
	caps        json.RawMessage
	logLevel    atomic.Pointer[string]
	headerTools atomic.Pointer[map[string]*mcp.Tool] // tools with x-mcp-header parameters, by name
}

// clientInfo is how plugboard introduces itself to servers.
var clientInfo = json.RawMessage(`{"name":"plugboard","version":"0.1.0"}`)

// SpeaksModern implements ModernDownstream: a process over stdio does.
func (p *Process) SpeaksModern() bool { return true }

// SpeaksModern implements ModernDownstream: only Streamable HTTP does.
func (r *Remote) SpeaksModern() bool {
	_, ok := r.t.(*transport.StreamableHTTP)
	return ok
}

// UseModern implements ModernDownstream.
func (c *mcpConn) UseModern(caps json.RawMessage) {
	if caps == nil {
		c.modern.Store(nil)
		return
	}
	m := &modernIdentity{caps: caps}
	// Until a client sets a level, ask for every message, as servers of
	// the handshake era send them: each session filters by its own level.
	debug := "debug"
	m.logLevel.Store(&debug)
	c.modern.Store(m)
}

// UseModern implements ModernDownstream; over HTTP the protocol version
// header follows.
func (r *Remote) UseModern(caps json.RawMessage) {
	r.mcpConn.UseModern(caps)
	if caps == nil {
		r.SetProtocolVersion("")
	} else {
		r.SetProtocolVersion(messages.ModernVersion)
	}
}

// SetTools implements ModernDownstream: the tools whose parameters a call
// must mirror into Mcp-Param-* headers are kept.
func (c *mcpConn) SetTools(tools []json.RawMessage) {
	m := c.modern.Load()
	if m == nil {
		return
	}
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
	m.headerTools.Store(&marked)
}

// SetLogLevel implements ModernDownstream.
func (c *mcpConn) SetLogLevel(level string) {
	if m := c.modern.Load(); m != nil {
		m.logLevel.Store(&level)
	}
}

// prepareModern gives a request on a modern connection its _meta and
// headers. A request already carrying a protocol version is a 2026-07-28
// client's own and keeps its client's declarations.
func (m *modernIdentity) prepare(method string, params json.RawMessage) (json.RawMessage, http.Header) {
	if !bytes.Contains(params, []byte(`"`+MetaProtocolVersion+`"`)) {
		var p map[string]json.RawMessage
		if json.Unmarshal(params, &p) != nil || p == nil {
			p = map[string]json.RawMessage{}
		}
		var meta map[string]json.RawMessage
		if json.Unmarshal(p["_meta"], &meta) != nil || meta == nil {
			meta = map[string]json.RawMessage{}
		}
		meta[MetaProtocolVersion] = json.RawMessage(`"` + messages.ModernVersion + `"`)
		meta[MetaClientCapabilities] = m.caps
		meta[MetaClientInfo] = clientInfo
		if level := m.logLevel.Load(); level != nil && *level != "" {
			meta[MetaLogLevel] = mustMarshal(*level)
		}
		p["_meta"] = mustMarshal(meta)
		params = mustMarshal(p)
	}
	header := http.Header{}
	for k, v := range mcp.StandardHeaders(messages.ModernVersion, mcp.MCPMethod(method), params) {
		header.Set(k, v)
	}
	if tools := m.headerTools.Load(); method == "tools/call" && tools != nil && len(*tools) > 0 {
		var p struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(params, &p) == nil && (*tools)[p.Name] != nil {
			for k, v := range mcp.GenerateParamHeaders((*tools)[p.Name], params) {
				header.Set(k, v)
			}
		}
	}
	return params, header
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
