package actors

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"testing"

	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/transports"
)

// fuzzCatalog is a catalog of two servers: alpha under prefix "a", whose
// tool "secret" is filtered out, and beta unprefixed, whose tool "mirror"
// marks region and opts.tenant to be mirrored in Mcp-Param-* headers.
func fuzzCatalog() *catalog {
	c := newCatalog(100)
	var filters [numKinds]func(string) bool
	filters[messages.Tools] = func(name string) bool { return name != "secret" }
	c.configureServer("alpha", "a", filters)
	c.configureServer("beta", "", [numKinds]func(string) bool{})
	var alpha, beta messages.ServerLists
	alpha[messages.Tools] = raws(`{"name":"echo","x-keep":[1,2.50]}`, `{"name":"secret"}`, `{"name":"dotted.name"}`)
	alpha[messages.Prompts] = raws(`{"name":"greeting"}`)
	alpha[messages.Resources] = raws(`{"uri":"test://alpha/r","name":"r"}`)
	alpha[messages.ResourceTemplates] = raws(`{"uriTemplate":"test://alpha/t/{id}","name":"t"}`)
	beta[messages.Tools] = raws(`{"name":"plain"}`, `{"name":"secret"}`, mirrorTool)
	beta[messages.Prompts] = raws(`{"name":"greeting"}`)
	c.setLists("alpha", alpha, allKinds)
	c.setLists("beta", beta, allKinds)
	return c
}

// mirrorTool marks two arguments with x-mcp-header, one of them nested.
const mirrorTool = `{"name":"mirror","inputSchema":{"type":"object","properties":{` +
	`"region":{"type":"string","x-mcp-header":"Region"},` +
	`"opts":{"type":"object","properties":{"tenant":{"type":"string","x-mcp-header":"Tenant"}}},` +
	`"text":{"type":"string"}}}}`

var fuzzMethods = []string{"tools/call", "prompts/get", "resources/read", "resources/subscribe", "completion/complete"}

// decidedNames are the members resolveRequest decides on, per method.
func decidedNames(method string) []string {
	switch method {
	case "tools/call":
		return toolCallParams
	case "prompts/get":
		return namedParams
	case "completion/complete":
		return completionParams
	}
	return uriParams
}

// FuzzResolveRequest checks the router's decisions on any params: a
// request whose decided members are ambiguous is refused with -32602; one
// that is routed goes to the server that offers the name it names exactly,
// never to a filtered-out tool, and its params differ from the client's
// only in that name, restored to the server's own.
func FuzzResolveRequest(f *testing.F) {
	for _, seed := range []struct {
		method uint8
		params string
	}{
		{0, `{"name":"a__echo","arguments":{"text":"hi"}}`},
		{0, `{"name":"a__secret","Name":"a__echo"}`},
		{0, `{"name":"secret","Name":"plain","arguments":{}}`},
		{0, `{"Name":"plain","name":"secret"}`},
		{0, `{"name":"plain","_meta":{"progressToken":1,"ProgressToken":2}}`},
		{0, `{"n\u0061me":"a__dotted_name"}`},
		{1, `{"name":"a__greeting","name":"greeting"}`},
		{2, `{"uri":"test://alpha/t/7","URI":"test://elsewhere"}`},
		{3, `{"uri":"test://alpha/r"}`},
		{4, `{"ref":{"type":"ref/prompt","name":"a__greeting"},"argument":{"name":"n","value":""}}`},
		{4, `{"ref":{"type":"ref/prompt","name":"greeting","Name":"a__greeting"}}`},
		{4, `{"ref":{"type":"ref/resource","uri":"test://alpha/t/{id}"}}`},
		{0, `[]`},
		{0, `{"name":7}`},
		{0, `{"name":"mirror","arguments":{"region":"us","Region":"eu"}}`},
		{0, `{"name":"mirror","arguments":{"opts":{"tenant":"a","Tenant":"b"},"region":"us"}}`},
		{0, `{"name":"mirror","arguments":{"opts":"x","text":"a","Text":"b"}}`},
		{0, `{"name":"plain","arguments":{"region":"us","Region":"eu"}}`},
		{0, `{"name":"mirror","arguments":{"region":"us"},"Arguments":{"region":"eu"}}`},
	} {
		f.Add(seed.method, []byte(seed.params))
	}
	c := fuzzCatalog()
	f.Fuzz(func(t *testing.T, m uint8, params []byte) {
		method := fuzzMethods[int(m)%len(fuzzMethods)]
		server, out, rpcErr, _ := c.resolveRequest(method, params)
		values := make([]json.RawMessage, 3)
		readErr := transports.ReadMembers(params, decidedNames(method), values)
		var amb *transports.AmbiguousMemberError
		if errors.As(readErr, &amb) {
			if rpcErr == nil || rpcErr.Code != messages.CodeInvalidParams {
				t.Fatalf("%s %s: ambiguous %q routed to %s", method, params, amb.Name, server)
			}
			return
		}
		if rpcErr != nil {
			return
		}
		if readErr != nil || !json.Valid(out) {
			t.Fatalf("%s %s: routed params that are not an object, or out %q not JSON", method, params, out)
		}
		switch method {
		case "tools/call", "prompts/get":
			checkNamedRoute(t, c, method, params, values[0], server, out)
			if method == "tools/call" {
				checkMirroredRoute(t, c, params, values[0], values[2])
			}
		case "completion/complete":
			var ref [3]json.RawMessage
			if transports.ReadMembers(values[0], refMembers, ref[:]) != nil {
				t.Fatalf("%s %s: routed with an ambiguous ref", method, params)
			}
		default:
			if !bytes.Equal(out, params) {
				t.Fatalf("%s: params changed: %s -> %s", method, params, out)
			}
		}
	})
}

// checkMirroredRoute checks a routed tools/call of a tool that mirrors
// arguments into headers: no member on a mirrored path is given twice or
// beside a case variant, so the header and the server read the same one.
func checkMirroredRoute(t *testing.T, c *catalog, params, rawName, args json.RawMessage) {
	t.Helper()
	var name string
	_ = json.Unmarshal(rawName, &name)
	if c.item(messages.Tools, name) == nil {
		t.Fatalf("%s: routed to a tool the catalog does not hold", params)
	}
	for _, path := range c.mirrored[name] {
		obj := args
		for _, member := range path {
			var v [1]json.RawMessage
			err := transports.ReadMembers(obj, []string{member}, v[:])
			var amb *transports.AmbiguousMemberError
			if errors.As(err, &amb) {
				t.Fatalf("%s: routed with %q ambiguous on the mirrored path %v", params, amb.Name, path)
			}
			if err != nil || v[0] == nil {
				break
			}
			obj = v[0]
		}
	}
}

// checkNamedRoute checks a routed tools/call or prompts/get: the name the
// client gave, read exactly, resolves to server; the server gets its own
// name and, put back, the client's bytes.
func checkNamedRoute(t *testing.T, c *catalog, method string, params, rawName json.RawMessage, server string, out json.RawMessage) {
	t.Helper()
	kind := messages.Tools
	if method == "prompts/get" {
		kind = messages.Prompts
	}
	var name string
	if json.Unmarshal(rawName, &name) != nil {
		t.Fatalf("%s %s: routed with a name that is not a string", method, params)
	}
	wantServer, original, ok := c.resolve(kind, name)
	if !ok || wantServer != server {
		t.Fatalf("%s %s: routed to %q, the catalog says %q (%v)", method, params, server, wantServer, ok)
	}
	if kind == messages.Tools && server == "alpha" && original == "secret" { // beta's secret is not filtered
		t.Fatalf("%s %s: alpha's filtered-out tool was reached", method, params)
	}
	var got [1]json.RawMessage
	if err := transports.ReadMembers(out, []string{"name"}, got[:]); err != nil {
		t.Fatalf("%s: the server's params %s: %v", method, out, err)
	}
	var sent string
	if json.Unmarshal(got[0], &sent) != nil || sent != original {
		t.Fatalf("%s %s: the server gets name %s, want %q", method, params, got[0], original)
	}
	back, err := replaceField(out, "name", rawName)
	if err != nil || !bytes.Equal(back, params) {
		t.Fatalf("%s: restoring the name is not the identity: %s -> %s -> %s", method, params, out, back)
	}
}

var clientNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// FuzzNameRestore checks naming both ways: every tool of a server gets a
// client-facing name of the allowed form, distinct from the others; that
// name resolves back to the server and its original name; a tools/call by
// it reaches the server under the original; and the listed item is the
// server's item byte for byte but for the name (restore(rename(x)) == x).
func FuzzNameRestore(f *testing.F) {
	f.Add("fx", "echo", "Echo", "echo")
	f.Add("", "secret_delete", "allowed", "x")
	f.Add("a.b", "tool with spaces", "tool_with_spaces", "t")
	f.Add("p", "a_very_long_tool_name_that_goes_on_and_on_and_on_until_it_passes_the_limit", "a_very_long_tool_name_that_goes_on_and_on_and_on_until_it_passes_the_limit_2", "z")
	f.Add("x", "na\u00efve", "\xff", "x__y")
	f.Fuzz(func(t *testing.T, prefix, one, two, other string) {
		c := newCatalog(1000)
		c.configureServer("s", prefix, [numKinds]func(string) bool{})
		c.configureServer("o", "x", [numKinds]func(string) bool{})
		var lists, others messages.ServerLists
		lists[messages.Tools] = []json.RawMessage{
			json.RawMessage(`{"name":` + string(quoteJSON(one)) + `,"x-keep":[1,2.50,"\u00e9"]}`),
			json.RawMessage(`{"description":"d","name":` + string(quoteJSON(two)) + `}`),
		}
		others[messages.Tools] = toolObjs(other)
		c.setLists("s", lists, allKinds)
		c.setLists("o", others, allKinds)

		page, err := c.page(messages.Tools, "")
		if err != nil {
			t.Fatal(err)
		}
		var result struct {
			Tools []json.RawMessage `json:"tools"`
		}
		if err := json.Unmarshal(page, &result); err != nil {
			t.Fatalf("page: %v", err)
		}
		seen := map[string]bool{}
		restored := map[string]bool{}
		for _, item := range result.Tools {
			f, err := identify(item)
			if err != nil {
				t.Fatalf("listed item %s: %v", item, err)
			}
			if !clientNameRE.MatchString(f.Name) || seen[f.Name] {
				t.Fatalf("client-facing name %q is malformed or given twice", f.Name)
			}
			seen[f.Name] = true
			server, original, ok := c.resolve(messages.Tools, f.Name)
			if !ok {
				t.Fatalf("%q does not resolve", f.Name)
			}
			if server != "s" {
				continue
			}
			// A server's item of that original name (a server may list a
			// name twice), with its name as the server spelt it
			// (json.Marshal may have escaped it).
			var back json.RawMessage
			for _, raw := range lists[messages.Tools] {
				if id, err := identify(raw); err == nil && id.Name == original {
					if b, err := replaceField(item, "name", field(raw, "name")); err == nil && bytes.Equal(b, raw) {
						back = b
					}
				}
			}
			if back == nil {
				t.Fatalf("restore(rename(x)) != x: %s listed as %s", lists[messages.Tools], item)
			}
			restored[string(back)] = true
			routed, out, rpcErr, _ := c.resolveRequest("tools/call", []byte(`{"name":`+string(quoteJSON(f.Name))+`,"arguments":{}}`))
			var sent [1]json.RawMessage
			var sentName string
			if rpcErr != nil || routed != "s" || transports.ReadMembers(out, []string{"name"}, sent[:]) != nil || json.Unmarshal(sent[0], &sentName) != nil || sentName != original {
				t.Fatalf("tools/call %q: %v to %q with %s, want %q on s", f.Name, rpcErr, routed, out, original)
			}
		}
		want := 0 // a tool without a name is dropped; one listed twice is listed twice
		for _, name := range []string{one, two} {
			if name != "" {
				want++
			}
		}
		if len(restored) != want {
			t.Fatalf("tools %q and %q: %d listed under distinct names, want %d", one, two, len(restored), want)
		}
	})
}

// FuzzServerListPage gives the catalog one list page a hostile server could
// send (any valid JSON: the transports refuse the rest before it gets
// here), beside the lists of a well-behaved server "o". Whatever the page
// holds, every client's listing stays valid JSON, o's items stay listed
// and routed to o (o sorts first, so a URI both list stays o's), and each
// of the hostile server's listed tools and prompts has a client-facing
// name of the allowed shape that routes back to a name it listed.
func FuzzServerListPage(f *testing.F) {
	for _, seed := range []struct {
		kind uint8
		page string
	}{
		{0, `{"tools":[{"name":"echo","inputSchema":{"type":"object"}}],"nextCursor":"2"}`},
		{0, `{"tools":[{"name":"x","Name":"y"},{"name":null},{"name":7},{},"tool",null,[1]]}`},
		{0, `{"tools":[{"name":"o__ok"},{"name":"ok"},{"name":"ok"},{"name":"\u0000\ud800 é"}],"Tools":[]}`},
		{0, `{"tools":{"name":"echo"},"nextCursor":3}`},
		{1, `{"prompts":[{"name":"greet","arguments":[{"name":"who"}]},{"name":"a\"b"}]}`},
		{2, `{"resources":[{"uri":"test://o/ok","name":"taken"},{"uri":"test://s/1","name":"r"},{"uri":""}]}`},
		{3, `{"resourceTemplates":[{"uriTemplate":"test://o/{id}","name":"t"},{"uriTemplate":"{+all}","name":"u"},{"uriTemplate":"((("}]}`},
		{0, `null`},
		{0, `[]`},
		{2, `{"resources":null,"nextCursor":null}`},
	} {
		f.Add(seed.kind, []byte(seed.page))
	}
	f.Fuzz(func(t *testing.T, kindByte uint8, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		kind := messages.Kind(int(kindByte) % int(numKinds))
		items, _, err := readListPage(kind, raw)
		if err != nil {
			return // the server's (re)start fails with this error; nothing is listed
		}
		c := newCatalog(1000)
		c.configureServer("o", "o", [numKinds]func(string) bool{})
		c.configureServer("s", "s", [numKinds]func(string) bool{})
		var good messages.ServerLists
		good[messages.Tools] = toolObjs("ok")
		good[messages.Prompts] = toolObjs("ok")
		good[messages.Resources] = raws(`{"uri":"test://o/ok","name":"ok"}`)
		good[messages.ResourceTemplates] = raws(`{"uriTemplate":"test://o/t/{id}","name":"ok"}`)
		c.setLists("o", good, allKinds)
		var hostile messages.ServerLists
		hostile[kind] = items
		c.setLists("s", hostile, only(kind))

		listed := map[string]string{} // client-facing name or URI: the server
		for k := range messages.Kind(numKinds) {
			page, err := c.page(k, "")
			if err != nil {
				t.Fatalf("%s: %v", listKeys[k], err)
			}
			// 1000 a page: a fuzzed page of that many items is not
			// a case worth the paging here (catalog_test pages).
			for _, item := range decodePage(t, k, page).items {
				checkListedItem(t, c, k, item, items, listed)
			}
		}
		for k, want := range map[messages.Kind]string{messages.Tools: "o__ok", messages.Prompts: "o__ok", messages.Resources: "test://o/ok", messages.ResourceTemplates: "test://o/t/{id}"} {
			if listed[listKeys[k]+" "+want] != "o" {
				t.Fatalf("the well-behaved server's %s %q is not listed as its own beside %s", listKeys[k], want, raw)
			}
		}
		if server, ok := c.resolveURI("test://o/ok"); !ok || server != "o" {
			t.Fatalf("test://o/ok resolves to %q, %v beside %s", server, ok, raw)
		}
	})
}

// checkListedItem checks one item of a rendered page and notes in listed
// which server its name or URI routes to; hostile are the items the
// server "s" listed.
func checkListedItem(t *testing.T, c *catalog, kind messages.Kind, item json.RawMessage, hostile []json.RawMessage, listed map[string]string) {
	t.Helper()
	f, err := identify(item)
	if err != nil {
		t.Fatalf("listed %s item %s: %v", listKeys[kind], item, err)
	}
	key := f.Name
	switch kind {
	case messages.Resources:
		key = f.URI
	case messages.ResourceTemplates:
		key = f.URITemplate
	}
	if _, twice := listed[listKeys[kind]+" "+key]; twice {
		t.Fatalf("%s %q is listed twice", listKeys[kind], key)
	}
	var server string
	switch kind {
	case messages.Tools, messages.Prompts:
		if !clientNameRE.MatchString(f.Name) {
			t.Fatalf("client-facing name %q is malformed", f.Name)
		}
		var original string
		var ok bool
		if server, original, ok = c.resolve(kind, f.Name); !ok {
			t.Fatalf("listed %s %q does not resolve", listKeys[kind], f.Name)
		}
		if original == "" {
			t.Fatalf("%q routes to an empty name", f.Name)
		}
		if server == "s" && !listedByServer(hostile, original) {
			t.Fatalf("%q routes to %q, a name the server never listed", f.Name, original)
		}
	case messages.Resources, messages.ResourceTemplates:
		i, ok := c.index[kind][key]
		if !ok {
			t.Fatalf("listed %s %q is not in the catalog's index", listKeys[kind], key)
		}
		server = c.items[kind][i].server
		if kind == messages.Resources {
			if routed, ok := c.resolveURI(key); !ok || routed != server {
				t.Fatalf("listed resource %q of %s resolves to %q, %v", key, server, routed, ok)
			}
		}
	}
	listed[listKeys[kind]+" "+key] = server
}

// listedByServer says whether one of items has this name.
func listedByServer(items []json.RawMessage, name string) bool {
	for _, raw := range items {
		f, err := identify(raw)
		if err != nil {
			continue
		}
		if f.Name == name {
			return true
		}
	}
	return false
}
