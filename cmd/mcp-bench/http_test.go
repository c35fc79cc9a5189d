package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeStreamable is a minimal Streamable HTTP server that answers
// tools/call with a JSON body, or, for arguments {"via":"sse"}, with an
// event stream that carries a priming event, a ping request and the
// response split over two data lines. For arguments {"via":"404"} it
// answers as if it had forgotten the session.
type fakeStreamable struct {
	mu       sync.Mutex
	problems []string
	pings    int // answers to its pings
	deleted  []string
}

func (f *fakeStreamable) fail(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.problems = append(f.problems, fmt.Sprintf(format, args...))
}

func (f *fakeStreamable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodDelete {
		f.mu.Lock()
		f.deleted = append(f.deleted, r.Header.Get(sessionHeader))
		f.mu.Unlock()
		return
	}
	if r.Header.Get("Accept") != acceptBoth || r.Header.Get("Content-Type") != "application/json" {
		f.fail("POST with Accept %q and Content-Type %q", r.Header.Get("Accept"), r.Header.Get("Content-Type"))
	}
	var msg struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Result json.RawMessage `json:"result"`
		Params struct {
			Arguments struct {
				Via string `json:"via"`
			} `json:"arguments"`
		} `json:"params"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &msg); err != nil {
		f.fail("POST body %s: %v", body, err)
		return
	}
	if msg.Method == methodInitialize {
		if r.Header.Get(sessionHeader) != "" {
			f.fail("initialize with a session id")
		}
		w.Header().Set(sessionHeader, "session-1")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"fake","version":"0"}}}`, msg.ID)
		return
	}
	if r.Header.Get(sessionHeader) != "session-1" || r.Header.Get(versionHeader) != protocolVersion {
		f.fail("%s with session %q and version %q", msg.Method, r.Header.Get(sessionHeader), r.Header.Get(versionHeader))
	}
	switch {
	case msg.Method == "":
		if string(msg.ID) != `"ping-1"` || string(msg.Result) != "{}" {
			f.fail("unexpected response %s", body)
		}
		f.mu.Lock()
		f.pings++
		f.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	case msg.ID == nil:
		w.WriteHeader(http.StatusAccepted)
	case msg.Params.Arguments.Via == "404":
		http.Error(w, "no such session", http.StatusNotFound)
	case msg.Params.Arguments.Via == "sse":
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "id: 0\ndata: \n\n")
		fmt.Fprint(w, ": a comment\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"ping-1\",\"method\":\"ping\"}\n\n")
		fmt.Fprint(w, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{}}\n\n")
		fmt.Fprintf(w, "id: 1\ndata: {\"jsonrpc\":\"2.0\",\"id\":%s,\ndata:\"result\":{\"content\":[]}}\n\n", msg.ID)
	default:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"ok"}]}}`, msg.ID)
	}
}

// runJSON runs mcp-bench in process and decodes its JSON report.
func runJSON(t *testing.T, args ...string) benchReport {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), append(args, "--json"), &stdout, &stderr); code != 0 {
		t.Fatalf("mcp-bench %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
	}
	var r benchReport
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("report %s: %v", stdout.String(), err)
	}
	return r
}

func TestHTTPClientReadsJSONAndEventStreams(t *testing.T) {
	for _, via := range []string{"json", "sse"} {
		t.Run(via, func(t *testing.T) {
			fake := &fakeStreamable{}
			srv := httptest.NewServer(fake)
			t.Cleanup(srv.Close)

			r := runJSON(t, "--url", srv.URL, "--count", "50", "--concurrency", "3", "--warmup", "0",
				"--args", fmt.Sprintf(`{"via":%q}`, via))
			if r.OK != 50 || r.Errors.Total != 0 {
				t.Errorf("ok %d, errors %+v; want 50 ok", r.OK, r.Errors)
			}
			if r.Server == nil || r.Server.Name != "fake" {
				t.Errorf("server = %+v", r.Server)
			}
			fake.mu.Lock()
			defer fake.mu.Unlock()
			for _, p := range fake.problems {
				t.Error(p)
			}
			if via == "sse" && fake.pings != 50 {
				t.Errorf("%d pings answered, want 50", fake.pings)
			}
			if len(fake.deleted) != 1 || fake.deleted[0] != "session-1" {
				t.Errorf("DELETEs for sessions %q, want one for session-1", fake.deleted)
			}
		})
	}
}

func TestHTTPForgottenSessionStopsItsCalls(t *testing.T) {
	fake := &fakeStreamable{}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)

	r := runJSON(t, "--url", srv.URL, "--count", "50", "--concurrency", "2", "--warmup", "0", "--args", `{"via":"404"}`)
	if r.OK != 0 || r.Errors.Transport != 2 || !strings.Contains(r.Errors.Examples["transport"], "404") {
		t.Errorf("ok %d, errors %+v; want one 404 per caller", r.OK, r.Errors)
	}
	if len(r.Notes) == 0 || !strings.Contains(r.Notes[0], "session 1 failed") {
		t.Errorf("notes = %q", r.Notes)
	}
}

func TestMediaTypeIs(t *testing.T) {
	tests := []struct {
		contentType, want string
		is                bool
	}{
		{"application/json", "application/json", true},
		{"Application/JSON; charset=utf-8", "application/json", true},
		{" text/event-stream ", "text/event-stream", true},
		{"text/event-streamx", "text/event-stream", false},
		{"", "application/json", false},
	}
	for _, tt := range tests {
		if got := mediaTypeIs(tt.contentType, tt.want); got != tt.is {
			t.Errorf("mediaTypeIs(%q, %q) = %v", tt.contentType, tt.want, got)
		}
	}
}
