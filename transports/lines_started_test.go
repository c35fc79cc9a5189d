package transports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/plugboard/plugboard/messages"
)

// start starts a call and returns where done's outcome arrives;
// a second call of done fails the test.
func (s *fakeServer) start(id int64, method, params string) <-chan callOutcome {
	s.t.Helper()
	done := make(chan callOutcome, 2)
	err := s.conn.startCall(id, method, json.RawMessage(params), CallDoneFunc(func(r json.RawMessage, e *messages.RPCError, err error, _ messages.WriteBatch) {
		done <- callOutcome{r, e, err}
	}), nil)
	if err != nil {
		s.t.Fatalf("startCall: %v", err)
	}
	return done
}

func TestLineConnStartedCallIsAnsweredOnTheReader(t *testing.T) {
	s := startLineConn(t, Handlers{})
	first := s.start(1, "tools/call", `{"name":"a"}`)
	second := s.start(2, "tools/call", `{"name":"b"}`)
	if got, want := s.next(), `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}}`+"\n"; got != want {
		t.Fatalf("first frame %q, want %q", got, want)
	}
	if got, want := s.next(), `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"b"}}`+"\n"; got != want {
		t.Fatalf("second frame %q, want %q", got, want)
	}
	s.send(`{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"bad"}}`)
	s.send(`{"jsonrpc":"2.0","id":1,"result":{"n":2.50}}`)
	if o := wait(t, second); o.err != nil || o.rpcErr == nil || o.rpcErr.Code != -32602 {
		t.Errorf("second = %s, %v, %v; want the RPC error", o.result, o.rpcErr, o.err)
	}
	if o := wait(t, first); o.err != nil || o.rpcErr != nil || string(o.result) != `{"n":2.50}` {
		t.Errorf("first = %s, %v, %v; want the result byte for byte", o.result, o.rpcErr, o.err)
	}
}

func TestLineConnAbandonedCallIsNotAnswered(t *testing.T) {
	s := startLineConn(t, Handlers{})
	abandoned := s.start(1, "tools/call", `{}`)
	s.next()
	if !s.conn.abandonCall(1) {
		t.Fatal("abandonCall = false for a call waiting for its answer")
	}
	if s.conn.abandonCall(1) {
		t.Fatal("abandonCall = true a second time")
	}
	s.send(`{"jsonrpc":"2.0","id":1,"result":{}}`)
	// A later call's answer, read after the abandoned one's, shows that
	// the reader has passed it.
	later := s.start(2, "tools/call", `{}`)
	s.next()
	s.send(`{"jsonrpc":"2.0","id":2,"result":{}}`)
	wait(t, later)
	select {
	case o := <-abandoned:
		t.Fatalf("the abandoned call was answered: %+v", o)
	default:
	}
}

func TestLineConnEndFailsStartedCalls(t *testing.T) {
	s := startLineConn(t, Handlers{})
	pending := s.start(1, "tools/call", `{}`)
	s.next()
	s.out.Close() // the server's output ends
	if o := wait(t, pending); !errors.Is(o.err, transport.ErrTransportClosed) {
		t.Fatalf("pending call = %+v, want ErrTransportClosed", o)
	}
	select {
	case o := <-pending:
		t.Fatalf("done called twice; second: %+v", o)
	case <-time.After(50 * time.Millisecond):
	}
	err := s.conn.startCall(2, "tools/call", nil, CallDoneFunc(func(json.RawMessage, *messages.RPCError, error, messages.WriteBatch) {
		t.Error("done called for a call refused at the start")
	}), nil)
	if !errors.Is(err, transport.ErrTransportClosed) {
		t.Fatalf("startCall after the end = %v, want ErrTransportClosed", err)
	}
}

// pipeLineConn is a lineConn writing to a real pipe, whose read end it
// returns; no server answers.
func pipeLineConn(t *testing.T) (*os.File, *lineConn) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, newLineConn(strings.NewReader(""), w, DefaultMaxFrame, Handlers{})
}

// On a real pipe the frame is written without a flusher; what the pipe has
// no room for waits for one, and every frame arrives whole and in order.
func TestLineConnStartedCallsOnAFullPipeArriveInOrder(t *testing.T) {
	r, c := pipeLineConn(t)
	if c.raw == nil {
		t.Fatal("an os.Pipe was not taken for a non-blocking pipe")
	}
	const n = 300
	text := strings.Repeat("x", 1000) // 300 frames of 1 kB: more than a pipe holds
	for i := 1; i <= n; i++ {
		// Nobody reads yet: once the pipe is full, the rest must wait
		// without blocking this goroutine.
		if err := c.startCall(int64(i), "m", json.RawMessage(fmt.Sprintf(`{"t":%q}`, text)), CallDoneFunc(func(json.RawMessage, *messages.RPCError, error, messages.WriteBatch) {}), nil); err != nil {
			t.Fatal(err)
		}
	}
	lines := NewLineReader(r, DefaultMaxFrame)
	for i := 1; i <= n; i++ {
		line, err := lines.Next()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		f, err := ParseFrame(line)
		if err != nil || string(f.ID) != fmt.Sprint(i) {
			t.Fatalf("frame %d: id %s, err %v", i, f.ID, err)
		}
	}
}

// Calls started under an open batch are held until it is flushed, then
// written in one write, in order; a frame written otherwise meanwhile
// (a notification) goes after the held ones; a batch flushed already
// holds nothing.
func TestLineConnHoldsABatchsCallsUntilItIsFlushed(t *testing.T) {
	r, c := pipeLineConn(t)
	noop := CallDoneFunc(func(json.RawMessage, *messages.RPCError, error, messages.WriteBatch) {})
	batch := NewWriteBatch()
	for i := 1; i <= 3; i++ {
		if err := c.startCall(int64(i), "m", nil, noop, batch); err != nil {
			t.Fatal(err)
		}
	}
	fd := int(r.Fd()) // once: Fd puts the file in blocking mode
	if err := syscall.SetNonblock(fd, true); err != nil {
		t.Fatal(err)
	}
	var probe [1]byte
	if n, _ := syscall.Read(fd, probe[:]); n > 0 {
		t.Fatal("a held frame was written before the batch was flushed")
	}
	if err := syscall.SetNonblock(fd, false); err != nil {
		t.Fatal(err)
	}
	if err := c.notify(context.Background(), "notifications/x", nil); err != nil { // not held: the held go first
		t.Fatal(err)
	}
	batch.Flush()
	if err := c.startCall(4, "m", nil, noop, batch); err != nil { // flushed already: written at once
		t.Fatal(err)
	}
	lines := NewLineReader(r, DefaultMaxFrame)
	for _, want := range []string{"1", "2", "3", "notifications/x", "4"} {
		line, err := lines.Next()
		if err != nil {
			t.Fatal(err)
		}
		f, err := ParseFrame(line)
		if got := string(f.ID); err != nil || (got != want && f.Method != want) {
			t.Fatalf("got %s, want %s next", line, want)
		}
	}
}

// A held frame whose write fails fails its call through its waiter.
func TestLineConnHeldCallsFailWhenTheirWriteFails(t *testing.T) {
	r, c := pipeLineConn(t)
	failed := make(chan error, 2)
	batch := NewWriteBatch()
	for i := 1; i <= 2; i++ {
		if err := c.startCall(int64(i), "m", nil, CallDoneFunc(func(_ json.RawMessage, _ *messages.RPCError, err error, _ messages.WriteBatch) { failed <- err }), batch); err != nil {
			t.Fatal(err)
		}
	}
	r.Close() // the server is gone: the write fails
	batch.Flush()
	for range 2 {
		select {
		case err := <-failed:
			if err == nil {
				t.Fatal("a call whose request was never written succeeded")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a held call whose write failed was never answered")
		}
	}
}

// heldRecorder is a client's stream as a messages.HeldWriter: it records
// what happens, in order.
type heldRecorder struct{ events chan string }

func (h *heldRecorder) FlushHeld() { h.events <- "flush" }

// The answers of one read of the server's stream come with the same
// batch, which the reader flushes once they are all handled; the next
// read has a batch of its own.
func TestLineConnAnswersOfOneReadShareABatchFlushedAfterThem(t *testing.T) {
	s := startLineConn(t, Handlers{})
	client := &heldRecorder{events: make(chan string, 16)}
	batches := make(chan messages.WriteBatch, 8)
	waiter := CallDoneFunc(func(r json.RawMessage, _ *messages.RPCError, _ error, batch messages.WriteBatch) {
		batches <- batch
		if batch != nil && batch.Hold(client) {
			client.events <- "held " + string(r)
		} else {
			client.events <- "written " + string(r)
		}
	})
	for id := int64(1); id <= 4; id++ {
		if err := s.conn.startCall(id, "tools/call", json.RawMessage(`{}`), waiter, nil); err != nil {
			t.Fatal(err)
		}
		s.next()
	}
	s.send(`{"jsonrpc":"2.0","id":1,"result":1}` + "\n" + `{"jsonrpc":"2.0","id":2,"result":2}` + "\n" + `{"jsonrpc":"2.0","id":3,"result":3}`)
	want := []string{"held 1", "held 2", "held 3", "flush"}
	for i, w := range want {
		select {
		case got := <-client.events:
			if got != w {
				t.Fatalf("event %d: %q, want %q (all: %q)", i, got, w, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d (%q) never came", i, w)
		}
	}
	first := <-batches
	for range 2 {
		if b := <-batches; b != first {
			t.Fatal("answers of one read came with different batches")
		}
	}
	s.send(`{"jsonrpc":"2.0","id":4,"result":4}`)
	if got := <-client.events; got != "held 4" {
		t.Fatalf("the next read's answer: %q, want it held by a batch of its own", got)
	}
	if b := <-batches; b == first || b == nil {
		t.Fatal("the next read's answer came with the first read's batch")
	}
}
