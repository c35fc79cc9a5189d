package main

// JSON-RPC frames: encoding the few requests the benchmark sends, and
// reading just enough of each incoming message to match it to its request
// and classify its outcome.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// protocolVersion is the MCP revision the benchmark asks for.
const protocolVersion = "2025-11-25"

// initializeParams are constant: the benchmark offers no client
// capabilities, so that servers send it no requests while it measures.
const initializeParams = `{"protocolVersion":"` + protocolVersion + `","capabilities":{},` +
	`"clientInfo":{"name":"mcp-bench","version":"1.0.0"}}`

// Method names; they need no JSON escaping.
const (
	methodInitialize  = "initialize"
	methodInitialized = "notifications/initialized"
	methodCancelled   = "notifications/cancelled"
	methodToolsCall   = "tools/call"
	methodToolsList   = "tools/list"
)

// JSON-RPC error codes the benchmark itself uses.
const codeMethodNotFound = -32601

// appendRequest appends a request frame, without a line ending. params
// must be valid JSON, or nil for none; method must need no escaping.
func appendRequest(dst []byte, id uint64, method string, params []byte) []byte {
	dst = append(dst, `{"jsonrpc":"2.0","id":`...)
	dst = strconv.AppendUint(dst, id, 10)
	return appendMethod(dst, method, params)
}

// appendNotification appends a notification frame, without a line ending.
func appendNotification(dst []byte, method string, params []byte) []byte {
	dst = append(dst, `{"jsonrpc":"2.0"`...)
	return appendMethod(dst, method, params)
}

func appendMethod(dst []byte, method string, params []byte) []byte {
	dst = append(dst, `,"method":"`...)
	dst = append(dst, method...)
	dst = append(dst, '"')
	if params != nil {
		dst = append(dst, `,"params":`...)
		dst = append(dst, params...)
	}
	return append(dst, '}')
}

// toolCallParams encodes the params of every tools/call the benchmark
// sends; args must be a JSON object.
func toolCallParams(tool string, args json.RawMessage) ([]byte, error) {
	params, err := json.Marshal(struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	}{tool, args})
	if err != nil {
		return nil, fmt.Errorf("encoding the call of %s: %w", tool, err)
	}
	return params, nil
}

// listParams encodes the params of a tools/list request for a page; the
// first page has none.
func listParams(cursor string) []byte {
	if cursor == "" {
		return nil
	}
	params, _ := json.Marshal(struct {
		Cursor string `json:"cursor"`
	}{cursor})
	return params
}

// cancelledParams encodes notifications/cancelled for a request given up.
func cancelledParams(id uint64, reason string) []byte {
	params, _ := json.Marshal(struct {
		RequestID uint64 `json:"requestId"`
		Reason    string `json:"reason"`
	}{id, reason})
	return params
}

// serverRequestReply answers a request the server sent: ping with an
// empty result, anything else with "method not found", since the
// benchmark offers no client capabilities.
func serverRequestReply(rawID, method []byte) []byte {
	var name string
	_ = json.Unmarshal(method, &name)
	reply := append([]byte(`{"jsonrpc":"2.0","id":`), rawID...)
	if name == "ping" {
		return append(reply, `,"result":{}}`...)
	}
	msg, _ := json.Marshal("mcp-bench does not handle " + name)
	reply = append(reply, `,"error":{"code":`...)
	reply = strconv.AppendInt(reply, codeMethodNotFound, 10)
	reply = append(reply, `,"message":`...)
	reply = append(reply, msg...)
	return append(reply, `}}`...)
}

// frame holds the spans of the top-level members of one incoming message
// that matter here; absent members are nil.
type frame struct {
	id, method, result, error []byte
}

// parseFrame finds the members of an incoming message. The spans point
// into b.
func parseFrame(b []byte) (frame, error) {
	var f frame
	err := walkObject(b, func(key, value []byte) bool {
		switch string(key) {
		case "id":
			f.id = value
		case "method":
			f.method = value
		case "result":
			f.result = value
		case "error":
			f.error = value
		}
		return true
	})
	return f, err
}

// isServerRequest reports whether the message is a request from the
// server, which expects an answer.
func (f frame) isServerRequest() bool {
	return f.method != nil && f.id != nil && string(f.id) != "null"
}

// numericID returns the message's id when it is a non-negative integer,
// the only kind of id the benchmark sends.
func (f frame) numericID() (uint64, bool) {
	if len(f.id) == 0 || len(f.id) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range f.id {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// outcomeKind says how a request ended.
type outcomeKind uint8

const (
	outcomeOK        outcomeKind = iota
	outcomeRPCError              // a JSON-RPC error response
	outcomeToolError             // a result with isError set
	outcomeTransport             // no response: the connection or the process failed
	outcomeTimeout               // no response within the timeout
	outcomeCancelled             // given up because the benchmark is stopping; not counted
)

// outcome is how one request ended, with the few parts of its response
// the benchmark uses.
type outcome struct {
	kind    outcomeKind
	code    int    // JSON-RPC error code
	message string // what went wrong, for the report's examples
	// fatal says the session is gone: its workers stop.
	fatal bool
	// done is when the response was read.
	done time.Time

	nextCursor string      // tools/list
	tools      int         // tools/list: tools on this page
	pages      int         // a whole listing: pages fetched
	server     *serverInfo // initialize
}

// serverInfo is what an initialize result says about the server.
type serverInfo struct {
	Name            string `json:"name"`
	Version         string `json:"version"`
	ProtocolVersion string `json:"protocol_version"`
}

// outcomeOf classifies a response frame.
func outcomeOf(f frame) outcome {
	if f.error != nil && string(f.error) != "null" {
		var e struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(f.error, &e); err != nil {
			return outcome{kind: outcomeTransport, message: "malformed error object: " + err.Error()}
		}
		return outcome{kind: outcomeRPCError, code: e.Code, message: e.Message}
	}
	if f.result == nil {
		return outcome{kind: outcomeTransport, message: "response with neither result nor error"}
	}
	o := outcome{kind: outcomeOK}
	var cursor []byte
	initialize := false
	var bad error
	tools := 0
	err := walkObjectCounting(f.result, "tools", &tools, func(key, value []byte) bool {
		switch string(key) {
		case "isError":
			if string(value) == "true" {
				o.kind = outcomeToolError
			}
		case "nextCursor":
			cursor = value
		case "tools":
			if value[0] != '[' { // counted in the walk when it is an array
				bad = fmt.Errorf("%w: tools is not an array", errMalformed)
			}
		case "protocolVersion":
			initialize = true
		}
		return bad == nil
	})
	if err == nil {
		err = bad
	}
	o.tools = tools
	if err == nil && cursor != nil {
		// Decoded here, not in the walk, so that o stays on the stack.
		o.nextCursor, err = decodeString(cursor)
	}
	if err != nil {
		return outcome{kind: outcomeTransport, message: "malformed result: " + err.Error()}
	}
	switch {
	case o.kind == outcomeToolError:
		o.message = toolErrorText(f.result)
	case initialize:
		o.server = decodeServerInfo(f.result)
	}
	return o
}

// toolErrorText is the first text content of an isError result.
func toolErrorText(result []byte) string {
	var r struct {
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
	}
	_ = json.Unmarshal(result, &r)
	for _, c := range r.Content {
		if c.Type == "text" {
			return c.Text
		}
	}
	return "a result with isError set"
}

func decodeServerInfo(result []byte) *serverInfo {
	var r struct {
		ProtocolVersion string `json:"protocolVersion"`
		ServerInfo      struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"serverInfo"`
	}
	_ = json.Unmarshal(result, &r)
	return &serverInfo{Name: r.ServerInfo.Name, Version: r.ServerInfo.Version, ProtocolVersion: r.ProtocolVersion}
}

// decodeString decodes a JSON string, or null as "".
func decodeString(raw []byte) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", err
	}
	return s, nil
}
