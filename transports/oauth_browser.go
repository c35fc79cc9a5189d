package transports

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
)

// LoginTimeout is how long a login in the browser waits for the user to
// log in and the browser to come back.
const LoginTimeout = 5 * time.Minute

// BrowserWait bounds how long a login waits, once done, for the browser
// command to end.
const BrowserWait = 5 * time.Second

// BrowserLogin runs the authorization code flow with PKCE in the user's
// browser: it listens for the redirect on a loopback port, starts the
// login, gives show the authorization URL (which holds no secret), opens
// it (OpenBrowser) and waits for the redirect or ctx's end, then
// exchanges the code and stores the tokens. The browser command's output
// goes to stderr.
func (o *OAuth) BrowserLogin(ctx context.Context, show func(authURL string), stderr io.Writer) error {
	ln, err := o.listenLoopback()
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

	show(l.AuthorizationURL())
	browserDone := OpenBrowser(l.AuthorizationURL(), "plugboard login", stderr)
	defer func() {
		// The browser command writes to stderr: let it end before the
		// caller reads or closes it (bounded: a browser may stay open).
		select {
		case <-browserDone:
		case <-time.After(BrowserWait):
		}
	}()

	var r redirect
	select {
	case r = <-came:
	case <-ctx.Done():
		return fmt.Errorf("no redirect came back in time: %w", context.Cause(ctx))
	}
	if r.err != nil {
		return r.err
	}
	return l.Finish(ctx, r.code, r.state)
}

// redirect is what the browser brought back to the loopback listener.
type redirect struct {
	code, state string
	err         error
}

// listenLoopback listens on 127.0.0.1 at the port the login prefers: the
// configured one (which must be free), else the stored client's, else any.
func (o *OAuth) listenLoopback() (net.Listener, error) {
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
			got.err = fmt.Errorf("the authorization server refused: %s", textLine(q.Get("error")+" "+q.Get("error_description")))
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

// textLine is s on one line, at most 200 characters.
func textLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// CanOpenBrowser says whether OpenBrowser has a command to try: $BROWSER
// is set, or the system has an opener and a display.
func CanOpenBrowser() bool { return len(BrowserCommands("x")) > 0 }

// OpenBrowser opens url, in the background: with each command of
// $BROWSER in turn until one succeeds (entries separated by the path list
// separator, a %s in one replaced by the URL, else the URL appended, as
// Python's webbrowser and git do), else with the system's opener when
// there is a display. The commands' output goes to stderr, where who (the
// command) says when none of them worked. OpenBrowser returns a channel
// closed once the commands it tried are done.
func OpenBrowser(url, who string, stderr io.Writer) <-chan struct{} {
	done := make(chan struct{})
	commands := BrowserCommands(url)
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

// BrowserCommands are the command lines OpenBrowser tries for url; none
// when there is neither $BROWSER nor a display.
func BrowserCommands(url string) [][]string {
	var commands [][]string
	if env := os.Getenv("BROWSER"); env != "" {
		for _, entry := range strings.Split(env, string(os.PathListSeparator)) {
			if args := BrowserCommand(entry, url); args != nil {
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

// BrowserCommand is the command line of one $BROWSER entry for url; nil
// for an empty entry.
func BrowserCommand(entry, url string) []string {
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
