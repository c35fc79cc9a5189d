package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Issue 10, items 1 and 8: plugboard decides on exactly the members a
// server reads, and refuses a message that gives one of them twice or
// under another case; ids are echoed byte for byte only when every client
// reads them back as sent.

// rawCall writes a hand-made line and waits for the answer under rawID
// (the id as it appears in the answer, e.g. `"s1"` or `null`).
func (c *client) rawCall(line, rawID string) *message {
	c.t.Helper()
	ch := make(chan *message, 1)
	c.mu.Lock()
	c.waiting[rawID] = ch
	c.mu.Unlock()
	c.writeLine([]byte(line))
	return c.wait(ch, line)
}

// excludedAdd is an unprefixed fixture whose add tool is excluded: with
// prefix "" plugboard forwards a tools/call's params as the client sent
// them, so what the server runs is what the client's exact "name" says.
func excludedAdd(t *testing.T) string {
	return unprefixedFixture(t, "    tools:\n      exclude: [\"add\"]\n")
}

func TestSmuggledToolNameIsRefused(t *testing.T) {
	c := startPlugboard(t, excludedAdd(t))
	if tools := names(t, c.listAll("tools/list", "tools"), "name"); contains(tools, "add") || !contains(tools, "echo") {
		t.Fatalf("tools/list = %v, want echo without add", tools)
	}
	for i, params := range []string{
		`{"name":"add","Name":"echo","arguments":{"a":2,"b":40,"text":"x"}}`,
		`{"Name":"echo","name":"add","arguments":{"a":2,"b":40,"text":"x"}}`,
		`{"name":"add","NAME":"echo","arguments":{"a":2,"b":40,"text":"x"}}`,
		`{"name":"echo","name":"add","arguments":{"a":2,"b":40,"text":"x"}}`,
		`{"name":"add","n\u0061me":"echo","arguments":{"a":2,"b":40,"text":"x"}}`,
	} {
		id := fmt.Sprintf(`"s%d"`, i)
		m := c.rawCall(`{"jsonrpc":"2.0","id":`+id+`,"method":"tools/call","params":`+params+`}`, id)
		if m.Error == nil || m.Error.Code != -32602 {
			t.Errorf("tools/call %s: got %s, want -32602", params, m.raw)
		}
	}
	// The session goes on, and the filter still holds for a plain call.
	if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "echo", "arguments": map[string]any{"text": "still here"}})); got != "still here" {
		t.Errorf("echo after the refusals answered %q", got)
	}
	if m := c.call("tools/call", map[string]any{"name": "add", "arguments": map[string]any{"a": 1, "b": 2}}); m.Error == nil || m.Error.Code != -32602 {
		t.Errorf("excluded add: got %s, want -32602", m.raw)
	}
}

func TestCaseVariantMembersPlugboardDecidesOnAreRefused(t *testing.T) {
	c := startPlugboard(t, unprefixedFixture(t, ""))
	for _, tc := range []struct{ name, method, params string }{
		{"prompt name", "prompts/get", `{"Name":"nowhere","name":"greeting","arguments":{"name":"a"}}`},
		{"prompt name twice", "prompts/get", `{"name":"nowhere","name":"greeting","arguments":{"name":"a"}}`},
		{"resource URI", "resources/read", `{"URI":"fixture://nowhere","uri":"test://static-text"}`},
		{"resource uri twice", "resources/read", `{"uri":"fixture://nowhere","uri":"test://static-text"}`},
		{"subscription URI", "resources/subscribe", `{"Uri":"fixture://nowhere","uri":"test://static-text"}`},
		{"completion ref", "completion/complete", `{"Ref":{"type":"ref/prompt","name":"nowhere"},"ref":{"type":"ref/prompt","name":"greeting"},"argument":{"name":"name","value":""}}`},
		{"completion ref name", "completion/complete", `{"ref":{"type":"ref/prompt","Name":"nowhere","name":"greeting"},"argument":{"name":"name","value":""}}`},
		{"completion ref type", "completion/complete", `{"ref":{"Type":"ref/resource","type":"ref/prompt","name":"greeting"},"argument":{"name":"name","value":""}}`},
		{"completion ref uri", "completion/complete", `{"ref":{"type":"ref/resource","URI":"x","uri":"test://template/{id}/data"},"argument":{"name":"id","value":""}}`},
		{"progress token", "tools/call", `{"name":"echo","arguments":{"text":"x"},"_meta":{"ProgressToken":"b","progressToken":"a"}}`},
		{"log level", "logging/setLevel", `{"Level":"emergency","level":"debug"}`},
		// plugboard decides on a tool call's arguments when it mirrors them
		// into Mcp-Param-* headers for a 2026-07-28 HTTP server.
		{"tool arguments", "tools/call", `{"name":"echo","arguments":{"text":"a"},"Arguments":{"text":"b"}}`},
		{"tool arguments twice", "tools/call", `{"name":"echo","arguments":{"text":"a"},"arguments":{"text":"b"}}`},
		{"a mirrored argument", "tools/call", `{"name":"header_echo","arguments":{"region":"us","Region":"eu","text":"t"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := `"` + strings.ReplaceAll(tc.name, " ", "-") + `"`
			m := c.rawCall(`{"jsonrpc":"2.0","id":`+id+`,"method":"`+tc.method+`","params":`+tc.params+`}`, id)
			if m.Error == nil || m.Error.Code != -32602 {
				t.Errorf("%s %s: got %s, want -32602", tc.method, tc.params, m.raw)
			}
		})
	}
	if m := c.call("ping", nil); m.Error != nil {
		t.Fatalf("the session did not go on: %s", m.raw)
	}
}

func TestCaseVariantEnvelopeMembersAreRefused(t *testing.T) {
	c := startPlugboard(t, unprefixedFixture(t, ""))
	for _, tc := range []struct{ name, line, id string }{
		{"Method beside method", `{"jsonrpc":"2.0","id":"e1","method":"ping","Method":"tools/call"}`, `"e1"`},
		{"Method alone", `{"jsonrpc":"2.0","id":"e2","Method":"ping"}`, `"e2"`},
		{"ID beside id", `{"jsonrpc":"2.0","id":"e3","ID":"e4","method":"ping"}`, "null"},
		{"id twice", `{"jsonrpc":"2.0","id":"e5","method":"ping","id":"e6"}`, "null"},
		{"Params", `{"jsonrpc":"2.0","id":"e7","method":"tools/call","params":{"name":"echo","arguments":{"text":"a"}},"Params":{"name":"add"}}`, `"e7"`},
		{"jsonrpc twice", `{"jsonrpc":"2.0","jsonrpc":"1.0","id":"e8","method":"ping"}`, `"e8"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := c.rawCall(tc.line, tc.id)
			if m.Error == nil || m.Error.Code != -32600 {
				t.Errorf("%s: got %s, want -32600 under id %s", tc.line, m.raw, tc.id)
			}
		})
	}
	if m := c.call("ping", nil); m.Error != nil {
		t.Fatalf("the session did not go on: %s", m.raw)
	}
}

// TestIDsThatAreNotUTF8AreRefused: a string id with bytes that are not
// UTF-8 would come back as another id for a client that decodes it; it is
// refused under a null id, over stdio and over HTTP.
func TestIDsThatAreNotUTF8AreRefused(t *testing.T) {
	line := "{\"jsonrpc\":\"2.0\",\"id\":\"a\xff\xfeb\",\"method\":\"ping\"}"
	c := startPlugboard(t, unprefixedFixture(t, ""))
	if m := c.rawCall(line, "null"); m.Error == nil || m.Error.Code != -32600 {
		t.Errorf("stdio: got %q, want -32600 under a null id", m.raw)
	}
	if m := c.call("ping", nil); m.Error != nil {
		t.Fatalf("the session did not go on: %s", m.raw)
	}

	d := startServe(t, unprefixedFixture(t, ""))
	s := newHTTPSession(t, d.url)
	s.initialize(map[string]any{})
	resp := s.postInSession(line)
	body := mustRead(t, resp.Body)
	resp.Body.Close()
	if bytes.Contains(body, []byte("\xff")) || !bytes.Contains(body, []byte(`"id":null`)) || !bytes.Contains(body, []byte("-32600")) {
		t.Errorf("HTTP: got %d %q, want -32600 under a null id", resp.StatusCode, body)
	}
	if m, _ := s.call("ping", nil); m.Error != nil {
		t.Fatalf("the HTTP session did not go on: %s", m.raw)
	}
}

// postInSession posts a hand-made body in the session.
func (s *httpSession) postInSession(body string) *http.Response {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.base+"/mcp", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Session-Id", s.id)
	req.Header.Set("MCP-Protocol-Version", "2025-11-25")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp
}

// TestReusedRequestIDOverHTTPGetsItsOwnAnswer: a second POST with the id
// of a request still in flight in the same session is refused on its own
// stream, and the first gets its own answer.
func TestReusedRequestIDOverHTTPGetsItsOwnAnswer(t *testing.T) {
	d := startServe(t, unprefixedFixture(t, ""))
	s := newHTTPSession(t, d.url)
	s.initialize(map[string]any{})

	// The first: progress notifications 300 ms apart, so that it is
	// known to be in flight once the first one arrives on its stream.
	first := s.postInSession(`{"jsonrpc":"2.0","id":"same","method":"tools/call","params":{"name":"progress","arguments":{"steps":4,"delay_ms":300},"_meta":{"progressToken":"p"}}}`)
	defer first.Body.Close()
	events := make(chan []byte, 16)
	go func() {
		defer close(events)
		eachSSE(t, first.Body, func(data []byte) bool {
			events <- append([]byte(nil), data...)
			return true
		})
	}()
	next := func(what string) []byte {
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatalf("the first POST's stream ended before %s", what)
			}
			return e
		case <-time.After(20 * time.Second):
			t.Fatalf("no %s on the first POST's stream within 20 s", what)
		}
		return nil
	}
	if e := next("progress"); !bytes.Contains(e, []byte("notifications/progress")) {
		t.Fatalf("the first event is not progress: %s", e)
	}

	second := s.postInSession(`{"jsonrpc":"2.0","id":"same","method":"ping"}`)
	body, err := readWithin(second.Body, 20*time.Second)
	second.Body.Close()
	if err != nil {
		t.Fatalf("the second POST: %v (read %q)", err, body)
	}
	if n := bytes.Count(body, []byte(`"id":"same"`)); n != 1 || !bytes.Contains(body, []byte("-32600")) || bytes.Contains(body, []byte(`"result"`)) {
		t.Errorf("the second POST got %q; want exactly one answer, -32600", body)
	}

	for {
		m := decodeMessage(t, next("the answer"))
		if m.Method != "" {
			continue // progress, list changes
		}
		e := m.raw
		if string(m.ID) != `"same"` || m.Error != nil || !strings.Contains(string(m.Result), "done") {
			t.Errorf("the first POST's answer: %s, want its result", e)
		}
		break
	}
	if m, _ := s.call("ping", nil); m.Error != nil {
		t.Fatalf("the session did not go on: %s", m.raw)
	}
}

// readWithin reads r to its end, failing after d.
func readWithin(r io.Reader, d time.Duration) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(r)
		done <- result{b, err}
	}()
	select {
	case res := <-done:
		return res.b, res.err
	case <-time.After(d):
		return nil, fmt.Errorf("no end within %s", d)
	}
}

// TestSmuggledToolNameIsRefusedBeforeTheReferenceServer: the smuggle of
// issue 10 against a server we did not write. server-everything reads the
// exact "name" (JavaScript's JSON.parse keeps every key as spelt): with
// get-sum excluded, {"name":"get-sum","Name":"echo"} once passed the filter
// as echo and ran get-sum.
func TestSmuggledToolNameIsRefusedBeforeTheReferenceServer(t *testing.T) {
	dir := npmInstall(t, serverEverything)
	bin := filepath.Join(dir, "node_modules", ".bin", "mcp-server-everything")
	cfg := writeConfig(t, fmt.Sprintf("servers:\n  everything:\n    command: %q\n    prefix: \"\"\n    tools:\n      exclude: [\"get-sum\"]\n", bin))
	c := startPlugboard(t, cfg, "--startup-timeout", "30s")
	if tools := names(t, c.listAll("tools/list", "tools"), "name"); contains(tools, "get-sum") || !contains(tools, "echo") {
		t.Fatalf("tools/list = %v, want echo without get-sum", tools)
	}
	for i, params := range []string{
		`{"name":"get-sum","Name":"echo","arguments":{"a":2,"b":3,"message":"m"}}`,
		`{"Name":"echo","name":"get-sum","arguments":{"a":2,"b":3,"message":"m"}}`,
		`{"name":"echo","name":"get-sum","arguments":{"a":2,"b":3,"message":"m"}}`,
	} {
		id := fmt.Sprintf(`"x%d"`, i)
		m := c.rawCall(`{"jsonrpc":"2.0","id":`+id+`,"method":"tools/call","params":`+params+`}`, id)
		if m.Error == nil || m.Error.Code != -32602 {
			t.Errorf("tools/call %s: got %s, want -32602", params, m.raw)
		}
	}
	if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "echo", "arguments": map[string]any{"message": "after"}})); !strings.Contains(got, "after") {
		t.Errorf("echo after the refusals answered %q", got)
	}
}

// TestAmbiguousCancellationIsIgnored: a notifications/cancelled whose
// requestId is given twice (here once as "RequestId") names no request
// plugboard can be sure of; it cannot be answered, so it is ignored, and
// the call it might have named is answered.
func TestAmbiguousCancellationIsIgnored(t *testing.T) {
	c := startPlugboard(t, unprefixedFixture(t, ""))
	ch := make(chan *message, 1)
	c.mu.Lock()
	c.waiting[`"slow"`] = ch
	c.mu.Unlock()
	c.writeLine([]byte(`{"jsonrpc":"2.0","id":"slow","method":"tools/call","params":{"name":"sleep","arguments":{"ms":1500}}}`))
	// The fixture answers echo only once it has read what came before it.
	c.mustCall("tools/call", map[string]any{"name": "echo", "arguments": map[string]any{"text": "x"}})
	c.writeLine([]byte(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"other","RequestId":"slow"}}`))
	c.writeLine([]byte(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"slow","requestId":"other"}}`))
	if m := c.wait(ch, "the slow call"); m.Error != nil {
		t.Errorf("the slow call: %s, want its result", m.raw)
	}
	if strings.Contains(c.stderr.String(), "no response for cancelled request") {
		t.Errorf("the server saw a cancellation")
	}
}
