// Command conformance-client lets the official conformance suite's client
// scenarios (npx @modelcontextprotocol/conformance client --command ...)
// test plugboard's client side. The suite starts a scenario's server and
// runs this command with the server's URL as the last argument, the
// scenario's name in MCP_CONFORMANCE_SCENARIO and its context (credentials
// the scenario pre-registered, say) in MCP_CONFORMANCE_CONTEXT.
//
// It writes a configuration with that URL as plugboard's one downstream,
// unprefixed, starts the real plugboard binary in stdio mode and acts as a
// client of plugboard doing what the scenario needs. For auth/* scenarios
// it first runs plugboard login with $BROWSER set to a script that calls
// this command back with -browse, to follow the authorization URL as a
// person's browser would: the suite's authorization server approves at
// once and redirects to plugboard's loopback listener.
//
// Usage:
//
//	conformance-client -plugboard BIN SERVER_URL
//	conformance-client -browse URL
//
// It exits 0 when every step worked; otherwise it says on stderr which
// step failed, and exits 1 (3 when plugboard has no login command).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// exitNoLogin is the exit status when the plugboard under test has no
// login command, so that the test can tell that from a failed flow.
const exitNoLogin = 3

// noLoginReason is printed when plugboard has no login command yet.
const noLoginReason = "plugboard login (issue 13 items 1-3) not merged yet"

// serverName is the downstream's name in the written configuration.
const serverName = "target"

func main() {
	plugboard := flag.String("plugboard", "", "the plugboard binary under test")
	browse := flag.Bool("browse", false, "follow the URL given as argument, as a browser would, and exit")
	timeout := flag.Duration("timeout", 25*time.Second, "how long the whole scenario may take")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: conformance-client -plugboard BIN SERVER_URL | -browse URL")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if *browse {
		if err := follow(ctx, flag.Arg(0)); err != nil {
			fmt.Fprintln(os.Stderr, "conformance-client -browse:", err)
			os.Exit(1)
		}
		return
	}
	if *plugboard == "" {
		fmt.Fprintln(os.Stderr, "conformance-client: -plugboard is required")
		os.Exit(2)
	}
	sc := scenario{
		name:      os.Getenv("MCP_CONFORMANCE_SCENARIO"),
		serverURL: flag.Arg(0),
		plugboard: *plugboard,
	}
	if raw := os.Getenv("MCP_CONFORMANCE_CONTEXT"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &sc.context); err != nil {
			fmt.Fprintln(os.Stderr, "conformance-client: MCP_CONFORMANCE_CONTEXT is not a JSON object:", err)
			os.Exit(2)
		}
	}
	err := sc.run(ctx)
	if errors.Is(err, errNoLogin) {
		fmt.Fprintln(os.Stderr, "conformance-client:", noLoginReason)
		os.Exit(exitNoLogin)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "conformance-client: scenario %s: %v\n", sc.name, err)
		os.Exit(1)
	}
}

// follow GETs url and the redirects that follow, as a browser opened on
// an authorization URL does; the last hop is plugboard's loopback
// listener, which takes the code.
func follow(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode >= 400 {
		return fmt.Errorf("GET %s ended at %s with HTTP %s", url, resp.Request.URL.Redacted(), resp.Status)
	}
	return nil
}

// scenario is one run of the harness.
type scenario struct {
	name      string
	serverURL string
	plugboard string
	context   map[string]any
	dir       string // holds the configuration, the browser script and plugboard's state
}

// errNoLogin says the plugboard under test has no login command.
var errNoLogin = errors.New("plugboard has no login command")

func (s *scenario) run(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "plugboard-conformance-client-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s.dir = dir
	config, err := s.writeConfig()
	if err != nil {
		return err
	}
	if s.needsLogin() {
		if err := s.login(ctx, config); err != nil {
			return err
		}
	}
	c, err := startClient(ctx, s.plugboard, s.env(), "--config", config)
	if err != nil {
		return err
	}
	defer c.close()
	if err := c.initialize(ctx); err != nil {
		return err
	}
	if s.name == "json-schema-2020-12-preservation" {
		return echoSchema(ctx, c)
	}
	return callEveryTool(ctx, c)
}

// needsLogin reports whether the scenario's server is behind the MCP
// authorization flow.
func (s *scenario) needsLogin() bool { return strings.HasPrefix(s.name, "auth/") }

// writeConfig writes plugboard's configuration: the scenario's server as
// its one downstream, unprefixed, with the scenario's pre-registered
// client credentials under auth.
func (s *scenario) writeConfig() (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "servers:\n  %s:\n    url: %q\n    transport: streamable-http\n    prefix: \"\"\n", serverName, s.serverURL)
	if s.needsLogin() {
		var auth []string
		for _, key := range []string{"client_id", "client_secret"} {
			if v, ok := s.context[key].(string); ok && v != "" {
				auth = append(auth, fmt.Sprintf("%s: %q", key, v))
			}
		}
		if s.name == "auth/basic-cimd" {
			// A client that publishes a Client ID Metadata Document uses
			// its URL as client_id; the scenario names the URL it expects.
			auth = append(auth, fmt.Sprintf("client_id: %q", cimdURL))
		}
		if len(auth) > 0 {
			fmt.Fprintf(&b, "    auth: {%s}\n", strings.Join(auth, ", "))
		}
	}
	path := filepath.Join(s.dir, "plugboard.yaml")
	return path, os.WriteFile(path, []byte(b.String()), 0o600)
}

// cimdURL is the client id the auth/basic-cimd scenario expects of a
// client that uses a Client ID Metadata Document.
const cimdURL = "https://conformance-test.local/client-metadata.json"

// env is the environment of every plugboard this run starts: its state
// (tokens, era cache) in the run's directory, and $BROWSER the script that
// follows an authorization URL without a person.
func (s *scenario) env() []string {
	return append(os.Environ(),
		"XDG_CONFIG_HOME="+filepath.Join(s.dir, "config"),
		"XDG_STATE_HOME="+filepath.Join(s.dir, "state"),
		"XDG_CACHE_HOME="+filepath.Join(s.dir, "cache"),
		"PLUGBOARD_ERA_CACHE="+filepath.Join(s.dir, "eras.json"),
		"BROWSER="+filepath.Join(s.dir, "browser"),
	)
}

// login runs plugboard login for the server, with a browser that follows
// the authorization URL itself.
func (s *scenario) login(ctx context.Context, config string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	script := fmt.Sprintf("#!/bin/sh\nexec %s -browse \"$1\"\n", strconv.Quote(self))
	if err := os.WriteFile(filepath.Join(s.dir, "browser"), []byte(script), 0o700); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, s.plugboard, "login", serverName, "--config", config)
	cmd.Env = s.env()
	out, err := cmd.CombinedOutput()
	os.Stderr.Write(out)
	if err != nil {
		if strings.Contains(string(out), `unknown command "login"`) {
			return errNoLogin
		}
		return fmt.Errorf("plugboard login %s: %w", serverName, err)
	}
	return nil
}

// callEveryTool lists plugboard's tools and calls each, with arguments
// made from its input schema. It is what most scenarios need: the tool
// the scenario's server offers gets called, and its check runs.
func callEveryTool(ctx context.Context, c *client) error {
	tools, err := c.listTools(ctx)
	if err != nil {
		return err
	}
	for _, tool := range tools {
		var t struct {
			Name        string          `json:"name"`
			InputSchema json.RawMessage `json:"inputSchema"`
		}
		if err := json.Unmarshal(tool, &t); err != nil {
			return fmt.Errorf("tools/list gave a tool that is not an object: %s", tool)
		}
		if err := c.callTool(ctx, t.Name, argumentsFor(t.InputSchema)); err != nil {
			return err
		}
	}
	return nil
}

// echoSchema is the json-schema-2020-12-preservation scenario: the input
// schema of the tool that has the rich one goes back to the server,
// through plugboard, as the schema argument of the tool that echoes it,
// so that the server sees what plugboard kept of it.
func echoSchema(ctx context.Context, c *client) error {
	tools, err := c.listTools(ctx)
	if err != nil {
		return err
	}
	var echo string
	var schema json.RawMessage
	for _, tool := range tools {
		var t struct {
			Name        string          `json:"name"`
			InputSchema json.RawMessage `json:"inputSchema"`
		}
		var s struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if json.Unmarshal(tool, &t) != nil || json.Unmarshal(t.InputSchema, &s) != nil {
			return fmt.Errorf("tools/list gave a tool that is not an object: %s", tool)
		}
		if _, ok := s.Properties["schema"]; ok && len(s.Properties) == 1 {
			echo = t.Name
		} else {
			schema = t.InputSchema
		}
	}
	if echo == "" || schema == nil {
		return fmt.Errorf("tools/list has no echo tool and schema to echo: %d tools", len(tools))
	}
	return c.callTool(ctx, echo, map[string]any{"schema": schema})
}

// argumentsFor makes arguments that satisfy a simple input schema: each
// required property gets its default, else a value of its type.
func argumentsFor(schema json.RawMessage) map[string]any {
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Required   []string                   `json:"required"`
	}
	args := map[string]any{}
	if json.Unmarshal(schema, &s) != nil {
		return args
	}
	for _, name := range s.Required {
		args[name] = valueFor(s.Properties[name])
	}
	return args
}

// valueFor is a property's default, else a value of its type.
func valueFor(property json.RawMessage) any {
	var p struct {
		Type    any             `json:"type"`
		Default json.RawMessage `json:"default"`
		Enum    []any           `json:"enum"`
	}
	if json.Unmarshal(property, &p) != nil {
		return nil
	}
	if p.Default != nil {
		return p.Default
	}
	if len(p.Enum) > 0 {
		return p.Enum[0]
	}
	switch p.Type {
	case "number", "integer":
		return 2
	case "boolean":
		return true
	case "object":
		return map[string]any{}
	case "array":
		return []any{}
	}
	return "x"
}

// defaultsOf is the content of an elicitation accepted as offered: each
// property of the requested schema that has a default, with it.
func defaultsOf(params json.RawMessage) map[string]json.RawMessage {
	var p struct {
		RequestedSchema struct {
			Properties map[string]struct {
				Default json.RawMessage `json:"default"`
			} `json:"properties"`
		} `json:"requestedSchema"`
	}
	content := map[string]json.RawMessage{}
	if json.Unmarshal(params, &p) != nil {
		return content
	}
	for name, prop := range p.RequestedSchema.Properties {
		if prop.Default != nil {
			content[name] = prop.Default
		}
	}
	return content
}

// client is a client of plugboard in stdio mode.
type client struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	exited chan struct{}

	writeMu sync.Mutex
	mu      sync.Mutex
	nextID  int
	waiting map[string]chan frame
}

// frame is a JSON-RPC message from plugboard.
type frame struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// startClient starts plugboard in stdio mode; its stderr is this
// command's, which the suite keeps.
func startClient(ctx context.Context, bin string, env []string, args ...string) (*client, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting plugboard: %w", err)
	}
	c := &client{cmd: cmd, stdin: stdin, exited: make(chan struct{}), waiting: map[string]chan frame{}}
	go c.read(stdout)
	return c, nil
}

// read delivers plugboard's responses to the calls waiting for them and
// answers its requests.
func (c *client) read(stdout io.Reader) {
	defer close(c.exited)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		var f frame
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			fmt.Fprintf(os.Stderr, "conformance-client: plugboard wrote a line that is not JSON-RPC: %q\n", sc.Bytes())
			continue
		}
		switch {
		case f.Method != "" && f.ID != nil:
			go c.answer(f)
		case f.Method == "":
			c.mu.Lock()
			ch := c.waiting[string(f.ID)]
			delete(c.waiting, string(f.ID))
			c.mu.Unlock()
			if ch != nil {
				ch <- f
			}
		}
	}
}

// answer answers plugboard's request: an elicitation is accepted with the
// requested schema's defaults, sampling gets a fixed text, roots none.
func (c *client) answer(req frame) {
	var result any
	switch req.Method {
	case "elicitation/create":
		result = map[string]any{"action": "accept", "content": defaultsOf(req.Params)}
	case "sampling/createMessage":
		result = map[string]any{"role": "assistant", "model": "conformance-client",
			"content": map[string]any{"type": "text", "text": "a sampled answer"}}
	case "roots/list":
		result = map[string]any{"roots": []any{}}
	case "ping":
		result = map[string]any{}
	default:
		c.write(map[string]any{"jsonrpc": "2.0", "id": req.ID,
			"error": map[string]any{"code": -32601, "message": "conformance-client does not answer " + req.Method}})
		return
	}
	c.write(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": result})
}

func (c *client) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_, err = c.stdin.Write(append(b, '\n'))
	return err
}

// call sends a request and waits for its response.
func (c *client) call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan frame, 1)
	c.waiting[strconv.Itoa(id)] = ch
	c.mu.Unlock()
	if err := c.write(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params}); err != nil {
		return nil, fmt.Errorf("sending %s: %w", method, err)
	}
	select {
	case f := <-ch:
		if f.Error != nil {
			return nil, fmt.Errorf("%s: error %d: %s", method, f.Error.Code, f.Error.Message)
		}
		return f.Result, nil
	case <-c.exited:
		return nil, fmt.Errorf("%s: plugboard exited", method)
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: no answer: %w", method, ctx.Err())
	}
}

// initialize opens the session with what a desktop client offers.
func (c *client) initialize(ctx context.Context) error {
	_, err := c.call(ctx, "initialize", map[string]any{
		"protocolVersion": "2025-11-25",
		"capabilities":    map[string]any{"elicitation": map[string]any{}, "sampling": map[string]any{}, "roots": map[string]any{}},
		"clientInfo":      map[string]any{"name": "conformance-client", "version": "1.0.0"},
	})
	if err != nil {
		return err
	}
	return c.write(map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"})
}

// listTools lists every page of plugboard's tools.
func (c *client) listTools(ctx context.Context) ([]json.RawMessage, error) {
	var all []json.RawMessage
	params := map[string]any{}
	for {
		res, err := c.call(ctx, "tools/list", params)
		if err != nil {
			return nil, err
		}
		var page struct {
			Tools      []json.RawMessage `json:"tools"`
			NextCursor string            `json:"nextCursor"`
		}
		if err := json.Unmarshal(res, &page); err != nil {
			return nil, fmt.Errorf("tools/list: %w", err)
		}
		all = append(all, page.Tools...)
		if page.NextCursor == "" {
			return all, nil
		}
		params = map[string]any{"cursor": page.NextCursor}
	}
}

// callTool calls a tool and fails on an error, or a result marked isError.
func (c *client) callTool(ctx context.Context, name string, args any) error {
	res, err := c.call(ctx, "tools/call", map[string]any{"name": name, "arguments": args})
	if err != nil {
		return fmt.Errorf("calling %s: %w", name, err)
	}
	var r struct {
		IsError bool `json:"isError"`
	}
	if json.Unmarshal(res, &r) == nil && r.IsError {
		return fmt.Errorf("calling %s: the result is an error: %s", name, res)
	}
	return nil
}

// close ends the session: plugboard exits when its stdin ends.
func (c *client) close() {
	c.stdin.Close()
	select {
	case <-c.exited:
	case <-time.After(5 * time.Second):
		c.cmd.Process.Kill()
	}
	c.cmd.Wait()
}
