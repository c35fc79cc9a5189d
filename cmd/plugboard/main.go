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
//	plugboard version           print the version
package main

import (
	"context"
	"errors"
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
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "stdio"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "stdio":
		return runStdio(args, stdin, stdout, stderr)
	case "tools":
		return runTools(args, stdout, stderr)
	case "serve":
		return runServe(args, stderr)
	case "attach":
		return runAttach(args, stdin, stdout, stderr)
	case "token":
		return runToken(args, stdout, stderr)
	case "status":
		return runStatus(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "plugboard", actors.Version)
		return exitOK
	case "help":
		usage(stdout)
		return exitOK
	default:
		fmt.Fprintf(stderr, "plugboard: unknown command %q\n", cmd)
		usage(stderr)
		return exitUsage
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  plugboard [stdio] [flags]   serve one MCP client on stdin/stdout
  plugboard tools [flags]     start the servers, print the catalog a client sees, exit
  plugboard serve [flags]     serve many clients over HTTP (/mcp, /sse, /ws) and a unix socket
  plugboard attach [--socket PATH]  bridge stdin/stdout to a running plugboard serve
  plugboard token             print the bearer token plugboard serve requires over HTTP
  plugboard status [--socket PATH] [--json]  show each server of a running plugboard serve:
                              state, restarts, last failure
  plugboard version           print the version

flags:
`)
	fs, _ := commonFlags("plugboard")
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// commonFlags are the flags every command that loads a configuration takes.
func commonFlags(name string) (*pflag.FlagSet, *string) {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	path := fs.StringP("config", "c", "", "configuration file (default $PLUGBOARD_CONFIG, else "+displayDefaultPath()+")")
	fs.Duration("startup-timeout", config.DefaultStartupTimeout, "how long list requests wait for servers still starting (env PLUGBOARD_STARTUP_TIMEOUT)")
	fs.String("log-level", "info", "debug, info, warn or error (env PLUGBOARD_LOG_LEVEL)")
	fs.Int("page-size", 1000, "items per page of the lists plugboard returns (env PLUGBOARD_PAGE_SIZE)")
	return fs, path
}

func displayDefaultPath() string {
	if p := config.DefaultPath(); p != "" {
		return p
	}
	return "$XDG_CONFIG_HOME/plugboard/config.yaml"
}

// load parses the flags and loads the configuration, printing any problem.
func load(fs *pflag.FlagSet, path *string, args []string, stderr io.Writer) (*config.Config, *slog.Logger, int) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil, nil, exitOK
		}
		fmt.Fprintln(stderr, "plugboard:", err)
		return nil, nil, exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "plugboard: unexpected argument %q\n", fs.Arg(0))
		return nil, nil, exitUsage
	}
	file := *path
	if file == "" {
		file = os.Getenv("PLUGBOARD_CONFIG")
	}
	if file == "" {
		file = config.DefaultPath()
	}
	cfg, err := config.Load(file, fs)
	if err != nil {
		fmt.Fprintln(stderr, "plugboard:", err)
		return nil, nil, exitUsage
	}
	log := newLogger(stderr, cfg.LogLevel)
	slog.SetDefault(log) // mcp-go's transports log through the default logger
	for _, w := range cfg.Warnings {
		log.Warn("config", "warning", w)
	}
	servePprof(log)
	return cfg, log, exitOK
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // validated by config.Load
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// runStdio serves one client on stdin and stdout until stdin ends or a
// signal arrives. Nothing but protocol frames goes to stdout.
func runStdio(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs, path := commonFlags("plugboard stdio")
	fs.SetOutput(stderr)
	cfg, log, code := load(fs, path, args, stderr)
	if cfg == nil {
		return code
	}
	log.Info("plugboard starting", "version", actors.Version, "config", cfg.Source, "servers", len(cfg.Servers))
	children := childRecords(cfg, log)
	sys := actors.Start(cfg, log, actors.Options{EraCache: eraCachePath(), Children: children})
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
