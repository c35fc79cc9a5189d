package main

import (
	"context"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/plugboard/plugboard/config"
	"github.com/plugboard/plugboard/transports"
	"github.com/spf13/pflag"
)

// loginTimeout is how long plugboard login waits for the user to log in
// and the browser to come back.
const loginTimeout = 5 * time.Minute

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
	ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
	defer cancel()
	if err := login(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "plugboard login %s: %v\n", name, err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "logged in to %s\n", name)
	return exitOK
}

// redirect is what the browser brought back to the loopback listener.
type redirect struct {
	code, state string
	err         error
}

func login(ctx context.Context, o *transports.OAuth, stdout, stderr io.Writer) error {
	ln, err := listenLoopback(o)
	if err != nil {
		return err
	}
	defer ln.Close()
	redirectURI := fmt.Sprintf("http://127.0.0.1:%d/callback", ln.Addr().(*net.TCPAddr).Port)
	l, err := o.StartLogin(ctx, redirectURI)
	if err != nil {
		return err
	}
	came := make(chan redirect, 1)
	srv := &http.Server{Handler: callbackHandler(came), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	fmt.Fprintf(stdout, "open this URL to log in: %s\n", l.AuthorizationURL())
	browserDone := openBrowser(l.AuthorizationURL(), "plugboard login", stderr)
	defer func() {
		// The browser command writes to stderr: let it end before the
		// caller reads or closes it (bounded: a browser may stay open).
		select {
		case <-browserDone:
		case <-time.After(browserWait):
		}
	}()

	var r redirect
	select {
	case r = <-came:
	case <-ctx.Done():
		return fmt.Errorf("no redirect came back within %s", loginTimeout)
	}
	if r.err != nil {
		return r.err
	}
	return l.Finish(ctx, r.code, r.state)
}

// listenLoopback listens on 127.0.0.1 at the port the login prefers: the
// configured one (which must be free), else the stored client's, else any.
func listenLoopback(o *transports.OAuth) (net.Listener, error) {
	port, configured := o.PreferredRedirectPort()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err == nil || configured || port == 0 {
		if err != nil {
			return nil, fmt.Errorf("listening for the redirect on auth.redirect_port %d: %w", port, err)
		}
		return ln, nil
	}
	// The registered client's port is taken: a new one, and a new client.
	return net.Listen("tcp", "127.0.0.1:0")
}

// callbackHandler takes the authorization response at /callback (RFC 6749
// §4.1.2) once, and tells the browser it may close.
func callbackHandler(came chan<- redirect) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var got redirect
		switch {
		case q.Get("error") != "":
			// The error code is the authorization server's word, no secret;
			// its description may be anything, so it is shown only escaped.
			got.err = fmt.Errorf("the authorization server refused: %s", oneLine(q.Get("error")+" "+q.Get("error_description")))
		case q.Get("code") == "":
			http.Error(w, "no authorization code", http.StatusBadRequest)
			return
		default:
			got.code, got.state = q.Get("code"), q.Get("state")
		}
		select {
		case came <- got:
		default: // one redirect is taken; the rest are late
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if got.err != nil {
			fmt.Fprintf(w, "<!doctype html><title>plugboard</title><p>The login failed: %s</p>", html.EscapeString(got.err.Error()))
			return
		}
		io.WriteString(w, "<!doctype html><title>plugboard</title><p>plugboard is logged in. You can close this window.</p>")
	})
	return mux
}

// oneLine is s on one line, at most 200 characters.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// browserCommands are the commands that open url, in turn until one
// succeeds: each command of $BROWSER (entries separated by the path list
// separator, a %s in one replaced by the URL, else the URL appended, as
// Python's webbrowser and git do), else the system's opener when there is
// a display; none without either.
func browserCommands(url string) [][]string {
	var commands [][]string
	if env := os.Getenv("BROWSER"); env != "" {
		for _, entry := range strings.Split(env, string(os.PathListSeparator)) {
			if args := browserCommand(entry, url); args != nil {
				commands = append(commands, args)
			}
		}
		return commands
	}
	switch {
	case runtime.GOOS == "darwin":
		commands = [][]string{{"open", url}}
	case os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != "":
		commands = [][]string{{"xdg-open", url}}
	}
	return commands
}

// openBrowser opens url in the background with browserCommands. Their
// output goes to stderr: stdout is the command's (who's). openBrowser
// returns a channel closed once the commands it tried are done.
func openBrowser(url, who string, stderr io.Writer) <-chan struct{} {
	done := make(chan struct{})
	commands := browserCommands(url)
	if len(commands) == 0 {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		for _, args := range commands {
			cmd := exec.Command(args[0], args[1:]...)
			cmd.Stdout, cmd.Stderr = stderr, stderr
			if cmd.Run() == nil {
				return
			}
		}
		fmt.Fprintln(stderr, who+": could not open a browser; open the URL above yourself")
	}()
	return done
}

// browserWait bounds how long login waits, once done, for the browser
// command to end.
const browserWait = 5 * time.Second

// browserCommand is the command line of one $BROWSER entry for url; nil
// for an empty entry.
func browserCommand(entry, url string) []string {
	args := strings.Fields(entry)
	if len(args) == 0 {
		return nil
	}
	replaced := false
	for i, a := range args {
		if strings.Contains(a, "%s") {
			args[i] = strings.ReplaceAll(a, "%s", url)
			replaced = true
		}
	}
	if !replaced {
		args = append(args, url)
	}
	return args
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
