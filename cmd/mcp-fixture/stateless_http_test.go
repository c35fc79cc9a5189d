package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// statelessClient sends 2026-07-28 requests to /mcp, each a POST of its
// own without a session.
type statelessClient struct {
	t      *testing.T
	f      *listeningFixture
	nextID int
}

// post sends a request with the headers a conforming client sends, as
// changed by header: a value replaces a header, "" removes it. ctx ends
// the request, which for the fixture cancels it.
func (c *statelessClient) post(ctx context.Context, method string, params map[string]any, header map[string]string) (*http.Response, int) {
	c.t.Helper()
	c.nextID++
	body, err := json.Marshal(requestFrame(c.nextID, method, params))
	if err != nil {
		c.t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.f.base+"/mcp", bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set(versionHeader, modernVersion)
	req.Header.Set(methodHeader, method)
	if name, ok := mirroredName(method, mustRaw(params)); ok {
		req.Header.Set(nameHeader, name)
	}
	for name, value := range header {
		if value == "" {
			req.Header.Del(name)
		} else {
			req.Header.Set(name, value)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("POST %s: %v", method, err)
	}
	return resp, c.nextID
}

// call posts a request and returns the HTTP status and the response,
// whether it came as JSON or at the end of an SSE stream.
func (c *statelessClient) call(method string, params map[string]any, header map[string]string) (int, wireFrame) {
	c.t.Helper()
	resp, id := c.post(context.Background(), method, params, header)
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		fr, _ := inbox{t: c.t, frames: readSSE(resp.Body, nil)}.awaitResponse(id)
		return resp.StatusCode, fr
	}
	return resp.StatusCode, jsonResponse(c.t, resp)
}

func jsonResponse(t *testing.T, resp *http.Response) wireFrame {
	t.Helper()
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s answered with Content-Type %q, want application/json", resp.Request.URL, ct)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return parseFrame(t, string(body))
}

// awaitLog polls the fixture's stderr for a line containing want.
func (f *listeningFixture) awaitLog(want string) bool {
	deadline := time.Now().Add(readTimeout)
	for time.Now().Before(deadline) {
		if strings.Contains(f.stderr.String(), want) {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

func TestStatelessHTTP(t *testing.T) {
	f := startListening(t, "--name", "remote")
	c := &statelessClient{t: t, f: f}

	t.Run("server/discover needs no session and answers JSON", func(t *testing.T) {
		resp, id := c.post(context.Background(), "server/discover", modern(nil, "{}", nil), nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get(sessionHeader) != "" {
			t.Errorf("discover: %s with %s %q, want 200 and no session", resp.Status, sessionHeader, resp.Header.Get(sessionHeader))
		}
		fr := jsonResponse(t, resp)
		if !fr.isResponseTo(id) || !strings.Contains(fr.raw, `"supportedVersions":["2026-07-28",`) || !strings.Contains(fr.raw, `"name":"remote"`) {
			t.Errorf("discover = %s", fr.raw)
		}
	})

	t.Run("the checks of headers and _meta", func(t *testing.T) {
		b64 := func(s string) string { return "=?base64?" + base64.StdEncoding.EncodeToString([]byte(s)) + "?=" }
		echo := map[string]any{"name": "echo", "arguments": map[string]any{"text": "x"}}
		region := func(r string) map[string]any {
			return map[string]any{"name": "header_echo", "arguments": map[string]any{"region": r, "text": "t"}}
		}
		tests := []struct {
			name   string
			method string
			params map[string]any
			header map[string]string
			status int
			code   int // 0 for a result
		}{
			{"all in order", "tools/call", modern(echo, "{}", nil), nil, http.StatusOK, 0},
			{"no MCP-Protocol-Version", "tools/list", modern(nil, "{}", nil), map[string]string{versionHeader: ""}, http.StatusBadRequest, codeHeaderMismatch},
			{"a legacy MCP-Protocol-Version", "tools/list", modern(nil, "{}", nil), map[string]string{versionHeader: "2025-11-25"}, http.StatusBadRequest, codeHeaderMismatch},
			{"MCP-Protocol-Version unlike _meta", "tools/list", modern(nil, "{}", map[string]any{metaProtocolVersion: "2099-01-01"}), nil,
				http.StatusBadRequest, codeHeaderMismatch},
			{"no Mcp-Method", "tools/list", modern(nil, "{}", nil), map[string]string{methodHeader: ""}, http.StatusBadRequest, codeHeaderMismatch},
			{"Mcp-Method unlike the body", "tools/list", modern(nil, "{}", nil), map[string]string{methodHeader: "prompts/list"}, http.StatusBadRequest, codeHeaderMismatch},
			{"Mcp-Method in another case", "tools/list", modern(nil, "{}", nil), map[string]string{methodHeader: "TOOLS/LIST"}, http.StatusBadRequest, codeHeaderMismatch},
			{"no Mcp-Name", "tools/call", modern(echo, "{}", nil), map[string]string{nameHeader: ""}, http.StatusBadRequest, codeHeaderMismatch},
			{"Mcp-Name unlike the body", "tools/call", modern(echo, "{}", nil), map[string]string{nameHeader: "add"}, http.StatusBadRequest, codeHeaderMismatch},
			{"Mcp-Name in base64", "resources/read", modern(map[string]any{"uri": "test://static-text"}, "{}", nil),
				map[string]string{nameHeader: b64("test://static-text")}, http.StatusOK, 0},
			{"Mcp-Name in broken base64", "tools/call", modern(echo, "{}", nil), map[string]string{nameHeader: "=?base64?ZWNo!!?="}, http.StatusBadRequest, codeHeaderMismatch},
			{"no _meta", "tools/list", map[string]any{}, nil, http.StatusBadRequest, codeInvalidParams},
			{"no clientCapabilities", "tools/list", modern(nil, "{}", map[string]any{metaClientCapabilities: nil}), nil, http.StatusBadRequest, codeInvalidParams},
			{"an unsupported version", "tools/list", modern(nil, "{}", map[string]any{metaProtocolVersion: "2099-01-01"}),
				map[string]string{versionHeader: "2099-01-01"}, http.StatusBadRequest, codeUnsupportedVersion},
			{"a removed method", "logging/setLevel", modern(map[string]any{"level": "info"}, "{}", nil), nil, http.StatusNotFound, codeMethodNotFound},
			{"an unknown method", "no/such/method", modern(nil, "{}", nil), nil, http.StatusNotFound, codeMethodNotFound},
			{"a missing capability", "tools/call", modern(map[string]any{"name": "test_missing_capability", "arguments": map[string]any{}}, "{}", nil), nil,
				http.StatusBadRequest, codeMissingCapability},
			{"an unknown tool", "tools/call", modern(map[string]any{"name": "nope", "arguments": map[string]any{}}, "{}", nil), nil, http.StatusOK, codeInvalidParams},
			{"Mcp-Param-Region as it is", "tools/call", modern(region("eu-west1"), "{}", nil), map[string]string{"Mcp-Param-Region": "eu-west1"}, http.StatusOK, 0},
			{"Mcp-Param-Region in base64", "tools/call", modern(region("Zürich"), "{}", nil), map[string]string{"Mcp-Param-Region": b64("Zürich")}, http.StatusOK, 0},
			{"no Mcp-Param-Region", "tools/call", modern(region("eu-west1"), "{}", nil), nil, http.StatusBadRequest, codeHeaderMismatch},
			{"Mcp-Param-Region unlike the body", "tools/call", modern(region("eu-west1"), "{}", nil), map[string]string{"Mcp-Param-Region": "us-east1"},
				http.StatusBadRequest, codeHeaderMismatch},
		}
		for _, tt := range tests {
			resp, id := c.post(context.Background(), tt.method, tt.params, tt.header)
			fr := jsonResponse(t, resp)
			if resp.StatusCode != tt.status || fr.errorCode() != tt.code || !fr.isResponseTo(id) {
				t.Errorf("%s: %s %s, want status %d, error %d and id %d", tt.name, resp.Status, fr.raw, tt.status, tt.code, id)
			}
		}
	})

	t.Run("notifications open an SSE stream before the response", func(t *testing.T) {
		resp, id := c.post(context.Background(), "tools/call", modern(map[string]any{"name": "progress", "arguments": map[string]any{"steps": 3}},
			"{}", map[string]any{"progressToken": "p"}), nil)
		if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" || resp.Header.Get(sessionHeader) != "" {
			t.Fatalf("progress answered with %q, want text/event-stream and no session", ct)
		}
		fr, before := inbox{t: t, frames: readSSE(resp.Body, nil)}.awaitResponse(id)
		if len(before) != 3 || before[2].Method != "notifications/progress" || fr.toolResult(t).text() != "done" ||
			!strings.Contains(fr.raw, `"resultType":"complete"`) {
			t.Errorf("the stream carried %v then %s", before, fr.raw)
		}
	})

	t.Run("input_required over HTTP", func(t *testing.T) {
		params := map[string]any{"name": "test_input_required_result_request_state", "arguments": map[string]any{}}
		_, first := c.call("tools/call", modern(params, `{"elicitation":{}}`, nil), nil)
		var asked struct {
			ResultType   string `json:"resultType"`
			RequestState string `json:"requestState"`
		}
		first.decodeResult(t, &asked)
		if asked.ResultType != "input_required" || asked.RequestState == "" {
			t.Fatalf("round 1 = %s", first.raw)
		}
		params["inputResponses"] = map[string]any{"confirm": map[string]any{"action": "accept", "content": map[string]any{"ok": true}}}
		params["requestState"] = asked.RequestState
		if _, done := c.call("tools/call", modern(params, `{"elicitation":{}}`, nil), nil); !strings.Contains(done.toolResult(t).text(), "state-ok") {
			t.Errorf("round 2 = %s", done.raw)
		}
	})

	t.Run("subscriptions/listen hears of changes made in any session", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		resp, id := c.post(ctx, "subscriptions/listen", modern(map[string]any{"notifications": map[string]any{"toolsListChanged": true}}, "{}", nil), nil)
		if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("listen answered with %s %q", resp.Status, ct)
		}
		in := inbox{t: t, frames: readSSE(resp.Body, nil)}
		tag := fmt.Sprintf(`"_meta":{"io.modelcontextprotocol/subscriptionId":%d}`, id)
		if ack := in.next(); ack.Method != "notifications/subscriptions/acknowledged" || !strings.Contains(ack.raw, tag) ||
			!strings.Contains(ack.raw, `"notifications":{"toolsListChanged":true}`) {
			t.Fatalf("first frame %s, want the acknowledgement", ack.raw)
		}

		legacy := newStreamableClient(t, f)
		call(legacy, "initialize", map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{}})
		for _, want := range []string{"extra_tool on", "extra_tool off"} {
			if got := call(legacy, "tools/call", map[string]any{"name": "toggle_tools", "arguments": map[string]any{}}).toolResult(t).text(); got != want {
				t.Fatalf("toggle_tools in a legacy session = %q", got)
			}
			if fr := in.next(); fr.Method != "notifications/tools/list_changed" || !strings.Contains(fr.raw, tag) {
				t.Errorf("after %q the subscription got %s", want, fr.raw)
			}
		}
		cancel()
		if !f.awaitLog(fmt.Sprintf("subscription %d cancelled by the client", id)) {
			t.Errorf("closing the listen stream did not end the subscription; stderr:\n%s", f.stderr.String())
		}
	})

	t.Run("closing its stream cancels a call", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		resp, id := c.post(ctx, "tools/call", modern(map[string]any{"name": "progress", "arguments": map[string]any{"steps": 1000, "delay_ms": 20}},
			"{}", map[string]any{"progressToken": "slow"}), nil)
		in := inbox{t: t, frames: readSSE(resp.Body, nil)}
		if fr := in.next(); fr.Method != "notifications/progress" {
			t.Fatalf("first frame %s", fr.raw)
		}
		cancel()
		if !f.awaitLog(fmt.Sprintf("no response for tools/call %d: the client closed its stream", id)) {
			t.Errorf("the call went on after its stream closed; stderr:\n%s", f.stderr.String())
		}
	})

	t.Run("a POST in a legacy session that carries 2026-07-28 _meta is stateless", func(t *testing.T) {
		legacy := newStreamableClient(t, f)
		call(legacy, "initialize", map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{}})
		resp, id := c.post(context.Background(), "tools/list", modern(nil, "{}", nil), map[string]string{sessionHeader: legacy.sessionID})
		if fr := jsonResponse(t, resp); resp.Header.Get(sessionHeader) != "" || !fr.isResponseTo(id) || !strings.Contains(fr.raw, `"resultType":"complete"`) {
			t.Errorf("= %s %s with %s %q", resp.Status, fr.raw, sessionHeader, resp.Header.Get(sessionHeader))
		}
		if fr := call(legacy, "ping", nil); string(fr.Result) != "{}" {
			t.Errorf("the session's ping after = %s", fr.raw)
		}
	})
}

func TestStatelessHTTPShutdownEndsSubscriptions(t *testing.T) {
	f := startListening(t)
	c := &statelessClient{t: t, f: f}
	resp, id := c.post(context.Background(), "subscriptions/listen", modern(map[string]any{"notifications": map[string]any{"promptsListChanged": true}}, "{}", nil), nil)
	in := inbox{t: t, frames: readSSE(resp.Body, nil)}
	if ack := in.next(); ack.Method != "notifications/subscriptions/acknowledged" {
		t.Fatalf("first frame %s", ack.raw)
	}
	f.stdin.Close()
	end := in.next()
	if !end.isResponseTo(id) || !strings.Contains(end.raw, fmt.Sprintf(`"io.modelcontextprotocol/subscriptionId":%d`, id)) ||
		!strings.Contains(end.raw, `"resultType":"complete"`) {
		t.Errorf("on shutdown the subscription got %s, want its graceful end", end.raw)
	}
	if !in.ended(readTimeout) {
		t.Error("the stream went on after the subscription ended")
	}
	if code := f.waitExit(); code != 0 {
		t.Errorf("exit code %d", code)
	}
}
