package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The whole MCP surface through plugboard, over stdio, against the Go
// fixture exposed unprefixed (prefix: "") so that names are the fixture's.

// fullClientCaps is a client that offers sampling, elicitation and roots.
var fullClientCaps = map[string]any{"sampling": map[string]any{}, "elicitation": map[string]any{}, "roots": map[string]any{"listChanged": true}}

// answerAsClient answers sampling, elicitation and roots as a user would.
func answerAsClient(m *message) (any, string) {
	switch m.Method {
	case "sampling/createMessage":
		var p struct {
			Messages []struct {
				Content struct{ Text string } `json:"content"`
			} `json:"messages"`
		}
		json.Unmarshal(m.Params, &p)
		said := ""
		if len(p.Messages) > 0 {
			said = p.Messages[0].Content.Text
		}
		return map[string]any{"role": "assistant", "model": "e2e", "content": map[string]any{"type": "text", "text": "sampled " + said}}, ""
	case "elicitation/create":
		return map[string]any{"action": "accept", "content": map[string]any{"username": "ada", "email": "ada@example.com"}}, ""
	case "roots/list":
		return map[string]any{"roots": []any{map[string]any{"uri": "file:///tmp/e2e-root", "name": "e2e"}}}, ""
	}
	return nil, "unexpected " + m.Method
}

func unprefixedFixture(t *testing.T, extra string) string {
	return writeConfig(t, "servers:\n"+fixtureServer("fx")+"    prefix: \"\"\n"+extra)
}

// eras are the generations a server may speak: the fixture speaks both
// unless told to speak one. Tests of what crosses plugboard between server
// and client run against each.
var eras = []struct {
	name string
	args []string
}{
	{"server of both generations", nil},
	{"2026-07-28 server", []string{"--stateless-only"}},
	{"handshake-era server", []string{"--legacy-only"}},
}

// fixtureOfEra is an unprefixed fixture of one era.
func fixtureOfEra(t *testing.T, args []string) string {
	return writeConfig(t, "servers:\n"+fixtureServer("fx", args...)+"    prefix: \"\"\n")
}

func TestProgressReachesTheCallerUnderItsOwnToken(t *testing.T) {
	c := startPlugboardAs(t, unprefixedFixture(t, ""), fullClientCaps, answerAsClient)
	_, ch := c.send("tools/call", map[string]any{"name": "progress", "arguments": map[string]any{"steps": 3},
		"_meta": map[string]any{"progressToken": "client-token-7"}})
	var steps []float64
	for len(steps) < 3 {
		n := c.waitNotification("notifications/progress", 10*time.Second)
		var p struct {
			Token    json.RawMessage `json:"progressToken"`
			Progress float64         `json:"progress"`
			Total    float64         `json:"total"`
		}
		json.Unmarshal(n.Params, &p)
		if string(p.Token) != `"client-token-7"` {
			t.Fatalf("progress came with token %s, want the client's: %s", p.Token, n.raw)
		}
		steps = append(steps, p.Progress)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			t.Fatalf("progress call failed: %s", m.raw)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no result after the progress notifications")
	}
	if steps[0] != 1 || steps[2] != 3 {
		t.Errorf("progress steps %v, want 1..3", steps)
	}
	// A numeric token comes back as the same number.
	_, ch = c.send("tools/call", map[string]any{"name": "progress", "arguments": map[string]any{"steps": 1}, "_meta": map[string]any{"progressToken": 99}})
	n := c.waitNotification("notifications/progress", 10*time.Second)
	if !bytes.Contains(n.raw, []byte(`"progressToken":99`)) {
		t.Errorf("numeric token not restored: %s", n.raw)
	}
	c.wait(ch, "progress")
}

func TestClientCancellationReachesTheServer(t *testing.T) {
	c := startPlugboardAs(t, unprefixedFixture(t, ""), fullClientCaps, answerAsClient)
	id, ch := c.send("tools/call", map[string]any{"name": "hang", "arguments": map[string]any{}})
	// Wait until the call is in flight downstream: the fixture answers
	// echo only once it has read everything before it.
	c.mustCall("tools/call", map[string]any{"name": "echo", "arguments": map[string]any{"text": "x"}})
	var n int
	json.Unmarshal([]byte(id), &n)
	c.notify("notifications/cancelled", map[string]any{"requestId": n, "reason": "user pressed stop"})
	eventually(t, 10*time.Second, "the fixture saw the cancellation", func() bool {
		return strings.Contains(c.stderr.String(), "no response for cancelled request")
	})
	select {
	case m := <-ch:
		t.Fatalf("a cancelled request was answered: %s", m.raw)
	case <-time.After(300 * time.Millisecond):
	}
	if m := c.call("ping", nil); m.Error != nil {
		t.Fatalf("session broken after a cancellation: %s", m.raw)
	}
}

func TestTimeoutAnswersTheClientAndCancelsDownstream(t *testing.T) {
	c := startPlugboardAs(t, unprefixedFixture(t, "    timeout: 300ms\n"), fullClientCaps, answerAsClient)
	m := c.call("tools/call", map[string]any{"name": "sleep", "arguments": map[string]any{"ms": 20000}})
	if m.Error == nil || !strings.Contains(m.Error.Message, "timed out") || !strings.Contains(m.Error.Message, "fx") {
		t.Fatalf("want a timeout error naming the server, got %s", m.raw)
	}
	eventually(t, 10*time.Second, "the fixture saw the cancellation", func() bool {
		return strings.Contains(c.stderr.String(), "no response for cancelled request")
	})
}

// logging/setLevel reaches a handshake-era server as the request, and a
// 2026-07-28 server as the log level of each request.
func TestLoggingLevelAndMessagesTaggedWithTheServer(t *testing.T) {
	for _, era := range eras {
		t.Run(era.name, func(t *testing.T) { loggingLevelAndMessagesTaggedWithTheServer(t, fixtureOfEra(t, era.args)) })
	}
}

func loggingLevelAndMessagesTaggedWithTheServer(t *testing.T, cfg string) {
	c := startPlugboardAs(t, cfg, fullClientCaps, answerAsClient)
	c.mustCall("logging/setLevel", map[string]any{"level": "warning"})
	c.mustCall("tools/call", map[string]any{"name": "log", "arguments": map[string]any{"level": "info", "message": "too quiet"}})
	c.mustCall("tools/call", map[string]any{"name": "log", "arguments": map[string]any{"level": "error", "message": "loud enough"}})
	n := c.waitNotification("notifications/message", 10*time.Second)
	var p struct {
		Level  string `json:"level"`
		Logger string `json:"logger"`
		Data   string `json:"data"`
	}
	json.Unmarshal(n.Params, &p)
	if p.Data != "loud enough" || p.Level != "error" {
		t.Errorf("first message through should be the error (info is below warning): %s", n.raw)
	}
	if p.Logger != "fx" {
		t.Errorf("logger %q, want the server's name fx", p.Logger)
	}
}

func TestSubscriptionsDeliverUpdatesAndUnsubscribe(t *testing.T) {
	for _, era := range eras {
		t.Run(era.name, func(t *testing.T) { subscriptionsDeliverUpdatesAndUnsubscribe(t, fixtureOfEra(t, era.args)) })
	}
}

func subscriptionsDeliverUpdatesAndUnsubscribe(t *testing.T, cfg string) {
	c := startPlugboardAs(t, cfg, fullClientCaps, answerAsClient)
	const uri = "test://watched-resource"
	touch := func() string {
		return textOf(t, c.mustCall("tools/call", map[string]any{"name": "touch", "arguments": map[string]any{"uri": uri}}))
	}
	if got := touch(); !strings.HasPrefix(got, "not subscribed") {
		t.Fatalf("fixture subscribed before the client asked: %q", got)
	}
	c.mustCall("resources/subscribe", map[string]any{"uri": uri})
	if got := touch(); !strings.HasPrefix(got, "touched") {
		t.Fatalf("subscribe did not reach the fixture: %q", got)
	}
	n := c.waitNotification("notifications/resources/updated", 10*time.Second)
	if !bytes.Contains(n.raw, []byte(uri)) {
		t.Errorf("update for another uri: %s", n.raw)
	}
	c.mustCall("resources/unsubscribe", map[string]any{"uri": uri})
	if got := touch(); !strings.HasPrefix(got, "not subscribed") {
		t.Fatalf("unsubscribe did not reach the fixture: %q", got)
	}
}

// A server's requests to its client, sent as requests (handshake era) or
// as an input_required result (2026-07-28), reach a handshake-era client
// as requests under plugboard's ids.
func TestServerRequestsAreReissuedToTheClient(t *testing.T) {
	for _, era := range eras {
		t.Run(era.name, func(t *testing.T) { serverRequestsAreReissuedToTheClient(t, fixtureOfEra(t, era.args)) })
	}
}

func serverRequestsAreReissuedToTheClient(t *testing.T, cfg string) {
	c := startPlugboardAs(t, cfg, fullClientCaps, answerAsClient)
	if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "test_sampling", "arguments": map[string]any{"prompt": "what is 2+2"}})); got != "LLM response: sampled what is 2+2" {
		t.Errorf("sampling round trip: %q", got)
	}
	res := c.mustCall("tools/call", map[string]any{"name": "test_elicitation", "arguments": map[string]any{"message": "who are you"}})
	if !bytes.Contains(res, []byte("ada@example.com")) {
		t.Errorf("elicitation round trip: %s", res)
	}
	if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "roots", "arguments": map[string]any{}})); !strings.Contains(got, "file:///tmp/e2e-root") {
		t.Errorf("roots round trip: %q", got)
	}
	// plugboard re-issued them under ids of its own.
	for i := 0; i < 3; i++ {
		select {
		case m := <-c.requests:
			if !bytes.HasPrefix(m.ID, []byte(`"pb-`)) {
				t.Errorf("request to the client under id %s, want one of plugboard's", m.ID)
			}
		default:
			t.Fatalf("only %d requests reached the client", i)
		}
	}
}

func TestClientErrorsAndMissingCapabilitiesReachTheServer(t *testing.T) {
	for _, era := range eras {
		t.Run(era.name, func(t *testing.T) { clientErrorsAndMissingCapabilitiesReachTheServer(t, fixtureOfEra(t, era.args)) })
	}
}

func clientErrorsAndMissingCapabilitiesReachTheServer(t *testing.T, cfg string) {
	refuse := func(m *message) (any, string) { return nil, "user declined" }
	c := startPlugboardAs(t, cfg, map[string]any{"sampling": map[string]any{}}, refuse)
	// A handshake-era server gets the client's error and fails the tool;
	// a 2026-07-28 server cannot be given an error for its input request,
	// so the call fails with the client's reason.
	m := c.call("tools/call", map[string]any{"name": "test_sampling", "arguments": map[string]any{"prompt": "x"}})
	if !bytes.Contains(m.raw, []byte("user declined")) || (m.Error == nil && !bytes.Contains(m.Result, []byte(`"isError":true`))) {
		t.Errorf("the client's error did not reach the server: %s", m.raw)
	}
	// This client offers no roots, so the server was not offered them (a
	// 2026-07-28 server reads that from the request's own _meta).
	m = c.call("tools/call", map[string]any{"name": "roots", "arguments": map[string]any{}})
	if !bytes.Contains(m.raw, []byte("roots")) || !(bytes.Contains(m.raw, []byte("no roots capability")) || (m.Error != nil && m.Error.Code == -32021)) {
		t.Errorf("the server was offered roots the client lacks: %s", m.raw)
	}
}

func TestRootsListChangedReachesServers(t *testing.T) {
	// The notification exists in the handshake era only: 2026-07-28
	// servers ask for roots with each request.
	c := startPlugboardAs(t, writeConfig(t, "servers:\n"+fixtureServer("fx", "--legacy-only")+fixtureServer("gx", "--legacy-only")), fullClientCaps, answerAsClient)
	c.mustCall("tools/list", nil)
	c.notify("notifications/roots/list_changed", nil)
	// Each fixture logs the notification to its stderr, which plugboard
	// logs under the server's name.
	eventually(t, 10*time.Second, "both servers heard roots/list_changed", func() bool {
		s := c.stderr.String()
		return strings.Contains(s, "server=fx line=\"mcp-fixture[fx]") && strings.Count(s, "client roots changed") == 2
	})
}

func TestCompletionsRouteByPromptAndTemplate(t *testing.T) {
	c := startPlugboardAs(t, writeConfig(t, "servers:\n"+fixtureServer("fx")), fullClientCaps, answerAsClient)
	res := c.mustCall("completion/complete", map[string]any{
		"ref":      map[string]any{"type": "ref/prompt", "name": "fx__greeting"},
		"argument": map[string]any{"name": "name", "value": "a"},
	})
	if !bytes.Contains(res, []byte(`"alice"`)) {
		t.Errorf("completion for fx__greeting: %s", res)
	}
	m := c.call("completion/complete", map[string]any{
		"ref":      map[string]any{"type": "ref/prompt", "name": "nobody__greeting"},
		"argument": map[string]any{"name": "name", "value": "a"},
	})
	if m.Error == nil || m.Error.Code != -32602 {
		t.Errorf("completion for an unknown prompt: %s", m.raw)
	}
	res = c.mustCall("completion/complete", map[string]any{
		"ref":      map[string]any{"type": "ref/resource", "uri": "test://template/{id}/data"},
		"argument": map[string]any{"name": "id", "value": ""},
	})
	if !bytes.Contains(res, []byte(`"completion"`)) {
		t.Errorf("completion for a resource template: %s", res)
	}
}

func TestInitializeOffersTheWholeSurface(t *testing.T) {
	c := launch(t, unprefixedFixture(t, ""))
	res := c.mustCall("initialize", map[string]any{"protocolVersion": "2025-11-25", "capabilities": fullClientCaps, "clientInfo": map[string]any{"name": "e2e", "version": "1"}})
	var r struct {
		Capabilities map[string]json.RawMessage `json:"capabilities"`
		ServerInfo   struct{ Name string }      `json:"serverInfo"`
	}
	json.Unmarshal(res, &r)
	for _, k := range []string{"tools", "prompts", "resources", "logging", "completions"} {
		if r.Capabilities[k] == nil {
			t.Errorf("initialize lacks capability %s: %s", k, res)
		}
	}
	if !bytes.Contains(r.Capabilities["resources"], []byte(`"subscribe":true`)) || r.ServerInfo.Name != "plugboard" {
		t.Errorf("initialize: %s", res)
	}
}
