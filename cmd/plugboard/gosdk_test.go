package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// goSDKServerConfig is a configuration with the Go SDK's conformance
// server (a server of both generations nobody here wrote) over stdio,
// unprefixed.
func goSDKServerConfig(t *testing.T) string {
	return writeConfig(t, "servers:\n  gs:\n    command: "+goSDKServer(t)+"\n    prefix: \"\"\n")
}

// A handshake-era client of a server that speaks both generations is
// served in its own generation: the server's sampling and elicitation
// requests reach it as requests, as they would directly. (plugboard once
// spoke 2026-07-28 to every server that answered server/discover, and the
// Go SDK's 2026-07-28 path refuses to ask the client anything.)
func TestGoSDKServerServesAHandshakeClientInItsOwnGeneration(t *testing.T) {
	c := startPlugboardAs(t, goSDKServerConfig(t), fullClientCaps, answerAsClient)

	got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "test_sampling", "arguments": map[string]any{"prompt": "what is 2+2"}}))
	if got != "LLM response: sampled what is 2+2" {
		t.Errorf("sampling: %q", got)
	}
	got = textOf(t, c.mustCall("tools/call", map[string]any{"name": "test_elicitation", "arguments": map[string]any{"message": "who are you?"}}))
	if !strings.Contains(got, "action=accept") || !strings.Contains(got, "ada") {
		t.Errorf("elicitation: %q", got)
	}
	if !strings.Contains(c.stderr.String(), `msg="server ready" server=gs protocol=2025-11-25`) {
		t.Errorf("plugboard did not open a handshake-era session with the server:\n%s", c.stderr.String())
	}

	// The server declares subscriptions in its handshake-era session: a
	// subscriber gets the watched resource's updates (every 3 s).
	c.mustCall("resources/subscribe", map[string]any{"uri": "test://watched-resource"})
	c.waitNotification("notifications/resources/updated", 10*time.Second)
}

// sdkFixtureConfig is a configuration with cmd/sdk-fixture over stdio,
// unprefixed.
func sdkFixtureConfig(t *testing.T) string {
	return writeConfig(t, "servers:\n  sx:\n    command: "+sdkFixtureBin+"\n    prefix: \"\"\n")
}

// plugboard offers completions for every server: a completion/complete
// for a prompt of a server that declared none reaches the server, whose
// method-not-found becomes an empty completion, never an error.
func TestCompletionOfAServerWithoutCompletionsIsEmpty(t *testing.T) {
	c := startPlugboardAs(t, sdkFixtureConfig(t), fullClientCaps, answerAsClient)
	var result struct {
		Completion *struct {
			Values []string `json:"values"`
		} `json:"completion"`
	}
	for _, ref := range []map[string]any{
		{"type": "ref/prompt", "name": "greet"},
		{"type": "ref/resource", "uri": "test://items/{id}"},
	} {
		raw := c.mustCall("completion/complete", map[string]any{"ref": ref, "argument": map[string]any{"name": "who", "value": "a"}})
		if err := json.Unmarshal(raw, &result); err != nil || result.Completion == nil || result.Completion.Values == nil || len(result.Completion.Values) != 0 {
			t.Errorf("completion/complete for %v: %s", ref, raw)
		}
	}
}

// A subscribe the server refuses is answered with the server's error and
// counts nobody: a later subscribe to the same resource, from another
// session, reaches the server again and gets its answer, not a local {}.
// A subscribe it accepts still counts subscribers across sessions.
func TestARefusedSubscribeLeavesNoTrace(t *testing.T) {
	d := startServe(t, sdkFixtureConfig(t))
	first, second := newHTTPSession(t, d.url), newHTTPSession(t, d.url)
	first.initialize(fullClientCaps)
	second.initialize(fullClientCaps)
	for i, s := range []*httpSession{first, second} {
		m, _ := s.call("resources/subscribe", map[string]any{"uri": "test://refused/one"})
		if m.Error == nil || !strings.Contains(m.Error.Message, "refused") {
			t.Errorf("session %d: subscribe to a refused resource: %s", i+1, m.raw)
		}
	}
	for i, s := range []*httpSession{first, second} {
		if m, _ := s.call("resources/subscribe", map[string]any{"uri": "test://allowed/one"}); m.Error != nil {
			t.Errorf("session %d: subscribe to an allowed resource: %s", i+1, m.raw)
		}
	}
}

// Many calls in flight on one Streamable HTTP session, from the official
// Go SDK's client: each gets its own answer. (Answers are rendered into
// reused buffers, lent only to a consumer that copies them: the HTTP
// front keeps a frame until its request takes it, and a buffer lent to
// it gave mcp-bench's calls each other's answers under load. This test
// did not catch that one, whose timing it does not reach;
// TestOutQueuePushBorrowedLendsOnlyToACopyingConsumer does.)
func TestConcurrentCallsOverStreamableHTTPEachGetTheirOwnAnswer(t *testing.T) {
	d := startServe(t, writeConfig(t, "servers:\n  fx:\n    command: "+fixtureBin+"\n    args: [\"--name\", \"fx\", \"--legacy-only\"]\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "concurrency-test", Version: "1"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: d.url + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close()
	const callers, calls = 32, 20
	errs := make(chan error, callers)
	for c := range callers {
		go func() {
			for i := range calls {
				text := fmt.Sprintf("<caller %d call %d>", c, i)
				res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "fx__echo", Arguments: map[string]any{"text": text}})
				if err != nil {
					errs <- fmt.Errorf("%s: %w", text, err)
					return
				}
				got := ""
				for _, content := range res.Content {
					if tc, ok := content.(*mcp.TextContent); ok {
						got += tc.Text
					}
				}
				if !strings.Contains(got, text) {
					errs <- fmt.Errorf("%s: answered %q", text, got)
					return
				}
			}
			errs <- nil
		}()
	}
	for range callers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
