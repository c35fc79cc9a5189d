package actors

import (
	"sort"
	"time"

	"github.com/plugboard/plugboard/messages"
)

// keepStderr keeps a line of a server's standard error. Lines of a
// server's earlier processes count too: the last words of one that
// crashed are what its user needs.
func (f *fleetActor) keepStderr(msg *messages.ServerStderr) {
	if f.stderr == nil {
		f.stderr = map[string]*stderrRing{}
	}
	r := f.stderr[msg.Server]
	if r == nil {
		r = newStderrRing(stderrKeepLines, stderrKeepBytes)
		f.stderr[msg.Server] = r
	}
	r.add(msg.Line)
}

// logs answers a LogsRequest.
func (f *fleetActor) logs(msg *messages.LogsRequest) *messages.Logs {
	if _, ok := f.children[msg.Server]; !ok {
		return &messages.Logs{Unknown: true, Servers: f.names()}
	}
	r := f.stderr[msg.Server]
	if r == nil {
		return &messages.Logs{}
	}
	lines, next := r.since(msg.After)
	return &messages.Logs{Lines: lines, Next: next}
}

// names are the servers the fleet runs, sorted.
func (f *fleetActor) names() []string {
	out := make([]string, 0, len(f.children))
	for name := range f.children {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// serverList answers a ServersRequest.
func (f *fleetActor) serverList() *messages.ServerList {
	now := time.Now()
	out := &messages.ServerList{Servers: make([]messages.ServerRef, 0, len(f.children))}
	for name, child := range f.children {
		ref := messages.ServerRef{Name: name, PID: child.pid}
		if rec := f.restarts[name]; rec != nil && rec.NextStart.After(now) {
			ref.Asleep = true
		}
		if r := f.stderr[name]; r != nil {
			ref.Stderr = r.tail(stderrTailLines)
		}
		out.Servers = append(out.Servers, ref)
	}
	return out
}
