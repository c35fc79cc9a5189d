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
}

// ExpectedServer is one configured server as the router needs it.
type ExpectedServer struct {
	Name    string
	Prefix  string
	Enabled bool
	Filters [numKinds]func(name string) bool // nil means all; only Tools and Prompts are filtered
}
