package main

import (
	"encoding/json"
	"testing"
)

func TestAppendRequestAndNotificationAreJSONRPC(t *testing.T) {
	params, err := toolCallParams("echo", json.RawMessage(`{"text":"hi \"there\""}`))
	if err != nil {
		t.Fatal(err)
	}
	var req struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      *uint64         `json:"id"`
		Method  string          `json:"method"`
		Params  json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(appendRequest([]byte("junk"), 42, methodToolsCall, params)[4:], &req); err != nil {
		t.Fatalf("request is not JSON: %v", err)
	}
	if req.JSONRPC != "2.0" || req.ID == nil || *req.ID != 42 || req.Method != "tools/call" ||
		string(req.Params) != `{"name":"echo","arguments":{"text":"hi \"there\""}}` {
		t.Errorf("request decoded as %+v (params %s)", req, req.Params)
	}

	var note map[string]json.RawMessage
	if err := json.Unmarshal(appendNotification(nil, methodInitialized, nil), &note); err != nil {
		t.Fatalf("notification is not JSON: %v", err)
	}
	if _, hasID := note["id"]; hasID || string(note["method"]) != `"notifications/initialized"` {
		t.Errorf("notification = %v", note)
	}
	if _, hasParams := note["params"]; hasParams {
		t.Errorf("notification without params has them: %v", note)
	}
}

func TestOutcomeOfClassifiesResponses(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		want  outcome
	}{
		{"result", `{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"hello"}]}}`,
			outcome{kind: outcomeOK}},
		{"isError false", `{"jsonrpc":"2.0","id":3,"result":{"content":[],"isError":false}}`,
			outcome{kind: outcomeOK}},
		{"tool error", `{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"bad input"}],"isError":true}}`,
			outcome{kind: outcomeToolError, message: "bad input"}},
		{"tool error without text", `{"jsonrpc":"2.0","id":3,"result":{"isError":true}}`,
			outcome{kind: outcomeToolError, message: "a result with isError set"}},
		{"JSON-RPC error", `{"jsonrpc":"2.0","id":3,"error":{"code":-32602,"message":"Unknown tool: nope"}}`,
			outcome{kind: outcomeRPCError, code: -32602, message: "Unknown tool: nope"}},
		{"error before result member", `{"error":{"code":-32000,"message":"down"},"id":3,"jsonrpc":"2.0"}`,
			outcome{kind: outcomeRPCError, code: -32000, message: "down"}},
		{"list page", `{"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"a"},{"name":"b"}],"nextCursor":"Y3Vy"}}`,
			outcome{kind: outcomeOK, tools: 2, nextCursor: "Y3Vy"}},
		{"last list page", `{"jsonrpc":"2.0","id":3,"result":{"tools":[],"nextCursor":null}}`,
			outcome{kind: outcomeOK}},
		{"list page with nested arrays", `{"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"a","x":[1,[2]]}, {"name":"]"} ,{}]}}`,
			outcome{kind: outcomeOK, tools: 3}},
		{"tools that are not an array", `{"jsonrpc":"2.0","id":3,"result":{"tools":{"name":"a"}}}`,
			outcome{kind: outcomeTransport, message: "malformed result: malformed JSON: tools is not an array"}},
		{"neither result nor error", `{"jsonrpc":"2.0","id":3}`,
			outcome{kind: outcomeTransport, message: "response with neither result nor error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseFrame([]byte(tt.frame))
			if err != nil {
				t.Fatalf("parseFrame: %v", err)
			}
			if id, ok := f.numericID(); !ok || id != 3 {
				t.Errorf("numericID = %d, %v; want 3", id, ok)
			}
			got := outcomeOf(f)
			if got.kind != tt.want.kind || got.code != tt.want.code || got.message != tt.want.message ||
				got.tools != tt.want.tools || got.nextCursor != tt.want.nextCursor {
				t.Errorf("outcomeOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestOutcomeOfInitialize(t *testing.T) {
	f, err := parseFrame([]byte(`{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18",` +
		`"capabilities":{"tools":{}},"serverInfo":{"name":"srv","version":"2.1"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	info, err := initializeOutcome(outcomeOf(f))
	if err != nil {
		t.Fatal(err)
	}
	if *info != (serverInfo{Name: "srv", Version: "2.1", ProtocolVersion: "2025-06-18"}) {
		t.Errorf("server = %+v", *info)
	}

	f, _ = parseFrame([]byte(`{"jsonrpc":"2.0","id":1,"result":{}}`))
	if _, err := initializeOutcome(outcomeOf(f)); err == nil {
		t.Error("an initialize result without protocolVersion was accepted")
	}
}

func TestFrameIDs(t *testing.T) {
	tests := []struct {
		frame   string
		id      uint64
		numeric bool
		request bool
	}{
		{`{"id":12,"result":{}}`, 12, true, false},
		{`{"id":"12","result":{}}`, 0, false, false},
		{`{"id":-1,"result":{}}`, 0, false, false},
		{`{"id":1.5,"result":{}}`, 0, false, false},
		{`{"id":99999999999999999999,"result":{}}`, 0, false, false},
		{`{"jsonrpc":"2.0","id":"fx-1","method":"ping"}`, 0, false, true},
		{`{"jsonrpc":"2.0","id":null,"method":"ping"}`, 0, false, false},
		{`{"jsonrpc":"2.0","method":"notifications/message","params":{}}`, 0, false, false},
	}
	for _, tt := range tests {
		f, err := parseFrame([]byte(tt.frame))
		if err != nil {
			t.Fatalf("parseFrame(%s): %v", tt.frame, err)
		}
		id, ok := f.numericID()
		if id != tt.id || ok != tt.numeric || f.isServerRequest() != tt.request {
			t.Errorf("%s: numericID = %d, %v, isServerRequest = %v", tt.frame, id, ok, f.isServerRequest())
		}
	}
}

func TestServerRequestReply(t *testing.T) {
	tests := []struct {
		id, method, want string
	}{
		{`"fx-1"`, `"ping"`, `{"jsonrpc":"2.0","id":"fx-1","result":{}}`},
		{`7`, `"roots/list"`, `{"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"mcp-bench does not handle roots/list"}}`},
	}
	for _, tt := range tests {
		got := string(serverRequestReply([]byte(tt.id), []byte(tt.method)))
		if got != tt.want {
			t.Errorf("reply to %s %s = %s, want %s", tt.method, tt.id, got, tt.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("reply %s is not JSON", got)
		}
	}
}

func TestOutcomeOfAllocatesNothingForAPlainResult(t *testing.T) {
	line := []byte(`{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"hello"}],"structuredContent":{"text":"hello"}}}`)
	allocs := testing.AllocsPerRun(100, func() {
		f, _ := parseFrame(line)
		if o := outcomeOf(f); o.kind != outcomeOK {
			t.Fatal(o.describe())
		}
	})
	if allocs != 0 {
		t.Errorf("parsing a plain result allocates %.0f times", allocs)
	}
}
