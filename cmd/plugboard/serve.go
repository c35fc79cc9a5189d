package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
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
// clients and where `plugboard attach` finds it.
func defaultSocket() string {
	if dir := os.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "plugboard.sock")
	}
	return filepath.Join(os.TempDir(), "plugboard-"+strconv.Itoa(os.Getuid())+".sock")
}

func serveFlags(fs *pflag.FlagSet) *string {
	fs.String("listen", "127.0.0.1:8931", "address of the HTTP fronts (/mcp, /sse, /ws, /healthz) (env PLUGBOARD_LISTEN)")
	fs.String("auth-token", "", "bearer token clients must send; required off loopback (env PLUGBOARD_AUTH_TOKEN)")
	fs.StringSlice("allowed-origins", nil, "browser origins allowed besides loopback ones, or * (env PLUGBOARD_ALLOWED_ORIGINS)")
	fs.StringSlice("allowed-hosts", nil, "Host header names allowed besides loopback ones, or * (env PLUGBOARD_ALLOWED_HOSTS)")
	fs.Duration("session-idle", 30*time.Minute, "end HTTP sessions idle this long (env PLUGBOARD_SESSION_IDLE)")
	fs.Int("max-sessions", 10000, "most HTTP sessions at once (env PLUGBOARD_MAX_SESSIONS)")
	return fs.String("socket", defaultSocket(), `unix socket for local clients and plugboard attach; "" for none`)
}

// runServe runs plugboard as a daemon that many clients share: over HTTP
// (Streamable HTTP, legacy SSE, WebSocket) and a local unix socket.
func runServe(args []string, stderr io.Writer) int {
	fs, path := commonFlags("plugboard serve")
	socket := serveFlags(fs)
	fs.SetOutput(stderr)
	cfg, log, code := load(fs, path, args, stderr)
	if cfg == nil {
		return code
	}
	host, _, _ := net.SplitHostPort(cfg.HTTP.Listen)
	if !transports.IsLoopbackHost(host) && cfg.HTTP.AuthToken == "" {
		fmt.Fprintf(stderr, "plugboard: refusing to listen on %s, which is not a loopback address, without an auth token (--auth-token or PLUGBOARD_AUTH_TOKEN)\n", cfg.HTTP.Listen)
		return exitUsage
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		fmt.Fprintln(stderr, "plugboard:", err)
		return exitFailure
	}
	sys := actors.Start(cfg, log, actors.Options{Offer: json.RawMessage(serveOffer), EraCache: eraCachePath()})
	front := transports.NewHTTPFront(sys, transports.HTTPOptions{
		AuthToken: cfg.HTTP.AuthToken, AllowedHosts: cfg.HTTP.AllowedHosts, AllowedOrigins: cfg.HTTP.AllowedOrigins,
		SessionIdle: cfg.HTTP.SessionIdle, MaxSessions: cfg.HTTP.MaxSessions, Log: log,
	})
	srv := &http.Server{Handler: front.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go front.Run()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("HTTP server", "err", err)
		}
	}()
	log.Info("listening", "url", "http://"+ln.Addr().String()+"/mcp", "auth", cfg.HTTP.AuthToken != "")
	var sockLn net.Listener
	if *socket != "" {
		if sockLn, err = listenSocket(*socket); err != nil {
			log.Warn("no local socket", "path", *socket, "err", err)
		} else {
			log.Info("listening", "socket", *socket)
			go acceptStreams(sockLn, sys, log)
		}
	}

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)
	log.Info("shutting down", "signal", (<-signals).String())
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if sockLn != nil {
		sockLn.Close()
	}
	front.Close()
	_ = srv.Shutdown(ctx)
	if err := sys.Shutdown(ctx); err != nil {
		log.Error("shutdown", "err", err)
		return exitFailure
	}
	return exitOK
}

// listenSocket listens on a unix socket only its user can use, replacing
// a stale socket file but never a live one.
func listenSocket(path string) (net.Listener, error) {
	if conn, err := net.Dial("unix", path); err == nil {
		conn.Close()
		return nil, fmt.Errorf("another plugboard is listening on %s", path)
	}
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// acceptStreams serves each local connection: a session of
// newline-delimited JSON-RPC, or a status request (serveSocketConn).
func acceptStreams(ln net.Listener, sys *actors.System, log *slog.Logger) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go serveSocketConn(conn, sys, log)
	}
}

// runAttach bridges this process's stdin and stdout to a running
// `plugboard serve` over its unix socket: a desktop client starts
// `plugboard attach` and shares the daemon's servers.
func runAttach(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("plugboard attach", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	socket := fs.String("socket", defaultSocket(), "the unix socket of plugboard serve")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	conn, err := net.Dial("unix", *socket)
	if err != nil {
		fmt.Fprintf(stderr, "plugboard attach: no plugboard serve at %s: %v\n", *socket, err)
		return exitFailure
	}
	defer conn.Close()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(stdout, conn)
		close(done)
	}()
	_, _ = io.Copy(conn, stdin)
	if uc, ok := conn.(*net.UnixConn); ok {
		_ = uc.CloseWrite()
	}
	<-done
	return exitOK
}
