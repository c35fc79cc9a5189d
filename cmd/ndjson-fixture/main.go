// Command ndjson-fixture is an MCP server for plugboard's tests, built on the
// official Go SDK (not on plugboard's code), that answers over Streamable
// HTTP the way no published server does on purpose: every POST's answer,
// which the SDK writes as an event stream, is rewritten into an
// application/json body of newline-delimited JSON-RPC messages, each line
// written as the SDK sends it (notifications and requests first, the
// response last). Its tools make progress, log, change the tool list,
// update its resource, and count and cut the subscriptions/listen streams
// open at the moment.
//
// It listens on 127.0.0.1 at a free port and prints its URL on stdout.
// By default it serves the handshake era with sessions; with -2026 it
// serves 2026-07-28 alone (the SDK's stateless handler: in v1.8.0 only
// that one serves the revision).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func main() {
	only2026 := flag.Bool("2026", false, "serve 2026-07-28 alone, without sessions")
	flag.Parse()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	cuts := &listenCuts{cancels: map[*http.Request]context.CancelFunc{}}
	opts := &mcp.ServerOptions{
		HasTools:           true,
		SubscribeHandler:   func(context.Context, *mcp.SubscribeRequest) error { return nil },
		UnsubscribeHandler: func(context.Context, *mcp.UnsubscribeRequest) error { return nil },
	}
	if *only2026 {
		opts.SupportedProtocolVersions = []string{"2026-07-28"}
	}
	server := newServer(opts, cuts)
	sdk := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, &mcp.StreamableHTTPOptions{Stateless: *only2026})
	fmt.Printf("http://%s/mcp\n", ln.Addr())
	os.Stdout.Sync()
	log.Fatal(http.Serve(ln, ndjsonAnswers(sdk, cuts)))
}

// counterURI is the resource the touch tool reports as updated.
const counterURI = "test://ndjson/counter"

// newServer returns the server, its tools and its resource.
func newServer(opts *mcp.ServerOptions, cuts *listenCuts) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "ndjson-fixture", Version: "1.0.0"}, opts)
	noArgs := json.RawMessage(`{"type":"object"}`)
	s.AddTool(&mcp.Tool{Name: "progress", Description: "reports progress 1/3, 2/3, 3/3, then answers", InputSchema: noArgs},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if token := req.Params.GetProgressToken(); token != nil {
				for i := 1; i <= 3; i++ {
					_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: token, Progress: float64(i), Total: 3})
				}
			}
			return text("progress done"), nil
		})
	s.AddTool(&mcp.Tool{Name: "log", Description: "logs at info, then answers", InputSchema: noArgs},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			_ = req.Session.Log(ctx, &mcp.LoggingMessageParams{Level: "info", Logger: "ndjson", Data: "a line from the tool"})
			return text("logged"), nil
		})
	var added sync.Mutex
	n := 0
	addTool := func() string {
		added.Lock()
		n++
		name := fmt.Sprintf("added_%d", n)
		added.Unlock()
		s.AddTool(&mcp.Tool{Name: name, InputSchema: noArgs}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return text(name), nil
		})
		return name
	}
	s.AddTool(&mcp.Tool{Name: "add_tool", Description: "adds a tool named added_N", InputSchema: noArgs},
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return text(addTool()), nil
		})
	s.AddTool(&mcp.Tool{Name: "cut_listens", InputSchema: json.RawMessage(`{"type":"object","properties":{"then_add":{"type":"boolean"}}}`),
		Description: "ends every subscriptions/listen stream open now; with then_add, adds a tool and updates the resource " +
			"a moment later, before a client can have opened them again"},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			var args struct {
				ThenAdd bool `json:"then_add"`
			}
			_ = json.Unmarshal(req.Params.Arguments, &args)
			answer := fmt.Sprintf("cut %d", cuts.cut())
			if args.ThenAdd {
				// A client re-opens after 250 ms at the earliest (plugboard's
				// backoff); this lets the listens' handlers finish first.
				time.Sleep(100 * time.Millisecond)
				answer += ", added " + addTool()
				_ = s.ResourceUpdated(ctx, &mcp.ResourceUpdatedNotificationParams{URI: counterURI})
			}
			return text(answer), nil
		})
	s.AddResource(&mcp.Resource{URI: counterURI, Name: "counter", MIMEType: "text/plain"},
		func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: counterURI, MIMEType: "text/plain", Text: "1"}}}, nil
		})
	s.AddTool(&mcp.Tool{Name: "touch", Description: "tells the subscribers of " + counterURI + " that it changed", InputSchema: noArgs},
		func(ctx context.Context, _ *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if err := s.ResourceUpdated(ctx, &mcp.ResourceUpdatedNotificationParams{URI: counterURI}); err != nil {
				return nil, err
			}
			return text("touched"), nil
		})
	s.AddTool(&mcp.Tool{Name: "listens", Description: "counts the subscriptions/listen streams open now", InputSchema: noArgs},
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return text(fmt.Sprint(cuts.count())), nil
		})
	return s
}

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

// listenCuts holds the cancel functions of the subscriptions/listen
// requests being served.
type listenCuts struct {
	mu      sync.Mutex
	cancels map[*http.Request]context.CancelFunc
}

func (l *listenCuts) add(r *http.Request, cancel context.CancelFunc) {
	l.mu.Lock()
	l.cancels[r] = cancel
	l.mu.Unlock()
}

func (l *listenCuts) remove(r *http.Request) {
	l.mu.Lock()
	delete(l.cancels, r)
	l.mu.Unlock()
}

func (l *listenCuts) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.cancels)
}

func (l *listenCuts) cut() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.cancels)
	for r, cancel := range l.cancels {
		cancel()
		delete(l.cancels, r)
	}
	return n
}

// ndjsonAnswers rewrites the SDK's answers to POSTs into newline-delimited
// JSON bodies; a subscriptions/listen can be cut through cuts.
func ndjsonAnswers(next http.Handler, cuts *listenCuts) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var m struct {
			Method string `json:"method"`
		}
		_ = json.Unmarshal(body, &m)
		if m.Method == "subscriptions/listen" {
			ctx, cancel := context.WithCancel(r.Context())
			defer cancel()
			r = r.WithContext(ctx)
			cuts.add(r, cancel)
			defer cuts.remove(r)
		}
		nw := &ndjsonWriter{w: w}
		start := time.Now()
		next.ServeHTTP(nw, r)
		nw.flushEvents(true)
		log.Printf("POST %s answered in %s: %d lines", m.Method, time.Since(start).Round(time.Millisecond), nw.lines)
	})
}

// ndjsonWriter turns an event stream written through it into one JSON-RPC
// message per line, written and flushed as each event completes.
type ndjsonWriter struct {
	w       http.ResponseWriter
	stream  bool // the SDK answered with an event stream
	pending []byte
	lines   int // messages written
}

func (n *ndjsonWriter) Header() http.Header { return n.w.Header() }

func (n *ndjsonWriter) WriteHeader(status int) {
	if strings.HasPrefix(n.w.Header().Get("Content-Type"), "text/event-stream") {
		n.stream = true
		n.w.Header().Set("Content-Type", "application/json")
	}
	n.w.WriteHeader(status)
}

func (n *ndjsonWriter) Write(b []byte) (int, error) {
	if !n.stream {
		if strings.HasPrefix(n.w.Header().Get("Content-Type"), "text/event-stream") {
			n.WriteHeader(http.StatusOK)
		} else {
			return n.w.Write(b)
		}
	}
	n.pending = append(n.pending, b...)
	n.flushEvents(false)
	return len(b), nil
}

func (n *ndjsonWriter) Flush() {
	if f, ok := n.w.(http.Flusher); ok {
		f.Flush()
	}
}

// flushEvents writes the data of each complete event as a line.
func (n *ndjsonWriter) flushEvents(final bool) {
	if !n.stream {
		return
	}
	for {
		i := bytes.Index(n.pending, []byte("\n\n"))
		if i < 0 {
			if !final || len(bytes.TrimSpace(n.pending)) == 0 {
				return
			}
			i = len(n.pending)
		}
		event := n.pending[:i]
		n.pending = n.pending[min(i+2, len(n.pending)):]
		var data [][]byte
		for _, line := range bytes.Split(event, []byte("\n")) {
			if d, ok := bytes.CutPrefix(line, []byte("data:")); ok {
				data = append(data, bytes.TrimPrefix(d, []byte(" ")))
			}
		}
		if msg := bytes.Join(data, []byte("\n")); len(bytes.TrimSpace(msg)) > 0 {
			_, _ = n.w.Write(append(msg, '\n'))
			n.lines++
			n.Flush()
		}
	}
}
