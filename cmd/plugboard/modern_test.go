package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// modernClient speaks the 2026-07-28 revision to plugboard serve's /mcp:
// no session, every request with its _meta and mirrored headers.
type modernClient struct {
	t    *testing.T
	base string
	caps map[string]any
	next int
}

func (c *modernClient) meta() map[string]any {
	return map[string]any{
		"io.modelcontextprotocol/protocolVersion":    "2026-07-28",
		"io.modelcontextprotocol/clientCapabilities": c.caps,
		"io.modelcontextprotocol/clientInfo":         map[string]any{"name": "modern-test", "version": "1"},
	}
}

// post sends one request with params (their _meta added) and header
// overrides, and returns the HTTP status and every JSON-RPC message of
// the answer, the last being the response.
func (c *modernClient) post(method string, params map[string]any, header map[string]string) (int, []*message) {
	c.t.Helper()
	params = maps.Clone(params) // the caller's map is left as it was
	if params == nil {
		params = map[string]any{}
	}
	if _, ok := params["_meta"]; !ok {
		params["_meta"] = c.meta()
	}
	mirrored := map[string]string{}
	if name, ok := params["name"].(string); ok {
		mirrored["Mcp-Name"] = name
	}
	if uri, ok := params["uri"].(string); ok {
		mirrored["Mcp-Name"] = uri
	}
	maps.Copy(mirrored, header)
	raw, _ := json.Marshal(params)
	return c.postRaw(method, raw, mirrored)
}

// postRaw sends one request with params as they are (json.Marshal would
// sort a map's members) and these headers besides the revision's own; a
// header given as "" is left out.
func (c *modernClient) postRaw(method string, params json.RawMessage, header map[string]string) (int, []*message) {
	c.t.Helper()
	c.next++
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": c.next, "method": method, "params": params})
	req, _ := http.NewRequest(http.MethodPost, c.base+"/mcp", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", method)
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var msgs []*message
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		eachSSE(c.t, resp.Body, func(data []byte) bool {
			m := decodeMessage(c.t, data)
			msgs = append(msgs, m)
			return m.Method != ""
		})
	} else {
		msgs = append(msgs, decodeMessage(c.t, mustRead(c.t, resp.Body)))
	}
	if resp.Header.Get("Mcp-Session-Id") != "" {
		c.t.Errorf("a %s request got a session id", method)
	}
	return resp.StatusCode, msgs
}

// result posts and decodes the response's result into v, failing on an error.
func (c *modernClient) result(method string, params map[string]any, v any) []*message {
	c.t.Helper()
	status, msgs := c.post(method, params, nil)
	last := msgs[len(msgs)-1]
	if status != http.StatusOK || last.Error != nil || last.Result == nil {
		c.t.Fatalf("%s: HTTP %d, %s", method, status, last.raw)
	}
	if err := json.Unmarshal(last.Result, v); err != nil {
		c.t.Fatalf("%s: %v in %s", method, err, last.raw)
	}
	return msgs
}

func TestModernClientDiscoversListsAndCalls(t *testing.T) {
	d := startServe(t, unprefixedFixture(t, ""))
	c := &modernClient{t: t, base: d.url, caps: map[string]any{}}

	var disc struct {
		ResultType        string          `json:"resultType"`
		SupportedVersions []string        `json:"supportedVersions"`
		Capabilities      map[string]any  `json:"capabilities"`
		Meta              map[string]any  `json:"_meta"`
		TTL               *int            `json:"ttlMs"`
		Instructions      json.RawMessage `json:"instructions"`
	}
	c.result("server/discover", nil, &disc)
	if disc.ResultType != "complete" || len(disc.SupportedVersions) == 0 || disc.SupportedVersions[0] != "2026-07-28" ||
		disc.Capabilities["tools"] == nil || disc.Meta["io.modelcontextprotocol/serverInfo"] == nil || disc.TTL == nil {
		t.Fatalf("server/discover answered %+v", disc)
	}

	var list struct {
		ResultType string            `json:"resultType"`
		TTL        *int              `json:"ttlMs"`
		Scope      string            `json:"cacheScope"`
		Tools      []json.RawMessage `json:"tools"`
	}
	eventually(t, 10*time.Second, "the fixture's tools listed", func() bool {
		c.result("tools/list", nil, &list)
		return len(list.Tools) > 0
	})
	if list.ResultType != "complete" || list.TTL == nil || (list.Scope != "private" && list.Scope != "public") {
		t.Fatalf("tools/list lacks the revision's members: %+v", list)
	}

	var call struct {
		ResultType string `json:"resultType"`
		Content    []struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	c.result("tools/call", map[string]any{"name": "echo", "arguments": map[string]any{"text": "modern hello"}}, &call)
	if call.ResultType != "complete" || len(call.Content) == 0 || !strings.Contains(call.Content[0].Text, "modern hello") {
		t.Fatalf("echo answered %+v", call)
	}

	// Progress goes on the request's own stream, under the client's token.
	meta := c.meta()
	meta["progressToken"] = "tok-1"
	msgs := c.result("tools/call", map[string]any{"name": "progress", "arguments": map[string]any{"steps": 2}, "_meta": meta}, &call)
	progress := 0
	for _, m := range msgs {
		if m.Method == "notifications/progress" && strings.Contains(string(m.Params), `"tok-1"`) {
			progress++
		}
	}
	if progress != 2 {
		t.Fatalf("got %d progress notifications on the call's stream, want 2: %d messages", progress, len(msgs))
	}
}

func TestModernClientRequestsAreValidated(t *testing.T) {
	d := startServe(t, unprefixedFixture(t, ""))
	c := &modernClient{t: t, base: d.url, caps: map[string]any{}}
	cases := []struct {
		name   string
		method string
		params map[string]any
		header map[string]string
		status int
		code   int
	}{
		{"no _meta", "tools/list", map[string]any{"_meta": nil}, nil, 400, -32602},
		{"no capabilities", "tools/list", map[string]any{"_meta": map[string]any{"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}, nil, 400, -32602},
		{"version header differs", "tools/list", nil, map[string]string{"MCP-Protocol-Version": "2025-11-25"}, 400, -32020},
		{"no method header", "tools/list", nil, map[string]string{"Mcp-Method": ""}, 400, -32020},
		{"method header differs", "tools/list", nil, map[string]string{"Mcp-Method": "prompts/list"}, 400, -32020},
		{"name header differs", "tools/call", map[string]any{"name": "echo", "arguments": map[string]any{"text": "x"}}, map[string]string{"Mcp-Name": "add"}, 400, -32020},
		{"removed method", "ping", nil, nil, 404, -32601},
		{"removed subscribe", "resources/subscribe", map[string]any{"uri": "test://static-text"}, nil, 404, -32601},
		{"unknown method", "no/such", nil, nil, 404, -32601},
	}
	for _, tc := range cases {
		status, msgs := c.post(tc.method, tc.params, tc.header)
		last := msgs[len(msgs)-1]
		if status != tc.status || last.Error == nil || last.Error.Code != tc.code {
			t.Errorf("%s: HTTP %d %s, want HTTP %d code %d", tc.name, status, last.raw, tc.status, tc.code)
		}
	}

	// A tool that marks an argument with x-mcp-header (the fixture's
	// header_echo, region): the header must mirror it.
	region := func(body, header string) (int, *message) {
		h := map[string]string{"Mcp-Name": "header_echo", "Mcp-Param-Region": header}
		meta, _ := json.Marshal(c.meta())
		status, msgs := c.postRaw("tools/call", json.RawMessage(`{"name":"header_echo",`+body+`,"_meta":`+string(meta)+`}`), h)
		return status, msgs[len(msgs)-1]
	}
	if status, last := region(`"arguments":{"region":"us","text":"t"}`, "us"); status != 200 || !strings.Contains(string(last.Result), "region=us text=t") {
		t.Errorf("a mirrored Mcp-Param-Region: HTTP %d %s", status, last.raw)
	}
	for _, tc := range []struct{ name, body, header string }{
		{"param header differs", `"arguments":{"region":"us","text":"t"}`, "eu"},
		{"param header missing", `"arguments":{"region":"us","text":"t"}`, ""},
	} {
		if status, last := region(tc.body, tc.header); status != 400 || last.Error == nil || last.Error.Code != -32020 {
			t.Errorf("%s: HTTP %d %s, want HTTP 400 code -32020", tc.name, status, last.raw)
		}
	}
	// Members the header check and a server could read differently, so
	// that the header vouches for one value and the server acts on
	// another, are refused. Of arguments/Arguments, mcp-go's check reads
	// the last (encoding/json) and a server reading the exact member the
	// first; of region/Region in the arguments, the check reads the exact
	// member and a server decoding into a struct (as the fixture does)
	// the last.
	for _, tc := range []struct{ name, body, header, member string }{
		{"Arguments after arguments", `"arguments":{"region":"us","text":"t"},"Arguments":{"region":"eu","text":"t"}`, "eu", "arguments"},
		{"arguments twice", `"arguments":{"region":"us","text":"t"},"arguments":{"region":"eu","text":"t"}`, "eu", "arguments"},
		{"Region after region", `"arguments":{"region":"us","Region":"eu","text":"t"}`, "us", "region"},
	} {
		if status, last := region(tc.body, tc.header); last.Error == nil || last.Error.Code != -32602 || !strings.Contains(last.Error.Message, tc.member) {
			t.Errorf("%s: HTTP %d %s, want code -32602 naming %s", tc.name, status, last.raw, tc.member)
		}
	}
	// Arguments the tool does not mirror are the server's business.
	if status, last := region(`"arguments":{"region":"us","text":"t","Text":"u"}`, "us"); status != 200 || last.Error != nil {
		t.Errorf("case variants of an argument no header mirrors: HTTP %d %s", status, last.raw)
	}

	// An encoded Mcp-Name is decoded before it is compared.
	status, msgs := c.post("tools/call", map[string]any{"name": "echo", "arguments": map[string]any{"text": "x"}},
		map[string]string{"Mcp-Name": "=?base64?" + base64.StdEncoding.EncodeToString([]byte("echo")) + "?="})
	if status != 200 || msgs[len(msgs)-1].Error != nil {
		t.Errorf("a Base64-encoded Mcp-Name was refused: HTTP %d %s", status, msgs[len(msgs)-1].raw)
	}

	// A version plugboard does not speak names the ones it does.
	meta := c.meta()
	meta["io.modelcontextprotocol/protocolVersion"] = "1999-01-01"
	status, msgs = c.post("tools/list", map[string]any{"_meta": meta}, map[string]string{"MCP-Protocol-Version": "1999-01-01"})
	last := msgs[len(msgs)-1]
	var data struct {
		Supported []string `json:"supported"`
		Requested string   `json:"requested"`
	}
	if status != 400 || last.Error == nil || last.Error.Code != -32022 || json.Unmarshal(last.Error.Data, &data) != nil ||
		data.Requested != "1999-01-01" || len(data.Supported) == 0 || data.Supported[0] != "2026-07-28" {
		t.Errorf("unsupported version: HTTP %d %s", status, last.raw)
	}

	// The revision has no GET stream and no sessions to DELETE.
	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		req, _ := http.NewRequest(method, d.url+"/mcp", nil)
		req.Header.Set("MCP-Protocol-Version", "2026-07-28")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s with the 2026-07-28 header: HTTP %d, want 405", method, resp.StatusCode)
		}
	}

	// A handshake-era client on the same endpoint at the same time still
	// gets its session.
	legacy := newHTTPSession(t, d.url)
	legacy.initialize(map[string]any{})
	if m, _ := legacy.call("tools/list", map[string]any{}); m.Error != nil || strings.Contains(string(m.Result), "resultType") {
		t.Errorf("a 2025-11-25 session's tools/list: %s", m.raw)
	}
}

// A legacy server's sampling request reaches a 2026-07-28 client as an
// input_required result; the retry answers it and gets the tool's result.
func TestModernClientAnswersALegacyServersRequestByRetrying(t *testing.T) {
	d := startServe(t, fixtureOfEra(t, []string{"--legacy-only"}))
	c := &modernClient{t: t, base: d.url, caps: map[string]any{"sampling": map[string]any{}}}
	args := map[string]any{"name": "test_sampling", "arguments": map[string]any{"prompt": "capital of France?"}}

	var first struct {
		ResultType    string `json:"resultType"`
		InputRequests map[string]struct {
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		} `json:"inputRequests"`
		RequestState string `json:"requestState"`
	}
	eventually(t, 10*time.Second, "the fixture's tools listed", func() bool {
		status, msgs := c.post("tools/call", args, nil)
		last := msgs[len(msgs)-1]
		return status == 200 && last.Error == nil && json.Unmarshal(last.Result, &first) == nil
	})
	if first.ResultType != "input_required" || len(first.InputRequests) != 1 || first.RequestState == "" {
		t.Fatalf("test_sampling answered %+v", first)
	}
	var key string
	for k, r := range first.InputRequests {
		key = k
		if r.Method != "sampling/createMessage" || !strings.Contains(string(r.Params), "capital of France?") {
			t.Fatalf("input request %s: %s %s", k, r.Method, r.Params)
		}
	}

	// A tampered state is refused; the parked call is still there after.
	tampered := map[string]any{"name": "test_sampling", "arguments": args["arguments"], "requestState": first.RequestState + "x",
		"inputResponses": map[string]any{key: map[string]any{"role": "assistant", "content": map[string]any{"type": "text", "text": "Lyon"}, "model": "m"}}}
	status, msgs := c.post("tools/call", tampered, nil)
	if last := msgs[len(msgs)-1]; status != 400 || last.Error == nil || last.Error.Code != -32602 {
		t.Fatalf("tampered requestState: HTTP %d %s", status, last.raw)
	}

	// A retry without the answer is asked again.
	var again struct {
		ResultType    string                     `json:"resultType"`
		InputRequests map[string]json.RawMessage `json:"inputRequests"`
	}
	c.result("tools/call", map[string]any{"name": "test_sampling", "arguments": args["arguments"], "requestState": first.RequestState,
		"inputResponses": map[string]any{"unrelated": map[string]any{}}}, &again)
	if again.ResultType != "input_required" || again.InputRequests[key] == nil {
		t.Fatalf("a retry without the answer got %+v", again)
	}

	var final struct {
		ResultType string `json:"resultType"`
		Content    []struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	c.result("tools/call", map[string]any{"name": "test_sampling", "arguments": args["arguments"], "requestState": first.RequestState,
		"inputResponses": map[string]any{key: map[string]any{"role": "assistant", "content": map[string]any{"type": "text", "text": "Paris"}, "model": "m"}}}, &final)
	if final.ResultType != "complete" || len(final.Content) == 0 || !strings.Contains(final.Content[0].Text, "Paris") {
		t.Fatalf("the retry got %+v", final)
	}

	// The state was used up.
	status, msgs = c.post("tools/call", map[string]any{"name": "test_sampling", "arguments": args["arguments"], "requestState": first.RequestState}, nil)
	if last := msgs[len(msgs)-1]; status != 400 || last.Error == nil {
		t.Fatalf("a used requestState: HTTP %d %s", status, last.raw)
	}

	// A client that did not declare sampling is never asked.
	c.caps = map[string]any{}
	status, msgs = c.post("tools/call", args, nil)
	if last := msgs[len(msgs)-1]; strings.Contains(string(last.Result), "input_required") {
		t.Fatalf("a client without sampling got input requests: HTTP %d %s", status, last.raw)
	}
}

// subscriptions/listen acknowledges, then carries the list changes the
// client opted in to, tagged with its id; nothing else.
//
// The change is made where the catalog sees it: on a server of 2026-07-28
// alone by the client itself; on a stdio server of both generations by a
// handshake-era client, since a 2026-07-28 client's calls go to a second
// process of that server (the companion), whose own state the catalog
// does not follow.
func TestModernClientListensForListChanges(t *testing.T) {
	t.Run("2026-07-28 server", func(t *testing.T) {
		modernClientListensForListChanges(t, []string{"--stateless-only"}, func(t *testing.T, d *daemon, c *modernClient) {
			var ignored any
			c.result("tools/call", map[string]any{"name": "toggle_tools", "arguments": map[string]any{}}, &ignored)
		})
	})
	t.Run("server of both generations", func(t *testing.T) {
		modernClientListensForListChanges(t, nil, func(t *testing.T, d *daemon, _ *modernClient) {
			s := newHTTPSession(t, d.url)
			s.initialize(nil)
			if res, _ := s.call("tools/call", map[string]any{"name": "toggle_tools", "arguments": map[string]any{}}); res.Error != nil {
				t.Fatalf("toggle_tools: %s", res.raw)
			}
		})
	})
}

func modernClientListensForListChanges(t *testing.T, fixtureArgs []string, toggle func(*testing.T, *daemon, *modernClient)) {
	d := startServe(t, fixtureOfEra(t, fixtureArgs))
	c := &modernClient{t: t, base: d.url, caps: map[string]any{}}
	eventually(t, 10*time.Second, "the fixture's tools listed", func() bool {
		var list struct {
			Tools []json.RawMessage `json:"tools"`
		}
		c.result("tools/list", nil, &list)
		return len(list.Tools) > 0
	})

	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": "listen-1", "method": "subscriptions/listen",
		"params": map[string]any{"_meta": c.meta(), "notifications": map[string]any{"toolsListChanged": true}}})
	req, _ := http.NewRequest(http.MethodPost, d.url+"/mcp", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", "subscriptions/listen")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	frames := make(chan *message, 16)
	go eachSSE(t, resp.Body, func(data []byte) bool {
		frames <- decodeMessage(t, data)
		return true
	})
	next := func() *message {
		select {
		case m := <-frames:
			return m
		case <-time.After(10 * time.Second):
			t.Fatal("nothing came on the listen stream")
			return nil
		}
	}
	ack := next()
	if ack.Method != "notifications/subscriptions/acknowledged" || !strings.Contains(string(ack.Params), `"io.modelcontextprotocol/subscriptionId":"listen-1"`) ||
		!strings.Contains(string(ack.Params), `"toolsListChanged":true`) {
		t.Fatalf("the first message was %s", ack.raw)
	}
	toggle(t, d, c)
	changed := next()
	if changed.Method != "notifications/tools/list_changed" || !strings.Contains(string(changed.Params), `"io.modelcontextprotocol/subscriptionId":"listen-1"`) {
		t.Fatalf("after the tool list changed the stream carried %s", changed.raw)
	}
}

// A 2026-07-28 server's input_required reaches a 2026-07-28 client as the
// server wrote it (its keys, its requestState), and the retry reaches the
// server with the client's answers: from a server of 2026-07-28 alone, and
// from one of both generations, over stdio and over Streamable HTTP, where
// plugboard holds a handshake-era session beside the client's requests.
func TestModernClientGetsAModernServersInputRequiredAsItIs(t *testing.T) {
	t.Run("2026-07-28 server over stdio", func(t *testing.T) {
		modernClientGetsInputRequiredAsItIs(t, fixtureOfEra(t, []string{"--stateless-only"}))
	})
	t.Run("server of both generations over stdio", func(t *testing.T) {
		modernClientGetsInputRequiredAsItIs(t, fixtureOfEra(t, nil))
	})
	t.Run("server of both generations over Streamable HTTP", func(t *testing.T) {
		fixture := startRemoteFixture(t, "fh", "127.0.0.1:0")
		modernClientGetsInputRequiredAsItIs(t, writeConfig(t, "servers:\n  fh:\n    url: "+fixture.url+"/mcp\n    prefix: \"\"\n"))
	})
}

func modernClientGetsInputRequiredAsItIs(t *testing.T, cfg string) {
	d := startServe(t, cfg)
	c := &modernClient{t: t, base: d.url, caps: map[string]any{"elicitation": map[string]any{}}}
	call := map[string]any{"name": "test_input_required_result_request_state", "arguments": map[string]any{}}
	var first struct {
		ResultType    string                     `json:"resultType"`
		InputRequests map[string]json.RawMessage `json:"inputRequests"`
		RequestState  string                     `json:"requestState"`
	}
	eventually(t, 10*time.Second, "the fixture's tools listed", func() bool {
		status, msgs := c.post("tools/call", call, nil)
		last := msgs[len(msgs)-1]
		return status == 200 && last.Error == nil && json.Unmarshal(last.Result, &first) == nil
	})
	if first.ResultType != "input_required" || first.InputRequests["confirm"] == nil || first.RequestState == "" || strings.HasPrefix(first.RequestState, "pb1.") {
		t.Fatalf("the server's input_required was not passed on as it was: %+v", first)
	}
	retry := maps.Clone(call)
	retry["requestState"] = first.RequestState
	retry["inputResponses"] = map[string]any{"confirm": map[string]any{"action": "accept", "content": map[string]any{"ok": true}}}
	var final struct {
		ResultType string `json:"resultType"`
		Content    []struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	c.result("tools/call", retry, &final)
	if final.ResultType != "complete" || len(final.Content) == 0 || !strings.Contains(final.Content[0].Text, "state-ok") {
		t.Fatalf("the retry got %+v", final)
	}
}

// A 2026-07-28 server over Streamable HTTP: plugboard sends the headers
// the revision mirrors (Mcp-Param-* included), and drives the server's
// input_required for a handshake-era client on stdio.
func TestModernServerOverStreamableHTTP(t *testing.T) {
	fixture := startRemoteFixture(t, "fh", "127.0.0.1:0", "--stateless-only")
	cfg := writeConfig(t, "servers:\n  fh:\n    url: "+fixture.url+"/mcp\n    prefix: \"\"\n")
	c := startPlugboardAs(t, cfg, fullClientCaps, answerAsClient)
	if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "header_echo", "arguments": map[string]any{"region": "eu-west", "text": "hi"}})); got != "region=eu-west text=hi" {
		t.Errorf("header_echo: %q", got)
	}
	if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "test_sampling", "arguments": map[string]any{"prompt": "what is 2+2"}})); got != "LLM response: sampled what is 2+2" {
		t.Errorf("sampling through input_required: %q", got)
	}
	if !strings.Contains(c.stderr.String(), "protocol=2026-07-28") {
		t.Errorf("plugboard did not speak 2026-07-28 to the server:\n%s", c.stderr.String())
	}
}

// A 2026-07-28 client on stdio: no initialize, every request with its
// _meta; a server's request comes back as input_required, never as a
// request on the stream; subscriptions/listen runs until cancelled.
func TestModernClientOnStdio(t *testing.T) {
	c := launch(t, fixtureOfEra(t, []string{"--legacy-only"}))
	mc := &modernClient{t: t, caps: map[string]any{"sampling": map[string]any{}}}
	withMeta := func(params map[string]any) map[string]any {
		params = maps.Clone(params)
		if params == nil {
			params = map[string]any{}
		}
		params["_meta"] = mc.meta()
		return params
	}
	var disc struct {
		ResultType        string   `json:"resultType"`
		SupportedVersions []string `json:"supportedVersions"`
	}
	if err := json.Unmarshal(c.mustCall("server/discover", withMeta(nil)), &disc); err != nil || disc.ResultType != "complete" || disc.SupportedVersions[0] != "2026-07-28" {
		t.Fatalf("server/discover: %+v %v", disc, err)
	}
	if m := c.call("ping", withMeta(nil)); m.Error == nil || m.Error.Code != -32601 {
		t.Errorf("ping in 2026-07-28: %s", m.raw)
	}
	if m := c.call("tools/list", map[string]any{"_meta": map[string]any{"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}); m.Error == nil || m.Error.Code != -32602 {
		t.Errorf("a request without clientCapabilities: %s", m.raw)
	}
	eventually(t, 10*time.Second, "the fixture's tools listed", func() bool {
		var list struct {
			ResultType string            `json:"resultType"`
			Tools      []json.RawMessage `json:"tools"`
		}
		return json.Unmarshal(c.mustCall("tools/list", withMeta(nil)), &list) == nil && list.ResultType == "complete" && len(list.Tools) > 0
	})

	args := map[string]any{"name": "test_sampling", "arguments": map[string]any{"prompt": "capital?"}}
	var first struct {
		ResultType    string                     `json:"resultType"`
		InputRequests map[string]json.RawMessage `json:"inputRequests"`
		RequestState  string                     `json:"requestState"`
	}
	if err := json.Unmarshal(c.mustCall("tools/call", withMeta(args)), &first); err != nil || first.ResultType != "input_required" || len(first.InputRequests) != 1 {
		t.Fatalf("test_sampling: %+v %v", first, err)
	}
	select {
	case m := <-c.requests:
		t.Fatalf("a 2026-07-28 client got a request on the stream: %s", m.raw)
	default:
	}
	retry := withMeta(args)
	retry["requestState"] = first.RequestState
	retry["inputResponses"] = map[string]any{}
	for key := range first.InputRequests {
		retry["inputResponses"].(map[string]any)[key] = map[string]any{"role": "assistant", "model": "m", "content": map[string]any{"type": "text", "text": "Paris"}}
	}
	if got := textOf(t, c.mustCall("tools/call", retry)); !strings.Contains(got, "Paris") {
		t.Fatalf("the retry got %q", got)
	}

	listenID, listen := c.send("subscriptions/listen", withMeta(map[string]any{"notifications": map[string]any{"toolsListChanged": true}}))
	ack := c.waitNotification("notifications/subscriptions/acknowledged", 10*time.Second)
	if !strings.Contains(string(ack.Params), `"io.modelcontextprotocol/subscriptionId":`+listenID) {
		t.Fatalf("acknowledgement: %s", ack.raw)
	}
	c.mustCall("tools/call", withMeta(map[string]any{"name": "toggle_tools", "arguments": map[string]any{}}))
	changed := c.waitNotification("notifications/tools/list_changed", 10*time.Second)
	if !strings.Contains(string(changed.Params), `"io.modelcontextprotocol/subscriptionId":`+listenID) {
		t.Fatalf("list change on the listen stream: %s", changed.raw)
	}
	c.notify("notifications/cancelled", map[string]any{"requestId": c.nextIDValue(listenID)})
	select {
	case m := <-listen:
		t.Fatalf("a cancelled listen was answered: %s", m.raw)
	case <-time.After(200 * time.Millisecond):
	}
}

// A server that ignores server/discover is taken for the handshake era
// after the probe's timeout, and that is remembered across runs: the next
// plugboard on the same configuration does not probe it again.
func TestServerEraIsRememberedAcrossRuns(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "eras.json")
	t.Setenv("PLUGBOARD_ERA_CACHE", cache)
	cfg := fixtureOfEra(t, []string{"--silent-discover"})

	first := startPlugboard(t, cfg)
	first.mustCall("tools/call", map[string]any{"name": "echo", "arguments": map[string]any{"text": "one"}})
	if !strings.Contains(first.stderr.String(), "it answers ping but not server/discover") {
		t.Fatalf("the first run did not probe:\n%s", first.stderr.String())
	}
	first.close() // the cache is written behind; plugboard writes what is pending before it exits
	data, err := os.ReadFile(cache)
	if err != nil || !strings.Contains(string(data), `"legacy"`) {
		t.Fatalf("era cache after the first run: %q, %v", data, err)
	}

	second := startPlugboard(t, cfg)
	second.mustCall("tools/call", map[string]any{"name": "echo", "arguments": map[string]any{"text": "two"}})
	if strings.Contains(second.stderr.String(), "server/discover") {
		t.Fatalf("the second run probed again:\n%s", second.stderr.String())
	}
}

// A server slow to start (a package manager fetching it, a busy machine)
// answers server/discover late: it is not taken for one of the handshake
// era, which would be remembered for days, because it answers the probe
// before the ping plugboard sends once the probe is overdue.
func TestASlowServerIsNotTakenForTheHandshakeEra(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "eras.json")
	t.Setenv("PLUGBOARD_ERA_CACHE", cache)
	c := startPlugboard(t, fixtureOfEra(t, []string{"--startup-delay", "5s"}))
	eventually(t, 30*time.Second, "the slow server ready", func() bool { return strings.Contains(c.stderr.String(), `msg="server ready"`) })
	c.mustCall("tools/call", map[string]any{"name": "echo", "arguments": map[string]any{"text": "late"}})
	// The cache is written behind the handshake: wait for the file.
	eventually(t, 10*time.Second, "the era cache to say both", func() bool {
		data, _ := os.ReadFile(cache)
		return strings.Contains(string(data), `"both"`)
	})
}
