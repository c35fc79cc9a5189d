package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// mode is what the benchmark measures.
type mode string

const (
	modeCall    mode = "call"    // tools/call throughput and latency
	modeList    mode = "list"    // whole tools/list latency
	modeStartup mode = "startup" // time to the first complete tools/list
	modeIdle    mode = "idle"    // memory with sessions open and idle
	modeRelist  mode = "relist"  // time to list anew after a call changes the tools
)

// options are the parsed and validated command line.
type options struct {
	mode mode

	command      []string // a stdio target
	url          string   // a Streamable HTTP target
	headers      http.Header
	targetStderr bool

	sessions    int
	concurrency int
	tool        string
	args        json.RawMessage
	duration    time.Duration // 0 when count is set
	count       int64
	warmup      time.Duration
	timeout     time.Duration
	runs        int
	// rate paces the calls to this many a second across all callers; 0
	// sends each call as soon as the last one ended.
	rate float64
	// idle is how long --idle holds its sessions open.
	idle time.Duration
	// watchPID is a process whose memory is sampled, such as a server
	// that serves the URL; 0 for none.
	watchPID int
	// listFirst lists the tools once on the first session before the
	// warmup, for a target that holds its list until its servers are up.
	listFirst bool
	// noKeepAlive sends every HTTP request on a connection of its own,
	// closed after it: sessions are then held without open connections.
	noKeepAlive bool

	json bool
}

// errHelp is returned when the user asked for the usage text.
var errHelp = errors.New("help requested")

const usageHead = `mcp-bench measures an MCP server: tools/call throughput and latency, tools/list
latency (--list), start-up time (--startup), or memory with idle sessions open (--idle).

usage:
  mcp-bench [flags] -- COMMAND [ARGS...]     a stdio server, one process per session
  mcp-bench [flags] --stdio "COMMAND ARGS"   the same, as one shell-quoted string
  mcp-bench [flags] --url http://HOST/mcp    a Streamable HTTP server

flags:
`

// parseOptions reads the command line; usage goes to out on --help.
func parseOptions(args []string, out io.Writer) (options, error) {
	fs := pflag.NewFlagSet("mcp-bench", pflag.ContinueOnError)
	fs.SetOutput(out)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprint(out, usageHead)
		fs.PrintDefaults()
	}
	stdio := fs.String("stdio", "", "the stdio server's command line, split like a shell's (no expansion)")
	rawURL := fs.String("url", "", "the Streamable HTTP endpoint")
	headers := fs.StringArray("header", nil, `"Name: value" to send with every HTTP request (repeatable)`)
	sessions := fs.Int("sessions", 1, "sessions to open; for stdio, one process each")
	concurrency := fs.Int("concurrency", 1, "calls in flight across all sessions, spread evenly over them")
	tool := fs.String("tool", "echo", "the tool to call")
	argsJSON := fs.String("args", `{"text":"hello"}`, "the tool's arguments, a JSON object")
	duration := fs.Duration("duration", 10*time.Second, "how long to measure, after the warmup")
	count := fs.Int64("count", 0, "measure this many calls instead of a duration")
	warmup := fs.Duration("warmup", time.Second, "how long to run before measuring")
	timeout := fs.Duration("timeout", 30*time.Second, "how long a call may take before it counts as a timeout")
	list := fs.Bool("list", false, "measure whole tools/list listings, following nextCursor, instead of tools/call")
	startup := fs.Bool("startup", false, "measure the time from exec (stdio) or first connect (HTTP) to the first complete tools/list")
	runs := fs.Int("runs", 5, "with --startup, how many times to start; with --relist-after, how many changes to time")
	relistAfter := fs.String("relist-after", "", "measure the time from calling this tool, which changes the tool list, to the first whole tools/list "+
		"whose count differs, --runs times (--args are its arguments)")
	idle := fs.Duration("idle", 0, "open the sessions, list the tools once on the first, hold them all open this long without calls, "+
		"and report the memory of the stdio targets and of --watch-pid")
	rate := fs.Float64("rate", 0, "pace the calls to this many a second in all, measuring each from when it was due; 0 is as fast as the callers go")
	watchPID := fs.Int("watch-pid", 0, "also sample the memory of this process (and its descendants), such as the server behind --url")
	listFirst := fs.Bool("list-first", false, "list the tools once before the warmup, which waits for a proxy's servers to be up before the calls begin")
	noKeepAlive := fs.Bool("no-keepalive", false, "HTTP: send every request on a new connection and close it after, so that sessions are held without open connections (what --idle then measures is the sessions alone)")
	jsonOut := fs.Bool("json", false, "print one JSON object instead of a table")
	targetStderr := fs.Bool("target-stderr", false, "pass the stdio server's stderr through instead of keeping its tail for errors")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return options{}, errHelp
		}
		return options{}, err
	}
	o := options{
		mode:         modeCall,
		url:          *rawURL,
		targetStderr: *targetStderr,
		sessions:     *sessions,
		concurrency:  *concurrency,
		tool:         *tool,
		duration:     *duration,
		count:        *count,
		warmup:       *warmup,
		timeout:      *timeout,
		runs:         *runs,
		rate:         *rate,
		idle:         *idle,
		watchPID:     *watchPID,
		noKeepAlive:  *noKeepAlive,
		listFirst:    *listFirst,
		json:         *jsonOut,
	}

	rest := fs.Args()
	switch dash := fs.ArgsLenAtDash(); {
	case dash > 0 || (dash < 0 && len(rest) > 0):
		return options{}, fmt.Errorf("unexpected argument %q: put the stdio command after --", rest[0])
	case dash == 0 && len(rest) == 0:
		return options{}, errors.New("no command after --")
	case dash == 0:
		o.command = rest
	}
	if fs.Changed("stdio") {
		if o.command != nil {
			return options{}, errors.New("give the stdio command either with --stdio or after --, not both")
		}
		words, err := splitCommand(*stdio)
		if err != nil {
			return options{}, fmt.Errorf("--stdio %q: %w", *stdio, err)
		}
		o.command = words
	}
	switch {
	case o.command == nil && o.url == "":
		return options{}, errors.New("no target: give --url, --stdio or a command after --")
	case o.command != nil && o.url != "":
		return options{}, errors.New("give one target: --url or a stdio command, not both")
	case o.url != "":
		if u, err := url.Parse(o.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return options{}, fmt.Errorf("--url %q: not an http or https URL", o.url)
		}
	}
	if len(*headers) > 0 {
		if o.url == "" {
			return options{}, errors.New("--header is for --url targets")
		}
		o.headers = http.Header{}
		for _, h := range *headers {
			name, value, ok := strings.Cut(h, ":")
			if !ok || strings.TrimSpace(name) == "" {
				return options{}, fmt.Errorf(`--header %q: want "Name: value"`, h)
			}
			o.headers.Add(strings.TrimSpace(name), strings.TrimSpace(value))
		}
	}

	modes := 0
	for _, on := range []bool{*list, *startup, fs.Changed("idle"), fs.Changed("relist-after")} {
		if on {
			modes++
		}
	}
	switch {
	case modes > 1:
		return options{}, errors.New("--list, --startup, --idle and --relist-after are different modes: give one")
	case *list:
		o.mode = modeList
	case *startup:
		o.mode = modeStartup
	case fs.Changed("idle"):
		o.mode = modeIdle
	case fs.Changed("relist-after"):
		o.mode, o.tool = modeRelist, *relistAfter
	}
	if fs.Changed("count") {
		if fs.Changed("duration") {
			return options{}, errors.New("give --duration or --count, not both")
		}
		o.duration = 0
	}

	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(*argsJSON)); err != nil || !bytes.HasPrefix(compact.Bytes(), []byte("{")) {
		return options{}, fmt.Errorf("--args %q: not a JSON object", *argsJSON)
	}
	o.args = compact.Bytes()

	for _, check := range []struct {
		bad  bool
		what string
	}{
		{o.sessions < 1, "--sessions must be at least 1"},
		{o.concurrency < 1, "--concurrency must be at least 1"},
		{fs.Changed("count") && o.count < 1, "--count must be at least 1"},
		{o.count == 0 && o.duration <= 0, "--duration must be positive"},
		{o.warmup < 0, "--warmup must not be negative"},
		{o.timeout <= 0, "--timeout must be positive"},
		{o.runs < 1, "--runs must be at least 1"},
		{o.tool == "", "--tool must not be empty"},
		{o.rate < 0, "--rate must not be negative"},
		{o.rate > 0 && (o.mode == modeStartup || o.mode == modeIdle || o.mode == modeRelist), "--rate paces calls: it does not go with --startup, --idle or --relist-after"},
		{o.mode == modeIdle && o.idle <= 0, "--idle must be positive"},
		{o.watchPID < 0, "--watch-pid must be a process id"},
		{o.noKeepAlive && o.url == "", "--no-keepalive is for HTTP targets (--url)"},
		{o.watchPID > 0 && o.mode == modeStartup, "--watch-pid does not go with --startup, which starts its own processes"},
	} {
		if check.bad {
			return options{}, errors.New(check.what)
		}
	}
	return o, nil
}
