package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestFixture drives the binary over stdio the way an MCP client would,
// one fresh process per subtest.
func TestFixture(t *testing.T) {
	bin := fixtureBinary(t)

	t.Run("initialize", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			requested, want string
		}{
			{"2024-11-05", "2024-11-05"},
			{"2025-03-26", "2025-03-26"},
			{"2025-06-18", "2025-06-18"},
			{"2025-11-25", "2025-11-25"},
			{"2099-01-01", "2025-11-25"},
		}
		for _, tt := range tests {
			f := startFixture(t, bin, "--name", "alpha")
			resp := f.call("initialize", map[string]any{
				"protocolVersion": tt.requested, "capabilities": map[string]any{},
				"clientInfo": map[string]any{"name": "fixture-test", "version": "0"},
			})
			var result struct {
				ProtocolVersion string `json:"protocolVersion"`
				Capabilities    struct {
					Tools       struct{ ListChanged bool } `json:"tools"`
					Prompts     struct{ ListChanged bool } `json:"prompts"`
					Resources   struct{ Subscribe, ListChanged bool }
					Logging     *struct{} `json:"logging"`
					Completions *struct{} `json:"completions"`
				} `json:"capabilities"`
				ServerInfo   struct{ Name, Version string } `json:"serverInfo"`
				Instructions string                         `json:"instructions"`
			}
			resp.decodeResult(t, &result)
			if result.ProtocolVersion != tt.want {
				t.Errorf("requested %s: protocolVersion = %s, want %s", tt.requested, result.ProtocolVersion, tt.want)
			}
			caps := result.Capabilities
			if !caps.Tools.ListChanged || !caps.Prompts.ListChanged || !caps.Resources.Subscribe ||
				!caps.Resources.ListChanged || caps.Logging == nil || caps.Completions == nil {
				t.Errorf("capabilities incomplete: %s", resp.Result)
			}
			if result.ServerInfo.Name != "alpha" || result.ServerInfo.Version == "" {
				t.Errorf("serverInfo = %+v, want name alpha and a version", result.ServerInfo)
			}
			if result.Instructions != "Fixture server alpha for plugboard tests." {
				t.Errorf("instructions = %q", result.Instructions)
			}
		}
	})

	t.Run("tools/list lists every tool with a description and schema", func(t *testing.T) {
		t.Parallel()
		f := startInitialized(t, bin, "{}")
		tools := f.listAll("tools/list", "tools")
		var names []string
		for _, raw := range tools {
			var def struct {
				Name        string `json:"name"`
				Description string `json:"description"`
				InputSchema struct {
					Type string `json:"type"`
				} `json:"inputSchema"`
			}
			if err := json.Unmarshal(raw, &def); err != nil {
				t.Fatalf("tool definition %s: %v", raw, err)
			}
			if def.Description == "" || def.InputSchema.Type != "object" {
				t.Errorf("tool %s lacks a description or an object inputSchema: %s", def.Name, raw)
			}
			names = append(names, def.Name)
		}
		want := []string{
			"echo", "add", "sleep", "crash", "hang", "env", "large", "progress", "weird", "toggle_tools", "log", "touch", "roots",
			"test_simple_text", "test_image_content", "test_audio_content", "test_embedded_resource",
			"test_multiple_content_types", "test_tool_with_logging", "test_tool_with_progress", "test_error_handling",
			"test_reconnection", "test_sampling", "test_elicitation", "test_elicitation_sep1034_defaults",
			"test_elicitation_sep1330_enums", "json_schema_2020_12_tool", "header_echo", "meta_echo",
			"test_input_required_result_elicitation", "test_input_required_result_sampling", "test_input_required_result_list_roots",
			"test_input_required_result_request_state", "test_input_required_result_multiple_inputs", "test_input_required_result_multi_round",
			"test_input_required_result_tampered_state", "test_input_required_result_capabilities", "test_missing_capability",
			"test_streaming_elicitation", "test_logging_tool", "test_trigger_tool_change", "test_trigger_prompt_change",
		}
		for _, name := range want {
			if !slices.Contains(names, name) {
				t.Errorf("tools/list lacks %s; got %v", name, names)
			}
		}
		if slices.Contains(names, "extra_tool") {
			t.Errorf("extra_tool listed before toggle_tools was called")
		}
	})

	t.Run("echo and add answer", func(t *testing.T) {
		t.Parallel()
		f := startInitialized(t, bin, "{}", "--name", "beta")
		echo := f.callTool("echo", map[string]any{"text": "hello <&> world"})
		if echo.text() != "hello <&> world" {
			t.Errorf("echo text = %q", echo.text())
		}
		if got := string(echo.StructuredContent); got != `{"server":"beta","text":"hello <&> world"}` {
			t.Errorf("echo structuredContent = %s", got)
		}
		if got := f.callTool("add", map[string]any{"a": 1.5, "b": 2}).text(); got != "3.5" {
			t.Errorf("add 1.5 + 2 = %q, want 3.5", got)
		}
		if got := len(f.callTool("large", map[string]any{"bytes": 1 << 20}).text()); got != 1<<20 {
			t.Errorf("large returned %d bytes, want %d", got, 1<<20)
		}
	})

	t.Run("weird arrives byte for byte", func(t *testing.T) {
		t.Parallel()
		f := startInitialized(t, bin, "{}")
		list := f.call("tools/list", nil)
		for _, want := range []string{
			`"unevaluatedProperties":false`, `"x-vendor":{"nested":[1,2.50,"three"]}`, `"format":"uri-reference"`,
			`"x-future-field":{"keep":true}`, `"icons":[{"src":"data:image/png;base64,AAAA","mimeType":"image/png"}]`,
			`"annotations":{"readOnlyHint":true,"title":"Weird"}`, `"_meta":{"vendor/key":1}`, `"$defs":{`, `"examples":[`,
		} {
			if !strings.Contains(list.raw, want) {
				t.Errorf("tools/list line lacks %s", want)
			}
		}
		call := f.call("tools/call", map[string]any{"name": "weird", "arguments": map[string]any{}})
		want := `"result":{"content":[{"type":"text","text":"weird","annotations":{"audience":["user"],"priority":0.5},` +
			`"x-unknown-content-field":7}],"structuredContent":{"big":12345678901234567890,"float":1.50},` +
			`"_meta":{"vendor/trace":"abc"},"x-unknown-result-field":{"a":[true,null]}}`
		if !strings.Contains(call.raw, want) {
			t.Errorf("weird result line = %s\nwant it to contain %s", call.raw, want)
		}
	})

	t.Run("pagination returns every item exactly once", func(t *testing.T) {
		t.Parallel()
		whole := startInitialized(t, bin, "{}", "--extra-tools", "5")
		paged := startInitialized(t, bin, "{}", "--extra-tools", "5", "--page-size", "2")
		for _, list := range []struct{ method, field string }{
			{"tools/list", "tools"},
			{"prompts/list", "prompts"},
			{"resources/list", "resources"},
			{"resources/templates/list", "resourceTemplates"},
		} {
			want := whole.listAll(list.method, list.field)
			got := paged.listAll(list.method, list.field)
			if len(got) != len(want) {
				t.Errorf("%s: %d items over pages, want %d", list.method, len(got), len(want))
				continue
			}
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Errorf("%s item %d = %s, want %s", list.method, i, got[i], want[i])
				}
			}
		}
		resp := paged.call("tools/list", map[string]any{"cursor": "not-a-cursor"})
		if resp.Error == nil || resp.Error.Code != -32602 {
			t.Errorf("bad cursor: got %s, want error -32602", resp.raw)
		}
	})

	t.Run("progress notifications precede the result", func(t *testing.T) {
		t.Parallel()
		f := startInitialized(t, bin, "{}")
		id := f.request("tools/call", map[string]any{
			"name": "progress", "arguments": map[string]any{"steps": 3, "delay_ms": 1},
			"_meta": map[string]any{"progressToken": "tok-1"},
		})
		resp, before := f.awaitResponse(id)
		if got := resp.toolResult(t).text(); got != "done" {
			t.Errorf("progress result = %q, want done", got)
		}
		var progress []float64
		for _, n := range before {
			if n.Method != "notifications/progress" {
				continue
			}
			var p struct {
				ProgressToken string  `json:"progressToken"`
				Progress      float64 `json:"progress"`
				Total         float64 `json:"total"`
				Message       string  `json:"message"`
			}
			n.decodeParams(t, &p)
			if p.ProgressToken != "tok-1" || p.Total != 3 || p.Message != fmt.Sprintf("step %v", p.Progress) {
				t.Errorf("progress notification = %s", n.raw)
			}
			progress = append(progress, p.Progress)
		}
		if !slices.Equal(progress, []float64{1, 2, 3}) {
			t.Errorf("progress values before the result = %v, want [1 2 3]", progress)
		}

		id = f.request("tools/call", map[string]any{"name": "progress", "arguments": map[string]any{"steps": 2}})
		if _, before := f.awaitResponse(id); len(before) != 0 {
			t.Errorf("progress without a token sent %d frames before the result", len(before))
		}
	})

	t.Run("toggle_tools changes the list and notifies", func(t *testing.T) {
		t.Parallel()
		f := startInitialized(t, bin, "{}")
		for _, want := range []string{"extra_tool on", "extra_tool off"} {
			id := f.request("tools/call", map[string]any{"name": "toggle_tools", "arguments": map[string]any{}})
			resp, before := f.awaitResponse(id)
			if got := resp.toolResult(t).text(); got != want {
				t.Errorf("toggle_tools = %q, want %q", got, want)
			}
			if !slices.ContainsFunc(before, func(fr wireFrame) bool { return fr.Method == "notifications/tools/list_changed" }) {
				t.Errorf("toggle_tools (%s) sent no notifications/tools/list_changed before its result", want)
			}
			listed := slices.ContainsFunc(f.listAll("tools/list", "tools"), func(raw json.RawMessage) bool {
				return strings.Contains(string(raw), `"name":"extra_tool"`)
			})
			if listed != (want == "extra_tool on") {
				t.Errorf("after %q, extra_tool listed = %v", want, listed)
			}
			call := f.call("tools/call", map[string]any{"name": "extra_tool", "arguments": map[string]any{"text": "x"}})
			if answered := call.Error == nil; answered != listed {
				t.Errorf("after %q, calling extra_tool gave %s", want, call.raw)
			}
		}
	})

	t.Run("test_trigger_prompt_change changes the prompt list and notifies", func(t *testing.T) {
		t.Parallel()
		f := startInitialized(t, bin, "{}")
		for _, want := range []string{"extra_prompt on", "extra_prompt off"} {
			id := f.request("tools/call", map[string]any{"name": "test_trigger_prompt_change", "arguments": map[string]any{}})
			resp, before := f.awaitResponse(id)
			if got := resp.toolResult(t).text(); got != want {
				t.Errorf("test_trigger_prompt_change = %q, want %q", got, want)
			}
			if len(before) != 1 || before[0].raw != `{"jsonrpc":"2.0","method":"notifications/prompts/list_changed"}` {
				t.Errorf("test_trigger_prompt_change (%s) sent %v before its result", want, before)
			}
			listed := slices.ContainsFunc(f.listAll("prompts/list", "prompts"), func(raw json.RawMessage) bool {
				return strings.Contains(string(raw), `"name":"extra_prompt"`)
			})
			if listed != (want == "extra_prompt on") {
				t.Errorf("after %q, extra_prompt listed = %v", want, listed)
			}
		}
	})

	t.Run("sampling round trip", func(t *testing.T) {
		t.Parallel()
		f := startInitialized(t, bin, `{"sampling":{}}`)

		id := f.request("tools/call", map[string]any{"name": "test_sampling", "arguments": map[string]any{"prompt": "What is 2+2?"}})
		req := f.awaitRequest("sampling/createMessage")
		if string(req.ID) != `"fx-1"` {
			t.Errorf("sampling request id = %s, want \"fx-1\"", req.ID)
		}
		var params struct {
			Messages []struct {
				Role    string `json:"role"`
				Content struct{ Type, Text string }
			} `json:"messages"`
			MaxTokens int `json:"maxTokens"`
		}
		req.decodeParams(t, &params)
		if len(params.Messages) != 1 || params.Messages[0].Content.Text != "What is 2+2?" || params.MaxTokens != 100 {
			t.Errorf("sampling params = %s", req.Params)
		}
		f.send(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": map[string]any{
			"role": "assistant", "content": map[string]any{"type": "text", "text": "4"}, "model": "test-model", "stopReason": "endTurn",
		}})
		resp, _ := f.awaitResponse(id)
		if got := resp.toolResult(t); got.IsError || got.text() != "LLM response: 4" {
			t.Errorf("test_sampling result = %s", resp.Result)
		}

		id = f.request("tools/call", map[string]any{"name": "test_sampling", "arguments": map[string]any{"prompt": "again"}})
		req = f.awaitRequest("sampling/createMessage")
		f.send(map[string]any{"jsonrpc": "2.0", "id": req.ID, "error": map[string]any{"code": -1, "message": "user rejected sampling"}})
		resp, _ = f.awaitResponse(id)
		if got := resp.toolResult(t); !got.IsError || !strings.Contains(got.text(), "user rejected sampling") {
			t.Errorf("test_sampling after a client error = %s, want isError with the message", resp.Result)
		}

		plain := startInitialized(t, bin, "{}")
		if got := plain.callTool("test_sampling", map[string]any{"prompt": "p"}); !got.IsError {
			t.Errorf("test_sampling without the sampling capability = %+v, want isError", got)
		}
	})

	t.Run("elicitation and roots round trips", func(t *testing.T) {
		t.Parallel()
		f := startInitialized(t, bin, `{"elicitation":{},"roots":{"listChanged":true}}`)

		id := f.request("tools/call", map[string]any{"name": "test_elicitation", "arguments": map[string]any{"message": "Who are you?"}})
		req := f.awaitRequest("elicitation/create")
		var params struct {
			Mode            string `json:"mode"`
			Message         string `json:"message"`
			RequestedSchema struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"requestedSchema"`
		}
		req.decodeParams(t, &params)
		if params.Mode != "form" || params.Message != "Who are you?" || params.RequestedSchema.Properties["username"] == nil {
			t.Errorf("elicitation params = %s", req.Params)
		}
		f.send(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": map[string]any{
			"action": "accept", "content": map[string]any{"username": "ann", "email": "ann@example.com"},
		}})
		resp, _ := f.awaitResponse(id)
		want := `User response: action=accept, content={"email":"ann@example.com","username":"ann"}`
		if got := resp.toolResult(t).text(); got != want {
			t.Errorf("test_elicitation = %q, want %q", got, want)
		}

		id = f.request("tools/call", map[string]any{"name": "roots", "arguments": map[string]any{}})
		req = f.awaitRequest("roots/list")
		f.send(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": map[string]any{
			"roots": []any{map[string]any{"uri": "file:///work", "name": "work"}},
		}})
		resp, _ = f.awaitResponse(id)
		if got := resp.toolResult(t).text(); got != `[{"name":"work","uri":"file:///work"}]` {
			t.Errorf("roots = %q", got)
		}
	})

	t.Run("crash exits with the code and no answer", func(t *testing.T) {
		t.Parallel()
		f := startInitialized(t, bin, "{}")
		id := f.request("tools/call", map[string]any{"name": "crash", "arguments": map[string]any{"code": 3}})
		if code := f.waitExit(); code != 3 {
			t.Errorf("exit code = %d, want 3", code)
		}
		for _, fr := range f.remainingFrames() {
			if fr.isResponseTo(id) {
				t.Errorf("crash answered: %s", fr.raw)
			}
		}
		if !strings.Contains(f.stderr.String(), "crashing") {
			t.Errorf("stderr lacks crashing: %q", f.stderr.String())
		}
	})

	t.Run("malformed JSON gets -32700 and the session goes on", func(t *testing.T) {
		t.Parallel()
		f := startInitialized(t, bin, "{}")
		f.sendLine(`{"jsonrpc":"2.0","id":99,"method":`)
		got := f.next()
		if got.Error == nil || got.Error.Code != -32700 || string(got.ID) != "null" {
			t.Errorf("malformed frame answered with %s, want error -32700 and id null", got.raw)
		}
		if resp := f.call("ping", nil); string(resp.Result) != "{}" {
			t.Errorf("ping after a parse error = %s", resp.raw)
		}
		if resp := f.call("no/such/method", nil); resp.Error == nil || resp.Error.Code != -32601 {
			t.Errorf("unknown method = %s, want error -32601", resp.raw)
		}
	})

	t.Run("slow calls do not block and cancelled calls get no answer", func(t *testing.T) {
		t.Parallel()
		f := startInitialized(t, bin, "{}")
		hang := f.request("tools/call", map[string]any{"name": "hang", "arguments": map[string]any{}})
		sleep := f.request("tools/call", map[string]any{"name": "sleep", "arguments": map[string]any{"ms": 600000}})
		if got := f.callTool("echo", map[string]any{"text": "still here"}).text(); got != "still here" {
			t.Errorf("echo during slow calls = %q", got)
		}
		for _, id := range []int{hang, sleep} {
			f.send(map[string]any{"jsonrpc": "2.0", "method": "notifications/cancelled",
				"params": map[string]any{"requestId": id, "reason": "test"}})
		}
		pong, afterCancel := f.awaitResponse(f.request("ping", nil))
		if pong.Error != nil {
			t.Errorf("ping after cancelling = %s", pong.raw)
		}
		if code := f.closeAndWait(); code != 0 {
			t.Errorf("exit code after stdin closed = %d, want 0", code)
		}
		for _, fr := range append(afterCancel, f.remainingFrames()...) {
			if fr.isResponseTo(hang) || fr.isResponseTo(sleep) {
				t.Errorf("cancelled call answered: %s", fr.raw)
			}
		}
	})

	t.Run("exit at start", func(t *testing.T) {
		t.Parallel()
		f := startFixture(t, bin, "--name", "gamma", "--exit-at-start", "7", "--stderr-lines", "2")
		if code := f.waitExit(); code != 7 {
			t.Errorf("exit code = %d, want 7", code)
		}
		stderr := f.stderr.String()
		for _, want := range []string{"fixture gamma stderr line 1\n", "fixture gamma stderr line 2\n", "exiting at start"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr %q lacks %q", stderr, want)
			}
		}
		if frames := f.remainingFrames(); len(frames) != 0 {
			t.Errorf("stdout carried %d frames", len(frames))
		}
	})

	t.Run("resources, subscriptions and touch", func(t *testing.T) {
		t.Parallel()
		f := startInitialized(t, bin, "{}", "--name", "delta")
		for uri, want := range map[string]string{
			"fixture://delta/static":   "static resource of delta",
			"fixture://delta/items/42": "item 42 of delta",
			"test://static-text":       "This is the content of the static text resource.",
		} {
			var result struct {
				Contents []struct{ URI, Text string }
			}
			f.call("resources/read", map[string]any{"uri": uri}).decodeResult(t, &result)
			if len(result.Contents) != 1 || result.Contents[0].URI != uri || result.Contents[0].Text != want {
				t.Errorf("read %s = %+v, want text %q", uri, result.Contents, want)
			}
		}
		missing := f.call("resources/read", map[string]any{"uri": "fixture://delta/nope"})
		if missing.Error == nil || missing.Error.Code != -32002 || string(missing.Error.Data) != `{"uri":"fixture://delta/nope"}` {
			t.Errorf("reading a missing resource = %s", missing.raw)
		}

		const watched = "test://watched-resource"
		f.call("resources/subscribe", map[string]any{"uri": watched})
		id := f.request("tools/call", map[string]any{"name": "touch", "arguments": map[string]any{"uri": watched}})
		_, before := f.awaitResponse(id)
		if len(before) != 1 || before[0].Method != "notifications/resources/updated" ||
			string(before[0].Params) != `{"uri":"test://watched-resource"}` {
			t.Errorf("touch on a subscribed resource sent %v", before)
		}
		f.call("resources/unsubscribe", map[string]any{"uri": watched})
		id = f.request("tools/call", map[string]any{"name": "touch", "arguments": map[string]any{"uri": watched}})
		if _, before := f.awaitResponse(id); len(before) != 0 {
			t.Errorf("touch after unsubscribe sent %v", before)
		}
	})

	t.Run("prompts and completion", func(t *testing.T) {
		t.Parallel()
		f := startInitialized(t, bin, "{}")
		var prompt struct {
			Messages []struct {
				Role    string
				Content struct{ Type, Text string }
			}
		}
		f.call("prompts/get", map[string]any{"name": "greeting", "arguments": map[string]any{"name": "Ann"}}).decodeResult(t, &prompt)
		if len(prompt.Messages) != 1 || prompt.Messages[0].Role != "user" || prompt.Messages[0].Content.Text != "Hello, Ann!" {
			t.Errorf("greeting = %+v", prompt)
		}
		if resp := f.call("prompts/get", map[string]any{"name": "greeting"}); resp.Error == nil || resp.Error.Code != -32602 {
			t.Errorf("greeting without name = %s, want error -32602", resp.raw)
		}
		for prefix, want := range map[string][]string{"": {"alice", "bob", "carol"}, "b": {"bob"}, "z": {}} {
			var result struct {
				Completion struct{ Values []string }
			}
			f.call("completion/complete", map[string]any{
				"ref":      map[string]any{"type": "ref/prompt", "name": "greeting"},
				"argument": map[string]any{"name": "name", "value": prefix},
			}).decodeResult(t, &result)
			if !slices.Equal(result.Completion.Values, want) {
				t.Errorf("complete %q = %v, want %v", prefix, result.Completion.Values, want)
			}
		}
	})

	t.Run("logging respects setLevel", func(t *testing.T) {
		t.Parallel()
		f := startInitialized(t, bin, "{}", "--name", "epsilon")
		if resp := f.call("logging/setLevel", map[string]any{"level": "warning"}); string(resp.Result) != "{}" {
			t.Fatalf("setLevel = %s", resp.raw)
		}
		id := f.request("tools/call", map[string]any{"name": "log", "arguments": map[string]any{"level": "info", "message": "quiet"}})
		if _, before := f.awaitResponse(id); len(before) != 0 {
			t.Errorf("info log below warning was sent: %v", before)
		}
		id = f.request("tools/call", map[string]any{"name": "log", "arguments": map[string]any{"level": "error", "message": "loud"}})
		_, before := f.awaitResponse(id)
		if len(before) != 1 || string(before[0].Params) != `{"level":"error","logger":"epsilon","data":"loud"}` {
			t.Errorf("error log sent %v", before)
		}
	})
}
