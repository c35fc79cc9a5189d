package actors

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/plugboard/plugboard/config"
	"github.com/plugboard/plugboard/messages"
)

// reconfigure asks control to make a new configuration the running one;
// control answers with the Reconfigured difference.
type reconfigure struct {
	cfg     *config.Config
	restart []string // servers to restart though unchanged (`plugboard restart`)
}

// Reconfigured is what a reload changed, by server name, each sorted.
type Reconfigured struct {
	Added, Removed, Restarted, Unchanged []string
	// Renamed are servers that keep running whose prefix or filters
	// changed: only their client-facing names change.
	Renamed []string
	// ToolsChanged is set when the disabled tools changed.
	ToolsChanged bool
}

// Changed reports whether the reload changed anything clients see.
func (r *Reconfigured) Changed() bool {
	return len(r.Added)+len(r.Removed)+len(r.Restarted)+len(r.Renamed) > 0 || r.ToolsChanged
}

// restart moves servers that would keep running to Restarted; a name
// that is not a running server is an error.
func (r *Reconfigured) restart(names []string) error {
	for _, name := range names {
		i := sort.SearchStrings(r.Unchanged, name)
		switch {
		case i < len(r.Unchanged) && r.Unchanged[i] == name:
			r.Unchanged = append(r.Unchanged[:i], r.Unchanged[i+1:]...)
		case slices.Contains(r.Renamed, name):
			r.Renamed = slices.DeleteFunc(r.Renamed, func(s string) bool { return s == name })
		case slices.Contains(r.Restarted, name) || slices.Contains(r.Added, name):
			continue
		default:
			return fmt.Errorf("no server %q is running (see plugboard status)", name)
		}
		r.Restarted = append(r.Restarted, name)
	}
	sort.Strings(r.Restarted)
	return nil
}

func sameSet(a, b []string) bool {
	in := make(map[string]bool, len(a))
	for _, s := range a {
		in[s] = true
	}
	for _, s := range b {
		if !in[s] {
			return false
		}
		delete(in, s)
	}
	return len(in) == 0
}

// controlActor turns configurations into orders: which servers the router
// should expect and under which names, and which servers the fleet runs.
// Every configuration after the first is diffed against the running one,
// and only the difference moves.
type controlActor struct {
	cfg     *config.Config
	router  *actor.PID
	fleet   *actor.PID
	pending []reload // reloads waiting for the router, in order
	// published are the workspace names sessions may open in.
	published *atomic.Pointer[map[string]bool]
}

// reload is a reconfiguration the router is taking in: the fleet is told
// once the router has let go of the servers it stops, so that no request
// reaches a server after it has retired.
type reload struct {
	servers []config.Server
	diff    *Reconfigured
	asker   *actor.PID
}

// Receive handles the control actor's messages.
func (c *controlActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		c.apply(ctx, nil)
	case *reconfigure:
		diff := diffServers(c.cfg.Servers, msg.cfg.Servers)
		diff.ToolsChanged = !sameSet(c.cfg.DisabledTools, msg.cfg.DisabledTools)
		if err := diff.restart(msg.restart); err != nil {
			ctx.Respond(err)
			return
		}
		c.cfg = msg.cfg
		c.pending = append(c.pending, reload{servers: msg.cfg.Servers, diff: diff, asker: ctx.Sender()})
		c.apply(ctx, diff)
	case *messages.ServersExpected:
		next := c.pending[0]
		c.pending = c.pending[1:]
		ctx.Send(c.fleet, &applyServers{servers: next.servers, restart: next.diff.Restarted, idleGrace: c.cfg.IdleGrace})
		if next.asker != nil {
			ctx.Send(next.asker, next.diff)
		}
	}
}

// apply sends the router the servers to expect and the fleet the servers
// to run. diff is nil for the first configuration.
func (c *controlActor) apply(ctx actor.Context, diff *Reconfigured) {
	names := make(map[string]bool, len(c.cfg.Workspaces))
	for n := range c.cfg.Workspaces {
		names[n] = true
	}
	if c.published != nil {
		c.published.Store(&names)
	}
	expect := &messages.ExpectServers{Deadline: time.Now().Add(c.cfg.StartupTimeout), Fleet: c.fleet, DisabledTools: c.cfg.DisabledTools,
		Workspaces: c.cfg.Workspaces, DefaultWorkspace: c.cfg.Workspace}
	if diff != nil {
		expect.Reload = true
		expect.Restarted = append(append([]string(nil), diff.Added...), diff.Restarted...)
	}
	for _, s := range c.cfg.Servers {
		var filters [numKinds]func(string) bool
		filters[messages.Tools] = s.Tools.Allows
		filters[messages.Prompts] = s.Prompts.Allows
		expect.Servers = append(expect.Servers, messages.ExpectedServer{Name: s.Name, Prefix: s.Prefix, Enabled: s.Enabled, Filters: filters,
			Isolated: s.Isolation == config.IsolationSession})
	}
	if diff == nil {
		ctx.Send(c.router, expect)
		ctx.Send(c.fleet, &applyServers{servers: c.cfg.Servers, idleGrace: c.cfg.IdleGrace})
		return
	}
	ctx.Request(c.router, expect) // answered with ServersExpected
}

// diffServers compares two configurations' servers. A server restarts
// when what its process or connection is made of changes; its prefix and
// filters are the router's alone and change without a restart. Enabling
// a server adds it, disabling removes it.
func diffServers(old, new []config.Server) *Reconfigured {
	before := map[string]config.Server{}
	for _, s := range old {
		if s.Enabled {
			before[s.Name] = s
		}
	}
	d := &Reconfigured{}
	for _, s := range new {
		if !s.Enabled {
			continue
		}
		was, ok := before[s.Name]
		delete(before, s.Name)
		switch {
		case !ok:
			d.Added = append(d.Added, s.Name)
		case !sameProcess(was, s):
			d.Restarted = append(d.Restarted, s.Name)
		case !reflect.DeepEqual(was, s):
			d.Renamed = append(d.Renamed, s.Name)
		default:
			d.Unchanged = append(d.Unchanged, s.Name)
		}
	}
	for name := range before {
		d.Removed = append(d.Removed, name)
	}
	for _, l := range [][]string{d.Added, d.Removed, d.Restarted, d.Unchanged, d.Renamed} {
		sort.Strings(l)
	}
	return d
}

// sameProcess reports whether two configurations of a server make the
// same process or connection: they differ at most in what the router
// alone applies.
func sameProcess(a, b config.Server) bool {
	a.Prefix, a.Tools, a.Prompts = "", config.Filter{}, config.Filter{}
	b.Prefix, b.Tools, b.Prompts = "", config.Filter{}, config.Filter{}
	return reflect.DeepEqual(a, b)
}
