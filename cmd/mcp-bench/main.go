// Command mcp-bench is a load generator for MCP servers. It measures a
// stdio server (a command it starts, one process per session) or a
// Streamable HTTP endpoint: the throughput and latency distribution of
// tools/call, the latency of whole tools/list listings (--list), the
// time from start to the first complete tools/list (--startup), or the
// memory a server holds for sessions open and idle (--idle), with errors
// counted by kind and, for stdio servers and a process named by
// --watch-pid, their memory.
//
// It implements the client side itself, with small per-call overhead, so
// that it can measure proxies that add tens of microseconds. It is a
// measuring tool, not an MCP client library: it offers servers no client
// capabilities and answers their requests only with errors (ping aside).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal ends the run gracefully; a second one kills.
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// report is a finished benchmark's result.
type report interface {
	writeTable(w io.Writer)
}

// run runs the benchmark the command line asks for and returns the exit
// status: 0 when it ran (whatever errors the calls met), 1 when it could
// not, 2 for a bad command line.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, err := parseOptions(args, stderr)
	if errors.Is(err, errHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bench: %v\n", err)
		return 2
	}
	var r report
	switch opts.mode {
	case modeStartup:
		r, err = runStartup(ctx, opts)
	case modeIdle:
		r, err = runIdle(ctx, opts)
	case modeRelist:
		r, err = runRelist(ctx, opts)
	default:
		r, err = runBench(ctx, opts)
	}
	if err != nil {
		fmt.Fprintf(stderr, "mcp-bench: %v\n", err)
		return 1
	}
	if opts.json {
		if err := writeJSON(stdout, r); err != nil {
			fmt.Fprintf(stderr, "mcp-bench: writing the report: %v\n", err)
			return 1
		}
		return 0
	}
	r.writeTable(stdout)
	return 0
}

// newTarget makes the target the options name.
func newTarget(opts options) target {
	if opts.url != "" {
		t := newHTTPTarget(opts.url, opts.headers, opts.timeout, opts.concurrency+opts.sessions+4)
		t.transport.DisableKeepAlives = opts.noKeepAlive
		return t
	}
	return &stdioTarget{argv: opts.command, passStderr: opts.targetStderr, timeout: opts.timeout}
}
