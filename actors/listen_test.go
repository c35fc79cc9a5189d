package actors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plugboard/plugboard/messages"
)

// endingListens is a connection whose subscriptions/listen requests end
// at once, the way each ending is given by end (by call number).
type endingListens struct {
	calls atomic.Int64
	ids   atomic.Int64
	done  chan struct{}
	end   func(n int64) (*messages.RPCError, error)
}

func (c *endingListens) NewID() int64 { return c.ids.Add(1) }
func (c *endingListens) Call(ctx context.Context, _ int64, method string, _ json.RawMessage) (json.RawMessage, *messages.RPCError, error) {
	if method != "subscriptions/listen" {
		return nil, nil, errors.New("unexpected " + method)
	}
	rpcErr, err := c.end(c.calls.Add(1))
	return nil, rpcErr, err
}
func (c *endingListens) Notify(context.Context, string, json.RawMessage) error { return nil }
func (c *endingListens) Done() <-chan struct{}                                 { return c.done }
func (c *endingListens) Reason() string                                        { return "" }
func (c *endingListens) Close()                                                {}

// syncBuffer is a log sink read while the listener writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A list-change listen that ends, however it ends, is logged at warn and
// opened again after the backoff while the connection lives; a server
// without the method is said so once and left alone.
func TestListenModernReopensAndLogs(t *testing.T) {
	fast := backoff{Base: time.Millisecond, Cap: 4 * time.Millisecond, ResetAfter: time.Hour}
	caps := &initializeCapabilities{Tools: json.RawMessage(`{}`)}
	cases := []struct {
		name      string
		end       func(n int64) (*messages.RPCError, error)
		wantCalls int64 // at least; 0 means exactly one
		wantLog   string
	}{
		{"the stream breaks", func(int64) (*messages.RPCError, error) { return nil, errors.New("answer ended without a response") }, 4, "lost it: answer ended without a response"},
		{"the server refuses", func(int64) (*messages.RPCError, error) {
			return &messages.RPCError{Code: messages.CodeInternalError, Message: "busy"}, nil
		}, 4, "refused it: busy"},
		{"the server ends it", func(int64) (*messages.RPCError, error) { return nil, nil }, 4, "ended it"},
		{"no such method", func(int64) (*messages.RPCError, error) {
			return &messages.RPCError{Code: messages.CodeMethodNotFound, Message: "method not found"}, nil
		}, 0, "has no subscriptions/listen"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn := &endingListens{done: make(chan struct{}), end: tc.end}
			logs := &syncBuffer{}
			log := slog.New(slog.NewTextHandler(logs, nil)).With("server", "s1")
			ctx, cancel := context.WithCancel(context.Background())
			stopped := make(chan struct{})
			var openedMu sync.Mutex
			var opened []bool // again, per listen
			go func() {
				defer close(stopped)
				listenModern(ctx, log, conn, caps, fast, func(_ int64, again bool) {
					openedMu.Lock()
					opened = append(opened, again)
					openedMu.Unlock()
				})
			}()
			if tc.wantCalls == 0 {
				select {
				case <-stopped:
				case <-time.After(5 * time.Second):
					t.Fatal("the listener did not give up on a server without the method")
				}
				if n := conn.calls.Load(); n != 1 {
					t.Errorf("%d listens, want 1", n)
				}
			} else {
				deadline := time.Now().Add(5 * time.Second)
				for conn.calls.Load() < tc.wantCalls && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
				if n := conn.calls.Load(); n < tc.wantCalls {
					t.Errorf("%d listens, want it re-opened to at least %d", n, tc.wantCalls)
				}
				close(conn.done) // the connection ends: so does the listener
				select {
				case <-stopped:
				case <-time.After(5 * time.Second):
					t.Fatal("the listener outlived its connection")
				}
			}
			cancel()
			openedMu.Lock()
			if len(opened) == 0 || opened[0] || (len(opened) > 1 && !opened[len(opened)-1]) {
				t.Errorf("opened (again?) per listen: %v, want false, then true", opened)
			}
			openedMu.Unlock()
			out := logs.String()
			if !strings.Contains(out, "level=WARN") || !strings.Contains(out, tc.wantLog) || !strings.Contains(out, "server=s1") {
				t.Errorf("log, want a warning naming the server and %q:\n%s", tc.wantLog, out)
			}
		})
	}
}
