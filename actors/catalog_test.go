package actors

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/messages"
)

// raws turns JSON texts into the raw objects a server sends.
func raws(objs ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(objs))
	for i, o := range objs {
		out[i] = json.RawMessage(o)
	}
	return out
}

// toolObjs returns minimal tool (or prompt) objects with these names.
func toolObjs(names ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(names))
	for i, n := range names {
		out[i] = json.RawMessage(fmt.Sprintf(`{"name":%s}`, quoteJSON(n)))
	}
	return out
}

// only marks one kind.
func only(kind messages.Kind) [numKinds]bool {
	var which [numKinds]bool
	which[kind] = true
	return which
}

var allKinds = [numKinds]bool{true, true, true, true}

// decodedPage is one rendered list page.
type decodedPage struct {
	items      []json.RawMessage
	nextCursor *string
}

func decodePage(t *testing.T, kind messages.Kind, page []byte) decodedPage {
	t.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(page, &fields); err != nil {
		t.Fatalf("page is not a JSON object: %v\n%s", err, page)
	}
	var p decodedPage
	list, ok := fields[listKeys[kind]]
	if !ok {
		t.Fatalf("page has no %q: %s", listKeys[kind], page)
	}
	if err := json.Unmarshal(list, &p.items); err != nil {
		t.Fatalf("%q is not an array: %v\n%s", listKeys[kind], err, page)
	}
	if c, ok := fields["nextCursor"]; ok {
		var s string
		if err := json.Unmarshal(c, &s); err != nil {
			t.Fatalf("nextCursor is not a string: %s", c)
		}
		p.nextCursor = &s
	}
	if len(fields) != 1+boolInt(p.nextCursor != nil) {
		t.Errorf("page has unexpected fields: %s", page)
	}
	return p
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// listAll walks every page of a kind and returns every item.
func listAll(t *testing.T, c *catalog, kind messages.Kind) []json.RawMessage {
	t.Helper()
	var all []json.RawMessage
	cursor := ""
	for range 1000 {
		page, err := c.page(kind, cursor)
		if err != nil {
			t.Fatalf("page(%v, %q): %v", kind, cursor, err)
		}
		p := decodePage(t, kind, page)
		all = append(all, p.items...)
		if p.nextCursor == nil {
			return all
		}
		cursor = *p.nextCursor
	}
	t.Fatalf("page(%v) did not end after 1000 pages", kind)
	return nil
}

// itemKeys returns an item's name, uri or uriTemplate.
func itemKeys(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var f struct {
		Name        *string `json:"name"`
		URI         *string `json:"uri"`
		URITemplate *string `json:"uriTemplate"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("item is not an object: %v\n%s", err, raw)
	}
	switch {
	case f.Name != nil && f.URI == nil && f.URITemplate == nil:
		return *f.Name
	case f.URI != nil:
		return *f.URI
	case f.URITemplate != nil:
		return *f.URITemplate
	}
	t.Fatalf("item has no name, uri or uriTemplate: %s", raw)
	return ""
}

func listedKeys(t *testing.T, c *catalog, kind messages.Kind) []string {
	t.Helper()
	var keys []string
	for _, raw := range listAll(t, c, kind) {
		keys = append(keys, itemKeys(t, raw))
	}
	return keys
}

func notesContain(notes []string, parts ...string) bool {
	for _, n := range notes {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(n, p)
		}
		if all {
			return true
		}
	}
	return false
}

// serverSetup is one server as a test feeds it to the catalog.
type serverSetup struct {
	name       string
	configured bool // call configureServer with prefix and filters first
	prefix     string
	filters    [numKinds]func(string) bool
	lists      messages.ServerLists
}

func (s serverSetup) apply(c *catalog) []string {
	var notes []string
	if s.configured {
		_, n := c.configureServer(s.name, s.prefix, s.filters)
		notes = append(notes, n...)
	}
	_, n := c.setLists(s.name, s.lists, allKinds)
	return append(notes, n...)
}

func buildCatalog(pageSize int, servers ...serverSetup) (*catalog, []string) {
	c := newCatalog(pageSize)
	var notes []string
	for _, s := range servers {
		notes = append(notes, s.apply(c)...)
	}
	return c, notes
}

func TestCatalogNames(t *testing.T) {
	tools := func(names ...string) messages.ServerLists {
		var l messages.ServerLists
		l[messages.Tools] = toolObjs(names...)
		return l
	}
	type resolved struct{ server, original string }
	tests := []struct {
		name    string
		servers []serverSetup // fed in this order
		want    []string      // client-facing tools in list order
		resolve map[string]resolved
		absent  []string // names that must not resolve
	}{
		{
			name: "servers merged in name order, each in its own order",
			servers: []serverSetup{
				{name: "zeta", lists: tools("b", "a")},
				{name: "alpha", lists: tools("c")},
				{name: "mid", lists: tools("z", "y")},
			},
			want: []string{"alpha__c", "mid__z", "mid__y", "zeta__b", "zeta__a"},
			resolve: map[string]resolved{
				"alpha__c": {"alpha", "c"},
				"zeta__a":  {"zeta", "a"},
				"mid__y":   {"mid", "y"},
			},
			absent: []string{"a", "c", "zeta__c", "alpha__a"},
		},
		{
			name: "configured prefix",
			servers: []serverSetup{
				{name: "github", configured: true, prefix: "gh", lists: tools("create_issue")},
			},
			want:    []string{"gh__create_issue"},
			resolve: map[string]resolved{"gh__create_issue": {"github", "create_issue"}},
			absent:  []string{"github__create_issue", "create_issue"},
		},
		{
			name: "empty prefix exposes original names",
			servers: []serverSetup{
				{name: "fs", configured: true, prefix: "", lists: tools("read_file", "write_file")},
				{name: "github", lists: tools("create_issue")},
			},
			want: []string{"read_file", "write_file", "github__create_issue"},
			resolve: map[string]resolved{
				"read_file":            {"fs", "read_file"},
				"github__create_issue": {"github", "create_issue"},
			},
			absent: []string{"fs__read_file"},
		},
		{
			name: "names outside the allowed set are rewritten and resolve to the original",
			servers: []serverSetup{
				{name: "fs", lists: tools("read.file", "list files/dirs")},
			},
			want: []string{"fs__read_file", "fs__list_files_dirs"},
			resolve: map[string]resolved{
				"fs__read_file":       {"fs", "read.file"},
				"fs__list_files_dirs": {"fs", "list files/dirs"},
			},
			absent: []string{"fs__read.file"},
		},
		{
			name: "include filter",
			servers: []serverSetup{
				{name: "fs", configured: true, prefix: "fs", lists: tools("read_file", "write_file", "read_dir"),
					filters: [numKinds]func(string) bool{messages.Tools: func(n string) bool { return strings.HasPrefix(n, "read") }}},
				{name: "git", lists: tools("log")},
			},
			want:   []string{"fs__read_file", "fs__read_dir", "git__log"},
			absent: []string{"fs__write_file"},
		},
		{
			name: "exclude filter",
			servers: []serverSetup{
				{name: "fs", configured: true, prefix: "fs", lists: tools("read_file", "delete_file"),
					filters: [numKinds]func(string) bool{messages.Tools: func(n string) bool { return n != "delete_file" }}},
			},
			want:   []string{"fs__read_file"},
			absent: []string{"fs__delete_file"},
		},
		{
			name: "filter sees the original name, not the client-facing one",
			servers: []serverSetup{
				{name: "fs", configured: true, prefix: "files", lists: tools("a.b", "c"),
					filters: [numKinds]func(string) bool{messages.Tools: func(n string) bool { return n == "a.b" }}},
			},
			want:    []string{"files__a_b"},
			resolve: map[string]resolved{"files__a_b": {"fs", "a.b"}},
		},
		{
			name: "prompt filter leaves tools alone",
			servers: []serverSetup{
				{name: "fs", configured: true, prefix: "fs", lists: tools("read_file"),
					filters: [numKinds]func(string) bool{messages.Prompts: func(string) bool { return false }}},
			},
			want: []string{"fs__read_file"},
		},
		{
			name: "filter given after the lists",
			servers: []serverSetup{
				{name: "fs", lists: tools("read_file", "write_file")},
				{name: "fs", configured: true, prefix: "fs", lists: tools("read_file", "write_file"),
					filters: [numKinds]func(string) bool{messages.Tools: func(n string) bool { return n == "write_file" }}},
			},
			want:   []string{"fs__write_file"},
			absent: []string{"fs__read_file"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := buildCatalog(100, tt.servers...)
			got := listedKeys(t, c, messages.Tools)
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("tools = %q, want %q", got, tt.want)
			}
			for _, name := range got {
				if !validName.MatchString(name) {
					t.Errorf("tool name %q is not a valid client-facing name", name)
				}
				if _, _, ok := c.resolve(messages.Tools, name); !ok {
					t.Errorf("listed tool %q does not resolve", name)
				}
				if _, _, ok := c.resolve(messages.Prompts, name); ok {
					t.Errorf("tool %q resolves as a prompt", name)
				}
			}
			for name, want := range tt.resolve {
				server, original, ok := c.resolve(messages.Tools, name)
				if !ok || server != want.server || original != want.original {
					t.Errorf("resolve(%q) = %q, %q, %v; want %q, %q", name, server, original, ok, want.server, want.original)
				}
			}
			for _, name := range tt.absent {
				if server, original, ok := c.resolve(messages.Tools, name); ok {
					t.Errorf("resolve(%q) = %q, %q; want not found", name, server, original)
				}
			}
		})
	}
}

func TestCatalogPromptsNamedLikeTools(t *testing.T) {
	var l messages.ServerLists
	l[messages.Tools] = toolObjs("t")
	l[messages.Prompts] = toolObjs("p", "t")
	c, _ := buildCatalog(100, serverSetup{name: "s", lists: l})
	if got := strings.Join(listedKeys(t, c, messages.Prompts), " "); got != "s__p s__t" {
		t.Errorf("prompts = %q, want %q", got, "s__p s__t")
	}
	if server, original, ok := c.resolve(messages.Prompts, "s__t"); !ok || server != "s" || original != "t" {
		t.Errorf("resolve(prompt s__t) = %q, %q, %v", server, original, ok)
	}
	if _, _, ok := c.resolve(messages.Prompts, "s__missing"); ok {
		t.Error("an unknown prompt resolved")
	}
}

func TestCatalogCollisionsDoNotDependOnOrder(t *testing.T) {
	tools := func(names ...string) messages.ServerLists {
		var l messages.ServerLists
		l[messages.Tools] = toolObjs(names...)
		return l
	}
	tests := []struct {
		name    string
		servers []serverSetup
		// wanted is the client-facing name both wanted; winner keeps it.
		wanted, winner, winnerOriginal string
		loser, loserOriginal           string
	}{
		{
			name: "two unprefixed servers with the same tool",
			servers: []serverSetup{
				{name: "alpha", configured: true, prefix: "", lists: tools("search", "other")},
				{name: "beta", configured: true, prefix: "", lists: tools("search")},
			},
			wanted: "search", winner: "alpha", winnerOriginal: "search", loser: "beta", loserOriginal: "search",
		},
		{
			name: "prefixes that meet",
			servers: []serverSetup{
				{name: "one", configured: true, prefix: "p", lists: tools("q__r")},
				{name: "two", configured: true, prefix: "p__q", lists: tools("r")},
			},
			wanted: "p__q__r", winner: "one", winnerOriginal: "q__r", loser: "two", loserOriginal: "r",
		},
		{
			name: "same prefix on two servers",
			servers: []serverSetup{
				{name: "a-server", configured: true, prefix: "shared", lists: tools("x")},
				{name: "b-server", configured: true, prefix: "shared", lists: tools("x")},
			},
			wanted: "shared__x", winner: "a-server", winnerOriginal: "x", loser: "b-server", loserOriginal: "x",
		},
		{
			name: "names that differ only in characters that get replaced",
			servers: []serverSetup{
				{name: "m", configured: true, prefix: "", lists: tools("a_b")},
				{name: "n", configured: true, prefix: "", lists: tools("a.b")},
			},
			wanted: "a_b", winner: "m", winnerOriginal: "a_b", loser: "n", loserOriginal: "a.b",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forward, notes := buildCatalog(100, tt.servers...)
			reversed := make([]serverSetup, len(tt.servers))
			for i, s := range tt.servers {
				reversed[len(tt.servers)-1-i] = s
			}
			backward, _ := buildCatalog(100, reversed...)

			// Configure both first, then set lists in each order.
			interleaved := newCatalog(100)
			for _, s := range reversed {
				interleaved.configureServer(s.name, s.prefix, s.filters)
			}
			for _, s := range tt.servers {
				interleaved.setLists(s.name, s.lists, allKinds)
			}

			want, err := forward.page(messages.Tools, "")
			if err != nil {
				t.Fatal(err)
			}
			for label, c := range map[string]*catalog{"reversed": backward, "configured first": interleaved} {
				got, err := c.page(messages.Tools, "")
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s order gives\n%s\nwant\n%s", label, got, want)
				}
			}

			if server, original, ok := forward.resolve(messages.Tools, tt.wanted); !ok || server != tt.winner || original != tt.winnerOriginal {
				t.Errorf("resolve(%q) = %q, %q, %v; want %q, %q", tt.wanted, server, original, ok, tt.winner, tt.winnerOriginal)
			}
			var loserName string
			for _, name := range listedKeys(t, forward, messages.Tools) {
				if !validName.MatchString(name) {
					t.Errorf("name %q is not valid", name)
				}
				if server, original, _ := forward.resolve(messages.Tools, name); server == tt.loser && original == tt.loserOriginal {
					loserName = name
				}
			}
			if loserName == "" || loserName == tt.wanted {
				t.Errorf("%s/%s exposed as %q, want a distinct name", tt.loser, tt.loserOriginal, loserName)
			}
			if !notesContain(notes, "collision", tt.loser, tt.wanted) {
				t.Errorf("no collision note for %s/%s in %q", tt.loser, tt.loserOriginal, notes)
			}
		})
	}
}

func TestCatalogKeepsRawObjects(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		raw    string
		want   string // the raw object as the client must see it
	}{
		{
			name:   "only the name value changes",
			prefix: "srv",
			raw:    `{"name":"buy","price":2.50,"big":1e400,"x-unknown":{"name":"inner"},"inputSchema":{"type":"object","properties":{},"additionalProperties":false}}`,
			want:   `{"name":"srv__buy","price":2.50,"big":1e400,"x-unknown":{"name":"inner"},"inputSchema":{"type":"object","properties":{},"additionalProperties":false}}`,
		},
		{
			name:   "key order and whitespace kept",
			prefix: "srv",
			raw:    "{ \"inputSchema\" : {\"$schema\":\"https://json-schema.org/draft/2020-12/schema\", \"type\": \"object\"},\n  \"description\" : \"Say \\\"hi\\\" {name}\",\n  \"name\" :  \"greet\" ,\n  \"_meta\": {\"z\":1, \"a\":2},\n  \"annotations\": {\"readOnlyHint\": true} }",
			want:   "{ \"inputSchema\" : {\"$schema\":\"https://json-schema.org/draft/2020-12/schema\", \"type\": \"object\"},\n  \"description\" : \"Say \\\"hi\\\" {name}\",\n  \"name\" :  \"srv__greet\" ,\n  \"_meta\": {\"z\":1, \"a\":2},\n  \"annotations\": {\"readOnlyHint\": true} }",
		},
		{
			name:   "unicode and escapes kept",
			prefix: "u",
			raw:    `{"title":"Grüße ☃ \u00e9 \ud83d\ude00","name":"hello","icons":[{"src":"data:image/png;base64,AAAA","sizes":["48x48"]}]}`,
			want:   `{"title":"Grüße ☃ \u00e9 \ud83d\ude00","name":"u__hello","icons":[{"src":"data:image/png;base64,AAAA","sizes":["48x48"]}]}`,
		},
		{
			name:   "empty prefix leaves the object as it was",
			prefix: "",
			raw:    "{\"name\" : \"plain\",\n\"n\":2.50}",
			want:   "{\"name\" : \"plain\",\n\"n\":2.50}",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l messages.ServerLists
			l[messages.Tools] = raws(tt.raw)
			l[messages.Prompts] = raws(tt.raw)
			c, _ := buildCatalog(10, serverSetup{name: "server", configured: true, prefix: tt.prefix, lists: l})
			for _, kind := range []messages.Kind{messages.Tools, messages.Prompts} {
				items := listAll(t, c, kind)
				if len(items) != 1 {
					t.Fatalf("%s: got %d items, want 1", listKeys[kind], len(items))
				}
				if string(items[0]) != tt.want {
					t.Errorf("%s: client sees\n%s\nwant\n%s", listKeys[kind], items[0], tt.want)
				}
			}
			if string(l[messages.Tools][0]) != tt.raw {
				t.Errorf("the server's own object was changed to %s", l[messages.Tools][0])
			}
		})
	}
}

func TestCatalogKeepsResourcesRaw(t *testing.T) {
	res := "{ \"uri\" : \"fixture://a/x\", \"name\":\"x\", \"size\": 2.50, \"x-new\":[1] }"
	tmpl := "{\"uriTemplate\":\"fixture://a/items/{id}\",\n \"name\":\"item\",\"mimeType\":\"text/plain\"}"
	var l messages.ServerLists
	l[messages.Resources] = raws(res)
	l[messages.ResourceTemplates] = raws(tmpl)
	c, _ := buildCatalog(10, serverSetup{name: "a", configured: true, prefix: "pfx", lists: l})
	if got := listAll(t, c, messages.Resources); len(got) != 1 || string(got[0]) != res {
		t.Errorf("resources = %s, want [%s]", got, res)
	}
	if got := listAll(t, c, messages.ResourceTemplates); len(got) != 1 || string(got[0]) != tmpl {
		t.Errorf("resourceTemplates = %s, want [%s]", got, tmpl)
	}
}

func TestCatalogRemoveServer(t *testing.T) {
	full := func(server string) messages.ServerLists {
		var l messages.ServerLists
		l[messages.Tools] = toolObjs("t")
		l[messages.Prompts] = toolObjs("p")
		l[messages.Resources] = raws(fmt.Sprintf(`{"uri":"fixture://%s/r","name":"r"}`, server))
		l[messages.ResourceTemplates] = raws(fmt.Sprintf(`{"uriTemplate":"fixture://%s/items/{id}","name":"i"}`, server))
		return l
	}
	toolsOnly := func() messages.ServerLists {
		var l messages.ServerLists
		l[messages.Tools] = toolObjs("t")
		return l
	}
	tests := []struct {
		name        string
		servers     []serverSetup
		remove      string
		wantChanged [numKinds]bool
		wantTools   []string
	}{
		{
			name:        "server with everything",
			servers:     []serverSetup{{name: "a", lists: full("a")}, {name: "b", lists: full("b")}},
			remove:      "a",
			wantChanged: [numKinds]bool{true, true, true, true},
			wantTools:   []string{"b__t"},
		},
		{
			name:        "server with tools only",
			servers:     []serverSetup{{name: "a", lists: toolsOnly()}, {name: "b", lists: full("b")}},
			remove:      "a",
			wantChanged: [numKinds]bool{true, false, false, false},
			wantTools:   []string{"b__t"},
		},
		{
			name:        "server with nothing",
			servers:     []serverSetup{{name: "a"}, {name: "b", lists: full("b")}},
			remove:      "a",
			wantChanged: [numKinds]bool{},
			wantTools:   []string{"b__t"},
		},
		{
			name:        "unknown server",
			servers:     []serverSetup{{name: "b", lists: full("b")}},
			remove:      "zzz",
			wantChanged: [numKinds]bool{},
			wantTools:   []string{"b__t"},
		},
		{
			name:        "last server",
			servers:     []serverSetup{{name: "a", lists: full("a")}},
			remove:      "a",
			wantChanged: [numKinds]bool{true, true, true, true},
			wantTools:   nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := buildCatalog(100, tt.servers...)
			changed, _ := c.removeServer(tt.remove)
			if changed != tt.wantChanged {
				t.Errorf("removeServer(%q) changed = %v, want %v", tt.remove, changed, tt.wantChanged)
			}
			if got := listedKeys(t, c, messages.Tools); strings.Join(got, " ") != strings.Join(tt.wantTools, " ") {
				t.Errorf("tools after removal = %q, want %q", got, tt.wantTools)
			}
			for _, name := range []string{tt.remove + "__t"} {
				if _, _, ok := c.resolve(messages.Tools, name); ok {
					t.Errorf("tool %q still resolves", name)
				}
			}
			if _, _, ok := c.resolve(messages.Prompts, tt.remove+"__p"); ok {
				t.Errorf("prompt of %q still resolves", tt.remove)
			}
			for _, uri := range []string{"fixture://" + tt.remove + "/r", "fixture://" + tt.remove + "/items/1"} {
				if server, ok := c.resolveURI(uri); ok {
					t.Errorf("resolveURI(%q) = %q after removal", uri, server)
				}
			}
			for _, e := range c.entries() {
				if e.Server == tt.remove {
					t.Errorf("entries still list %+v", e)
				}
			}
			if again, _ := c.removeServer(tt.remove); again != ([numKinds]bool{}) {
				t.Errorf("second removeServer(%q) changed = %v", tt.remove, again)
			}
		})
	}
}

func TestCatalogChangedFlags(t *testing.T) {
	base := func() messages.ServerLists {
		var l messages.ServerLists
		l[messages.Tools] = raws(`{"name":"t","description":"v1","n":2.50}`)
		l[messages.Prompts] = toolObjs("p")
		l[messages.Resources] = raws(`{"uri":"fixture://a/r","name":"r"}`)
		l[messages.ResourceTemplates] = raws(`{"uriTemplate":"fixture://a/{id}","name":"i"}`)
		return l
	}
	type step func(c *catalog) ([numKinds]bool, []string)
	tests := []struct {
		name string
		step step
		want [numKinds]bool
	}{
		{
			name: "the same lists again",
			step: func(c *catalog) ([numKinds]bool, []string) { return c.setLists("a", base(), allKinds) },
			want: [numKinds]bool{},
		},
		{
			name: "the same tools again, marked as tools only",
			step: func(c *catalog) ([numKinds]bool, []string) { return c.setLists("a", base(), only(messages.Tools)) },
			want: [numKinds]bool{},
		},
		{
			name: "the same configuration again",
			step: func(c *catalog) ([numKinds]bool, []string) {
				return c.configureServer("a", "a", [numKinds]func(string) bool{})
			},
			want: [numKinds]bool{},
		},
		{
			name: "a tool's description changes",
			step: func(c *catalog) ([numKinds]bool, []string) {
				l := base()
				l[messages.Tools] = raws(`{"name":"t","description":"v2","n":2.50}`)
				return c.setLists("a", l, only(messages.Tools))
			},
			want: [numKinds]bool{true, false, false, false},
		},
		{
			name: "a number's spelling changes",
			step: func(c *catalog) ([numKinds]bool, []string) {
				l := base()
				l[messages.Tools] = raws(`{"name":"t","description":"v1","n":2.5}`)
				return c.setLists("a", l, allKinds)
			},
			want: [numKinds]bool{true, false, false, false},
		},
		{
			name: "a resource is added",
			step: func(c *catalog) ([numKinds]bool, []string) {
				l := base()
				l[messages.Resources] = append(l[messages.Resources], json.RawMessage(`{"uri":"fixture://a/s","name":"s"}`))
				return c.setLists("a", l, allKinds)
			},
			want: [numKinds]bool{false, false, true, false},
		},
		{
			name: "templates emptied",
			step: func(c *catalog) ([numKinds]bool, []string) {
				return c.setLists("a", messages.ServerLists{}, only(messages.ResourceTemplates))
			},
			want: [numKinds]bool{false, false, false, true},
		},
		{
			name: "new lists for kinds not marked are ignored",
			step: func(c *catalog) ([numKinds]bool, []string) {
				return c.setLists("a", messages.ServerLists{}, only(messages.Prompts))
			},
			want: [numKinds]bool{false, true, false, false},
		},
		{
			name: "a new prefix renames tools and prompts only",
			step: func(c *catalog) ([numKinds]bool, []string) {
				return c.configureServer("a", "renamed", [numKinds]func(string) bool{})
			},
			want: [numKinds]bool{true, true, false, false},
		},
		{
			name: "a filter that drops the tool",
			step: func(c *catalog) ([numKinds]bool, []string) {
				return c.configureServer("a", "a", [numKinds]func(string) bool{messages.Tools: func(string) bool { return false }})
			},
			want: [numKinds]bool{true, false, false, false},
		},
		{
			name: "a filter that keeps everything",
			step: func(c *catalog) ([numKinds]bool, []string) {
				return c.configureServer("a", "a", [numKinds]func(string) bool{messages.Tools: func(string) bool { return true }})
			},
			want: [numKinds]bool{},
		},
		{
			name: "another server with nothing",
			step: func(c *catalog) ([numKinds]bool, []string) {
				return c.setLists("b", messages.ServerLists{}, allKinds)
			},
			want: [numKinds]bool{},
		},
		{
			name: "another server with a tool",
			step: func(c *catalog) ([numKinds]bool, []string) {
				var l messages.ServerLists
				l[messages.Tools] = toolObjs("t")
				return c.setLists("b", l, allKinds)
			},
			want: [numKinds]bool{true, false, false, false},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCatalog(10)
			if changed, _ := c.setLists("a", base(), allKinds); changed != allKinds {
				t.Fatalf("first setLists changed = %v, want all", changed)
			}
			if got, _ := tt.step(c); got != tt.want {
				t.Errorf("changed = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCatalogPaging(t *testing.T) {
	tests := []struct {
		name      string
		kind      messages.Kind
		perServer map[string]int
		pageSize  int
		wantPages int
	}{
		{"empty", messages.Tools, nil, 2, 1},
		{"one item", messages.Tools, map[string]int{"a": 1}, 2, 1},
		{"exactly one page", messages.Tools, map[string]int{"a": 2}, 2, 1},
		{"two full pages", messages.Tools, map[string]int{"a": 4}, 2, 2},
		{"odd count over servers", messages.Tools, map[string]int{"a": 2, "b": 1, "c": 2}, 2, 3},
		{"page size one", messages.Prompts, map[string]int{"a": 3}, 1, 3},
		{"page size larger than the list", messages.Prompts, map[string]int{"a": 3, "b": 3}, 100, 1},
		{"resources", messages.Resources, map[string]int{"a": 3, "b": 2}, 2, 3},
		{"templates", messages.ResourceTemplates, map[string]int{"a": 3}, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCatalog(tt.pageSize)
			var want []string
			servers := make([]string, 0, len(tt.perServer))
			for s := range tt.perServer {
				servers = append(servers, s)
			}
			// Sorted by the catalog; set in reverse to show it does not matter.
			sort.Strings(servers)
			for i := len(servers) - 1; i >= 0; i-- {
				s := servers[i]
				var l messages.ServerLists
				for j := range tt.perServer[s] {
					switch tt.kind {
					case messages.Tools, messages.Prompts:
						l[tt.kind] = append(l[tt.kind], json.RawMessage(fmt.Sprintf(`{"name":"item%d"}`, j)))
					case messages.Resources:
						l[tt.kind] = append(l[tt.kind], json.RawMessage(fmt.Sprintf(`{"uri":"fixture://%s/%d","name":"r"}`, s, j)))
					case messages.ResourceTemplates:
						l[tt.kind] = append(l[tt.kind], json.RawMessage(fmt.Sprintf(`{"uriTemplate":"fixture://%s/%d/{id}","name":"t"}`, s, j)))
					}
				}
				c.setLists(s, l, allKinds)
			}
			for _, s := range servers {
				for j := range tt.perServer[s] {
					switch tt.kind {
					case messages.Tools, messages.Prompts:
						want = append(want, fmt.Sprintf("%s__item%d", s, j))
					case messages.Resources:
						want = append(want, fmt.Sprintf("fixture://%s/%d", s, j))
					case messages.ResourceTemplates:
						want = append(want, fmt.Sprintf("fixture://%s/%d/{id}", s, j))
					}
				}
			}

			var got []string
			cursor := ""
			pages := 0
			seenCursors := map[string]bool{}
			for {
				pages++
				if pages > 100 {
					t.Fatal("paging did not end")
				}
				raw, err := c.page(tt.kind, cursor)
				if err != nil {
					t.Fatalf("page %d (cursor %q): %v", pages, cursor, err)
				}
				again, err := c.page(tt.kind, cursor)
				if err != nil || !bytes.Equal(again, raw) {
					t.Errorf("page %d asked twice gives %s then %s, %v", pages, raw, again, err)
				}
				p := decodePage(t, tt.kind, raw)
				if len(p.items) > tt.pageSize {
					t.Errorf("page %d has %d items, page size %d", pages, len(p.items), tt.pageSize)
				}
				for _, it := range p.items {
					got = append(got, itemKeys(t, it))
				}
				if p.nextCursor == nil {
					break
				}
				if len(p.items) != tt.pageSize {
					t.Errorf("page %d has %d items and a next cursor; want a full page of %d", pages, len(p.items), tt.pageSize)
				}
				if *p.nextCursor == "" || seenCursors[*p.nextCursor] {
					t.Fatalf("page %d gives next cursor %q again", pages, *p.nextCursor)
				}
				seenCursors[*p.nextCursor] = true
				cursor = *p.nextCursor
			}
			if pages != tt.wantPages {
				t.Errorf("walked %d pages, want %d", pages, tt.wantPages)
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("items over all pages = %q, want %q", got, want)
			}
		})
	}
}

func TestCatalogPageInvalidCursor(t *testing.T) {
	c := newCatalog(2)
	var l messages.ServerLists
	l[messages.Tools] = toolObjs("a", "b", "c")
	c.setLists("s", l, allKinds)
	first, err := c.page(messages.Tools, "")
	if err != nil {
		t.Fatal(err)
	}
	valid := *decodePage(t, messages.Tools, first).nextCursor

	enc := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		name   string
		cursor string
	}{
		{"not base64", "!!not a cursor!!"},
		{"padded base64", base64.URLEncoding.EncodeToString([]byte("pb:2"))},
		{"someone else's cursor", enc([]byte("page=2"))},
		{"no number", enc([]byte("pb:"))},
		{"not a number", enc([]byte("pb:two"))},
		{"negative", enc([]byte("pb:-1"))},
		{"past the end", enc([]byte("pb:99"))},
		{"a valid cursor with junk after it", valid + "x"},
		{"whitespace", " "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 2 { // a failure is not cached as a page
				if page, err := c.page(messages.Tools, tt.cursor); err == nil {
					t.Errorf("page(%q) = %s, want an error", tt.cursor, page)
				}
			}
		})
	}

	// A cursor beyond a list that has since shrunk is no longer valid.
	c.setLists("s", messages.ServerLists{}, allKinds)
	deep := enc([]byte("pb:3"))
	if page, err := c.page(messages.Tools, deep); err == nil {
		t.Errorf("page(%q) on an empty list = %s, want an error", deep, page)
	}
}

func TestCatalogPagesFollowChanges(t *testing.T) {
	c := newCatalog(10)
	var l messages.ServerLists
	l[messages.Tools] = toolObjs("a")
	c.setLists("s", l, allKinds)
	if got := listedKeys(t, c, messages.Tools); strings.Join(got, " ") != "s__a" {
		t.Fatalf("tools = %q", got)
	}
	l[messages.Tools] = toolObjs("a", "b")
	c.setLists("s", l, allKinds)
	if got := listedKeys(t, c, messages.Tools); strings.Join(got, " ") != "s__a s__b" {
		t.Errorf("after a change, tools = %q, want [s__a s__b]", got)
	}
}

func TestTemplateRegexp(t *testing.T) {
	tests := []struct {
		tmpl, uri string
		match     bool
	}{
		{"fixture://a/items/{id}", "fixture://a/items/42", true},
		{"fixture://a/items/{id}", "fixture://a/items/abc-DEF_1.2~", true},
		{"fixture://a/items/{id}", "fixture://a/items/4/2", false},
		{"fixture://a/items/{id}", "fixture://a/items/42?x=1", false},
		{"fixture://a/items/{id}", "fixture://a/items/42#f", false},
		{"fixture://a/items/{id}", "fixture://a/other/42", false},
		{"fixture://a/items/{id}", "fixture://b/items/42", false},
		{"fixture://a/items/{id}", "prefix-fixture://a/items/42", false},
		{"fixture://a/items/{id}/raw", "fixture://a/items/42/raw", true},
		{"fixture://a/items/{id}/raw", "fixture://a/items/42/rawx", false},
		{"fixture://a/{kind}/{id}", "fixture://a/users/7", true},
		{"fixture://a/{kind}/{id}", "fixture://a/users", false},
		{"fixture://a/{x,y}", "fixture://a/1,2", true},
		{"file:///{+path}", "file:///home/user/notes.txt", true},
		{"file:///{+path}", "file:///", true},
		{"file:///docs/{+path}", "file:///other/x", false},
		{"fixture://a/doc{#section}", "fixture://a/doc#intro", true},
		{"fixture://a/search{?q}", "fixture://a/search", true},
		{"fixture://a/search{?q}", "fixture://a/search?q=cats", true},
		{"fixture://a/search{?q,lang}", "fixture://a/search?q=cats&lang=en", true},
		{"fixture://a/search{?q}", "fixture://a/searchq=cats", false},
		{"fixture://a/search{?q}", "fixture://a/search/more", false},
		{"fixture://a/search?q={q}{&page}", "fixture://a/search?q=x&page=2", true},
		{"fixture://a/files{/path}", "fixture://a/files/x/y", true},
		{"fixture://a/files{/path}", "fixture://a/files", true},
		// Literal parts are literal, not regexp syntax.
		{"fixture://a.b/(x)+/{id}", "fixture://a.b/(x)+/1", true},
		{"fixture://a.b/{id}", "fixture://axb/1", false},
		{"fixture://a/x+/{id}", "fixture://a/xx/1", false},
		{"fixture://a/static", "fixture://a/static", true},
		{"fixture://a/static", "fixture://a/static2", false},
	}
	for _, tt := range tests {
		if got := templateRegexp(tt.tmpl).MatchString(tt.uri); got != tt.match {
			t.Errorf("template %q matching %q = %v, want %v", tt.tmpl, tt.uri, got, tt.match)
		}
	}
}

func TestCatalogResolveURI(t *testing.T) {
	lists := func(resources, templates []string) messages.ServerLists {
		var l messages.ServerLists
		for _, uri := range resources {
			l[messages.Resources] = append(l[messages.Resources], json.RawMessage(fmt.Sprintf(`{"uri":%s,"name":"r"}`, quoteJSON(uri))))
		}
		for _, tmpl := range templates {
			l[messages.ResourceTemplates] = append(l[messages.ResourceTemplates], json.RawMessage(fmt.Sprintf(`{"uriTemplate":%s,"name":"t"}`, quoteJSON(tmpl))))
		}
		return l
	}
	c, notes := buildCatalog(100,
		serverSetup{name: "b", lists: lists(
			[]string{"fixture://shared/r", "fixture://b/r", "fixture://a/items/7"},
			[]string{"fixture://shared/{id}", "fixture://b/{+path}"})},
		serverSetup{name: "a", configured: true, prefix: "x", lists: lists(
			[]string{"fixture://shared/r", "fixture://a/r"},
			[]string{"fixture://a/items/{id}", "fixture://shared/{id}", "fixture://a/search{?q}"})},
	)
	tests := []struct {
		uri    string
		server string // "" for not found
	}{
		{"fixture://a/r", "a"},
		{"fixture://b/r", "b"},
		{"fixture://shared/r", "a"}, // listed by both: the first by name serves it
		{"fixture://a/items/42", "a"},
		{"fixture://a/items/7", "b"}, // a listed resource wins over a template
		{"fixture://a/items/4/2", ""},
		{"fixture://a/search", "a"},
		{"fixture://a/search?q=x", "a"},
		{"fixture://shared/other", "a"}, // template offered by both: the first by name
		{"fixture://b/deep/path/file.txt", "b"},
		{"fixture://a/R", ""},
		{"fixture://a/r/", ""},
		{"", ""},
		{"fixture://c/r", ""},
	}
	for _, tt := range tests {
		server, ok := c.resolveURI(tt.uri)
		if ok != (tt.server != "") || server != tt.server {
			t.Errorf("resolveURI(%q) = %q, %v; want %q", tt.uri, server, ok, tt.server)
		}
	}
	if !notesContain(notes, "fixture://shared/r", "a", "b") {
		t.Errorf("no note on the resource offered twice: %q", notes)
	}
}

func TestCatalogDuplicateResourceServedByFirstServer(t *testing.T) {
	res := func(server string) messages.ServerLists {
		var l messages.ServerLists
		l[messages.Resources] = raws(fmt.Sprintf(`{"uri":"fixture://shared/r","name":"from %s"}`, server))
		l[messages.ResourceTemplates] = raws(fmt.Sprintf(`{"uriTemplate":"fixture://t/{id}","name":"from %s"}`, server))
		return l
	}
	orders := [][]string{{"alpha", "beta"}, {"beta", "alpha"}}
	for _, order := range orders {
		t.Run(strings.Join(order, ","), func(t *testing.T) {
			c := newCatalog(100)
			var notes []string
			for _, s := range order {
				_, n := c.setLists(s, res(s), allKinds)
				notes = n // the notes of the last rebuild describe the whole catalog
			}
			if server, ok := c.resolveURI("fixture://shared/r"); !ok || server != "alpha" {
				t.Errorf("resolveURI(resource) = %q, %v; want alpha", server, ok)
			}
			if server, ok := c.resolveURI("fixture://t/1"); !ok || server != "alpha" {
				t.Errorf("resolveURI(template) = %q, %v; want alpha", server, ok)
			}
			if !notesContain(notes, "fixture://shared/r", "alpha", "beta") {
				t.Errorf("notes do not report the resource offered twice: %q", notes)
			}
			if !notesContain(notes, "fixture://t/{id}", "alpha", "beta") {
				t.Errorf("notes do not report the template offered twice: %q", notes)
			}
			for _, kind := range []messages.Kind{messages.Resources, messages.ResourceTemplates} {
				items := listAll(t, c, kind)
				if len(items) != 1 || !bytes.Contains(items[0], []byte("from alpha")) {
					t.Errorf("%s = %s, want only alpha's", listKeys[kind], items)
				}
			}
			for _, e := range c.entries() {
				if e.Server != "alpha" {
					t.Errorf("entries list %+v, which alpha serves", e)
				}
			}
		})
	}
}

func TestCatalogDropsItemsWithoutIdentity(t *testing.T) {
	tests := []struct {
		name string
		kind messages.Kind
		raw  string
	}{
		{"tool without a name", messages.Tools, `{"description":"nameless"}`},
		{"tool with an empty name", messages.Tools, `{"name":""}`},
		{"tool whose name is not a string", messages.Tools, `{"name":5}`},
		{"tool that is not an object", messages.Tools, `["name"]`},
		{"tool that is not JSON", messages.Tools, `{"name":`},
		{"tool with Name instead of name", messages.Tools, `{"Name":"x"}`},
		{"prompt without a name", messages.Prompts, `{"arguments":[]}`},
		{"resource without a uri", messages.Resources, `{"name":"r"}`},
		{"resource with an empty uri", messages.Resources, `{"uri":"","name":"r"}`},
		{"resource with URI instead of uri", messages.Resources, `{"URI":"fixture://a/x","name":"r"}`},
		{"template without a uriTemplate", messages.ResourceTemplates, `{"name":"t","uri":"fixture://a/{id}"}`},
		{"template that is not an object", messages.ResourceTemplates, `"fixture://a/{id}"`},
	}
	for _, tt := range tests {
		for _, prefix := range []string{"srv", ""} {
			t.Run(fmt.Sprintf("%s/prefix %q", tt.name, prefix), func(t *testing.T) {
				var l messages.ServerLists
				good := map[messages.Kind]string{
					messages.Tools:             `{"name":"good"}`,
					messages.Prompts:           `{"name":"good"}`,
					messages.Resources:         `{"uri":"fixture://a/good","name":"good"}`,
					messages.ResourceTemplates: `{"uriTemplate":"fixture://a/good/{id}","name":"good"}`,
				}[tt.kind]
				l[tt.kind] = raws(good, tt.raw)
				c, notes := buildCatalog(10, serverSetup{name: "srv", configured: true, prefix: prefix, lists: l})
				items := listAll(t, c, tt.kind)
				if len(items) != 1 || !bytes.Contains(items[0], []byte("good")) {
					t.Errorf("%s = %s, want only the good item", listKeys[tt.kind], items)
				}
				if !notesContain(notes, "srv", "dropped") {
					t.Errorf("no note on the dropped item: %q", notes)
				}
				if tt.kind == messages.Tools {
					for _, name := range []string{"x", "srv__x", "5"} {
						if server, original, ok := c.resolve(messages.Tools, name); ok {
							t.Errorf("dropped tool resolves as %q: %q, %q", name, server, original)
						}
					}
				}
			})
		}
	}
}

func TestCatalogEntries(t *testing.T) {
	var l messages.ServerLists
	l[messages.Tools] = raws(`{"name":"t","description":"  First line.\nSecond line."}`)
	l[messages.Prompts] = raws(`{"name":"p"}`)
	l[messages.Resources] = raws(`{"uri":"fixture://a/r","name":"r","description":"A resource"}`)
	l[messages.ResourceTemplates] = raws(`{"uriTemplate":"fixture://a/{id}","name":"t"}`)
	var other messages.ServerLists
	other[messages.Tools] = raws(`{"name":"x.y","description":"Other"}`)
	c, _ := buildCatalog(1,
		serverSetup{name: "z", lists: other},
		serverSetup{name: "a", configured: true, prefix: "", lists: l},
	)
	want := []messages.SnapshotEntry{
		{Kind: messages.Tools, Name: "t", Server: "a", Original: "t", Description: "First line."},
		{Kind: messages.Tools, Name: "z__x_y", Server: "z", Original: "x.y", Description: "Other"},
		{Kind: messages.Prompts, Name: "p", Server: "a", Original: "p"},
		{Kind: messages.Resources, Name: "fixture://a/r", Server: "a", Original: "fixture://a/r", Description: "A resource"},
		{Kind: messages.ResourceTemplates, Name: "fixture://a/{id}", Server: "a", Original: "fixture://a/{id}"},
	}
	got := c.entries()
	if len(got) != len(want) {
		t.Fatalf("entries = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestNewCatalogIsEmpty(t *testing.T) {
	c := newCatalog(5)
	for _, kind := range messages.Kinds {
		page, err := c.page(kind, "")
		if err != nil {
			t.Fatalf("page(%v): %v", kind, err)
		}
		if want := `{"` + listKeys[kind] + `":[]}`; string(page) != want {
			t.Errorf("page(%v) = %s, want %s", kind, page, want)
		}
	}
	if _, _, ok := c.resolve(messages.Tools, "anything"); ok {
		t.Error("an empty catalog resolved a tool")
	}
	if _, ok := c.resolveURI("fixture://a/r"); ok {
		t.Error("an empty catalog resolved a URI")
	}
	if e := c.entries(); len(e) != 0 {
		t.Errorf("entries = %+v", e)
	}
}

func TestCatalogServerByPrefix(t *testing.T) {
	c := newCatalog(10)
	for name, prefix := range map[string]string{"a": "a", "ab": "a__b", "plain": "", "x": "x", "x2": "x"} {
		c.configureServer(name, prefix, [numKinds]func(string) bool{})
	}
	for name, want := range map[string]string{
		"a__echo":    "a",
		"a__b__echo": "ab", // the longer prefix wins
		"a__becho":   "a",
		"x__echo":    "x", // two servers share a prefix: the first by name
		"aecho":      "",
		"a_echo":     "",
		"echo":       "", // the unprefixed server could own it, but says nothing
		"__echo":     "",
	} {
		if got := c.serverByPrefix(name); got != want {
			t.Errorf("serverByPrefix(%q) = %q, want %q", name, got, want)
		}
	}
}

// Lists stored while servers start are in the catalog only once it is
// settled, and settling twice changes nothing the second time.
func TestCatalogStoredListsAppearWhenSettled(t *testing.T) {
	c := newCatalog(100)
	all := [numKinds]bool{true, true, true, true}
	for _, name := range []string{"a", "b", "c"} {
		var l messages.ServerLists
		l[messages.Tools] = toolObjs("t")
		c.storeLists(name, l, all)
	}
	if _, _, ok := c.resolve(messages.Tools, "a__t"); ok || !c.stale {
		t.Fatalf("stored lists were in the catalog before it settled (stale %v)", c.stale)
	}
	changed, _ := c.settle()
	if !changed[messages.Tools] || c.stale {
		t.Errorf("settling: tools changed %v, stale %v; want true, false", changed[messages.Tools], c.stale)
	}
	if got := strings.Join(listedKeys(t, c, messages.Tools), " "); got != "a__t b__t c__t" {
		t.Errorf("tools after settling: %q", got)
	}
	if again, _ := c.settle(); again != ([numKinds]bool{}) {
		t.Errorf("settling a settled catalog changed %v", again)
	}
}
