package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// toolHandler runs one tools/call and returns the CallToolResult to send.
// A returned error becomes a JSON-RPC error; failures the model should see
// are results with isError set.
type toolHandler func(ctx context.Context, call toolCall) (any, error)

// toolCall is one tools/call request.
type toolCall struct {
	name          string
	arguments     json.RawMessage
	progressToken json.RawMessage // absent when the caller wants no progress
	retry         retryParams     // a 2026-07-28 client's answers to an InputRequiredResult
	meta          json.RawMessage // the request's params._meta as sent; nil when absent
}

// decode unmarshals the call's arguments into v; absent arguments leave v
// at its zero value.
func (c toolCall) decode(v any) error {
	if isAbsent(c.arguments) {
		return nil
	}
	if err := json.Unmarshal(c.arguments, v); err != nil {
		return fmt.Errorf("invalid arguments for %s: %w", c.name, err)
	}
	return nil
}

type tool struct {
	name       string
	definition json.RawMessage // the Tool object listed by tools/list, verbatim
	run        toolHandler
}

type toolDefinition struct {
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	InputSchema  json.RawMessage `json:"inputSchema"`
	OutputSchema json.RawMessage `json:"outputSchema,omitempty"`
}

func newTool(name, description, inputSchema string, run toolHandler) tool {
	def := toolDefinition{Name: name, Description: description, InputSchema: json.RawMessage(inputSchema)}
	return tool{name: name, definition: mustRaw(def), run: run}
}

const (
	noArgsSchema   = `{"type":"object","properties":{}}`
	echoSchema     = `{"type":"object","properties":{"text":{"type":"string","description":"Text to echo back"}},"required":["text"]}`
	echoOutput     = `{"type":"object","properties":{"server":{"type":"string"},"text":{"type":"string"}},"required":["server","text"]}`
	addSchema      = `{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}},"required":["a","b"]}`
	sleepSchema    = `{"type":"object","properties":{"ms":{"type":"integer","minimum":0,"description":"Milliseconds to sleep"}},"required":["ms"]}`
	crashSchema    = `{"type":"object","properties":{"code":{"type":"integer","description":"Exit code, default 1"}}}`
	largeSchema    = `{"type":"object","properties":{"bytes":{"type":"integer","minimum":0,"description":"Length of the text"}},"required":["bytes"]}`
	progSchema     = `{"type":"object","properties":{"steps":{"type":"integer","minimum":0,"description":"Progress notifications to send, default 3"},"delay_ms":{"type":"integer","minimum":0,"description":"Pause between steps"}}}`
	logSchema      = `{"type":"object","properties":{"level":{"type":"string","enum":["debug","info","notice","warning","error","critical","alert","emergency"]},"message":{"type":"string"}},"required":["level","message"]}`
	metaEchoSchema = `{"type":"object","properties":{"fail":{"type":"boolean","description":"Answer with a JSON-RPC error"}}}`
	touchSchema    = `{"type":"object","properties":{"uri":{"type":"string","description":"Resource URI to report as updated"}},"required":["uri"]}`
)

// weirdToolDefinition and weirdToolResult are emitted byte for byte; tests
// check that unusual and unknown fields, and number spellings such as 2.50
// and 12345678901234567890, pass through a proxy unchanged.
const (
	weirdToolDefinition = `{"name":"weird","description":"A tool whose definition and result carry unusual and unknown fields.",` +
		`"inputSchema":{"type":"object","$defs":{"target":{"type":"string","format":"uri-reference","examples":["../sibling","#fragment"]}},` +
		`"properties":{"target":{"$ref":"#/$defs/target"},"link":{"type":"string","format":"uri-reference","examples":["https://example.com/a?b=c"]}},` +
		`"unevaluatedProperties":false,"x-vendor":{"nested":[1,2.50,"three"]}},` +
		`"x-future-field":{"keep":true},` +
		`"icons":[{"src":"data:image/png;base64,AAAA","mimeType":"image/png"}],` +
		`"annotations":{"readOnlyHint":true,"title":"Weird"},` +
		`"_meta":{"vendor/key":1}}`
	weirdToolResult = `{"content":[{"type":"text","text":"weird","annotations":{"audience":["user"],"priority":0.5},"x-unknown-content-field":7}],` +
		`"structuredContent":{"big":12345678901234567890,"float":1.50},` +
		`"_meta":{"vendor/trace":"abc"},` +
		`"x-unknown-result-field":{"a":[true,null]}}`
)

// maxLargeBytes bounds the large tool so a typo cannot exhaust memory.
const maxLargeBytes = 256 << 20

func (s *session) builtinTools() []tool {
	tools := []tool{
		s.echoTool("echo", "Echoes text back; structuredContent names the server that answered."),
		newTool("add", "Adds two numbers.", addSchema, s.add),
		newTool("sleep", "Sleeps for ms milliseconds, or until cancelled.", sleepSchema, s.sleep),
		newTool("crash", "Exits the server process with the given code without answering; over the network it drops every connection first.", crashSchema, s.crash),
		newTool("hang", "Never answers until cancelled.", noArgsSchema, s.hang),
		newTool("env", "Returns the names of the server process's environment variables, sorted, one a line (values only for FIXTURE_SHOW_*).", noArgsSchema, s.env),
		newTool("large", "Returns one text content of the given number of 'x' characters.", largeSchema, s.large),
		newTool("progress", "Sends progress notifications when the call has a progress token, then returns done.", progSchema, s.progress),
		{name: "weird", definition: json.RawMessage(weirdToolDefinition), run: s.weird},
		newTool("toggle_tools", "Adds or removes the tool extra_tool and notifies tools/list_changed.", noArgsSchema, s.toggleTools),
		newTool("log", "Sends a log message notification at the given level.", logSchema, s.log),
		newTool("touch", "Sends notifications/resources/updated for a subscribed resource.", touchSchema, s.touch),
		newTool("roots", "Asks the client for its roots and returns them as JSON text.", noArgsSchema, s.toolRounds(s.roots)),
		newTool("header_echo", "Echoes region and text; region is marked x-mcp-header, so 2026-07-28 HTTP clients mirror it in Mcp-Param-Region.",
			headerEchoSchema, s.headerEcho),
		newTool("meta_echo", "Returns the request's params._meta as JSON text ({} when absent); with fail: true it answers with a JSON-RPC error instead.",
			metaEchoSchema, s.metaEcho),
	}
	tools = append(tools, s.conformanceTools()...)
	tools = append(tools, s.inputRequiredTools()...)
	for i := range s.cfg.extraTools {
		tools = append(tools, s.echoTool(fmt.Sprintf("tool_%03d", i), fmt.Sprintf("Generated echo tool number %d.", i)))
	}
	return tools
}

func (s *session) echoTool(name, description string) tool {
	def := toolDefinition{
		Name:         name,
		Description:  description,
		InputSchema:  json.RawMessage(echoSchema),
		OutputSchema: json.RawMessage(echoOutput),
	}
	return tool{name: name, definition: mustRaw(def), run: s.echo}
}

// listedTools is the current tool list, which toggle_tools changes.
func (s *session) listedTools() []tool {
	if !s.shared.tools.isOn() {
		return s.tools
	}
	return append(slices.Clip(s.tools), s.echoTool("extra_tool", "Echo tool that toggle_tools adds and removes."))
}

type toolsListResult struct {
	Tools      []json.RawMessage `json:"tools"`
	NextCursor string            `json:"nextCursor,omitempty"`
}

func (s *session) listTools(params json.RawMessage) (any, error) {
	tools := s.listedTools()
	defs := make([]json.RawMessage, len(tools))
	for i, t := range tools {
		defs[i] = t.definition
	}
	page, next, err := listPage(params, "tools", defs, s.cfg.pageSize)
	if err != nil {
		return nil, err
	}
	return toolsListResult{Tools: page, NextCursor: next}, nil
}

func (s *session) callTool(ctx context.Context, params json.RawMessage) (any, error) {
	var p struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
		Meta      json.RawMessage `json:"_meta"`
		retryParams
	}
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	var meta struct {
		ProgressToken json.RawMessage `json:"progressToken"`
	}
	if !isAbsent(p.Meta) {
		if err := json.Unmarshal(p.Meta, &meta); err != nil {
			return nil, invalidParams("invalid params: _meta: %v", err)
		}
	}
	tools := s.listedTools()
	i := slices.IndexFunc(tools, func(t tool) bool { return t.name == p.Name })
	if i < 0 {
		return nil, invalidParams("Unknown tool: %s", p.Name)
	}
	call := toolCall{name: p.Name, arguments: p.Arguments, progressToken: meta.ProgressToken, retry: p.retryParams, meta: p.Meta}
	return tools[i].run(ctx, call)
}

func (s *session) echo(_ context.Context, call toolCall) (any, error) {
	var args struct {
		Text string `json:"text"`
	}
	if err := call.decode(&args); err != nil {
		return errorResult(err.Error()), nil
	}
	structured := struct {
		Server string `json:"server"`
		Text   string `json:"text"`
	}{Server: s.cfg.name, Text: args.Text}
	return toolResult{Content: []any{text(args.Text)}, StructuredContent: structured}, nil
}

// metaEcho shows what reached the server in _meta (a proxy's trace
// context, progress token), or fails the request as a whole.
func (s *session) metaEcho(_ context.Context, call toolCall) (any, error) {
	var args struct {
		Fail bool `json:"fail"`
	}
	if err := call.decode(&args); err != nil {
		return errorResult(err.Error()), nil
	}
	if args.Fail {
		return nil, &rpcError{Code: codeInternalError, Message: "meta_echo failed as asked"}
	}
	if isAbsent(call.meta) {
		return textResult("{}"), nil
	}
	return textResult(string(call.meta)), nil
}

func (s *session) add(_ context.Context, call toolCall) (any, error) {
	var args struct {
		A float64 `json:"a"`
		B float64 `json:"b"`
	}
	if err := call.decode(&args); err != nil {
		return errorResult(err.Error()), nil
	}
	return textResult(strconv.FormatFloat(args.A+args.B, 'g', -1, 64)), nil
}

// env lists the environment's names: a test checks what plugboard passes
// on without the fixture printing secrets.
func (s *session) env(context.Context, toolCall) (any, error) {
	var lines []string
	for _, kv := range os.Environ() {
		name, value, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "FIXTURE_SHOW_") {
			name += "=" + value
		}
		lines = append(lines, name)
	}
	slices.Sort(lines)
	return textResult(strings.Join(lines, "\n")), nil
}

func (s *session) sleep(ctx context.Context, call toolCall) (any, error) {
	var args struct {
		MS int `json:"ms"`
	}
	if err := call.decode(&args); err != nil {
		return errorResult(err.Error()), nil
	}
	if err := pause(ctx, time.Duration(args.MS)*time.Millisecond); err != nil {
		return nil, err
	}
	return textResult(fmt.Sprintf("slept %d ms", args.MS)), nil
}

func (s *session) crash(_ context.Context, call toolCall) (any, error) {
	var args struct {
		Code *int `json:"code"`
	}
	if err := call.decode(&args); err != nil {
		return errorResult(err.Error()), nil
	}
	code := 1
	if args.Code != nil {
		code = *args.Code
	}
	s.logger.Printf("crashing with code %d", code)
	s.exit(code)
	return nil, errors.New("crash: exit returned")
}

func (s *session) hang(ctx context.Context, _ toolCall) (any, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (s *session) large(_ context.Context, call toolCall) (any, error) {
	var args struct {
		Bytes int `json:"bytes"`
	}
	if err := call.decode(&args); err != nil {
		return errorResult(err.Error()), nil
	}
	if args.Bytes < 0 || args.Bytes > maxLargeBytes {
		return errorResult(fmt.Sprintf("bytes must be between 0 and %d, got %d", maxLargeBytes, args.Bytes)), nil
	}
	return textResult(strings.Repeat("x", args.Bytes)), nil
}

func (s *session) progress(ctx context.Context, call toolCall) (any, error) {
	var args struct {
		Steps   *int `json:"steps"`
		DelayMS int  `json:"delay_ms"`
	}
	if err := call.decode(&args); err != nil {
		return errorResult(err.Error()), nil
	}
	steps := 3
	if args.Steps != nil {
		steps = *args.Steps
	}
	for i := 1; i <= steps; i++ {
		if i > 1 {
			if err := pause(ctx, time.Duration(args.DelayMS)*time.Millisecond); err != nil {
				return nil, err
			}
		}
		s.sendProgress(ctx, call.progressToken, float64(i), float64(steps), fmt.Sprintf("step %d", i))
	}
	return textResult("done"), nil
}

func (s *session) weird(context.Context, toolCall) (any, error) {
	return json.RawMessage(weirdToolResult), nil
}

func (s *session) toggleTools(context.Context, toolCall) (any, error) {
	if s.shared.tools.toggle() {
		return textResult("extra_tool on"), nil
	}
	return textResult("extra_tool off"), nil
}

func (s *session) log(ctx context.Context, call toolCall) (any, error) {
	var args struct {
		Level   string `json:"level"`
		Message string `json:"message"`
	}
	if err := call.decode(&args); err != nil {
		return errorResult(err.Error()), nil
	}
	if _, ok := logLevelRank(args.Level); !ok {
		return errorResult(fmt.Sprintf("unknown log level %q", args.Level)), nil
	}
	s.sendLog(ctx, args.Level, args.Message)
	return textResult("logged"), nil
}

// touch reports a resource updated to the session, if it subscribed to
// it, and to every 2026-07-28 subscription that listens for it.
func (s *session) touch(_ context.Context, call toolCall) (any, error) {
	var args struct {
		URI string `json:"uri"`
	}
	if err := call.decode(&args); err != nil {
		return errorResult(err.Error()), nil
	}
	s.mu.Lock()
	subscribed := s.subscriptions[args.URI]
	s.mu.Unlock()
	if subscribed {
		s.announce("notifications/resources/updated", map[string]string{"uri": args.URI})
	}
	if heard := s.shared.listeners.publish(change{kind: changeResourceUpdated, uri: args.URI}); !subscribed && heard == 0 {
		return textResult("not subscribed: " + args.URI), nil
	}
	return textResult("touched " + args.URI), nil
}

type progressParams struct {
	ProgressToken json.RawMessage `json:"progressToken"`
	Progress      float64         `json:"progress"`
	Total         float64         `json:"total,omitempty"`
	Message       string          `json:"message,omitempty"`
}

// sendProgress notifies progress on the call ctx belongs to, if the caller
// asked for it.
func (s *session) sendProgress(ctx context.Context, token json.RawMessage, progress, total float64, message string) {
	if isAbsent(token) {
		return
	}
	s.notify(ctx, "notifications/progress", progressParams{ProgressToken: token, Progress: progress, Total: total, Message: message})
}

// pause waits for d or until ctx is done.
func pause(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
