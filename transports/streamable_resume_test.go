package transports

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// resumeServer is a Streamable HTTP server whose event streams a test
// scripts: post writes the answer to a POSTed request, gets[i] the answer
// to the i-th GET (the last one answers any after it). It records each
// GET's Last-Event-ID and when it came, and when a stream was cut.
type resumeServer struct {
	*httptest.Server
	mu      sync.Mutex
	gets    []func(w http.ResponseWriter, r *http.Request, id string)
	ids     []string    // Last-Event-ID of each GET, in order
	getAt   []time.Time // when each GET came
	cuts    []time.Time // when each stream was cut
	pending string      // the id of the call in flight
}

func newResumeServer(t *testing.T, post func(w http.ResponseWriter, s *resumeServer), gets ...func(w http.ResponseWriter, r *http.Request, id string)) *resumeServer {
	t.Helper()
	s := &resumeServer{gets: gets}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			s.mu.Lock()
			n := len(s.ids)
			s.ids = append(s.ids, r.Header.Get("Last-Event-ID"))
			s.getAt = append(s.getAt, time.Now())
			answer, id := s.gets[min(n, len(s.gets)-1)], s.pending
			s.mu.Unlock()
			answer(w, r, id)
		case http.MethodPost:
			body, _ := io.ReadAll(r.Body)
			f, err := ParseFrame(body)
			if err != nil || f.ID == nil {
				w.WriteHeader(http.StatusAccepted)
				return
			}
			s.mu.Lock()
			s.pending = string(f.ID)
			s.mu.Unlock()
			post(w, s)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// events starts an event stream and writes events to it.
func events(w http.ResponseWriter, events string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprint(w, events)
	w.(http.Flusher).Flush()
}

// cut ends the connection under a stream abruptly, as a proxy or load
// balancer that drops it does: the client reads an unexpected EOF.
func (s *resumeServer) cut(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	s.mu.Lock()
	s.cuts = append(s.cuts, time.Now())
	s.mu.Unlock()
	conn.Close()
}

// answer writes the call's response as an event and ends the stream.
func answer(w http.ResponseWriter, _ *http.Request, id string) {
	events(w, fmt.Sprintf("id: ev-9\ndata: {\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"resumed\":true}}\n\n", id))
}

// A call's event stream cut after an event with an id and a retry field
// is resumed with a GET carrying Last-Event-ID after the retry delay; a
// resumed stream cut in turn is resumed from its own last event; and the
// call gets its answer.
func TestStreamableResumesACutAnswer(t *testing.T) {
	const retry = 300 * time.Millisecond
	var srv *resumeServer
	srv = newResumeServer(t,
		func(w http.ResponseWriter, s *resumeServer) {
			events(w, fmt.Sprintf("id: ev-1\nretry: %d\ndata:\n\n", retry.Milliseconds()))
			s.cut(w)
		},
		func(w http.ResponseWriter, _ *http.Request, _ string) {
			events(w, "id: ev-2\ndata:\n\n")
			srv.cut(w)
		},
		answer,
	)
	r, _, _ := dialTestRemote(t, srv.URL+"/mcp", nil)
	res, rpcErr, err := callTest(t, r, "tools/call")
	if err != nil || rpcErr != nil || string(res) != `{"resumed":true}` {
		t.Fatalf("the call got %s, %v, %v; want its answer from the resumed stream", res, rpcErr, err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if want := []string{"ev-1", "ev-2"}; fmt.Sprint(srv.ids) != fmt.Sprint(want) {
		t.Errorf("the GETs carried Last-Event-ID %q, want %q", srv.ids, want)
	}
	// Each resumption waited the delay the first stream asked for after
	// its cut (the second stream asked for none: the delay holds), not the
	// default.
	for i, at := range srv.getAt {
		if wait := at.Sub(srv.cuts[i]); wait < retry || wait >= streamableResumeDelay {
			t.Errorf("resumption %d came %v after the cut, want the %v the stream asked for", i+1, wait, retry)
		}
	}
}

// Resumption is bounded: a server that never serves the resumed stream
// fails the call after streamableResumeTries tries, and one that refuses
// it (4xx) after the first.
func TestStreamableResumptionIsBounded(t *testing.T) {
	cases := []struct {
		name   string
		status int
		tries  int
	}{
		{"unavailable", http.StatusServiceUnavailable, streamableResumeTries},
		{"refused", http.StatusBadRequest, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newResumeServer(t,
				func(w http.ResponseWriter, s *resumeServer) {
					events(w, "id: ev-1\nretry: 5\ndata:\n\n")
					s.cut(w)
				},
				func(w http.ResponseWriter, _ *http.Request, _ string) { http.Error(w, "no stream here", c.status) },
			)
			r, _, _ := dialTestRemote(t, srv.URL+"/mcp", nil)
			_, _, err := callTest(t, r, "tools/call")
			if err == nil || !strings.Contains(err.Error(), fmt.Sprint(c.status)) {
				t.Errorf("the call got %v, want an error naming HTTP %d", err, c.status)
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if len(srv.ids) != c.tries {
				t.Errorf("%d GETs, want %d", len(srv.ids), c.tries)
			}
		})
	}
}

// The session's GET stream, ended after an event with an id, is re-opened
// with Last-Event-ID after the delay it asked for.
func TestStreamableResumesTheGETStream(t *testing.T) {
	const retry = 50 * time.Millisecond
	reopened := make(chan struct{})
	srv := newResumeServer(t,
		func(w http.ResponseWriter, s *resumeServer) { answer(w, nil, s.pending) },
		func(w http.ResponseWriter, _ *http.Request, _ string) {
			events(w, fmt.Sprintf("id: g-1\nretry: %d\ndata:\n\n", retry.Milliseconds()))
		},
		func(w http.ResponseWriter, r *http.Request, _ string) {
			events(w, ": open\n\n")
			select {
			case reopened <- struct{}{}:
			default:
			}
			<-r.Context().Done()
		},
	)
	r, _, _ := dialTestRemote(t, srv.URL+"/mcp", nil)
	if err := r.Notify(context.Background(), "notifications/initialized", nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reopened:
	case <-time.After(streamableTestTimeout):
		t.Fatal("the GET stream was not re-opened")
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.ids[0] != "" || srv.ids[1] != "g-1" {
		t.Errorf("the GETs carried Last-Event-ID %q, want none and then g-1", srv.ids)
	}
	if gap := srv.getAt[1].Sub(srv.getAt[0]); gap < retry {
		t.Errorf("the stream was re-opened after %v, want at least the %v it asked for", gap, retry)
	}
}
