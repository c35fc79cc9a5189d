package actors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/transports"
)

// The members of a request's params that plugboard decides on, per
// method, read by their exact names (see decidedMembers).
var (
	namedParams = []string{"name", "_meta"} // prompts/get
	// tools/call: plugboard decides on arguments too, when it checks or
	// writes the Mcp-Param-* headers that mirror them (2026-07-28).
	toolCallParams   = []string{"name", "_meta", "arguments"}
	uriParams        = []string{"uri", "_meta"} // resources/read, subscribe, unsubscribe
	completionParams = []string{"ref", "_meta"} // completion/complete
	refMembers       = []string{"type", "name", "uri"}
	metaMembers      = []string{"progressToken"}
	cursorParams     = []string{"cursor"}              // tools/list and the other lists
	levelParams      = []string{"level"}               // logging/setLevel
	cancelParams     = []string{"requestId", "reason"} // notifications/cancelled
	initParams       = []string{"protocolVersion", "capabilities"}
	versionParams    = initParams[:1]
)

// initializeParams reads an initialize request's capabilities (nil when
// absent or malformed: a client that offers none), refusing ambiguous
// members: the capabilities decide what servers may ask the client.
func initializeParams(params json.RawMessage) (map[string]json.RawMessage, *messages.RPCError) {
	if len(params) == 0 || string(params) == "null" {
		return nil, nil
	}
	var v [2]json.RawMessage
	if rpcErr := decidedMembers("initialize", "params", params, initParams, v[:]); rpcErr != nil {
		return nil, rpcErr
	}
	var caps map[string]json.RawMessage
	if v[1] != nil && json.Unmarshal(v[1], &caps) != nil {
		return nil, nil
	}
	return caps, nil
}

// decidedMembers reads the members names of obj (the params of method, or
// a member of them called where) by their exact names, as the server will
// read them. A member given twice, or beside a case-variant of its name,
// is refused as invalid params: plugboard would decide on one member and
// a server act on another.
func decidedMembers(method, where string, obj json.RawMessage, names []string, values []json.RawMessage) *messages.RPCError {
	err := transports.ReadMembers(obj, names, values)
	if err == nil {
		return nil
	}
	var amb *transports.AmbiguousMemberError // on the heap (errors.As): only for an error
	switch {
	case errors.As(err, &amb):
		return &messages.RPCError{Code: messages.CodeInvalidParams, Message: fmt.Sprintf("%s: %s.%s", method, where, err.Error())}
	default:
		return &messages.RPCError{Code: messages.CodeInvalidParams, Message: method + ": " + where + " must be an object"}
	}
}

// stringMember returns the value of a raw member that must be a string
// when present; absent (nil) and null read as "".
func stringMember(method, where string, raw json.RawMessage) (string, *messages.RPCError) {
	if raw == nil {
		return "", nil
	}
	s, err := decodeJSONString(raw)
	if err != nil {
		return "", &messages.RPCError{Code: messages.CodeInvalidParams, Message: method + ": " + where + " must be a string"}
	}
	return s, nil
}

// checkMeta refuses params whose _meta has an ambiguous progressToken: the
// server actor maps the token a server will read.
func checkMeta(method string, meta json.RawMessage) *messages.RPCError {
	if meta == nil || string(meta) == "null" {
		return nil
	}
	var token [1]json.RawMessage
	if rpcErr := decidedMembers(method, "params._meta", meta, metaMembers, token[:]); rpcErr != nil {
		return rpcErr
	}
	return nil
}

// resolveRequest finds the server a client request goes to and the params
// it gets there (with the original name restored). unknown is set when the
// name or URI is nobody's, as opposed to malformed; server is then the
// server whose prefix an unknown tool or prompt name carries, if any: the
// name may be one that server has not offered yet. It reads the members it
// decides on by their exact names and refuses ambiguous ones.
func (c *catalog) resolveRequest(method string, params json.RawMessage) (server string, out json.RawMessage, rpcErr *messages.RPCError, unknown bool) {
	if len(params) == 0 {
		return "", nil, &messages.RPCError{Code: messages.CodeInvalidParams, Message: method + ": params must be an object"}, false
	}
	var v [3]json.RawMessage
	names := uriParams
	switch method {
	case "tools/call":
		names = toolCallParams
	case "prompts/get":
		names = namedParams
	case "completion/complete":
		names = completionParams
	}
	if rpcErr := decidedMembers(method, "params", params, names, v[:]); rpcErr != nil {
		return "", nil, rpcErr, false
	}
	if rpcErr := checkMeta(method, v[1]); rpcErr != nil {
		return "", nil, rpcErr, false
	}
	switch method {
	case "tools/call", "prompts/get":
		return c.resolveNamed(method, params, v[0], v[2])
	case "completion/complete":
		return c.resolveCompletion(params, v[0])
	default: // resources/read, subscribe, unsubscribe: by URI
		uri, rpcErr := stringMember(method, "params.uri", v[0])
		if rpcErr != nil {
			return "", nil, rpcErr, false
		}
		server, ok := c.resolveURI(uri)
		if !ok {
			return "", nil, &messages.RPCError{Code: messages.CodeResourceNotFound, Message: fmt.Sprintf("resource not found: no server offers %q", uri),
				Data: mustJSON(map[string]string{"uri": uri})}, true
		}
		return server, params, nil, false
	}
}

// resolveNamed routes a tools/call or prompts/get by its client-facing
// name, restored to the server's; args are a tool call's arguments.
func (c *catalog) resolveNamed(method string, params, rawName, args json.RawMessage) (string, json.RawMessage, *messages.RPCError, bool) {
	kind, what := messages.Tools, "tool"
	if method == "prompts/get" {
		kind, what = messages.Prompts, "prompt"
	}
	name, rpcErr := stringMember(method, "params.name", rawName)
	if rpcErr != nil {
		return "", nil, rpcErr, false
	}
	if name == "" {
		return "", nil, &messages.RPCError{Code: messages.CodeInvalidParams, Message: method + ": params.name is missing"}, false
	}
	it := c.item(kind, name)
	if it == nil && c.isDisabled(kind, name) {
		return "", nil, &messages.RPCError{Code: messages.CodeInvalidParams, Message: fmt.Sprintf("tool %q is disabled in plugboard (plugboard tools enable %s)", name, name)}, false
	}
	if it == nil {
		return c.serverByPrefix(name), nil, &messages.RPCError{Code: messages.CodeInvalidParams, Message: fmt.Sprintf("unknown %s: %q", what, name)}, true
	}
	if paths := c.mirrored[name]; kind == messages.Tools && paths != nil {
		if rpcErr := checkMirroredArguments(args, paths); rpcErr != nil {
			return "", nil, rpcErr, false
		}
	}
	server, original := it.server, it.original
	if original == name {
		return server, params, nil, false
	}
	start, ok := transports.ValueOffset(params, rawName) // params is not read again
	if !ok {
		return "", nil, &messages.RPCError{Code: messages.CodeInternalError, Message: method + ": params.name not found in params"}, false
	}
	out := make([]byte, 0, len(params)-len(rawName)+len(original)+2)
	out = append(out, params[:start]...)
	out = transports.AppendJSONString(out, original)
	return server, append(out, params[start+len(rawName):]...), nil, false
}

// checkMirroredArguments refuses a tool call whose arguments give a member
// on a path the tool mirrors into an Mcp-Param-* header twice, or beside a
// case variant of its name. mcp-go's header check reads such a member by
// its exact name; a server decoding the arguments into a struct would read
// the last variant: the header would vouch for a value the server does not
// act on. A path that stops at a value that is not an object is left to
// the check, which finds no such argument there.
func checkMirroredArguments(args json.RawMessage, paths [][]string) *messages.RPCError {
	for _, path := range paths {
		obj, where := args, "params.arguments"
		for _, name := range path {
			if t := bytes.TrimLeft(obj, " \t\r\n"); len(t) == 0 || t[0] != '{' {
				break
			}
			var v [1]json.RawMessage
			if rpcErr := decidedMembers("tools/call", where, obj, []string{name}, v[:]); rpcErr != nil {
				return rpcErr
			}
			obj, where = v[0], where+"."+name
		}
	}
	return nil
}

// resolveCompletion routes completion/complete by its reference: a prompt
// by its client-facing name (restored to the original), a resource
// template by its URI template.
func (c *catalog) resolveCompletion(params, rawRef json.RawMessage) (string, json.RawMessage, *messages.RPCError, bool) {
	const method = "completion/complete"
	if rawRef == nil || string(rawRef) == "null" {
		return "", nil, &messages.RPCError{Code: messages.CodeInvalidParams, Message: method + ": params.ref is missing"}, false
	}
	var v [3]json.RawMessage
	if rpcErr := decidedMembers(method, "params.ref", rawRef, refMembers, v[:]); rpcErr != nil {
		return "", nil, rpcErr, false
	}
	var ref [3]string
	for i, where := range [3]string{"params.ref.type", "params.ref.name", "params.ref.uri"} {
		s, rpcErr := stringMember(method, where, v[i])
		if rpcErr != nil {
			return "", nil, rpcErr, false
		}
		ref[i] = s
	}
	refType, name, uri := ref[0], ref[1], ref[2]
	switch refType {
	case "ref/prompt":
		server, original, ok := c.resolve(messages.Prompts, name)
		if !ok {
			return c.serverByPrefix(name), nil, &messages.RPCError{Code: messages.CodeInvalidParams, Message: fmt.Sprintf("unknown prompt: %q", name)}, true
		}
		if original == name {
			return server, params, nil, false
		}
		newRef, err := replaceField(rawRef, "name", quoteJSON(original))
		if err == nil {
			params, err = replaceField(params, "ref", newRef)
		}
		if err != nil {
			return "", nil, &messages.RPCError{Code: messages.CodeInvalidParams, Message: method + ": " + err.Error()}, false
		}
		return server, params, nil, false
	case "ref/resource":
		if i, ok := c.index[messages.ResourceTemplates][uri]; ok {
			return c.items[messages.ResourceTemplates][i].server, params, nil, false
		}
		if server, ok := c.resolveURI(uri); ok {
			return server, params, nil, false
		}
		return "", nil, &messages.RPCError{Code: messages.CodeInvalidParams, Message: fmt.Sprintf("unknown resource template: %q", uri)}, true
	default:
		return "", nil, &messages.RPCError{Code: messages.CodeInvalidParams, Message: fmt.Sprintf("completion/complete: unknown ref type %q", refType)}, false
	}
}

// requestURI is the params.uri of a request the catalog resolved.
func requestURI(params json.RawMessage) string {
	var v [1]json.RawMessage
	if transports.ReadMembers(params, uriParams[:1], v[:]) != nil {
		return ""
	}
	uri, _ := stringMember("", "", v[0])
	return uri
}
