package transports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/plugboard/plugboard/messages"
)

// The _meta keys of the 2026-07-28 revision.
const (
	MetaProtocolVersion    = "io.modelcontextprotocol/protocolVersion"
	MetaClientCapabilities = "io.modelcontextprotocol/clientCapabilities"
	MetaClientInfo         = "io.modelcontextprotocol/clientInfo"
	MetaLogLevel           = "io.modelcontextprotocol/logLevel"
	MetaServerInfo         = "io.modelcontextprotocol/serverInfo"
	MetaSubscriptionID     = "io.modelcontextprotocol/subscriptionId"
)

// Header names of the 2026-07-28 revision's Streamable HTTP transport.
const (
	headerMethod = "Mcp-Method"
	headerName   = "Mcp-Name"
)

// modernRequest is a request of the 2026-07-28 revision with what its
// params declare.
type modernRequest struct {
	frame      Frame
	version    string
	caps       json.RawMessage // the client's capabilities for this request
	clientInfo json.RawMessage
	name       string // params.name, or params.uri for resources/read
	// requestState and inputResponses are a multi round-trip retry's.
	requestState   string
	inputResponses json.RawMessage
}

// modernParamNames are the members of a 2026-07-28 request's params that
// plugboard decides on, and modernMetaNames those of its _meta: read by
// their exact names, refused when given twice or under another case.
var (
	modernParamNames = []string{"_meta", "name", "uri", "requestState", "inputResponses"}
	modernMetaNames  = []string{MetaProtocolVersion, MetaClientCapabilities, MetaClientInfo, MetaLogLevel}
)

// readModernParams reads the decided members of params (nil params has
// none) into p and meta.
func readModernParams(params json.RawMessage, p, meta *[5]json.RawMessage) *messages.RPCError {
	if len(params) > 0 && string(params) != "null" {
		if rpcErr := decidedMembers("params", params, modernParamNames, p[:]); rpcErr != nil {
			return rpcErr
		}
	}
	if p[0] == nil || string(p[0]) == "null" {
		return nil
	}
	return decidedMembers("params._meta", p[0], modernMetaNames, meta[:])
}

// decidedMembers is ReadMembers with its errors as invalid params, for
// the object called where.
func decidedMembers(where string, obj json.RawMessage, names []string, values []json.RawMessage) *messages.RPCError {
	err := ReadMembers(obj, names, values)
	var amb *AmbiguousMemberError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &amb):
		return &messages.RPCError{Code: messages.CodeInvalidParams, Message: "invalid params: " + where + "." + err.Error()}
	default:
		return &messages.RPCError{Code: messages.CodeInvalidParams, Message: "invalid params: " + where + " must be an object"}
	}
}

// optionalString decodes a raw member that must be a string when present.
func optionalString(raw json.RawMessage) (*string, bool) {
	if raw == nil || string(raw) == "null" {
		return nil, true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nil, false
	}
	return &s, true
}

// isModern reports whether a request without a session speaks the
// 2026-07-28 revision: its MCP-Protocol-Version header names no
// handshake-era version, or its _meta declares a protocol version.
func isModern(header http.Header, f *Frame) bool {
	if v := header.Get(headerProtocolVersion); v != "" && !slices.Contains(messages.ProtocolVersions(), v) {
		return true
	}
	return bytes.Contains(f.Params, []byte(`"`+MetaProtocolVersion+`"`))
}

// parseModern validates a 2026-07-28 request against the revision's rules
// for _meta and the mirrored HTTP headers (none on stdio: a nil header).
// On failure it returns the error and the HTTP status to answer with.
func parseModern(header http.Header, f *Frame) (*modernRequest, *messages.RPCError, int) {
	var p, meta [5]json.RawMessage
	if rpcErr := readModernParams(f.Params, &p, &meta); rpcErr != nil {
		return nil, rpcErr, http.StatusBadRequest
	}
	if p[0] == nil || string(p[0]) == "null" {
		return nil, &messages.RPCError{Code: messages.CodeInvalidParams, Message: "invalid params: a " + messages.ModernVersion + " request needs params._meta with " + MetaProtocolVersion + " and " + MetaClientCapabilities}, http.StatusBadRequest
	}
	name, okName := optionalString(p[1])
	uri, okURI := optionalString(p[2])
	requestState, okState := optionalString(p[3])
	if !okName || !okURI || !okState {
		return nil, &messages.RPCError{Code: messages.CodeInvalidParams, Message: "invalid params: params.name, params.uri and params.requestState must be strings"}, http.StatusBadRequest
	}
	req := &modernRequest{frame: *f, caps: meta[1], clientInfo: meta[2], inputResponses: p[4]}
	if json.Unmarshal(meta[0], &req.version) != nil || req.version == "" {
		return nil, &messages.RPCError{Code: messages.CodeInvalidParams, Message: "invalid params: _meta." + MetaProtocolVersion + " must be a protocol version string"}, http.StatusBadRequest
	}
	if !isJSONObject(req.caps) {
		return nil, &messages.RPCError{Code: messages.CodeInvalidParams, Message: "invalid params: _meta." + MetaClientCapabilities + " must be an object"}, http.StatusBadRequest
	}
	if requestState != nil {
		req.requestState = *requestState
	}
	switch {
	case f.Method == "resources/read" && uri != nil:
		req.name = *uri
	case (f.Method == "tools/call" || f.Method == "prompts/get") && name != nil:
		req.name = *name
	}
	if e := checkHeaders(header, req); header != nil && e != nil {
		return nil, e, http.StatusBadRequest
	}
	if req.version != messages.ModernVersion {
		data, _ := json.Marshal(map[string]any{"supported": supportedVersions(), "requested": req.version})
		return nil, &messages.RPCError{Code: messages.CodeUnsupportedProtocolVersion,
			Message: "unsupported protocol version " + strconv.Quote(req.version) + "; supported: " + strings.Join(supportedVersions(), ", "), Data: data}, http.StatusBadRequest
	}
	return req, nil, 0
}

// supportedVersions are every protocol version plugboard serves: the
// stateless one per request, the older ones after initialize.
func supportedVersions() []string {
	return append([]string{messages.ModernVersion}, messages.ProtocolVersions()...)
}

// checkHeaders compares the headers a 2026-07-28 client must mirror from
// its request with the body.
func checkHeaders(header http.Header, req *modernRequest) *messages.RPCError {
	mismatch := func(format string, args ...any) *messages.RPCError {
		return &messages.RPCError{Code: messages.CodeHeaderMismatch, Message: "header mismatch: " + fmt.Sprintf(format, args...)}
	}
	if got := header.Get(headerProtocolVersion); got != req.version {
		if got == "" {
			return mismatch("the MCP-Protocol-Version header is missing")
		}
		return mismatch("MCP-Protocol-Version %q does not match _meta protocol version %q", got, req.version)
	}
	if got := header.Get(headerMethod); got != req.frame.Method {
		if got == "" {
			return mismatch("the Mcp-Method header is missing")
		}
		return mismatch("Mcp-Method %q does not match method %q", got, req.frame.Method)
	}
	switch req.frame.Method {
	case "tools/call", "prompts/get", "resources/read":
		raw := header.Get(headerName)
		if raw == "" {
			return mismatch("the Mcp-Name header is missing")
		}
		got, ok := mcp.DecodeHeaderValue(raw)
		if !ok {
			return mismatch("Mcp-Name %q is not a valid header value", raw)
		}
		if got != req.name {
			return mismatch("Mcp-Name %q does not match %q", got, req.name)
		}
	}
	return nil
}

func isJSONObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{' && ValidJSON(raw)
}

// removedMethods are the methods the 2026-07-28 revision dropped; a
// request of that revision naming one is a method not found.
var removedMethods = map[string]bool{
	"initialize":            true,
	"ping":                  true,
	"logging/setLevel":      true,
	"resources/subscribe":   true,
	"resources/unsubscribe": true,
}

// cacheableMethods are the methods whose 2026-07-28 results carry caching
// hints.
var cacheableMethods = map[string]bool{
	"tools/list":               true,
	"prompts/list":             true,
	"resources/list":           true,
	"resources/templates/list": true,
	"resources/read":           true,
}

// completeResult gives a result what the 2026-07-28 revision requires of
// it that a handshake-era server does not send: resultType, and for
// cacheable results ttlMs and cacheScope. Members already present are kept.
func completeResult(method string, result json.RawMessage) json.RawMessage {
	var members map[string]json.RawMessage
	if json.Unmarshal(result, &members) != nil {
		return result // not an object: passed on as it is
	}
	var add []byte
	if _, ok := members["resultType"]; !ok {
		add = append(add, `"resultType":"complete",`...)
	}
	if cacheableMethods[method] {
		if _, ok := members["ttlMs"]; !ok {
			add = append(add, `"ttlMs":0,`...)
		}
		if _, ok := members["cacheScope"]; !ok {
			add = append(add, `"cacheScope":"private",`...)
		}
	}
	return prependMembers(result, add)
}

// prependMembers inserts add, a run of `"key":value,` members, at the
// start of the JSON object obj.
func prependMembers(obj json.RawMessage, add []byte) json.RawMessage {
	if len(add) == 0 {
		return obj
	}
	obj = bytes.TrimSpace(obj)
	rest := bytes.TrimSpace(obj[1:])
	out := make([]byte, 0, len(obj)+len(add))
	out = append(out, '{')
	if rest[0] == '}' {
		out = append(out, add[:len(add)-1]...) // no trailing comma before }
		return append(out, '}')
	}
	out = append(out, add...)
	return append(out, rest...)
}

// withMeta returns params with key set in its _meta to value; other
// members of params and of _meta are kept.
func withMeta(params json.RawMessage, key string, value json.RawMessage) json.RawMessage {
	var p map[string]json.RawMessage
	if json.Unmarshal(params, &p) != nil || p == nil {
		p = map[string]json.RawMessage{}
	}
	var meta map[string]json.RawMessage
	if json.Unmarshal(p["_meta"], &meta) != nil || meta == nil {
		meta = map[string]json.RawMessage{}
	}
	meta[key] = value
	p["_meta"], _ = json.Marshal(meta)
	out, _ := json.Marshal(p)
	return out
}

// modernStatus is the HTTP status a 2026-07-28 answer carrying e goes with.
func modernStatus(e *messages.RPCError) int {
	switch e.Code {
	case messages.CodeMethodNotFound:
		return http.StatusNotFound
	case messages.CodeHeaderMismatch, messages.CodeMissingClientCapability, messages.CodeUnsupportedProtocolVersion:
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// HeaderTools is implemented by a SessionOpener that knows which tools
// mirror parameters into HTTP headers (x-mcp-header).
type HeaderTools interface {
	// HeaderTool returns the definition of the client-facing tool name if
	// it has x-mcp-header parameters, else nil.
	HeaderTool(name string) json.RawMessage
}

// checkParamHeaders compares the Mcp-Param-* headers of a tools/call with
// the arguments they mirror, for a tool whose schema asks for them.
func checkParamHeaders(header http.Header, opener SessionOpener, req *modernRequest) *messages.RPCError {
	tools, ok := opener.(HeaderTools)
	if !ok || req.frame.Method != "tools/call" {
		return nil
	}
	raw := tools.HeaderTool(req.name)
	if raw == nil {
		return nil
	}
	var tool mcp.Tool
	if json.Unmarshal(raw, &tool) != nil {
		return nil
	}
	lookup := func(name string) (string, bool) {
		values, present := header[http.CanonicalHeaderKey(name)]
		if !present || len(values) == 0 {
			return "", false
		}
		return values[0], true
	}
	if err := mcp.ValidateParamHeadersLookup(lookup, &tool, req.frame.Params); err != nil {
		return &messages.RPCError{Code: messages.CodeHeaderMismatch, Message: "header mismatch: " + err.Error()}
	}
	return nil
}
