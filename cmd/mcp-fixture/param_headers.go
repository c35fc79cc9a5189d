package main

// A tool's inputSchema may mark arguments with x-mcp-header, asking
// 2026-07-28 clients on HTTP to mirror them in Mcp-Param-{Name} headers,
// which the server then checks against the body like Mcp-Name.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// headerEchoSchema marks region with x-mcp-header.
const headerEchoSchema = `{"type":"object","properties":{` +
	`"region":{"type":"string","description":"A region, which HTTP clients mirror in the Mcp-Param-Region header","x-mcp-header":"Region"},` +
	`"text":{"type":"string","description":"Text to echo back"}},"required":["region"]}`

const paramHeaderPrefix = "Mcp-Param-"

func (s *session) headerEcho(_ context.Context, call toolCall) (any, error) {
	var args struct {
		Region string `json:"region"`
		Text   string `json:"text"`
	}
	if err := call.decode(&args); err != nil {
		return errorResult(err.Error()), nil
	}
	return textResult(fmt.Sprintf("region=%s text=%s", args.Region, args.Text)), nil
}

// paramHeader is one x-mcp-header mark: the header's name after
// Mcp-Param- and the chain of properties that leads to the argument.
type paramHeader struct {
	name string
	path []string
}

// paramHeaders returns the marks of an inputSchema that are reachable
// from its root through properties alone, as the mark must be.
func paramHeaders(schema json.RawMessage) []paramHeader {
	var marks []paramHeader
	var walk func(schema json.RawMessage, path []string)
	walk = func(schema json.RawMessage, path []string) {
		var node struct {
			Header     *string                    `json:"x-mcp-header"`
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if json.Unmarshal(schema, &node) != nil {
			return
		}
		if node.Header != nil && len(path) > 0 {
			marks = append(marks, paramHeader{name: *node.Header, path: path})
		}
		for _, name := range slices.Sorted(maps.Keys(node.Properties)) {
			walk(node.Properties[name], append(slices.Clip(path), name))
		}
	}
	walk(schema, nil)
	return marks
}

// checkParamHeaders fails with HeaderMismatch unless every argument of a
// tools/call whose tool marks it with x-mcp-header is mirrored, encoded or
// not, in its Mcp-Param header.
func (s *session) checkParamHeaders(header http.Header, params json.RawMessage) *rpcError {
	var p struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	}
	_ = json.Unmarshal(params, &p)
	tools := s.listedTools()
	i := slices.IndexFunc(tools, func(t tool) bool { return t.name == p.Name })
	if i < 0 {
		return nil // tools/call answers an unknown tool itself
	}
	var def struct {
		InputSchema json.RawMessage `json:"inputSchema"`
	}
	_ = json.Unmarshal(tools[i].definition, &def)
	for _, mark := range paramHeaders(def.InputSchema) {
		want, present := argumentAt(p.Arguments, mark.path)
		if !present {
			continue
		}
		name := paramHeaderPrefix + mark.name
		raw := header.Get(name)
		if raw == "" {
			return headerMismatch("the %s header is missing, but arguments.%s is %s", name, strings.Join(mark.path, "."), want)
		}
		if i := strings.IndexFunc(raw, func(r rune) bool { return (r < 0x20 || r > 0x7e) && r != '\t' }); i >= 0 {
			return headerMismatch("the %s header holds a character a header value must not", name)
		}
		got, err := decodeHeaderValue(raw)
		if err != nil {
			return headerMismatch("%s header %q: %v", name, raw, err)
		}
		if !sameArgument(got, want) {
			return headerMismatch("%s header value %q does not match arguments.%s %s", name, got, strings.Join(mark.path, "."), want)
		}
	}
	return nil
}

// argumentAt returns the argument at path, unless it is absent or null.
func argumentAt(arguments json.RawMessage, path []string) (json.RawMessage, bool) {
	value := arguments
	for _, key := range path {
		var object map[string]json.RawMessage
		if json.Unmarshal(value, &object) != nil {
			return nil, false
		}
		value = object[key]
	}
	return value, !isAbsent(value)
}

// sameArgument reports whether a header value stands for the JSON value
// want: a string as it is, a number by value, a boolean as true or false.
func sameArgument(header string, want json.RawMessage) bool {
	var v any
	if json.Unmarshal(want, &v) != nil {
		return false
	}
	switch v := v.(type) {
	case string:
		return header == v
	case float64:
		n, err := strconv.ParseFloat(header, 64)
		return err == nil && n == v
	case bool:
		return header == strconv.FormatBool(v)
	}
	return false
}

func headerMismatch(format string, args ...any) *rpcError {
	return &rpcError{Code: codeHeaderMismatch, Message: "Header mismatch: " + fmt.Sprintf(format, args...)}
}
