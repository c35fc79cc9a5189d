package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/plugboard/plugboard/config"
	"github.com/plugboard/plugboard/messages"
)

// controlActor turns a configuration into orders: which servers the router
// should expect and under which names, and which servers the fleet runs.
type controlActor struct {
	cfg    *config.Config
	router *actor.PID
	fleet  *actor.PID
}

// Receive handles the control actor's messages.
func (c *controlActor) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started:
		c.apply(ctx)
	}
}

func (c *controlActor) apply(ctx actor.Context) {
	expect := &messages.ExpectServers{Deadline: time.Now().Add(c.cfg.StartupTimeout), Fleet: c.fleet}
	for _, s := range c.cfg.Servers {
		var filters [numKinds]func(string) bool
		filters[messages.Tools] = s.Tools.Allows
		filters[messages.Prompts] = s.Prompts.Allows
		expect.Servers = append(expect.Servers, messages.ExpectedServer{Name: s.Name, Prefix: s.Prefix, Enabled: s.Enabled, Filters: filters})
	}
	ctx.Send(c.router, expect)
	ctx.Send(c.fleet, &applyServers{servers: c.cfg.Servers})
}
