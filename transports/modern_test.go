package transports

import (
	"encoding/json"
	"net/http"
	"testing"
)

func TestCompleteResultAddsOnlyWhatIsMissing(t *testing.T) {
	cases := []struct{ method, in, want string }{
		{"tools/call", `{"content":[]}`, `{"resultType":"complete","content":[]}`},
		{"tools/call", `{}`, `{"resultType":"complete"}`},
		{"tools/call", ` { "resultType":"input_required","x":1}`, ` { "resultType":"input_required","x":1}`},
		{"tools/list", `{"tools":[{"name":"a","n":2.50}]}`, `{"resultType":"complete","ttlMs":0,"cacheScope":"private","tools":[{"name":"a","n":2.50}]}`},
		{"resources/read", `{"ttlMs":5000,"contents":[]}`, `{"resultType":"complete","cacheScope":"private","ttlMs":5000,"contents":[]}`},
		{"tools/call", `[1]`, `[1]`},
	}
	for _, c := range cases {
		got := string(completeResult(c.method, json.RawMessage(c.in)))
		if got != c.want {
			t.Errorf("completeResult(%s, %s) = %s, want %s", c.method, c.in, got, c.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("completeResult(%s, %s) is not JSON: %s", c.method, c.in, got)
		}
	}
}

func TestParseModernOrderOfChecks(t *testing.T) {
	meta := func(version string) string {
		return `{"_meta":{"io.modelcontextprotocol/protocolVersion":"` + version + `","io.modelcontextprotocol/clientCapabilities":{}}}`
	}
	header := func(version, method string) http.Header {
		h := http.Header{}
		h.Set("MCP-Protocol-Version", version)
		h.Set("Mcp-Method", method)
		return h
	}
	cases := []struct {
		name   string
		params string
		header http.Header
		code   int
	}{
		{"fine", meta("2026-07-28"), header("2026-07-28", "tools/list"), 0},
		{"no params", ``, header("2026-07-28", "tools/list"), -32602},
		{"params not an object", `[1]`, header("2026-07-28", "tools/list"), -32602},
		{"capabilities not an object", `{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":[]}}`, header("2026-07-28", "tools/list"), -32602},
		// The header must match the body before the version is judged.
		{"header and body differ", meta("1999-01-01"), header("2026-07-28", "tools/list"), -32020},
		{"both name an unknown version", meta("1999-01-01"), header("1999-01-01", "tools/list"), -32022},
		// Members plugboard decides on are read by exact name; a second one,
		// or one under another case, is refused (issue 10, item 1).
		{"_meta twice", `{"_meta":{},"_meta":` + meta("2026-07-28")[9:], header("2026-07-28", "tools/list"), -32602},
		{"_Meta beside _meta", `{"_Meta":{},"_meta":` + meta("2026-07-28")[9:], header("2026-07-28", "tools/list"), -32602},
		{"protocol version twice", `{"_meta":{"io.modelcontextprotocol/protocolVersion":"1999-01-01","io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}`, header("2026-07-28", "tools/list"), -32602},
		{"capabilities under another case", `{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/ClientCapabilities":{"sampling":{}}}}`, header("2026-07-28", "tools/list"), -32602},
		{"requestState twice", `{"requestState":"a","requestState":"b","_meta":` + meta("2026-07-28")[9:], header("2026-07-28", "tools/list"), -32602},
	}
	for _, c := range cases {
		f := Frame{ID: json.RawMessage(`1`), Method: "tools/list", Params: json.RawMessage(c.params)}
		_, e, status := parseModern(c.header, &f)
		switch {
		case c.code == 0 && e != nil:
			t.Errorf("%s: refused with %+v", c.name, e)
		case c.code != 0 && (e == nil || e.Code != c.code || status != http.StatusBadRequest):
			t.Errorf("%s: got %+v (HTTP %d), want code %d and HTTP 400", c.name, e, status, c.code)
		}
	}
}

func TestRequestStateIsBoundToItsRequest(t *testing.T) {
	m := newModernCalls(nil, 0, nil)
	state := m.sign("tok", "tools/call", "echo")
	flipped := state[:len(state)-1] + "A"
	if flipped == state {
		flipped = state[:len(state)-1] + "B"
	}
	if token, ok := m.verify(state, "tools/call", "echo"); !ok || token != "tok" {
		t.Fatalf("verify(own state) = %q, %v", token, ok)
	}
	for _, c := range []struct{ state, method, name string }{
		{state, "tools/call", "other"},
		{state, "prompts/get", "echo"},
		{flipped, "tools/call", "echo"},
		{newModernCalls(nil, 0, nil).sign("tok", "tools/call", "echo"), "tools/call", "echo"},
	} {
		if _, ok := m.verify(c.state, c.method, c.name); ok {
			t.Errorf("verify(%q, %s, %s) accepted a state that is not its own", c.state, c.method, c.name)
		}
	}
}

func TestWithMetaMembersSplicesWithoutReencoding(t *testing.T) {
	add := []byte(`"k":1`)
	cases := []struct{ in, want string }{
		{``, `{"_meta":{"k":1}}`},
		{`null`, `{"_meta":{"k":1}}`},
		{`{}`, `{"_meta":{"k":1}}`},
		{` { } `, ` {"_meta":{"k":1} } `},
		{`{"name":"x","arguments":{"n":2.50}}`, `{"_meta":{"k":1},"name":"x","arguments":{"n":2.50}}`},
		{`{"_meta":{}}`, `{"_meta":{"k":1}}`},
		{`{"_meta":{"progressToken":"p"},"n":1e2}`, `{"_meta":{"k":1,"progressToken":"p"},"n":1e2}`},
		{`{"_meta":7,"a":1}`, `{"_meta":{"k":1},"a":1}`},
	}
	for _, c := range cases {
		got := string(withMetaMembers(json.RawMessage(c.in), add))
		if got != c.want {
			t.Errorf("withMetaMembers(%s) = %s, want %s", c.in, got, c.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("withMetaMembers(%s) is not JSON: %s", c.in, got)
		}
	}
}

func TestPrepareKeepsAModernClientsOwnMeta(t *testing.T) {
	m := &modernIdentity{caps: json.RawMessage(`{"sampling":{}}`)}
	own := json.RawMessage(`{"name":"x","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}`)
	if got, header := m.prepare("tools/call", own); string(got) != string(own) || header != nil {
		t.Errorf("a 2026-07-28 client's params were changed: %s %v", got, header)
	}
	level := "warning"
	m.logLevel.Store(&level)
	got, _ := m.prepare("tools/call", json.RawMessage(`{"name":"x"}`))
	var p struct {
		Meta map[string]json.RawMessage `json:"_meta"`
	}
	if json.Unmarshal(got, &p) != nil || string(p.Meta[MetaProtocolVersion]) != `"2026-07-28"` || string(p.Meta[MetaClientCapabilities]) != `{"sampling":{}}` ||
		string(p.Meta[MetaLogLevel]) != `"warning"` || p.Meta[MetaClientInfo] == nil {
		t.Errorf("plugboard's _meta: %s", got)
	}
	m.http = true
	if _, header := m.prepare("tools/call", json.RawMessage(`{"name":"x"}`)); header.Get("Mcp-Method") != "tools/call" || header.Get("Mcp-Name") != "x" {
		t.Errorf("HTTP headers: %v", header)
	}
}
