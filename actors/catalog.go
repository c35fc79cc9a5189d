package actors

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/transports"
)

const numKinds = len(messages.Kinds)

// listKeys are the result fields that hold each kind's list.
var listKeys = [numKinds]string{"tools", "prompts", "resources", "resourceTemplates"}

// catalogItem is one client-facing tool, prompt, resource or template.
type catalogItem struct {
	key      string // client-facing name; the URI or URI template for resources
	server   string
	original string // the downstream's name or URI
	raw      json.RawMessage
}

// catalogServer is what the catalog knows of one server.
type catalogServer struct {
	prefix  string
	filters [numKinds]func(string) bool
	lists   messages.ServerLists
	// What rebuilds reuse until the server's list of that kind changes:
	// each item's fields (decoded once, not on every server's arrival),
	// items renamed to their client-facing names, template regexps, and
	// the argument paths of tools that mirror arguments into headers (by
	// index in the tools' list; nil when none does).
	fields    [numKinds][]identified
	renamed   [numKinds]map[string]renamedItem // by client-facing name
	templates []*regexp.Regexp
	mirrored  map[int][][]string
}

// identified is an item's fields, or why they could not be read.
type identified struct {
	f   itemFields
	err error
}

// setList replaces one of the server's lists and what was derived from it.
func (s *catalogServer) setList(kind messages.Kind, items []json.RawMessage) {
	s.lists[kind] = items
	s.fields[kind] = make([]identified, len(items))
	for i, raw := range items {
		f, err := identify(raw)
		s.fields[kind][i] = identified{f: f, err: err}
	}
	if kind == messages.Tools {
		s.mirrored = nil
		for i, raw := range items {
			if paths := mirroredPaths(raw); paths != nil {
				if s.mirrored == nil {
					s.mirrored = map[int][][]string{}
				}
				s.mirrored[i] = paths
			}
		}
	}
	s.renamed[kind] = map[string]renamedItem{}
	if kind == messages.ResourceTemplates {
		s.templates = make([]*regexp.Regexp, len(items))
		for i, id := range s.fields[kind] {
			if id.err == nil && id.f.URITemplate != "" {
				s.templates[i] = templateRegexp(id.f.URITemplate)
			}
		}
	}
}

// rename returns raw with its name replaced by the client-facing one,
// from the cache when it was renamed so before.
func (s *catalogServer) rename(kind messages.Kind, raw json.RawMessage, assigned string) (json.RawMessage, error) {
	// The cache is keyed by the name given, and checked against the item
	// it came from: a server listing one name twice may see the name
	// given to one of them go to the other after a collision.
	if r, ok := s.renamed[kind][assigned]; ok && bytes.Equal(r.from, raw) {
		return r.out, nil
	}
	out, err := replaceField(raw, "name", quoteJSON(assigned))
	if err == nil {
		s.renamed[kind][assigned] = renamedItem{from: raw, out: out}
	}
	return out, err
}

// renamedItem is an item of a server and its copy under a new name.
type renamedItem struct{ from, out json.RawMessage }

// uriTemplate maps the URIs an RFC 6570 template expands to onto a server.
type uriTemplate struct {
	server string
	match  *regexp.Regexp
}

// catalog is the namespaced union of every server's lists. It is plain
// data, owned by the router: it names, filters, resolves and pages.
type catalog struct {
	pageSize  int
	servers   map[string]*catalogServer
	items     [numKinds][]catalogItem
	index     [numKinds]map[string]int
	templates []uriTemplate
	pages     [numKinds]map[string][]byte // rendered pages, dropped on every change
	// disabled are the client-facing tool names the user disabled
	// (`plugboard tools disable`): hidden from clients, refused if
	// called; hidden are the tools that are so, for the CLI's listing.
	disabled map[string]bool
	hidden   []catalogItem
	// mirrored are the argument paths that tools mark with x-mcp-header
	// to be mirrored into Mcp-Param-* headers (mirroredPaths), by
	// client-facing name; nil when no tool does, as for nearly every
	// catalog.
	mirrored map[string][][]string
	// viewItems are the items each workspace's view holds, by name,
	// dropped on every change.
	viewItems map[string][numKinds][]catalogItem
	// stale says lists were stored since the last rebuild (storeLists).
	stale bool
}

func newCatalog(pageSize int) *catalog {
	c := &catalog{pageSize: pageSize, servers: map[string]*catalogServer{}}
	c.rebuild()
	return c
}

// configureServer sets a server's prefix and filters, keeping its lists.
func (c *catalog) configureServer(name, prefix string, filters [numKinds]func(string) bool) (changed [numKinds]bool, notes []string) {
	s := c.servers[name]
	if s == nil {
		s = &catalogServer{}
		c.servers[name] = s
	}
	s.prefix, s.filters = prefix, filters
	return c.rebuild()
}

// setLists replaces the lists of the kinds marked in which.
func (c *catalog) setLists(name string, lists messages.ServerLists, which [numKinds]bool) (changed [numKinds]bool, notes []string) {
	c.storeLists(name, lists, which)
	return c.rebuild()
}

// storeLists sets a server's lists without rebuilding the catalog, which
// is then stale until settle: servers that arrive together cost one
// rebuild, not one each (a rebuild renames every server's items).
func (c *catalog) storeLists(name string, lists messages.ServerLists, which [numKinds]bool) {
	s := c.servers[name]
	if s == nil {
		s = &catalogServer{prefix: name}
		c.servers[name] = s
	}
	for k := range which {
		if which[k] {
			s.setList(messages.Kind(k), lists[k])
		}
	}
	c.stale = true
}

// settle rebuilds a stale catalog; it changes nothing when none is.
func (c *catalog) settle() (changed [numKinds]bool, notes []string) {
	if !c.stale {
		return changed, nil
	}
	return c.rebuild()
}

// setDisabled replaces the set of disabled client-facing tool names.
func (c *catalog) setDisabled(names []string) (changed [numKinds]bool, notes []string) {
	c.disabled = make(map[string]bool, len(names))
	for _, n := range names {
		c.disabled[n] = true
	}
	return c.rebuild()
}

// isDisabled reports whether a tool name was disabled by the user.
func (c *catalog) isDisabled(kind messages.Kind, name string) bool {
	return kind == messages.Tools && c.disabled[name]
}

// serverTools returns each server's tool list as the server sent it.
func (c *catalog) serverTools() map[string][]json.RawMessage {
	out := make(map[string][]json.RawMessage, len(c.servers))
	for name, s := range c.servers {
		out[name] = s.lists[messages.Tools]
	}
	return out
}

// removeServer drops a server and everything it offered.
func (c *catalog) removeServer(name string) (changed [numKinds]bool, notes []string) {
	delete(c.servers, name)
	return c.rebuild()
}

// resolve returns the server and original name behind a client-facing tool
// or prompt name.
func (c *catalog) resolve(kind messages.Kind, name string) (server, original string, ok bool) {
	if it := c.item(kind, name); it != nil {
		return it.server, it.original, true
	}
	return "", "", false
}

// item returns the client-facing item of that name or key, or nil.
func (c *catalog) item(kind messages.Kind, name string) *catalogItem {
	i, ok := c.index[kind][name]
	if !ok {
		return nil
	}
	return &c.items[kind][i]
}

// mirroredPaths returns the argument paths a tool definition marks with
// x-mcp-header, as mcp-go finds them when it checks or writes the
// Mcp-Param-* headers.
func mirroredPaths(raw json.RawMessage) [][]string {
	if !bytes.Contains(raw, []byte(`"x-mcp-header"`)) {
		return nil
	}
	var tool mcp.Tool
	if json.Unmarshal(raw, &tool) != nil {
		return nil
	}
	var paths [][]string
	for _, b := range mcp.ExtractParamHeaderBindings(&tool) {
		paths = append(paths, b.Path)
	}
	return paths
}

// serverByPrefix returns the server whose prefix begins the client-facing
// name (PREFIX__...), the longest prefix when several do, or "" when none
// does. Names are built so (see clientName: prefixes are already valid
// name characters and short enough to survive shortening), so a name
// nobody offers yet can still be told to belong to a server that has not
// listed it. Servers without a prefix could own any name and are never
// returned.
func (c *catalog) serverByPrefix(name string) string {
	best, bestPrefix := "", ""
	for server, s := range c.servers {
		if s.prefix == "" || !strings.HasPrefix(name, s.prefix+prefixSeparator) {
			continue
		}
		if len(s.prefix) > len(bestPrefix) || len(s.prefix) == len(bestPrefix) && server < best {
			best, bestPrefix = server, s.prefix
		}
	}
	return best
}

// resolveURI returns the server that offers uri: the one that listed it,
// else the first whose template matches it.
func (c *catalog) resolveURI(uri string) (server string, ok bool) {
	if i, ok := c.index[messages.Resources][uri]; ok {
		return c.items[messages.Resources][i].server, true
	}
	for _, t := range c.templates {
		if t.match.MatchString(uri) {
			return t.server, true
		}
	}
	return "", false
}

// page renders one page of a kind's list as a JSON-RPC result.
func (c *catalog) page(kind messages.Kind, cursor string) ([]byte, error) {
	return c.pageIn(kind, cursor, view{})
}

// view is what the sessions of one workspace see of the catalog: the
// items of the servers it holds; servers nil is every server.
type view struct {
	name    string
	servers map[string]bool
}

// allows reports whether the view holds server.
func (v view) allows(server string) bool {
	return v.servers == nil || v.servers[server]
}

// itemsIn returns the items of a kind the view holds.
func (c *catalog) itemsIn(kind messages.Kind, v view) []catalogItem {
	if v.servers == nil {
		return c.items[kind]
	}
	if cached, ok := c.viewItems[v.name]; ok && cached[kind] != nil {
		return cached[kind]
	}
	items := []catalogItem{}
	for _, it := range c.items[kind] {
		if v.servers[it.server] {
			items = append(items, it)
		}
	}
	cached := c.viewItems[v.name]
	cached[kind] = items
	c.viewItems[v.name] = cached
	return items
}

// pageIn renders a page of a kind's list as the view holds it.
func (c *catalog) pageIn(kind messages.Kind, cursor string, v view) ([]byte, error) {
	key := cursor
	if v.servers != nil {
		key = v.name + "\x00" + cursor
	}
	if p, ok := c.pages[kind][key]; ok {
		return p, nil
	}
	items := c.itemsIn(kind, v)
	offset, err := decodeCursor(cursor)
	if err != nil || offset > len(items) {
		return nil, fmt.Errorf("invalid cursor %q", cursor)
	}
	end := min(offset+c.pageSize, len(items))
	var b bytes.Buffer
	b.WriteString(`{"`)
	b.WriteString(listKeys[kind])
	b.WriteString(`":[`)
	for i, it := range items[offset:end] {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(it.raw)
	}
	b.WriteByte(']')
	if end < len(items) {
		b.WriteString(`,"nextCursor":`)
		b.Write(quoteJSON(encodeCursor(end)))
	}
	b.WriteByte('}')
	c.pages[kind][key] = b.Bytes()
	return b.Bytes(), nil
}

// fingerprint sums up a kind's list as the view holds it: it changes when
// what the view's sessions would list changes.
func (c *catalog) fingerprint(kind messages.Kind, v view) uint64 {
	h := fnv.New64a()
	for _, it := range c.itemsIn(kind, v) {
		h.Write([]byte(it.key))
		h.Write([]byte{0})
		h.Write([]byte(it.server))
		h.Write([]byte{0})
		h.Write(it.raw)
		h.Write([]byte{0})
	}
	return h.Sum64()
}

func encodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("pb:" + strconv.Itoa(offset)))
}

func decodeCursor(cursor string) (int, error) {
	if cursor == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || !strings.HasPrefix(string(b), "pb:") {
		return 0, fmt.Errorf("not a plugboard cursor")
	}
	n, err := strconv.Atoi(string(b[3:]))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("not a plugboard cursor")
	}
	return n, nil
}

// itemFields are the identifying fields of a list item.
type itemFields struct {
	Name        string
	URI         string
	URITemplate string
	Description string
}

// identifyNames are the members identify reads, in itemFields' order.
var identifyNames = []string{"name", "uri", "uriTemplate", "description"}

// identify reads an item's identifying fields by their exact names (JSON
// decoding into a struct would also take "Name" for "name"), as decoding
// the item into a map would, without decoding the rest of it.
func identify(raw json.RawMessage) (itemFields, error) {
	var values [4]json.RawMessage
	if err := transports.ExactMembers(raw, identifyNames, values[:]); err != nil {
		return itemFields{}, err
	}
	var f itemFields
	for i, dst := range [...]*string{&f.Name, &f.URI, &f.URITemplate, &f.Description} {
		if values[i] == nil {
			continue
		}
		s, err := decodeJSONString(values[i])
		if err != nil {
			return itemFields{}, fmt.Errorf("%s: %w", identifyNames[i], err)
		}
		*dst = s
	}
	return f, nil
}

// decodeJSONString decodes a raw JSON value into a string as
// json.Unmarshal does (null gives ""), without its reflection for a plain
// string.
func decodeJSONString(raw json.RawMessage) (string, error) {
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' && transports.PlainJSONString(raw[1:n-1]) {
		return string(raw[1 : n-1]), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

// rebuild recomputes every client-facing list from the servers' lists and
// reports which kinds changed, with notes on what it renamed or dropped.
func (c *catalog) rebuild() (changed [numKinds]bool, notes []string) {
	c.stale = false
	names := make([]string, 0, len(c.servers))
	for name := range c.servers {
		names = append(names, name)
	}
	sort.Strings(names)

	var items [numKinds][]catalogItem
	var hidden []catalogItem
	var mirrored map[string][][]string
	for _, kind := range []messages.Kind{messages.Tools, messages.Prompts} {
		var candidates []nameCandidate
		var raws []json.RawMessage
		var mirroredAt map[int][][]string // by candidate, tools only
		for _, server := range names {
			s := c.servers[server]
			for i, raw := range s.lists[kind] {
				f, err := s.fields[kind][i].f, s.fields[kind][i].err
				if err != nil || f.Name == "" {
					notes = append(notes, fmt.Sprintf("%s: dropped a %s without a name", server, listKeys[kind]))
					continue
				}
				if allow := s.filters[kind]; allow != nil && !allow(f.Name) {
					continue
				}
				candidates = append(candidates, nameCandidate{server: server, prefix: s.prefix, original: f.Name})
				raws = append(raws, raw)
				if kind == messages.Tools && s.mirrored[i] != nil {
					if mirroredAt == nil {
						mirroredAt = map[int][][]string{}
					}
					mirroredAt[len(candidates)-1] = s.mirrored[i]
				}
			}
		}
		assigned, collisions := assignNames(candidates)
		for _, col := range collisions {
			notes = append(notes, "name collision: "+col.String())
		}
		for i, cand := range candidates {
			raw := raws[i]
			if assigned[i] != cand.original {
				var err error
				if raw, err = c.servers[cand.server].rename(kind, raw, assigned[i]); err != nil {
					notes = append(notes, fmt.Sprintf("%s: dropped %q: %v", cand.server, cand.original, err))
					continue
				}
			}
			item := catalogItem{key: assigned[i], server: cand.server, original: cand.original, raw: raw}
			if c.isDisabled(kind, item.key) {
				hidden = append(hidden, item)
				continue
			}
			if paths := mirroredAt[i]; paths != nil {
				if mirrored == nil {
					mirrored = map[string][][]string{}
				}
				mirrored[item.key] = paths
			}
			items[kind] = append(items[kind], item)
		}
	}

	var templates []uriTemplate
	for _, server := range names {
		s := c.servers[server]
		for i, raw := range s.lists[messages.Resources] {
			f, err := s.fields[messages.Resources][i].f, s.fields[messages.Resources][i].err
			if err != nil || f.URI == "" {
				notes = append(notes, server+": dropped a resource without a uri")
				continue
			}
			items[messages.Resources] = append(items[messages.Resources], catalogItem{key: f.URI, server: server, original: f.URI, raw: raw})
		}
		for i, raw := range s.lists[messages.ResourceTemplates] {
			f, err := s.fields[messages.ResourceTemplates][i].f, s.fields[messages.ResourceTemplates][i].err
			if err != nil || f.URITemplate == "" {
				notes = append(notes, server+": dropped a resource template without a uriTemplate")
				continue
			}
			items[messages.ResourceTemplates] = append(items[messages.ResourceTemplates], catalogItem{key: f.URITemplate, server: server, original: f.URITemplate, raw: raw})
			templates = append(templates, uriTemplate{server: server, match: s.templates[i]})
		}
	}

	for kind := range items {
		index := make(map[string]int, len(items[kind]))
		kept := items[kind][:0]
		for _, it := range items[kind] {
			if prev, dup := index[it.key]; dup {
				notes = append(notes, fmt.Sprintf("%s %q is offered by %s and %s; %s serves it", listKeys[kind], it.key, kept[prev].server, it.server, kept[prev].server))
				continue
			}
			index[it.key] = len(kept)
			kept = append(kept, it)
		}
		items[kind] = kept
		changed[kind] = !sameItems(c.items[kind], items[kind])
		c.index[kind] = index
		c.pages[kind] = map[string][]byte{}
	}
	c.items = items
	c.hidden = hidden
	c.mirrored = mirrored
	c.viewItems = map[string][numKinds][]catalogItem{}
	c.templates = templates
	return changed, notes
}

func sameItems(a, b []catalogItem) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].key != b[i].key || a[i].server != b[i].server || !bytes.Equal(a[i].raw, b[i].raw) {
			return false
		}
	}
	return true
}

// templateRegexp compiles an RFC 6570 URI template into a regexp that
// matches the URIs it can expand to. Simple expressions match one path
// segment; reserved ({+x}, {#x}) ones anything; query ones an optional query.
func templateRegexp(tmpl string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for len(tmpl) > 0 {
		open := strings.IndexByte(tmpl, '{')
		closing := strings.IndexByte(tmpl, '}')
		if open < 0 || closing < open {
			b.WriteString(regexp.QuoteMeta(tmpl))
			break
		}
		b.WriteString(regexp.QuoteMeta(tmpl[:open]))
		expr := tmpl[open+1 : closing]
		switch {
		case strings.HasPrefix(expr, "+"), strings.HasPrefix(expr, "#"):
			b.WriteString(".*")
		case strings.HasPrefix(expr, "?"), strings.HasPrefix(expr, "&"):
			b.WriteString(`(?:[?&].*)?`)
		case strings.HasPrefix(expr, "/"):
			b.WriteString(`(?:/[^?#]*)?`)
		default:
			b.WriteString(`[^/?#]*`)
		}
		tmpl = tmpl[closing+1:]
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String()) // every piece is quoted or fixed
}

// entries lists the catalog for a snapshot.
func (c *catalog) entries() []messages.SnapshotEntry {
	var out []messages.SnapshotEntry
	for kind := range c.items {
		for _, it := range c.items[kind] {
			f, _ := identify(it.raw) // it parsed when it entered the catalog
			desc, _, _ := strings.Cut(strings.TrimSpace(f.Description), "\n")
			out = append(out, messages.SnapshotEntry{Kind: messages.Kind(kind), Name: it.key, Server: it.server, Original: it.original, Description: desc})
		}
	}
	for _, it := range c.hidden {
		out = append(out, messages.SnapshotEntry{Kind: messages.Tools, Name: it.key, Server: it.server, Original: it.original, Disabled: true})
	}
	return out
}

// headerTools are the tools whose definitions carry x-mcp-header
// annotations, by client-facing name: a 2026-07-28 HTTP client mirrors
// those parameters into headers, which the front checks against the body.
func (c *catalog) headerTools() *map[string]json.RawMessage {
	m := make(map[string]json.RawMessage, len(c.mirrored))
	for name := range c.mirrored {
		if it := c.item(messages.Tools, name); it != nil {
			m[name] = it.raw
		}
	}
	return &m
}
