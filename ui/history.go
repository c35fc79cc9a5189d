package ui

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"
)

const (
	// activityWindow is how far back the activity goes.
	activityWindow = 10 * time.Minute
	// maxActivity bounds the activity kept, whatever happens.
	maxActivity = 200
)

// activityJSON is one thing that happened: a server's state changed, a
// session came or went, a tool was disabled or enabled, the default
// workspace changed.
type activityJSON struct {
	Time   time.Time `json:"time"`
	Kind   string    `json:"kind"` // server, session, tool, workspace
	Server string    `json:"server,omitempty"`
	Text   string    `json:"text"`
}

// trafficRateJSON is one server's calls over the last interval.
type trafficRateJSON struct {
	CallsPerSecond  float64 `json:"calls_per_second"`
	ErrorsPerSecond float64 `json:"errors_per_second"`
	// MeanLatencyMS is the mean latency of the interval's calls; 0 when
	// there were none.
	MeanLatencyMS float64 `json:"mean_latency_ms"`
	Calls         uint64  `json:"calls"` // since the daemon started
}

// observed is what history remembers of a snapshot to tell what changed.
type observed struct {
	states   map[string]string // server -> state
	restarts map[string]int
	failure  map[string]string
	sessions map[string]int // "client over transport in workspace" -> count
	disabled map[string]bool
	defaultW string
}

// history turns successive snapshots into activity and call rates. It is
// plain data under a lock; the hub's poller is its only writer.
type history struct {
	mu       sync.Mutex
	prev     *observed
	activity []activityJSON
	counts   map[string]TrafficCounts
	countsAt time.Time
	rates    map[string]trafficRateJSON
}

func newHistory() *history { return &history{} }

// statusView, catalogView and workspacesView are the members of the
// socket's answers that history compares.
type statusView struct {
	Servers []struct {
		Name        string `json:"name"`
		State       string `json:"state"`
		Restarts    int    `json:"restarts"`
		LastFailure string `json:"last_failure"`
	} `json:"servers"`
	Sessions []struct {
		Transport  string `json:"transport"`
		ClientName string `json:"client_name"`
		Workspace  string `json:"workspace"`
	} `json:"sessions"`
}

type catalogView struct {
	Tools []struct {
		Name     string `json:"name"`
		Disabled bool   `json:"disabled"`
	} `json:"tools"`
}

type workspacesView struct {
	Default string `json:"default"`
}

func observe(status, catalog, workspaces json.RawMessage) *observed {
	var st statusView
	var cat catalogView
	var ws workspacesView
	_ = json.Unmarshal(status, &st)
	_ = json.Unmarshal(catalog, &cat)
	_ = json.Unmarshal(workspaces, &ws)
	o := &observed{states: map[string]string{}, restarts: map[string]int{}, failure: map[string]string{},
		sessions: map[string]int{}, disabled: map[string]bool{}, defaultW: ws.Default}
	for _, s := range st.Servers {
		o.states[s.Name], o.restarts[s.Name], o.failure[s.Name] = s.State, s.Restarts, s.LastFailure
	}
	for _, s := range st.Sessions {
		o.sessions[describeSession(s.ClientName, s.Transport, s.Workspace)]++
	}
	for _, t := range cat.Tools {
		if t.Disabled {
			o.disabled[t.Name] = true
		}
	}
	return o
}

func describeSession(client, transport, workspace string) string {
	if client == "" {
		client = "a client"
	}
	s := client
	if transport != "" {
		s += " over " + transport
	}
	if workspace != "" {
		s += " in workspace " + workspace
	}
	return s
}

// observe records a snapshot taken at now and returns the call rates
// (nil without counts) and the activity of the last minutes, newest
// first.
func (h *history) observe(now time.Time, status, catalog, workspaces json.RawMessage, counts map[string]TrafficCounts) (map[string]trafficRateJSON, []activityJSON) {
	cur := observe(status, catalog, workspaces)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.prev != nil {
		for _, a := range changes(h.prev, cur) {
			a.Time = now
			h.activity = append(h.activity, a)
		}
	}
	h.prev = cur
	cut := 0
	for cut < len(h.activity) && (now.Sub(h.activity[cut].Time) > activityWindow || len(h.activity)-cut > maxActivity) {
		cut++
	}
	h.activity = h.activity[cut:]
	h.updateRates(now, counts)
	out := make([]activityJSON, len(h.activity))
	for i, a := range h.activity {
		out[len(out)-1-i] = a
	}
	return h.rates, out
}

// updateRates turns the counts into rates over the time since the last
// counts; the rates stay until a second count comes.
func (h *history) updateRates(now time.Time, counts map[string]TrafficCounts) {
	if counts == nil {
		h.rates = nil
		return
	}
	elapsed := now.Sub(h.countsAt).Seconds()
	if h.counts != nil && elapsed > 0 {
		rates := map[string]trafficRateJSON{}
		for name, c := range counts {
			p := h.counts[name]
			if c.Calls < p.Calls { // counts started again
				p = TrafficCounts{}
			}
			r := trafficRateJSON{Calls: c.Calls, CallsPerSecond: float64(c.Calls-p.Calls) / elapsed, ErrorsPerSecond: float64(c.Errors-min(p.Errors, c.Errors)) / elapsed}
			n := c.Calls - p.Calls
			if c.LatencyCount != 0 {
				n = c.LatencyCount - min(p.LatencyCount, c.LatencyCount)
			}
			if n > 0 {
				r.MeanLatencyMS = float64(c.LatencySum-p.LatencySum) / float64(n) / float64(time.Millisecond)
			}
			rates[name] = r
		}
		h.rates = rates
	}
	h.counts, h.countsAt = counts, now
}

// changes are what differs from prev to cur, in a stable order.
func changes(prev, cur *observed) []activityJSON {
	var out []activityJSON
	for _, name := range sortedKeys(cur.states) {
		state, was := cur.states[name], prev.states[name]
		switch {
		case was == "":
			out = append(out, activityJSON{Kind: "server", Server: name, Text: name + " added (" + state + ")"})
		case cur.restarts[name] > prev.restarts[name]:
			text := fmt.Sprintf("%s restarted (%d restarts); now %s", name, cur.restarts[name], state)
			if f := cur.failure[name]; f != "" {
				text += "; it failed: " + f
			}
			out = append(out, activityJSON{Kind: "server", Server: name, Text: text})
		case state != was:
			text := name + ": " + was + " → " + state
			if f := cur.failure[name]; f != "" && f != prev.failure[name] {
				text += ": " + f
			}
			out = append(out, activityJSON{Kind: "server", Server: name, Text: text})
		}
	}
	for _, name := range sortedKeys(prev.states) {
		if _, ok := cur.states[name]; !ok {
			out = append(out, activityJSON{Kind: "server", Server: name, Text: name + " removed"})
		}
	}
	for _, who := range sortedKeys(union(prev.sessions, cur.sessions)) {
		for n := prev.sessions[who]; n < cur.sessions[who]; n++ {
			out = append(out, activityJSON{Kind: "session", Text: "session opened: " + who})
		}
		for n := cur.sessions[who]; n < prev.sessions[who]; n++ {
			out = append(out, activityJSON{Kind: "session", Text: "session closed: " + who})
		}
	}
	for _, name := range sortedKeys(union(prev.disabled, cur.disabled)) {
		switch {
		case cur.disabled[name] && !prev.disabled[name]:
			out = append(out, activityJSON{Kind: "tool", Text: "tool " + name + " disabled"})
		case !cur.disabled[name] && prev.disabled[name]:
			out = append(out, activityJSON{Kind: "tool", Text: "tool " + name + " enabled"})
		}
	}
	if cur.defaultW != prev.defaultW {
		w := cur.defaultW
		if w == "" {
			w = "every server"
		}
		out = append(out, activityJSON{Kind: "workspace", Text: "default workspace now " + w})
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func union[V any](a, b map[string]V) map[string]V {
	out := make(map[string]V, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
