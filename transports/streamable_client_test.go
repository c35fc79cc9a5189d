package transports

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/plugboard/plugboard/messages"
)

// streamableTestTimeout bounds every wait in these tests.
const streamableTestTimeout = 5 * time.Second

// httpTestServer is a Streamable HTTP server the test scripts: answer
// writes the reply to each POSTed request (by method); what else comes is
// recorded.
type httpTestServer struct {
	*httptest.Server
	mu       sync.Mutex
	answered []string      // bodies of POSTed responses (answers to the server's requests)
	requests []http.Header // headers of each POST, GET and DELETE, in order
	methods  []string      // the HTTP method of each
	getReply func(w http.ResponseWriter, r *http.Request)
}

func newHTTPTestServer(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, f Frame)) *httpTestServer {
	t.Helper()
	s := &httpTestServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Header.Clone())
		s.methods = append(s.methods, r.Method)
		getReply := s.getReply
		s.mu.Unlock()
		switch r.Method {
		case http.MethodGet:
			if getReply != nil {
				getReply(w, r)
				return
			}
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		case http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
			return
		}
		body, _ := io.ReadAll(r.Body)
		f, err := ParseFrame(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if f.Method == "" || f.ID == nil {
			if f.Method == "" {
				s.mu.Lock()
				s.answered = append(s.answered, string(body))
				s.mu.Unlock()
			}
			w.WriteHeader(http.StatusAccepted)
			return
		}
		answer(w, r, f)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *httpTestServer) methodList() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprint(s.methods)
}

func (s *httpTestServer) answers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.answered...)
}

// received is what a test connection got from the server, in order.
type received struct {
	mu     sync.Mutex
	events []string // "notification METHOD PARAMS" or "request METHOD PARAMS"
}

func (r *received) add(s string) {
	r.mu.Lock()
	r.events = append(r.events, s)
	r.mu.Unlock()
}

func (r *received) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// lockedBuffer is a log sink for tests that read it while loggers write.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// dialTestRemote connects to url over Streamable HTTP as plugboard does,
// recording what the server sends on its own and answering its requests
// with {"answered":METHOD}.
func dialTestRemote(t *testing.T, url string, headers map[string]string) (*Remote, *received, *lockedBuffer) {
	t.Helper()
	got := &received{}
	logs := &lockedBuffer{}
	r, err := DialRemote(context.Background(), RemoteSpec{
		URL: url, Transport: RemoteStreamableHTTP, Headers: headers,
		Quirks: NewQuirks(slog.New(slog.NewTextHandler(logs, nil)).With("server", "odd")),
		Handlers: Handlers{
			Notification: func(method string, params json.RawMessage) { got.add("notification " + method + " " + string(params)) },
			Request: func(_ context.Context, id json.RawMessage, method string, params json.RawMessage) (json.RawMessage, *messages.RPCError) {
				got.add("request " + method + " " + string(params))
				return json.RawMessage(`{"answered":"` + method + `"}`), nil
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r, got, logs
}

func callTest(t *testing.T, r *Remote, method string) (json.RawMessage, *messages.RPCError, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), streamableTestTimeout)
	defer cancel()
	return r.Call(ctx, r.NewID(), method, json.RawMessage(`{"name":"x"}`))
}

// Bodies that real servers send, each answering a request whose id is
// {id}: the result must come back as sent and what comes before it must
// be delivered first, in order.
func TestStreamableReadsWhatServersSend(t *testing.T) {
	const result = `{"content":[{"type":"text","text":"a<b & c"}],  "n":1e400}`
	cases := []struct {
		name        string
		contentType string
		body        string // {id} is the request's id
		want        []string
		wantAnswer  string // a POSTed answer the server must get, if any
		warn        string // the breach logged, if any
	}{
		{
			name:        "a single JSON response",
			contentType: "application/json",
			body:        `{"jsonrpc":"2.0","id":{id},"result":` + result + `}`,
		},
		{
			name:        "newline-delimited notifications, then the response",
			contentType: "application/json",
			body: `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}` + "\n" +
				`{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"hi"}}` + "\n" +
				`{"jsonrpc":"2.0","id":{id},"result":` + result + `}` + "\n",
			want: []string{
				`notification notifications/progress {"progressToken":1,"progress":1}`,
				`notification notifications/message {"level":"info","data":"hi"}`,
			},
			warn: "several JSON-RPC messages in one application/json body",
		},
		{
			name:        "newline-delimited server request, then the response",
			contentType: "application/json",
			body: `{"jsonrpc":"2.0","id":"s-1","method":"sampling/createMessage","params":{"maxTokens":5}}` + "\n" +
				`{"jsonrpc":"2.0","id":{id},"result":` + result + `}`,
			want:       []string{`request sampling/createMessage {"maxTokens":5}`},
			wantAnswer: `{"jsonrpc":"2.0","id":"s-1","result":{"answered":"sampling/createMessage"}}`,
			warn:       "several JSON-RPC messages in one application/json body",
		},
		{
			name:        "an event stream where JSON was announced",
			contentType: "application/json",
			body: "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}\n\n" +
				"data: {\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":" + result + "}\n\n",
			want: []string{`notification notifications/progress {"progress":1}`},
			warn: "an event stream labelled application/json",
		},
		{
			name:        "JSON where an event stream was announced",
			contentType: "text/event-stream",
			body: `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}` + "\n" +
				`{"jsonrpc":"2.0","id":{id},"result":` + result + `}`,
			want: []string{`notification notifications/progress {"progress":1}`},
			warn: "JSON labelled text/event-stream",
		},
		{
			name:        "an event stream, as the spec shows it",
			contentType: "text/event-stream",
			body: "id: 1\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}\n\n" +
				"id: 2\ndata: {\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":" + result + "}\n\n",
			want: []string{`notification notifications/progress {"progress":1}`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newHTTPTestServer(t, func(w http.ResponseWriter, r *http.Request, f Frame) {
				w.Header().Set("Content-Type", tc.contentType)
				_, _ = io.WriteString(w, strings.ReplaceAll(tc.body, "{id}", string(f.ID)))
			})
			r, got, logs := dialTestRemote(t, srv.URL+"/mcp", nil)
			for range 2 { // the breach is logged once, not per call
				res, rpcErr, err := callTest(t, r, "tools/call")
				if err != nil || rpcErr != nil {
					t.Fatalf("call: %v %v", err, rpcErr)
				}
				if string(res) != result {
					t.Errorf("result %s, want it as sent: %s", res, result)
				}
			}
			if tc.wantAnswer != "" {
				deadline := time.Now().Add(streamableTestTimeout)
				for len(srv.answers()) < 2 && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
				if a := srv.answers(); len(a) != 2 || a[0] != tc.wantAnswer {
					t.Errorf("answers POSTed to the server: %q, want %s twice", a, tc.wantAnswer)
				}
			}
			if events := got.list(); fmt.Sprint(events) != fmt.Sprint(append(tc.want, tc.want...)) {
				t.Errorf("delivered before the responses:\n%q\nwant (twice):\n%q", events, tc.want)
			}
			warnings := strings.Count(logs.String(), "level=WARN")
			switch {
			case tc.warn == "" && warnings != 0:
				t.Errorf("a warning for a server that keeps the rules:\n%s", logs)
			case tc.warn != "" && (warnings != 1 || !strings.Contains(logs.String(), tc.warn) || !strings.Contains(logs.String(), "server=odd")):
				t.Errorf("want one warning naming the server and %q, got:\n%s", tc.warn, logs)
			}
		})
	}
}

// An answer that ends without the response fails the call at once, with
// what came before it delivered; it does not hang until the deadline.
func TestStreamableAnswerWithoutResponseFails(t *testing.T) {
	for _, ct := range []string{"application/json", "text/event-stream"} {
		t.Run(ct, func(t *testing.T) {
			srv := newHTTPTestServer(t, func(w http.ResponseWriter, r *http.Request, f Frame) {
				w.Header().Set("Content-Type", ct)
				n := `{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"only this"}}`
				if ct == "text/event-stream" {
					n = "data: " + n + "\n\n"
				}
				_, _ = io.WriteString(w, n+"\n")
			})
			r, got, _ := dialTestRemote(t, srv.URL+"/mcp", nil)
			start := time.Now()
			_, _, err := callTest(t, r, "subscriptions/listen")
			if err == nil || !strings.Contains(err.Error(), "without a response") {
				t.Fatalf("err = %v, want one saying the answer ended without a response", err)
			}
			if time.Since(start) > streamableTestTimeout/2 {
				t.Errorf("the call took %s to fail", time.Since(start))
			}
			if events := got.list(); len(events) != 1 {
				t.Errorf("delivered: %q", events)
			}
			select {
			case <-r.Done():
				t.Errorf("one answer without a response ended the connection: %s", r.Reason())
			default:
			}
		})
	}
}

// The handshake era's session: its id from initialize on every later
// request, the protocol version once initialize settled it, the
// configured headers everywhere, the GET stream (405 is fine), DELETE on
// close; a 404 is a session the server forgot, and ends the connection.
func TestStreamableSessionAndHeaders(t *testing.T) {
	var gone atomic.Bool
	srv := newHTTPTestServer(t, func(w http.ResponseWriter, r *http.Request, f Frame) {
		if f.Method == "tools/list" {
			gone.Store(true)
		}
		if gone.Load() {
			http.Error(w, "no such session", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if f.Method == "initialize" {
			w.Header().Set("Mcp-Session-Id", "sess-1")
			_, _ = fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-06-18","capabilities":{}}}`, f.ID)
			return
		}
		_, _ = fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{}}`, f.ID)
	})
	r, _, _ := dialTestRemote(t, srv.URL+"/mcp?token=s3cret", map[string]string{"Authorization": "Bearer s3cret"})
	if _, _, err := callTest(t, r, "initialize"); err != nil {
		t.Fatal(err)
	}
	if err := r.Notify(context.Background(), "notifications/initialized", nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := callTest(t, r, "ping"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(streamableTestTimeout)
	for !strings.Contains(srv.methodList(), "GET") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	_, _, err := callTest(t, r, "tools/list")
	if !errors.Is(err, transport.ErrSessionTerminated) {
		t.Errorf("a 404: %v, want ErrSessionTerminated", err)
	}
	if err != nil && strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows the URL's query: %v", err)
	}
	select {
	case <-r.Done():
	case <-time.After(streamableTestTimeout):
		t.Fatal("a forgotten session did not end the connection")
	}
	r.Close()

	srv.mu.Lock()
	defer srv.mu.Unlock()
	sawGet, sawDelete := false, false
	for i, h := range srv.requests {
		if h.Get("Authorization") != "Bearer s3cret" {
			t.Errorf("%s #%d without the configured header", srv.methods[i], i)
		}
		if i == 0 {
			if h.Get("Mcp-Session-Id") != "" || h.Get("Mcp-Protocol-Version") != "" {
				t.Errorf("initialize went with session %q, version %q", h.Get("Mcp-Session-Id"), h.Get("Mcp-Protocol-Version"))
			}
			continue
		}
		if h.Get("Mcp-Session-Id") != "sess-1" || h.Get("Mcp-Protocol-Version") != "2025-06-18" {
			t.Errorf("%s #%d went with session %q, version %q", srv.methods[i], i, h.Get("Mcp-Session-Id"), h.Get("Mcp-Protocol-Version"))
		}
		sawGet = sawGet || srv.methods[i] == http.MethodGet
		sawDelete = sawDelete || srv.methods[i] == http.MethodDelete
	}
	if !sawGet || !sawDelete {
		t.Errorf("GET stream opened: %v; DELETE on close: %v (requests: %v)", sawGet, sawDelete, srv.methods)
	}
}

// On 2026-07-28 there is no session: no session id, no GET stream, no
// DELETE, and each request carries the headers the revision mirrors.
func TestStreamableStatelessRequests(t *testing.T) {
	srv := newHTTPTestServer(t, func(w http.ResponseWriter, r *http.Request, f Frame) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Mcp-Session-Id", "not-for-2026")
		_, _ = fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"supportedVersions":["2026-07-28"]}}`, f.ID)
	})
	r, _, _ := dialTestRemote(t, srv.URL+"/mcp", nil)
	r.UseModern(json.RawMessage(`{}`))
	for _, m := range []string{"server/discover", "tools/call"} {
		if _, _, err := callTest(t, r, m); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if fmt.Sprint(srv.methods) != "[POST POST]" {
		t.Errorf("requests: %v, want two POSTs", srv.methods)
	}
	for i, want := range []string{"server/discover", "tools/call"} {
		h := srv.requests[i]
		if h.Get("Mcp-Method") != want || h.Get("Mcp-Protocol-Version") != messages.ModernVersion || h.Get("Mcp-Session-Id") != "" {
			t.Errorf("%s went with Mcp-Method %q, version %q, session %q", want, h.Get("Mcp-Method"), h.Get("Mcp-Protocol-Version"), h.Get("Mcp-Session-Id"))
		}
	}
	if srv.requests[1].Get("Mcp-Name") != "x" {
		t.Errorf("tools/call went with Mcp-Name %q", srv.requests[1].Get("Mcp-Name"))
	}
}

// A handshake-era server may end a response stream before the response,
// having given an event id, for the client to resume it with a GET
// carrying Last-Event-ID (SEP-1699); and the GET stream carries what the
// server sends outside any request.
func TestStreamableResumesAndListens(t *testing.T) {
	srv := newHTTPTestServer(t, func(w http.ResponseWriter, r *http.Request, f Frame) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = fmt.Fprintf(w, "id: ev-1\nretry: 10\ndata:\n\n")
	})
	var pendingID string
	var idMu sync.Mutex
	srv.mu.Lock()
	srv.getReply = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		if r.Header.Get("Last-Event-ID") == "ev-1" {
			idMu.Lock()
			id := pendingID
			idMu.Unlock()
			_, _ = fmt.Fprintf(w, "id: ev-2\ndata: {\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"resumed\":true}}\n\n", id)
			return
		}
		_, _ = io.WriteString(w, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}
	srv.mu.Unlock()
	r, got, _ := dialTestRemote(t, srv.URL+"/mcp", nil)
	if err := r.Notify(context.Background(), "notifications/initialized", nil); err != nil {
		t.Fatal(err)
	}
	id := r.NewID()
	idMu.Lock()
	pendingID = fmt.Sprint(id)
	idMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), streamableTestTimeout)
	defer cancel()
	res, _, err := r.Call(ctx, id, "tools/call", nil)
	if err != nil || string(res) != `{"resumed":true}` {
		t.Errorf("resumed call: %s, %v", res, err)
	}
	deadline := time.Now().Add(streamableTestTimeout)
	for len(got.list()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if events := got.list(); len(events) == 0 || events[0] != "notification notifications/tools/list_changed {}" {
		t.Errorf("from the GET stream: %q", events)
	}
}

// A refusal with a JSON-RPC error in the body is the call's answer; one
// without is an error naming the status, and the URL without its secrets.
func TestStreamableRefusals(t *testing.T) {
	srv := newHTTPTestServer(t, func(w http.ResponseWriter, r *http.Request, f Frame) {
		w.Header().Set("Content-Type", "application/json")
		if f.Method == "bad" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32602,"message":"nope"}}`, f.ID)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, "broken")
	})
	r, _, _ := dialTestRemote(t, strings.Replace(srv.URL, "http://", "http://user:pw@", 1)+"/mcp?key=s3cret", nil)
	if _, rpcErr, err := callTest(t, r, "bad"); err != nil || rpcErr == nil || rpcErr.Code != -32602 || rpcErr.Message != "nope" {
		t.Errorf("a refusal with an error: %v, %v", rpcErr, err)
	}
	_, _, err := callTest(t, r, "worse")
	if err == nil || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "broken") {
		t.Errorf("a refusal without: %v", err)
	}
	if err != nil && (strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "pw@")) {
		t.Errorf("the error shows the URL's secrets: %v", err)
	}
}

// A message over the frame limit fails its call, in a JSON body or an
// event stream; nothing past the limit is buffered.
func TestStreamableCapsMessages(t *testing.T) {
	big := `{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"` + strings.Repeat("x", 64<<10) + `"}}`
	for _, ct := range []string{"application/json", "text/event-stream"} {
		t.Run(ct, func(t *testing.T) {
			srv := newHTTPTestServer(t, func(w http.ResponseWriter, r *http.Request, f Frame) {
				w.Header().Set("Content-Type", ct)
				body := big + "\n" + fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":{}}`, f.ID) + "\n"
				if ct == "text/event-stream" {
					body = "data: " + big + "\n\n" + fmt.Sprintf("data: {\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{}}\n\n", f.ID)
				}
				_, _ = io.WriteString(w, body)
			})
			r, err := DialRemote(context.Background(), RemoteSpec{URL: srv.URL + "/mcp", Transport: RemoteStreamableHTTP, MaxFrame: 4 << 10})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(r.Close)
			if _, _, err := callTest(t, r, "tools/call"); !errors.Is(err, ErrFrameTooLarge) {
				t.Errorf("err = %v, want ErrFrameTooLarge", err)
			}
		})
	}
}
