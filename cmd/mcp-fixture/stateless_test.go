package main

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
)

// modern returns params with the _meta of a 2026-07-28 request from a
// client with the given capabilities (a JSON object); extra _meta entries
// are added or, when nil, removed.
func modern(params map[string]any, caps string, extra map[string]any) map[string]any {
	p := maps.Clone(params)
	if p == nil {
		p = map[string]any{}
	}
	meta := map[string]any{
		metaProtocolVersion:    modernVersion,
		metaClientCapabilities: json.RawMessage(caps),
		metaClientInfo:         map[string]any{"name": "fixture-test", "version": "0"},
	}
	for k, v := range extra {
		if v == nil {
			delete(meta, k)
		} else {
			meta[k] = v
		}
	}
	p["_meta"] = meta
	return p
}

// errorCode is the code of a JSON-RPC error response, or 0.
func (fr wireFrame) errorCode() int {
	if fr.Error == nil {
		return 0
	}
	return fr.Error.Code
}

// resultField decodes one field of a result.
func (fr wireFrame) resultField(t *testing.T, name string, v any) {
	t.Helper()
	var fields map[string]json.RawMessage
	fr.decodeResult(t, &fields)
	if err := json.Unmarshal(fields[name], v); err != nil {
		t.Fatalf("result field %s of %s: %v", name, fr.raw, err)
	}
}

// TestStatelessStdio drives 2026-07-28 requests over stdio, without
// initialize, one fresh process per subtest.
func TestStatelessStdio(t *testing.T) {
	bin := fixtureBinary(t)

	t.Run("server/discover needs no initialize", func(t *testing.T) {
		t.Parallel()
		f := startFixture(t, bin, "--name", "zeta", "--ttl-ms", "5000")
		resp := f.call("server/discover", modern(nil, "{}", nil))
		var result struct {
			ResultType        string   `json:"resultType"`
			SupportedVersions []string `json:"supportedVersions"`
			Capabilities      struct {
				Tools     struct{ ListChanged bool } `json:"tools"`
				Prompts   struct{ ListChanged bool } `json:"prompts"`
				Resources struct{ Subscribe, ListChanged bool }
			} `json:"capabilities"`
			Instructions string `json:"instructions"`
			TTLMs        *int   `json:"ttlMs"`
			CacheScope   string `json:"cacheScope"`
			Meta         map[string]struct {
				Name, Version string
			} `json:"_meta"`
		}
		resp.decodeResult(t, &result)
		wantVersions := []string{"2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}
		if result.ResultType != "complete" || !slices.Equal(result.SupportedVersions, wantVersions) {
			t.Errorf("discover = %s, want resultType complete and versions %v", resp.Result, wantVersions)
		}
		caps := result.Capabilities
		if !caps.Tools.ListChanged || !caps.Prompts.ListChanged || !caps.Resources.Subscribe || !caps.Resources.ListChanged {
			t.Errorf("capabilities = %s", resp.Result)
		}
		if info := result.Meta[metaServerInfo]; info.Name != "zeta" || info.Version == "" {
			t.Errorf("_meta serverInfo = %+v, want name zeta", info)
		}
		if result.Instructions != "Fixture server zeta for plugboard tests." || result.TTLMs == nil || *result.TTLMs != 5000 ||
			result.CacheScope != "public" {
			t.Errorf("discover = %s, want instructions, ttlMs 5000 and cacheScope public", resp.Result)
		}
		if resp := f.call("server/discover", modern(nil, "{}", map[string]any{metaClientInfo: nil})); resp.Error != nil {
			t.Errorf("discover without clientInfo = %s, want a result", resp.raw)
		}
	})

	t.Run("requests that fail the per-request checks", func(t *testing.T) {
		t.Parallel()
		f := startFixture(t, bin)
		tests := []struct {
			name   string
			method string
			params any
			code   int
		}{
			{"no params", "server/discover", nil, codeInvalidParams},
			{"no _meta", "server/discover", map[string]any{}, codeInvalidParams},
			{"no protocolVersion", "tools/list", modern(nil, "{}", map[string]any{metaProtocolVersion: nil}), codeInvalidParams},
			{"no clientCapabilities", "tools/list", modern(nil, "{}", map[string]any{metaClientCapabilities: nil}), codeInvalidParams},
			{"an unknown log level", "tools/list", modern(nil, "{}", map[string]any{metaLogLevel: "loud"}), codeInvalidParams},
			{"an unknown version", "tools/list", modern(nil, "{}", map[string]any{metaProtocolVersion: "2099-01-01"}), codeUnsupportedVersion},
			{"a legacy version", "tools/list", modern(nil, "{}", map[string]any{metaProtocolVersion: "2025-11-25"}), codeUnsupportedVersion},
			{"initialize", "initialize", modern(map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{}}, "{}", nil), codeMethodNotFound},
			{"ping", "ping", modern(nil, "{}", nil), codeMethodNotFound},
			{"logging/setLevel", "logging/setLevel", modern(map[string]any{"level": "info"}, "{}", nil), codeMethodNotFound},
			{"resources/subscribe", "resources/subscribe", modern(map[string]any{"uri": "test://static-text"}, "{}", nil), codeMethodNotFound},
			{"resources/unsubscribe", "resources/unsubscribe", modern(map[string]any{"uri": "test://static-text"}, "{}", nil), codeMethodNotFound},
			{"an unknown method", "no/such/method", modern(nil, "{}", nil), codeMethodNotFound},
		}
		for _, tt := range tests {
			if resp := f.call(tt.method, tt.params); resp.errorCode() != tt.code {
				t.Errorf("%s: %s, want error %d", tt.name, resp.raw, tt.code)
			}
		}
		resp := f.call("tools/list", modern(nil, "{}", map[string]any{metaProtocolVersion: "2099-01-01"}))
		var data struct {
			Supported []string `json:"supported"`
			Requested string   `json:"requested"`
		}
		if resp.Error == nil || json.Unmarshal(resp.Error.Data, &data) != nil ||
			!slices.Contains(data.Supported, modernVersion) || !slices.Contains(data.Supported, "2024-11-05") || data.Requested != "2099-01-01" {
			t.Errorf("unsupported version = %s, want data listing supported and requested", resp.raw)
		}
	})

	t.Run("results carry resultType, serverInfo and caching hints", func(t *testing.T) {
		t.Parallel()
		f := startFixture(t, bin, "--name", "eta")
		for _, tt := range []struct {
			method    string
			params    map[string]any
			cacheable bool
		}{
			{"tools/list", nil, true},
			{"prompts/list", nil, true},
			{"resources/list", nil, true},
			{"resources/templates/list", nil, true},
			{"resources/read", map[string]any{"uri": "test://static-text"}, true},
			{"tools/call", map[string]any{"name": "echo", "arguments": map[string]any{"text": "hi"}}, false},
			{"prompts/get", map[string]any{"name": "test_simple_prompt"}, false},
			{"completion/complete", map[string]any{"ref": map[string]any{"type": "ref/prompt", "name": "greeting"},
				"argument": map[string]any{"name": "name", "value": "a"}}, false},
		} {
			resp := f.call(tt.method, modern(tt.params, "{}", nil))
			var result struct {
				ResultType string                                    `json:"resultType"`
				TTLMs      *int                                      `json:"ttlMs"`
				CacheScope *string                                   `json:"cacheScope"`
				Meta       map[string]struct{ Name, Version string } `json:"_meta"`
			}
			resp.decodeResult(t, &result)
			if result.ResultType != "complete" || result.Meta[metaServerInfo].Name != "eta" {
				t.Errorf("%s = %s, want resultType complete and serverInfo eta", tt.method, resp.raw)
			}
			if hinted := result.TTLMs != nil && *result.TTLMs == 0 && result.CacheScope != nil && *result.CacheScope == "public"; hinted != tt.cacheable {
				t.Errorf("%s = %s; caching hints present = %v, want %v", tt.method, resp.raw, hinted, tt.cacheable)
			}
		}
		weird := f.call("tools/call", modern(map[string]any{"name": "weird", "arguments": map[string]any{}}, "{}", nil))
		if !strings.Contains(weird.raw, `"structuredContent":{"big":12345678901234567890,"float":1.50},"_meta":{"vendor/trace":"abc"}`) ||
			!strings.Contains(weird.raw, `"resultType":"complete"`) {
			t.Errorf("weird under 2026-07-28 = %s, want its bytes kept and resultType added", weird.raw)
		}
		missing := f.call("resources/read", modern(map[string]any{"uri": "test://nope"}, "{}", nil))
		if missing.errorCode() != codeInvalidParams || string(missing.Error.Data) != `{"uri":"test://nope"}` {
			t.Errorf("a missing resource = %s, want -32602 with the uri", missing.raw)
		}
	})

	t.Run("progress always, logs only when the request sets a level", func(t *testing.T) {
		t.Parallel()
		f := startFixture(t, bin, "--name", "theta")
		id := f.request("tools/call", modern(map[string]any{"name": "progress", "arguments": map[string]any{"steps": 2}},
			"{}", map[string]any{"progressToken": 9}))
		resp, before := f.awaitResponse(id)
		if resp.Error != nil || len(before) != 2 || before[0].Method != "notifications/progress" || !strings.Contains(before[1].raw, `"progressToken":9`) {
			t.Errorf("progress sent %v before %s", before, resp.raw)
		}
		for _, tt := range []struct {
			level string // "" for none
			want  int
		}{{"", 0}, {"debug", 3}, {"info", 3}, {"warning", 0}} {
			extra := map[string]any{}
			if tt.level != "" {
				extra[metaLogLevel] = tt.level
			}
			id := f.request("tools/call", modern(map[string]any{"name": "test_tool_with_logging", "arguments": map[string]any{}}, "{}", extra))
			_, before := f.awaitResponse(id)
			if len(before) != tt.want {
				t.Errorf("logLevel %q: %d frames before the result, want %d: %v", tt.level, len(before), tt.want, before)
			}
			for _, fr := range before {
				if fr.Method != "notifications/message" || !strings.Contains(fr.raw, `"logger":"theta"`) {
					t.Errorf("logLevel %q: frame %s", tt.level, fr.raw)
				}
			}
		}
	})

	t.Run("input_required rounds", func(t *testing.T) {
		t.Parallel()
		f := startFixture(t, bin)
		const all = `{"elicitation":{},"sampling":{},"roots":{}}`
		callTool := func(name string, caps string, retry map[string]any) wireFrame {
			t.Helper()
			params := map[string]any{"name": name, "arguments": map[string]any{}}
			maps.Copy(params, retry)
			return f.call("tools/call", modern(params, caps, nil))
		}
		type inputRequired struct {
			ResultType    string `json:"resultType"`
			InputRequests map[string]struct {
				Method string          `json:"method"`
				Params json.RawMessage `json:"params"`
			} `json:"inputRequests"`
			RequestState string `json:"requestState"`
		}
		asks := func(resp wireFrame) inputRequired {
			t.Helper()
			var r inputRequired
			resp.decodeResult(t, &r)
			if r.ResultType != "input_required" {
				t.Fatalf("%s, want an input_required result", resp.raw)
			}
			return r
		}
		accept := func(content string) json.RawMessage {
			return json.RawMessage(`{"action":"accept","content":` + content + `}`)
		}

		first := asks(callTool("test_input_required_result_elicitation", all, nil))
		req := first.InputRequests["user_name"]
		if req.Method != "elicitation/create" || string(req.Params) !=
			`{"message":"What is your name?","requestedSchema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}}` ||
			first.RequestState != "" || strings.Contains(callTool("test_input_required_result_elicitation", all, nil).raw, "ttlMs") {
			t.Errorf("round 1 = %+v, want the user_name elicitation, no requestState, no caching hints", first)
		}
		done := callTool("test_input_required_result_elicitation", all, map[string]any{"inputResponses": map[string]any{
			"user_name": accept(`{"name":"Alice"}`), "unasked": 7}})
		if got := done.toolResult(t).text(); got != "Hello, Alice!" {
			t.Errorf("round 2 = %s, want Hello, Alice!", done.raw)
		}
		asks(callTool("test_input_required_result_elicitation", all, map[string]any{"inputResponses": map[string]any{"other": accept(`{}`)}}))
		for _, bad := range []any{map[string]any{"user_name": 12345}, nil} {
			if resp := callTool("test_input_required_result_elicitation", all, map[string]any{"inputResponses": bad}); resp.errorCode() != codeInvalidParams {
				t.Errorf("inputResponses %v = %s, want -32602", bad, resp.raw)
			}
		}
		resp := callTool("test_input_required_result_elicitation", `{"sampling":{}}`, nil)
		if resp.errorCode() != codeMissingCapability || string(resp.Error.Data) != `{"requiredCapabilities":{"elicitation":{}}}` {
			t.Errorf("without elicitation = %s, want -32021 naming elicitation", resp.raw)
		}

		r1 := asks(callTool("test_input_required_result_multi_round", all, nil))
		r2 := asks(callTool("test_input_required_result_multi_round", all, map[string]any{
			"inputResponses": map[string]any{"step1": accept(`{"name":"Alice"}`)}, "requestState": r1.RequestState}))
		if r1.RequestState == "" || r2.RequestState == "" || r2.RequestState == r1.RequestState || r2.InputRequests["step2"].Method != "elicitation/create" {
			t.Errorf("rounds 1 and 2 = %+v, %+v, want step1 then step2 with a new requestState", r1, r2)
		}
		r3 := callTool("test_input_required_result_multi_round", all, map[string]any{
			"inputResponses": map[string]any{"step2": accept(`{"color":"blue"}`)}, "requestState": r2.RequestState})
		if got := r3.toolResult(t).text(); got != "Alice's favorite color is blue." {
			t.Errorf("round 3 = %s", r3.raw)
		}

		sealed := asks(callTool("test_input_required_result_tampered_state", all, nil))
		confirm := map[string]any{"confirm": accept(`{"ok":true}`)}
		for name, state := range map[string]string{
			"tampered":              sealed.RequestState + "-TAMPERED",
			"from another tool":     r1.RequestState,
			"not from this fixture": "e30.AAAA",
			"empty":                 "",
		} {
			resp := callTool("test_input_required_result_tampered_state", all, map[string]any{"inputResponses": confirm, "requestState": state})
			if resp.errorCode() != codeInvalidParams {
				t.Errorf("%s requestState = %s, want -32602", name, resp.raw)
			}
		}
		// Without the state it asked for, the tool asks again.
		asks(callTool("test_input_required_result_tampered_state", all, map[string]any{"inputResponses": confirm}))
		ok := callTool("test_input_required_result_tampered_state", all, map[string]any{"inputResponses": confirm, "requestState": sealed.RequestState})
		if !strings.Contains(ok.toolResult(t).text(), "state-ok") {
			t.Errorf("intact requestState = %s", ok.raw)
		}

		many := asks(callTool("test_input_required_result_multiple_inputs", all, nil))
		if len(many.InputRequests) != 3 || many.InputRequests["greeting"].Method != "sampling/createMessage" ||
			many.InputRequests["client_roots"].Method != "roots/list" || string(many.InputRequests["client_roots"].Params) != "{}" {
			t.Errorf("multiple inputs = %+v", many)
		}
		answers := map[string]any{
			"user_name":    accept(`{"name":"Alice"}`),
			"greeting":     map[string]any{"role": "assistant", "content": map[string]any{"type": "text", "text": "Hi!"}, "model": "m"},
			"client_roots": map[string]any{"roots": []any{map[string]any{"uri": "file:///r"}}},
		}
		got := callTool("test_input_required_result_multiple_inputs", all, map[string]any{"inputResponses": answers, "requestState": many.RequestState})
		if text := got.toolResult(t).text(); text != `Hello, Alice! greeting=Hi!, roots=[{"uri":"file:///r"}]` {
			t.Errorf("multiple inputs answered = %s", got.raw)
		}

		onlySampling := asks(callTool("test_input_required_result_capabilities", `{"sampling":{}}`, nil))
		if len(onlySampling.InputRequests) != 1 || onlySampling.InputRequests["sampling"].Method != "sampling/createMessage" {
			t.Errorf("capabilities with sampling only = %+v", onlySampling)
		}
		if resp := callTool("test_missing_capability", "{}", nil); resp.errorCode() != codeMissingCapability ||
			string(resp.Error.Data) != `{"requiredCapabilities":{"sampling":{}}}` {
			t.Errorf("test_missing_capability = %s", resp.raw)
		}
		sampled := asks(callTool("test_sampling", all, nil))
		if sampled.InputRequests["sampling"].Method != "sampling/createMessage" {
			t.Errorf("test_sampling under 2026-07-28 = %+v", sampled)
		}
		roots := callTool("roots", all, map[string]any{"inputResponses": map[string]any{"roots": answers["client_roots"]}})
		if got := roots.toolResult(t).text(); got != `[{"uri":"file:///r"}]` {
			t.Errorf("roots answered = %s", roots.raw)
		}

		prompt := f.call("prompts/get", modern(map[string]any{"name": "test_input_required_result_prompt"}, all, nil))
		if asks(prompt).InputRequests["user_context"].Method != "elicitation/create" {
			t.Errorf("prompt round 1 = %s", prompt.raw)
		}
		prompt = f.call("prompts/get", modern(map[string]any{"name": "test_input_required_result_prompt",
			"inputResponses": map[string]any{"user_context": accept(`{"context":"tests"}`)}}, all, nil))
		if !strings.Contains(prompt.raw, `"text":"Use this context: tests"`) || !strings.Contains(prompt.raw, `"resultType":"complete"`) {
			t.Errorf("prompt round 2 = %s", prompt.raw)
		}
	})

	t.Run("a legacy session in the same process", func(t *testing.T) {
		t.Parallel()
		f := startInitialized(t, bin, `{"elicitation":{}}`)
		if resp := f.call("ping", nil); string(resp.Result) != "{}" {
			t.Errorf("legacy ping = %s", resp.raw)
		}
		if resp := f.call("tools/list", modern(nil, "{}", nil)); !strings.Contains(resp.raw, `"resultType":"complete"`) {
			t.Errorf("a 2026-07-28 request next to the session = %s", resp.raw)
		}
		if resp := f.call("tools/list", nil); strings.Contains(resp.raw, "resultType") {
			t.Errorf("a legacy tools/list = %s, want no resultType", resp.raw)
		}

		// The same multi-round tool, in a legacy session, asks by request.
		id := f.request("tools/call", map[string]any{"name": "test_input_required_result_multi_round", "arguments": map[string]any{}})
		for _, answer := range []string{`{"name":"Bob"}`, `{"color":"green"}`} {
			req := f.awaitRequest("elicitation/create")
			f.send(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": map[string]any{"action": "accept", "content": json.RawMessage(answer)}})
		}
		resp, _ := f.awaitResponse(id)
		if got := resp.toolResult(t).text(); got != "Bob's favorite color is green." {
			t.Errorf("multi-round in a legacy session = %s", resp.raw)
		}
		id = f.request("prompts/get", map[string]any{"name": "test_input_required_result_prompt"})
		req := f.awaitRequest("elicitation/create")
		f.send(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": map[string]any{"action": "accept", "content": map[string]any{"context": "legacy"}}})
		if resp, _ := f.awaitResponse(id); !strings.Contains(resp.raw, `"text":"Use this context: legacy"`) {
			t.Errorf("input-required prompt in a legacy session = %s", resp.raw)
		}
		if got := f.callTool("test_input_required_result_sampling", map[string]any{}); !got.IsError || !strings.Contains(got.text(), "sampling") {
			t.Errorf("a legacy session without sampling = %+v, want isError naming sampling", got)
		}
	})

	t.Run("subscriptions/listen", func(t *testing.T) {
		t.Parallel()
		f := startFixture(t, bin)
		listen := func(id string, filter map[string]any) {
			t.Helper()
			f.send(map[string]any{"jsonrpc": "2.0", "id": id, "method": "subscriptions/listen", "params": modern(map[string]any{"notifications": filter}, "{}", nil)})
			ack := f.next()
			if ack.Method != "notifications/subscriptions/acknowledged" ||
				!strings.Contains(ack.raw, `"_meta":{"io.modelcontextprotocol/subscriptionId":"`+id+`"}`) {
				t.Fatalf("listen %s: first frame %s, want the acknowledgement", id, ack.raw)
			}
		}
		listen("tools", map[string]any{"toolsListChanged": true})
		listen("prompts", map[string]any{"promptsListChanged": true, "resourceSubscriptions": []string{"test://watched-resource"}})

		tagged := func(method string, params any) []string {
			t.Helper()
			id := f.request("tools/call", modern(map[string]any{"name": method, "arguments": params}, "{}", nil))
			_, before := f.awaitResponse(id)
			var got []string
			for _, fr := range before {
				var p struct {
					Meta map[string]string `json:"_meta"`
				}
				fr.decodeParams(t, &p)
				got = append(got, fr.Method+" "+p.Meta[metaSubscriptionID])
			}
			slices.Sort(got)
			return got
		}
		if got := tagged("test_trigger_tool_change", map[string]any{}); !slices.Equal(got, []string{"notifications/tools/list_changed tools"}) {
			t.Errorf("a tool change reached %v", got)
		}
		if got := tagged("test_trigger_prompt_change", map[string]any{}); !slices.Equal(got, []string{"notifications/prompts/list_changed prompts"}) {
			t.Errorf("a prompt change reached %v", got)
		}
		if got := tagged("touch", map[string]any{"uri": "test://watched-resource"}); !slices.Equal(got, []string{"notifications/resources/updated prompts"}) {
			t.Errorf("touch reached %v", got)
		}

		f.send(map[string]any{"jsonrpc": "2.0", "method": "notifications/cancelled", "params": map[string]any{"requestId": "tools"}})
		if got := tagged("test_trigger_tool_change", map[string]any{}); len(got) != 0 {
			t.Errorf("after cancelling, a tool change reached %v", got)
		}
		if code := f.closeAndWait(); code != 0 {
			t.Errorf("exit code %d", code)
		}
		var ends []string
		for _, fr := range f.remainingFrames() {
			ends = append(ends, fr.raw)
		}
		want := `{"jsonrpc":"2.0","id":"prompts","result":{"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"fixture","version":"1.0.0"},` +
			`"io.modelcontextprotocol/subscriptionId":"prompts"},"resultType":"complete"}}`
		if !slices.Equal(ends, []string{want}) {
			t.Errorf("at the end of stdin the fixture wrote %v, want only the graceful end of the open subscription", ends)
		}
	})
}
