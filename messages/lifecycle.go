package messages

import (
	"fmt"
	"github.com/asynkron/protoactor-go/actor"
	"time"
)

// ServerFailure is the reason a server actor fails with, for its supervisor:
// the actor's downstream exited, broke or could not start.
type ServerFailure struct {
	Server string
	Uptime time.Duration // how long the incarnation was ready; zero if never
	Reason string
	// NeedsLogin says the server wants a login (plugboard login), which
	// no restart gives it.
	NeedsLogin bool
}

func (f *ServerFailure) Error() string {
	return fmt.Sprintf("server %s: %s", f.Server, f.Reason)
}

// ExpectServers tells the router which servers the configuration holds, so
// that list requests can wait for the ones still starting.
type ExpectServers struct {
	Servers  []ExpectedServer
	Deadline time.Time  // list requests wait for starting servers until then
	Fleet    *actor.PID // where client capabilities are offered
	// Reload marks a configuration after the first: servers the router
	// knows and Servers lacks are gone, and Restarted (added or changed)
	// start afresh. Catalog changes are announced once, when every
	// restarted server is ready or failed once, or at Deadline.
	Reload    bool
	Restarted []string
	// DisabledTools are the client-facing tool names the user disabled.
	DisabledTools []string
	// Workspaces are the named sets of servers, and DefaultWorkspace the
	// one sessions that chose none see ("" for every server).
	Workspaces       map[string][]string
	DefaultWorkspace string
}

// ServersNeeded tells the fleet which servers the workspaces in use need
// (All: every server); the fleet starts those not running, and stops the
// others once they have not been needed for the idle grace.
type ServersNeeded struct {
	All   bool
	Names map[string]bool
}

// MayStopIdle asks the router whether a server no workspace in use needed
// for the idle grace may stop; answered with IdleStop. A yes makes the
// router route nothing more to it.
type MayStopIdle struct{ Server string }

// IdleStop answers MayStopIdle.
type IdleStop struct {
	Server string
	OK     bool
}

// ServersExpected is the router's answer to a reload's ExpectServers: it
// routes nothing more to the servers the reload stops.
type ServersExpected struct{}

// ExpectedServer is one configured server as the router needs it.
type ExpectedServer struct {
	Name    string
	Prefix  string
	Enabled bool
	Filters [numKinds]func(name string) bool // nil means all; only Tools and Prompts are filtered
	// Isolated: each client session gets an instance of its own
	// (isolation: session).
	Isolated bool
}
