// Command plugboard is one MCP server in front of many: it starts and
// supervises the MCP servers in its configuration and presents their tools,
// prompts and resources to a client as one namespaced set.
//
// Usage:
//
//	plugboard [stdio] [flags]   serve one client on stdin/stdout (what desktop clients start)
//	plugboard tools [flags]     start the servers, print the client-facing catalog, exit
//	plugboard serve [flags]     serve many clients over HTTP (/mcp, /sse, /ws) and a unix socket
//	plugboard attach            bridge stdin/stdout to a running plugboard serve
//	plugboard token             print the bearer token plugboard serve requires over HTTP
//	plugboard status            show the servers of a running plugboard serve
//	plugboard logs NAME [-f]    print a server's stderr kept by a running plugboard serve
//	plugboard reload            make a running plugboard serve read its configuration again
//	plugboard restart NAME...   restart servers of a running plugboard serve
//	plugboard version           print the version (also plugboard --version)
//	plugboard completion SHELL  print a completion script for bash, zsh, fish or powershell
//	plugboard help [COMMAND]    describe plugboard or a command (also --help, -h)
//
// The command tree is built with cobra in commands.go; each command's
// RunE calls a run function (runStdio, runServe, ...) that returns the exit
// status: 0 ok, 1 failure, 2 usage (a bad flag or command, a bad
// configuration).
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/plugboard/plugboard/actors"
	"github.com/plugboard/plugboard/config"
	"github.com/plugboard/plugboard/transports"
	"github.com/spf13/pflag"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2 // bad flags or a bad configuration
)

// shutdownGrace bounds how long plugboard waits for its servers to exit.
const shutdownGrace = 10 * time.Second

func main() {
	shrinkActorRegistry()
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func displayDefaultPath() string {
	if p := config.DefaultPath(); p != "" {
		return p
	}
	return "$XDG_CONFIG_HOME/plugboard/config.yaml"
}

// load loads the configuration named by the parsed flags in fs (the flags
// of commonFlags), printing any problem; with a plugged.in API key, it
// also asks the App for its servers (its cached list when it does not
// answer) and returns the App's source.
func load(fs *pflag.FlagSet, stderr io.Writer) (*config.Config, *slog.Logger, *appSource, int) {
	app, err := appFromFlags(fs)
	if err != nil {
		fmt.Fprintln(stderr, "plugboard:", err)
		return nil, nil, nil, exitUsage
	}
	file, _ := fs.GetString("config")
	explicit := file != "" || os.Getenv("PLUGBOARD_CONFIG") != ""
	if file == "" {
		file = os.Getenv("PLUGBOARD_CONFIG")
	}
	if file == "" {
		file = config.DefaultPath()
	}
	var cfg *config.Config
	if app != nil && !explicit {
		cfg, err = config.LoadOptional(file, fs) // the App may be the only source
	} else {
		cfg, err = config.Load(file, fs)
	}
	if err != nil {
		fmt.Fprintln(stderr, "plugboard:", err)
		return nil, nil, nil, exitUsage
	}
	log := newLogger(stderr, cfg.LogLevel)
	slog.SetDefault(log) // mcp-go's transports log through the default logger
	var src *appSource
	if app != nil {
		src = newAppSource(app, log)
		ctx, cancel := context.WithTimeout(context.Background(), appFetchTimeout)
		_, _ = src.fetch(ctx) // a failure is logged; the cached list stands in
		cancel()
		src.merge(cfg)
	}
	for _, w := range cfg.Warnings {
		log.Warn("config", "warning", w)
	}
	servePprof(log)
	return cfg, log, src, exitOK
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // validated by config.Load
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// runStdio serves one client on stdin and stdout until stdin ends or a
// signal arrives. Nothing but protocol frames goes to stdout.
func runStdio(fs *pflag.FlagSet, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, log, app, code := load(fs, stderr)
	if cfg == nil {
		return code
	}
	log.Info("plugboard starting", "version", actors.Version, "config", cfg.Source, "servers", len(cfg.Servers))
	children := childRecords(cfg, log)
	tracer, stopTracing := startTracing(log)
	defer stopTracing()
	opts := actors.Options{EraCache: eraCachePath(), Children: children, Tracer: tracer}
	app.options(&opts)
	sys := actors.Start(cfg, log, opts)
	watching, stopWatching := context.WithCancel(context.Background())
	defer stopWatching()
	go manageMemory(watching)
	app.start(watching, sys, startReloading(watching, cfg, fs, sys, log, app))
	done := sys.ServeStream(stdin, stdout, transports.DefaultMaxFrame)

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)
	select {
	case <-done:
		log.Info("client closed the session; shutting down")
	case sig := <-signals:
		log.Info("shutting down", "signal", sig.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := sys.Shutdown(ctx); err != nil {
		log.Error("shutdown", "err", err)
		return exitFailure
	}
	children.Close()
	return exitOK
}

// childRecords opens this run's records of its servers' pids in the state
// directory, after reporting (and, where provably theirs, killing) the
// servers a dead plugboard of the same configuration left running. When
// the state directory is unusable it warns and records nothing: serving
// the client matters more.
func childRecords(cfg *config.Config, log *slog.Logger) *transports.ChildRecords {
	dir := transports.DefaultStateDir()
	if err := transports.EnsurePrivateDir(dir); err != nil {
		log.Warn("not recording the servers' pids", "err", err)
		return nil
	}
	r, err := transports.OpenChildRecords(dir, cfg.Source, log)
	if err != nil {
		log.Warn("not recording the servers' pids", "err", err)
		return nil
	}
	return r
}

// eraCachePath is where plugboard remembers which protocol generation each
// server speaks: PLUGBOARD_ERA_CACHE if set ("off" for nowhere), else the
// user's cache directory.
func eraCachePath() string {
	if p, ok := os.LookupEnv("PLUGBOARD_ERA_CACHE"); ok {
		if p == "off" {
			return ""
		}
		return p
	}
	return actors.DefaultEraCache()
}
