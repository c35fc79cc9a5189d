package main

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// JSON-RPC 2.0 error codes, the legacy MCP code for a missing resource,
// and the codes MCP 2026-07-28 defines.
const (
	codeParseError         = -32700
	codeInvalidRequest     = -32600
	codeMethodNotFound     = -32601
	codeInvalidParams      = -32602
	codeInternalError      = -32603
	codeResourceNotFound   = -32002 // 2025-11-25 and earlier; 2026-07-28 uses codeInvalidParams
	codeHeaderMismatch     = -32020
	codeMissingCapability  = -32021
	codeUnsupportedVersion = -32022
)

// message is any JSON-RPC 2.0 frame: a request (method and id), a
// notification (method, no id) or a response (id with result or error).
// Params and results stay raw so that bytes the fixture does not interpret
// are never re-encoded.
type message struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

// rpcError is a JSON-RPC error object; it doubles as a Go error so that
// method handlers can return it and have it sent as-is.
type rpcError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *rpcError) Error() string {
	return fmt.Sprintf("JSON-RPC error %d: %s", e.Code, e.Message)
}

func invalidParams(format string, args ...any) *rpcError {
	return &rpcError{Code: codeInvalidParams, Message: fmt.Sprintf(format, args...)}
}

// encodeJSON marshals v without HTML escaping and without a trailing
// newline. Embedded json.RawMessage values are compacted, never rewritten,
// so literal numbers such as 2.50 survive byte for byte.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// mustRaw encodes a value the fixture builds itself; failing to encode one
// is a programming error.
func mustRaw(v any) json.RawMessage {
	b, err := encodeJSON(v)
	if err != nil {
		panic(fmt.Sprintf("encoding %T: %v", v, err))
	}
	return b
}

// idKey turns a raw JSON-RPC id into a map key that ignores insignificant
// whitespace yet keeps 7 and "7" apart.
func idKey(id json.RawMessage) string {
	return compactJSON(id)
}

func compactJSON(raw json.RawMessage) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return string(raw)
	}
	return buf.String()
}

// optionalRaw encodes params, leaving them out of the frame when nil.
func optionalRaw(params any) json.RawMessage {
	if params == nil {
		return nil
	}
	return mustRaw(params)
}

// isAbsent reports whether a raw field was missing or JSON null.
func isAbsent(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// decodeParams unmarshals request params into v; absent params leave v at
// its zero value.
func decodeParams(params json.RawMessage, v any) error {
	if isAbsent(params) {
		return nil
	}
	if err := json.Unmarshal(params, v); err != nil {
		return invalidParams("invalid params: %v", err)
	}
	return nil
}
