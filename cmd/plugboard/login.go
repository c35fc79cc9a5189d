package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/plugboard/plugboard/config"
	"github.com/plugboard/plugboard/transports"
	"github.com/spf13/pflag"
)

// loginServer returns the url server called name of the configuration,
// with the settings its login uses; it says what is wrong on stderr and
// returns a nil OAuth when there is none.
func loginServer(fs *pflag.FlagSet, command, name string, stderr io.Writer) (*config.Server, *transports.OAuth, int) {
	cfg, _, _, code := load(fs, stderr)
	if cfg == nil {
		return nil, nil, code
	}
	var srv *config.Server
	for i := range cfg.Servers {
		if cfg.Servers[i].Name == name {
			srv = &cfg.Servers[i]
		}
	}
	switch {
	case srv == nil:
		fmt.Fprintf(stderr, "plugboard %s: no server %q in the configuration\n", command, name)
		return nil, nil, exitFailure
	case srv.URL == "":
		fmt.Fprintf(stderr, "plugboard %s: server %s is a command server; logins are for url servers\n", command, name)
		return nil, nil, exitFailure
	}
	spec := transports.AuthSpec{}
	if a := srv.Auth; a != nil {
		spec = transports.AuthSpec{ClientID: a.ClientID, ClientSecret: a.ClientSecret, Scopes: a.Scopes, RedirectPort: a.RedirectPort, Required: true}
	}
	o, err := transports.NewOAuth(srv.URL, spec)
	if err != nil {
		fmt.Fprintf(stderr, "plugboard %s: %v\n", command, err)
		return nil, nil, exitFailure
	}
	return srv, o, exitOK
}

// runLogin logs in to one server: the authorization code flow with PKCE,
// in the user's browser, with the redirect to a loopback port; the tokens
// are stored where the daemon and stdio mode read them.
func runLogin(fs *pflag.FlagSet, name string, stdout, stderr io.Writer) int {
	srv, o, code := loginServer(fs, "login", name, stderr)
	if o == nil {
		return code
	}
	for k := range srv.Headers {
		if strings.EqualFold(k, "Authorization") {
			fmt.Fprintf(stderr, "plugboard login: server %s sends the Authorization header of its configuration, which a login would not replace; remove the header to log in\n", name)
			return exitFailure
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), transports.LoginTimeout)
	defer cancel()
	if err := login(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "plugboard login %s: %v\n", name, err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "logged in to %s\n", name)
	return exitOK
}

func login(ctx context.Context, o *transports.OAuth, stdout, stderr io.Writer) error {
	return o.BrowserLogin(ctx, func(authURL string) {
		fmt.Fprintf(stdout, "open this URL to log in: %s\n", authURL)
	}, stderr)
}

// openBrowser opens url with $BROWSER or the system's opener, in the
// background, for the command who (transports.OpenBrowser).
func openBrowser(url, who string, stderr io.Writer) <-chan struct{} {
	return transports.OpenBrowser(url, who, stderr)
}

// browserCommands are the commands openBrowser tries for url; none when
// there is neither $BROWSER nor a display.
func browserCommands(url string) [][]string {
	return transports.BrowserCommands(url)
}

// runLogout deletes the stored login to one server.
func runLogout(fs *pflag.FlagSet, name string, stdout, stderr io.Writer) int {
	_, o, code := loginServer(fs, "logout", name, stderr)
	if o == nil {
		return code
	}
	removed, err := o.Store().Delete()
	if err != nil {
		fmt.Fprintf(stderr, "plugboard logout %s: %v\n", name, err)
		return exitFailure
	}
	if !removed {
		fmt.Fprintf(stdout, "logged out of %s (no login was stored)\n", name)
		return exitOK
	}
	fmt.Fprintf(stdout, "logged out of %s\n", name)
	return exitOK
}
