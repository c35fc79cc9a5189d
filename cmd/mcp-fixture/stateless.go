package main

// MCP 2026-07-28 is stateless: every request names its protocol version
// and the client's capabilities in params._meta, and there is no
// initialize and no session. The fixture is dual-era and chooses per
// request: one that carries _meta["io.modelcontextprotocol/protocolVersion"]
// (or that only exists in 2026-07-28, server/discover and
// subscriptions/listen) is served statelessly; every other one belongs to
// the legacy session of its connection.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// modernVersion is the stateless protocol revision the fixture speaks.
const modernVersion = "2026-07-28"

// Reserved _meta keys of 2026-07-28.
const (
	metaProtocolVersion    = "io.modelcontextprotocol/protocolVersion"
	metaClientCapabilities = "io.modelcontextprotocol/clientCapabilities"
	metaClientInfo         = "io.modelcontextprotocol/clientInfo"
	metaLogLevel           = "io.modelcontextprotocol/logLevel"
	metaServerInfo         = "io.modelcontextprotocol/serverInfo"
	metaSubscriptionID     = "io.modelcontextprotocol/subscriptionId"
)

// allVersions are the protocol versions the fixture supports, newest first,
// as server/discover and UnsupportedProtocolVersionError list them.
func allVersions() []string {
	versions := []string{modernVersion}
	for _, v := range slices.Backward(supportedVersions) {
		versions = append(versions, v)
	}
	return versions
}

// isLegacyVersion reports whether v is a revision that needs initialize.
func isLegacyVersion(v string) bool {
	return slices.Contains(supportedVersions, v)
}

// isModernMethod reports whether method exists in 2026-07-28; initialize,
// ping, logging/setLevel and resources/(un)subscribe were removed.
func isModernMethod(method string) bool {
	switch method {
	case "server/discover", "subscriptions/listen", "completion/complete",
		"tools/list", "tools/call", "prompts/list", "prompts/get",
		"resources/list", "resources/templates/list", "resources/read":
		return true
	}
	return false
}

// isModern reports whether a request is to be served statelessly: it
// exists only in 2026-07-28, or its _meta has a per-request field, which
// no legacy client sends. One that lacks a required field then fails the
// checks of readRequestMeta, rather than passing for a legacy request.
func isModern(method string, params json.RawMessage) bool {
	if method == "server/discover" || method == "subscriptions/listen" {
		return true
	}
	var p struct {
		Meta map[string]json.RawMessage `json:"_meta"`
	}
	if json.Unmarshal(params, &p) != nil {
		return false
	}
	for _, key := range []string{metaProtocolVersion, metaClientCapabilities, metaClientInfo, metaLogLevel} {
		if _, ok := p.Meta[key]; ok {
			return true
		}
	}
	return false
}

// clientCaps are the client capabilities that decide which input requests
// the fixture may ask for.
type clientCaps struct {
	sampling, elicitation, roots bool
}

func (c clientCaps) has(capability string) bool {
	switch capability {
	case "sampling":
		return c.sampling
	case "elicitation":
		return c.elicitation
	case "roots":
		return c.roots
	}
	return false
}

// requestMeta is what a 2026-07-28 request says about itself.
type requestMeta struct {
	id              json.RawMessage // the JSON-RPC id, which names a subscription
	protocolVersion string
	caps            clientCaps
	logLevel        string // "" unless the client asked for log messages
}

// readRequestMeta reads the per-request fields of _meta, failing with
// Invalid params when a required one is missing or malformed.
func readRequestMeta(params json.RawMessage) (requestMeta, *rpcError) {
	var m requestMeta
	var p struct {
		Meta map[string]json.RawMessage `json:"_meta"`
	}
	if isAbsent(params) || json.Unmarshal(params, &p) != nil {
		return m, invalidParams("Invalid params: a 2026-07-28 request needs params with _meta")
	}
	if p.Meta == nil {
		return m, invalidParams("Invalid params: _meta is required")
	}
	if json.Unmarshal(p.Meta[metaProtocolVersion], &m.protocolVersion) != nil || m.protocolVersion == "" {
		return m, invalidParams("Invalid params: _meta lacks %s", metaProtocolVersion)
	}
	var caps map[string]json.RawMessage
	if raw := p.Meta[metaClientCapabilities]; isAbsent(raw) || json.Unmarshal(raw, &caps) != nil {
		return m, invalidParams("Invalid params: _meta lacks %s", metaClientCapabilities)
	}
	m.caps = clientCaps{
		sampling:    !isAbsent(caps["sampling"]),
		elicitation: !isAbsent(caps["elicitation"]),
		roots:       !isAbsent(caps["roots"]),
	}
	if raw, ok := p.Meta[metaLogLevel]; ok {
		if json.Unmarshal(raw, &m.logLevel) != nil {
			return m, invalidParams("Invalid params: %s must be a log level", metaLogLevel)
		}
		if _, known := logLevelRank(m.logLevel); !known {
			return m, invalidParams("Invalid params: unknown log level %q", m.logLevel)
		}
	}
	return m, nil
}

// admit checks what the request's _meta can only be judged by once it is
// known to be well formed: its version, then its method.
func (m requestMeta) admit(method string) *rpcError {
	if m.protocolVersion != modernVersion {
		return unsupportedVersion(m.protocolVersion)
	}
	if !isModernMethod(method) {
		return &rpcError{Code: codeMethodNotFound, Message: "Method not found: " + method}
	}
	return nil
}

func unsupportedVersion(requested string) *rpcError {
	data := struct {
		Supported []string `json:"supported"`
		Requested string   `json:"requested"`
	}{allVersions(), requested}
	return &rpcError{Code: codeUnsupportedVersion, Message: "Unsupported protocol version", Data: mustRaw(data)}
}

// modernKey is the context key of a 2026-07-28 request's requestMeta.
type modernKey struct{}

func withModern(ctx context.Context, m requestMeta) context.Context {
	return context.WithValue(ctx, modernKey{}, m)
}

// modernOf returns the requestMeta of the 2026-07-28 request ctx belongs
// to, or false within a legacy session's request.
func modernOf(ctx context.Context) (requestMeta, bool) {
	m, ok := ctx.Value(modernKey{}).(requestMeta)
	return m, ok
}

// serveModern serves a 2026-07-28 request that arrived on a transport
// without HTTP headers (stdio, WebSocket, HTTP+SSE).
func (s *session) serveModern(ctx context.Context, id json.RawMessage, method string, params json.RawMessage) (any, error) {
	m, err := readRequestMeta(params)
	if err == nil {
		err = m.admit(method)
	}
	if err != nil {
		return nil, err
	}
	m.id = id
	return s.callModern(withModern(ctx, m), method, params)
}

// callModern runs an admitted 2026-07-28 request under ctx, which carries
// its requestMeta, and returns its result as it goes on the wire.
func (s *session) callModern(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error) {
	result, err := s.dispatchModern(ctx, method, params)
	if err != nil {
		return nil, err
	}
	return s.decorate(method, mustRaw(result)), nil
}

func (s *session) dispatchModern(ctx context.Context, method string, params json.RawMessage) (any, error) {
	switch method {
	case "server/discover":
		return s.discover(), nil
	case "subscriptions/listen":
		return s.listen(ctx, params)
	case "tools/list":
		return s.listTools(params)
	case "tools/call":
		return s.callTool(ctx, params)
	case "prompts/list":
		return s.listPrompts(params)
	case "prompts/get":
		return s.getPrompt(ctx, params)
	case "resources/list":
		return s.listResources(params)
	case "resources/templates/list":
		return s.listTemplates(params)
	case "resources/read":
		result, err := s.readResource(params)
		if rpcErr, ok := err.(*rpcError); ok && rpcErr.Code == codeResourceNotFound {
			// 2026-07-28 retired -32002 in favour of Invalid params.
			rpcErr.Code = codeInvalidParams
		}
		return result, err
	case "completion/complete":
		return s.complete(params)
	}
	return nil, &rpcError{Code: codeMethodNotFound, Message: "Method not found: " + method}
}

// isCacheable reports whether method's complete results carry caching
// hints (ttlMs and cacheScope).
func isCacheable(method string) bool {
	switch method {
	case "server/discover", "tools/list", "prompts/list", "resources/list", "resources/templates/list", "resources/read":
		return true
	}
	return false
}

// decorate adds what every 2026-07-28 result carries and the handlers
// leave out: resultType "complete" unless the result is input_required,
// the caching hints of a cacheable complete result, and serverInfo in
// _meta unless the result has a _meta of its own. Fields are appended,
// so the bytes a handler produced stay as they are.
func (s *session) decorate(method string, result json.RawMessage) json.RawMessage {
	var fields map[string]json.RawMessage
	if json.Unmarshal(result, &fields) != nil {
		return result
	}
	var add []field
	resultType := "complete"
	if raw, ok := fields["resultType"]; ok {
		_ = json.Unmarshal(raw, &resultType)
	} else {
		add = append(add, field{"resultType", mustRaw(resultType)})
	}
	if resultType == "complete" && isCacheable(method) {
		if _, ok := fields["ttlMs"]; !ok {
			add = append(add, field{"ttlMs", mustRaw(s.shared.ttlMs)})
		}
		if _, ok := fields["cacheScope"]; !ok {
			// Nothing the fixture serves depends on who asks.
			add = append(add, field{"cacheScope", mustRaw("public")})
		}
	}
	if _, ok := fields["_meta"]; !ok {
		add = append(add, field{"_meta", s.serverInfoMeta()})
	}
	return appendFields(result, add)
}

// serverInfoMeta is the _meta by which 2026-07-28 results name the server.
func (s *session) serverInfoMeta() json.RawMessage {
	return mustRaw(map[string]implementation{metaServerInfo: {Name: s.cfg.name, Version: serverVersion}})
}

// field is one member of a JSON object.
type field struct {
	name  string
	value json.RawMessage
}

// appendFields adds fields at the end of the JSON object obj.
func appendFields(obj json.RawMessage, fields []field) json.RawMessage {
	if len(fields) == 0 {
		return obj
	}
	body := bytes.TrimSpace(obj)
	inner := bytes.TrimSpace(body[1 : len(body)-1])
	var b strings.Builder
	if len(inner) == 0 {
		b.WriteByte('{')
	} else {
		b.Write(body[:len(body)-1])
	}
	for i, f := range fields {
		if i > 0 || len(inner) > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s:%s", mustRaw(f.name), f.value)
	}
	b.WriteByte('}')
	return json.RawMessage(b.String())
}
