package actors

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/plugboard/plugboard/config"
	"github.com/plugboard/plugboard/transports"
)

// loginRetry is how often a server that needs a login is tried again: the
// retry reads the stored login, so a plugboard login made meanwhile is
// taken up within it. It is not the failure backoff: nothing is wrong with
// the server, and the user may take a while.
const loginRetry = 10 * time.Second

// authSpec is how the server's connection logs in, should the server ask.
// A url server without auth settings still gets a login when it asks for
// a bearer token. A server that wants more scope than the login has gets
// a login again in the browser, when one can be opened (step-up).
func authSpec(cfg config.Server, log *slog.Logger) *transports.AuthSpec {
	spec := &transports.AuthSpec{StepUp: true, Log: log}
	if a := cfg.Auth; a != nil {
		spec.ClientID, spec.ClientSecret, spec.Scopes, spec.RedirectPort = a.ClientID, a.ClientSecret, a.Scopes, a.RedirectPort
		spec.Required = true
	}
	return spec
}

// endedBy is the serverEnded of an incarnation whose connection ended, or
// failed to start, with reason; when err or the connection says the
// server wants a login, the reason says how to give it one instead.
func (s *serverActor) endedBy(inc uint64, reason string, err error, conn transports.Downstream) *serverEnded {
	nl := transports.AsNeedsLogin(err)
	if r, ok := conn.(interface {
		LoginNeeded() *transports.NeedsLoginError
	}); ok && nl == nil {
		nl = r.LoginNeeded()
	}
	if nl == nil {
		return &serverEnded{incarnation: inc, reason: reason}
	}
	s.log.Debug("the server wants a login", "why", nl.Error())
	return &serverEnded{incarnation: inc, reason: needsLoginReason(s.cfg.Name, nl.Scope), needsLogin: true}
}

// needsLoginReason is what status and every call to the server show of a
// server that wants a login.
func needsLoginReason(server, scope string) string {
	reason := "needs login: run plugboard login " + server
	if scope != "" {
		reason += fmt.Sprintf(" (the server asks for scope %q)", scope)
	}
	return reason
}
