// Command mcp-fixture is a small MCP server for plugboard's tests,
// benchmarks and demo. It speaks newline-delimited JSON-RPC 2.0 on stdin
// and stdout or, with --listen, serves Streamable HTTP, the legacy HTTP+SSE
// transport and WebSocket on one address (see listen.go). It logs only to
// stderr, and offers tools, prompts and resources
// whose behaviour tests can steer: echo, slow, hanging and crashing calls,
// progress and log notifications, list changes, server-to-client requests,
// byte-exact unusual JSON, plus everything the server scenarios of the
// official MCP conformance suite call.
//
// It is a test double, not an example of a production server: it trusts
// its client and keeps all state in memory.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

// shutdownGrace is how long calls still running when stdin closes may go
// on answering before they are cancelled.
const shutdownGrace = 5 * time.Second

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("mcp-fixture", flag.ContinueOnError)
	flags.SetOutput(stderr)
	name := flags.String("name", "fixture", "server name, reported in serverInfo and embedded in results and URIs")
	startupDelay := flags.Duration("startup-delay", 0, "sleep this long before reading stdin")
	exitAtStart := flags.Int("exit-at-start", -1, "write a line to stderr and exit with this code at once; -1 is off")
	extraTools := flags.Int("extra-tools", 0, "add this many echo tools named tool_000, tool_001, ...")
	pageSize := flags.Int("page-size", 0, "paginate list results with this many items per page; 0 is off")
	stderrLines := flags.Int("stderr-lines", 0, `write this many lines "fixture NAME stderr line i" to stderr at start`)
	ttlMs := flags.Int("ttl-ms", 0, "the ttlMs caching hint of cacheable 2026-07-28 results")
	silentDiscover := flags.Bool("silent-discover", false, "like --legacy-only, and server/discover gets no answer at all, as from servers that ignore unknown methods")
	legacyOnly := flags.Bool("legacy-only", false, "speak only the initialize-handshake versions (2024-11-05..2025-11-25): 2026-07-28 requests, server/discover included, are unknown methods")
	statelessOnly := flags.Bool("stateless-only", false, "speak only 2026-07-28: initialize and the other handshake-era requests are unknown methods, and server/discover lists 2026-07-28 alone")
	demo := flags.Bool("demo", false, "offer only the demo's items: the tools "+strings.Join(demoTools(), ", ")+", the greeting prompt and the fixture:// resources; no conformance or fault items")
	ignoreEOF := flags.Bool("ignore-eof", false, "keep running when stdin ends, as servers that never notice their client left do, until a signal ends it")
	listen := flags.String("listen", "", "instead of stdio, serve MCP over HTTP and WebSocket on this address, such as 127.0.0.1:0, "+
		`announced on stderr as "listening on http://HOST:PORT", until SIGINT, SIGTERM or the end of stdin`)
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *statelessOnly && (*legacyOnly || *silentDiscover) {
		fmt.Fprintln(stderr, "mcp-fixture: --stateless-only excludes --legacy-only and --silent-discover")
		return 2
	}
	if *extraTools < 0 || *pageSize < 0 || *stderrLines < 0 || *ttlMs < 0 || flags.NArg() > 0 {
		fmt.Fprintln(stderr, "mcp-fixture: --extra-tools, --page-size, --stderr-lines and --ttl-ms must not be negative, and no arguments are taken")
		return 2
	}

	for i := 1; i <= *stderrLines; i++ {
		fmt.Fprintf(stderr, "fixture %s stderr line %d\n", *name, i)
	}
	if *exitAtStart >= 0 {
		fmt.Fprintf(stderr, "fixture %s exiting at start with code %d\n", *name, *exitAtStart)
		return *exitAtStart
	}
	time.Sleep(*startupDelay)

	logger := log.New(stderr, fmt.Sprintf("mcp-fixture[%s] ", *name), log.Lmicroseconds)
	cfg := config{name: *name, extraTools: *extraTools, pageSize: *pageSize, legacyOnly: *legacyOnly || *silentDiscover, silentDiscover: *silentDiscover, statelessOnly: *statelessOnly, demo: *demo}
	sh := newShared(*ttlMs)
	if *listen != "" {
		if err := listenUntilStopped(*listen, cfg, sh, stdin, stderr, logger); err != nil {
			logger.Print(err)
			return 1
		}
		return 0
	}
	if *ignoreEOF {
		// With its client gone, its writes meet broken pipes, and Go dies
		// of SIGPIPE on fd 1 and 2 unless the signal is taken.
		signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	}
	out := &frameWriter{w: stdout, logger: logger}
	s := newSession(cfg, sh, out, os.Exit, logger)
	err := serveStdio(stdin, s)
	if *ignoreEOF {
		for {
			time.Sleep(time.Hour)
		}
	}
	if err != nil {
		logger.Print(err)
		return 1
	}
	return 0
}

// serveStdio feeds s one frame per line of in until in ends, then lets
// running calls finish for up to shutdownGrace before cancelling them.
func serveStdio(in io.Reader, s *session) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	r := bufio.NewReaderSize(in, 64<<10)
	var readErr error
	for {
		line, err := r.ReadBytes('\n')
		if frame := bytes.TrimSpace(line); len(frame) > 0 {
			s.handle(ctx, frame)
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = fmt.Errorf("reading stdin: %w", err)
			}
			break
		}
	}

	s.clientClosed()
	grace, stop := context.WithTimeout(context.Background(), shutdownGrace)
	defer stop()
	if s.drain(grace) != nil {
		cancel()
		_ = s.drain(context.Background())
	}
	return readErr
}

// frameWriter is the stdio outlet: it writes whole frames, one per line,
// from any goroutine.
type frameWriter struct {
	mu     sync.Mutex
	w      io.Writer
	logger *log.Logger
}

func (fw *frameWriter) send(_ context.Context, frame []byte) {
	fw.write(frame)
}

func (fw *frameWriter) finish(_ context.Context, response []byte) {
	if response != nil {
		fw.write(response)
	}
}

// disconnect does nothing: stdio has no stream to resume.
func (fw *frameWriter) disconnect(context.Context) {}

func (fw *frameWriter) write(frame []byte) {
	line := make([]byte, 0, len(frame)+1)
	line = append(append(line, frame...), '\n')
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if _, err := fw.w.Write(line); err != nil {
		fw.logger.Printf("writing frame: %v", err)
	}
}
