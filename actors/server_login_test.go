package actors

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/plugboard/plugboard/config"
	"github.com/plugboard/plugboard/transports"
)

// loginConn is a connection that ended for want of a login.
type loginConn struct {
	transports.Downstream
	login *transports.NeedsLoginError
}

func (c loginConn) LoginNeeded() *transports.NeedsLoginError { return c.login }

func TestEndedByNeedsLogin(t *testing.T) {
	s := &serverActor{cfg: config.Server{Name: "gh"}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	nl := &transports.NeedsLoginError{Why: "no login is stored"}
	tests := []struct {
		name       string
		err        error
		conn       transports.Downstream
		wantReason string
		wantLogin  bool
	}{
		{"another failure", errors.New("boom"), nil, "failed to start: boom", false},
		{"a wrapped needs-login error", fmt.Errorf("posting: %w", nl), nil, "needs login: run plugboard login gh", true},
		{"a connection that ended for it", nil, loginConn{login: nl}, "needs login: run plugboard login gh", true},
		{"a connection that ended otherwise", nil, loginConn{}, "failed to start: boom", false},
		{"a scope to step up to", &transports.NeedsLoginError{Why: "x", Scope: "repo"}, nil, `needs login: run plugboard login gh (the server asks for scope "repo")`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.endedBy(7, "failed to start: boom", tt.err, tt.conn)
			if got.reason != tt.wantReason || got.needsLogin != tt.wantLogin || got.incarnation != 7 {
				t.Errorf("endedBy = %+v, want reason %q, needsLogin %t", got, tt.wantReason, tt.wantLogin)
			}
		})
	}
}

func TestAuthSpec(t *testing.T) {
	if got := authSpec(config.Server{URL: "https://h"}, nil); got == nil || got.Required || got.ClientID != "" {
		t.Errorf("no auth settings: %+v, want a login only if the server asks", got)
	}
	got := authSpec(config.Server{URL: "https://h", Auth: &config.Auth{ClientID: "id", ClientSecret: "sec", Scopes: []string{"a"}, RedirectPort: 9}}, nil)
	if !got.Required || !got.StepUp || got.ClientID != "id" || got.ClientSecret != "sec" || got.Scopes[0] != "a" || got.RedirectPort != 9 {
		t.Errorf("with auth settings: %+v", got)
	}
}
