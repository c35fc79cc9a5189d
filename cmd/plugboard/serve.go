package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/plugboard/plugboard/actors"
	"github.com/plugboard/plugboard/transports"
	"github.com/spf13/pflag"
)

// serveOffer is what a shared plugboard offers its servers of its
// clients' capabilities: everything; a session whose client lacks one
// answers the server's request with an error.
const serveOffer = `{"sampling":{},"elicitation":{"form":{},"url":{}},"roots":{"listChanged":true}}`

// defaultSocket is where `plugboard serve` listens for local stream
// clients and where `plugboard attach` finds it: in the private state
// directory.
func defaultSocket() string {
	return filepath.Join(transports.DefaultStateDir(), "plugboard.sock")
}

func serveFlags(fs *pflag.FlagSet) *string {
	fs.String("listen", "127.0.0.1:8931", "address of the HTTP fronts (/mcp, /sse, /ws, /healthz, /metrics) (env PLUGBOARD_LISTEN)")
	fs.String("auth-token", "", "bearer token clients must send; required off loopback (env PLUGBOARD_AUTH_TOKEN)")
	fs.StringSlice("allowed-origins", nil, "browser origins allowed besides loopback ones, or * (env PLUGBOARD_ALLOWED_ORIGINS)")
	fs.StringSlice("allowed-hosts", nil, "Host header names allowed besides loopback ones, or * (env PLUGBOARD_ALLOWED_HOSTS)")
	fs.Duration("session-idle", 30*time.Minute, "end HTTP sessions idle this long (env PLUGBOARD_SESSION_IDLE)")
	fs.Int("max-sessions", 10000, "most HTTP sessions at once (env PLUGBOARD_MAX_SESSIONS)")
	fs.Bool("no-auth", false, "serve HTTP without a bearer token: every local user's programs can then use your servers")
	fs.Duration("grace", 10*time.Second, "on SIGINT or SIGTERM, how long calls in flight get to finish before the servers stop")
	return fs.String("socket", defaultSocket(), `unix socket for local clients and plugboard attach; "" for none`)
}

// runServe runs plugboard as a daemon that many clients share: over HTTP
// (Streamable HTTP, legacy SSE, WebSocket) and a local unix socket.
func runServe(fs *pflag.FlagSet, socket *string, stderr io.Writer) int {
	cfg, log, app, code := load(fs, stderr)
	if cfg == nil {
		return code
	}
	noAuth, _ := fs.GetBool("no-auth")
	if noAuth && cfg.HTTP.AuthToken != "" {
		fmt.Fprintln(stderr, "plugboard: --no-auth and an auth token (--auth-token, PLUGBOARD_AUTH_TOKEN or http.auth_token) exclude each other")
		return exitUsage
	}
	host, _, _ := net.SplitHostPort(cfg.HTTP.Listen)
	if !transports.IsLoopbackHost(host) && noAuth {
		fmt.Fprintf(stderr, "plugboard: refusing to listen on %s, which is not a loopback address, without an auth token (drop --no-auth)\n", cfg.HTTP.Listen)
		return exitUsage
	}
	stateDir := transports.DefaultStateDir()
	if err := transports.EnsurePrivateDir(stateDir); err != nil {
		fmt.Fprintln(stderr, "plugboard: cannot use the state directory:", err)
		return exitFailure
	}
	token := cfg.HTTP.AuthToken
	if token == "" && !noAuth {
		var err error
		if token, err = transports.LoadOrCreateToken(stateDir); err != nil {
			fmt.Fprintln(stderr, "plugboard: auth token:", err)
			return exitFailure
		}
	}
	// The socket first: a plugboard that cannot own it starts nothing.
	var sockLn net.Listener
	if *socket != "" {
		var err error
		if sockLn, err = transports.ListenLocalSocket(*socket); err != nil {
			var inUse *transports.SocketInUseError
			if errors.As(err, &inUse) {
				fmt.Fprintf(stderr, "plugboard: %v: it serves this socket; stop it first, or give this one another --socket\n", err)
			} else {
				fmt.Fprintln(stderr, "plugboard: cannot own the local socket:", err)
			}
			return exitFailure
		}
		defer sockLn.Close()
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if errors.Is(err, syscall.EADDRINUSE) {
		fmt.Fprintf(stderr, "plugboard: %s is already in use, probably by another plugboard serve; choose another address with --listen (or PLUGBOARD_LISTEN, http.listen)\n", cfg.HTTP.Listen)
		return exitFailure
	}
	if err != nil {
		fmt.Fprintln(stderr, "plugboard:", err)
		return exitFailure
	}
	children := childRecords(cfg, log)
	tracer, stopTracing := startTracing(log)
	defer stopTracing()
	meter := newMetrics(cfg)
	opts := actors.Options{Offer: json.RawMessage(serveOffer), EraCache: eraCachePath(), Children: children, Metrics: meter, Tracer: tracer}
	app.options(&opts)
	sys := actors.Start(cfg, log, opts)
	watching, stopWatching := context.WithCancel(context.Background())
	defer stopWatching()
	go manageMemory(watching)
	reloads := startReloading(watching, cfg, fs, sys, log, app)
	app.start(watching, sys, reloads)
	parts := daemonParts{sys: sys, reloads: reloads, log: log, app: app, dashboardURL: dashboardURL(ln.Addr())}
	parts.dashboard = newDashboard(parts, token, meter)
	defer parts.dashboard.Close()
	observeServers(meter, sys, log)
	front := transports.NewHTTPFront(sys, transports.HTTPOptions{
		AuthToken: token, AllowedHosts: cfg.HTTP.AllowedHosts, AllowedOrigins: cfg.HTTP.AllowedOrigins,
		SessionIdle: cfg.HTTP.SessionIdle, MaxSessions: cfg.HTTP.MaxSessions, Log: log,
		Workspace: func(name string) (transports.SessionOpener, bool) { return sys.InWorkspace(name) },
		Dashboard: parts.dashboard.Handler(),
		Guarded:   map[string]http.Handler{"/metrics": meter.Handler()},
		Refused:   meter.Refused,
	})
	srv := &http.Server{Handler: front.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go front.Run()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("HTTP server", "err", err)
		}
	}()
	switch {
	case noAuth:
		log.Warn("HTTP without authentication (--no-auth): any program of any local user can use these servers")
	case cfg.HTTP.AuthToken != "":
		log.Info("HTTP requires the bearer token given by --auth-token, PLUGBOARD_AUTH_TOKEN or http.auth_token")
	default:
		log.Info("HTTP requires the bearer token that `plugboard token` prints", "file", filepath.Join(stateDir, transports.TokenFile))
	}
	log.Info("listening", "url", "http://"+ln.Addr().String()+"/mcp", "auth", token != "")
	log.Info("dashboard", "url", parts.dashboardURL)
	var streams *socketSessions
	if sockLn != nil {
		log.Info("listening", "socket", *socket)
		streams = newSocketSessions()
		go streams.accept(sockLn, parts)
	}

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)
	log.Info("shutting down", "signal", (<-signals).String())
	grace, _ := fs.GetDuration("grace")
	parts.dashboard.Close() // its event streams would hold the HTTP server's shutdown
	// Stop accepting: the socket file goes with its listener, and the
	// HTTP server closes its listener and idle connections at once.
	if sockLn != nil {
		sockLn.Close()
	}
	httpDone := make(chan struct{})
	httpCtx, httpCancel := context.WithTimeout(context.Background(), grace+shutdownGrace)
	defer httpCancel()
	go func() {
		_ = srv.Shutdown(httpCtx)
		close(httpDone)
	}()
	awaitCalls(sys, grace, signals, log)
	streams.drain(2 * time.Second)
	front.Close()
	<-httpDone
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := sys.Shutdown(ctx); err != nil {
		log.Error("shutdown", "err", err)
		return exitFailure
	}
	children.Close()
	return exitOK
}

// runAttach bridges this process's stdin and stdout to a running
// `plugboard serve` over its unix socket: a desktop client starts
// `plugboard attach` and shares the daemon's servers.
func runAttach(socket *string, spawn *bool, configPath, workspace *string, stdin io.Reader, stdout, stderr io.Writer) int {
	// Only the unix socket: no token needed, its owner and the peer's uid
	// are checked instead.
	conn, err := transports.DialLocalSocket(*socket)
	if err != nil && *spawn {
		conn, err = spawnDaemon(*socket, *configPath)
		if err != nil {
			fmt.Fprintf(stderr, "plugboard attach --spawn: no plugboard serve answered at %s and starting one failed: %v\n", *socket, err)
			return exitFailure
		}
	} else if err != nil {
		fmt.Fprintf(stderr, "plugboard attach: no plugboard serve of yours at %s (start one with plugboard serve, or use attach --spawn): %v\n", *socket, err)
		return exitFailure
	}
	defer conn.Close()
	if *workspace != "" {
		if err := openInWorkspace(conn, *workspace); err != nil {
			fmt.Fprintf(stderr, "plugboard attach --workspace %s: %v\n", *workspace, err)
			return exitFailure
		}
	}
	if err := newAttachBridge(*socket, conn, stdout).run(stdin); err != nil {
		fmt.Fprintln(stderr, "plugboard attach:", err)
		return exitFailure
	}
	return exitOK
}

// openInWorkspace asks the daemon on conn for a session in workspace and
// reads its answer, a line, byte by byte: what follows is the session's.
func openInWorkspace(conn net.Conn, workspace string) error {
	if _, err := io.WriteString(conn, sessionRequest+" "+workspace+"\n"); err != nil {
		return err
	}
	_ = conn.SetReadDeadline(time.Now().Add(statusTimeout))
	defer conn.SetReadDeadline(time.Time{})
	var line []byte
	b := make([]byte, 1)
	for len(line) < maxRequestLine {
		if _, err := conn.Read(b); err != nil {
			return fmt.Errorf("plugboard serve did not answer: %w", err)
		}
		if b[0] == '\n' {
			break
		}
		line = append(line, b[0])
	}
	var answer struct {
		Workspace *string `json:"workspace"`
		Error     string  `json:"error"`
	}
	if err := json.Unmarshal(line, &answer); err != nil || answer.Workspace == nil {
		if answer.Error != "" {
			return errors.New(answer.Error)
		}
		return fmt.Errorf("plugboard serve answered %q", line)
	}
	return nil
}

// runToken prints the bearer token `plugboard serve` requires over HTTP
// (unless --auth-token or PLUGBOARD_AUTH_TOKEN replace it), creating it if
// missing, for pasting into clients' configurations.
func runToken(stdout, stderr io.Writer) int {
	dir := transports.DefaultStateDir()
	if err := transports.EnsurePrivateDir(dir); err != nil {
		fmt.Fprintln(stderr, "plugboard: cannot use the state directory:", err)
		return exitFailure
	}
	token, err := transports.LoadOrCreateToken(dir)
	if err != nil {
		fmt.Fprintln(stderr, "plugboard: auth token:", err)
		return exitFailure
	}
	fmt.Fprintln(stdout, token)
	return exitOK
}
