package messages

import "time"

// SupervisionRequest asks the fleet how it supervises each server,
// answered with a Supervision.
type SupervisionRequest struct{}

// Supervision is the fleet's record of every server it runs.
type Supervision struct {
	Servers []SupervisedServer
}

// SupervisedServer is one server as its supervisor sees it. Target holds
// no secret: a URL is redacted, a command is shown without its arguments.
type SupervisedServer struct {
	Name         string
	Transport    string
	Target       string    // the redacted URL, or the command
	Restarts     int       // restarts since the server was (re)configured
	FirstRestart time.Time // zero when never restarted
	LastReason   string    // why it last failed, "" when it never did
	LastFailure  time.Time
	NextStart    time.Time // when a pending restart fires; zero when none is pending
	NeedsLogin   bool      // it last failed for want of a login
}
