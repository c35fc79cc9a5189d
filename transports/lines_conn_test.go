package transports

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/plugboard/plugboard/messages"
)

// fakeServer is the other end of a lineConn: it reads what plugboard
// writes and writes what a server would.
type fakeServer struct {
	t    *testing.T
	in   *bufio.Reader  // plugboard's frames
	out  *io.PipeWriter // the server's frames
	conn *lineConn
}

func startLineConn(t *testing.T, h Handlers) *fakeServer {
	t.Helper()
	toServerR, toServerW := io.Pipe()
	fromServerR, fromServerW := io.Pipe()
	c := newLineConn(fromServerR, toServerW, 1<<20, h)
	c.start()
	t.Cleanup(func() {
		_ = c.close()
		fromServerW.Close()
		toServerR.Close()
	})
	return &fakeServer{t: t, in: bufio.NewReader(toServerR), out: fromServerW, conn: c}
}

// next returns the next frame plugboard wrote, with its line ending.
func (s *fakeServer) next() string {
	s.t.Helper()
	line, err := s.in.ReadString('\n')
	if err != nil {
		s.t.Fatalf("reading plugboard's frame: %v", err)
	}
	return line
}

func (s *fakeServer) send(line string) {
	s.t.Helper()
	if _, err := io.WriteString(s.out, line+"\n"); err != nil {
		s.t.Fatalf("writing the server's frame: %v", err)
	}
}

type callOutcome struct {
	result json.RawMessage
	rpcErr *messages.RPCError
	err    error
}

// callAsync starts a call and returns where its outcome arrives.
func (s *fakeServer) callAsync(ctx context.Context, id int64, method, params string) <-chan callOutcome {
	done := make(chan callOutcome, 1)
	var p json.RawMessage
	if params != "" {
		p = json.RawMessage(params)
	}
	go func() {
		r, e, err := s.conn.call(ctx, id, method, p, nil)
		done <- callOutcome{r, e, err}
	}()
	return done
}

func wait(t *testing.T, ch <-chan callOutcome) callOutcome {
	t.Helper()
	select {
	case o := <-ch:
		return o
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not return")
		return callOutcome{}
	}
}

func TestLineConnPassesRequestsAndResultsThroughRaw(t *testing.T) {
	s := startLineConn(t, Handlers{})
	params := `{"name":"echo","arguments":{"price":2.50,"big":1e400,"z":1,"a":2}}`
	call := s.callAsync(context.Background(), 7, "tools/call", params)
	if got, want := s.next(), `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":`+params+"}\n"; got != want {
		t.Fatalf("request frame\n got %q\nwant %q", got, want)
	}
	result := `{ "content" : [{"type":"text","text":"\u00e9 2.50"}], "_meta":{"z":1,"a":2}, "n":2.50, "x-new":[] }`
	s.send(`{"result":` + result + `, "id":7, "jsonrpc":"2.0"}`)
	o := wait(t, call)
	if o.err != nil || o.rpcErr != nil || string(o.result) != result {
		t.Errorf("call = %s, %v, %v; want the result byte for byte", o.result, o.rpcErr, o.err)
	}
}

func TestLineConnErrors(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		want  messages.RPCError
	}{
		{"error with data kept raw", `{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"bad","data":{"n":2.50}}}`,
			messages.RPCError{Code: -32602, Message: "bad", Data: json.RawMessage(`{"n":2.50}`)}},
		{"malformed error", `{"jsonrpc":"2.0","id":1,"error":"oops"}`,
			messages.RPCError{Code: messages.CodeInternalError, Message: `the server answered with a malformed error: "oops"`}},
		{"neither result nor error", `{"jsonrpc":"2.0","id":1}`,
			messages.RPCError{Code: messages.CodeInternalError, Message: "the server answered with neither a result nor an error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startLineConn(t, Handlers{})
			call := s.callAsync(context.Background(), 1, "m", "")
			if got := s.next(); got != `{"jsonrpc":"2.0","id":1,"method":"m"}`+"\n" {
				t.Fatalf("request frame %q", got)
			}
			s.send(tt.frame)
			o := wait(t, call)
			if o.err != nil || o.result != nil || o.rpcErr == nil {
				t.Fatalf("call = %s, %v, %v; want an RPC error", o.result, o.rpcErr, o.err)
			}
			if o.rpcErr.Code != tt.want.Code || o.rpcErr.Message != tt.want.Message || string(o.rpcErr.Data) != string(tt.want.Data) {
				t.Errorf("rpcErr = %+v (data %s), want %+v (data %s)", *o.rpcErr, o.rpcErr.Data, tt.want, tt.want.Data)
			}
		})
	}
}

func TestLineConnMatchesResponsesByID(t *testing.T) {
	s := startLineConn(t, Handlers{})
	first := s.callAsync(context.Background(), 1, "a", "")
	s.next()
	second := s.callAsync(context.Background(), 2, "b", "")
	s.next()
	s.send("not json")
	s.send(`{"jsonrpc":"2.0","id":99,"result":{"stray":true}}`)
	s.send(`{"jsonrpc":"2.0","id":2,"result":{"for":"b"}}`)
	s.send(`{"jsonrpc":"2.0","id":1,"result":{"for":"a"}}`)
	if o := wait(t, second); string(o.result) != `{"for":"b"}` {
		t.Errorf("second call got %s, %v, %v", o.result, o.rpcErr, o.err)
	}
	if o := wait(t, first); string(o.result) != `{"for":"a"}` {
		t.Errorf("first call got %s, %v, %v", o.result, o.rpcErr, o.err)
	}
}

func TestLineConnNotifications(t *testing.T) {
	type note struct{ method, params string }
	got := make(chan note, 10)
	s := startLineConn(t, Handlers{Notification: func(method string, params json.RawMessage) {
		got <- note{method, string(params)}
	}})
	s.send(`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"pb-1","progress":0.50,"total":1e2}}`)
	s.send(`{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`)
	s.send(`{"jsonrpc":"2.0","method":"notifications/x","id":null,"params":null}`)
	want := []note{
		{"notifications/progress", `{"progressToken":"pb-1","progress":0.50,"total":1e2}`},
		{"notifications/tools/list_changed", `{}`},
		{"notifications/x", `{}`},
	}
	for _, w := range want {
		select {
		case n := <-got:
			if n != w {
				t.Errorf("notification %+v, want %+v", n, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no notification %s", w.method)
		}
	}
}

func TestLineConnAnswersTheServersRequests(t *testing.T) {
	s := startLineConn(t, Handlers{Request: func(ctx context.Context, id json.RawMessage, method string, params json.RawMessage) (json.RawMessage, *messages.RPCError) {
		switch method {
		case "sampling/createMessage":
			return json.RawMessage(`{"id":` + string(id) + `,"params":` + string(params) + `}`), nil
		case "roots/list":
			return nil, &messages.RPCError{Code: messages.CodeMethodNotFound, Message: "no roots"}
		}
		return nil, nil
	}})
	s.send(`{"jsonrpc":"2.0","id":"s-1","method":"sampling/createMessage","params":{"maxTokens":100,"t":0.50}}`)
	if got, want := s.next(), `{"jsonrpc":"2.0","id":"s-1","result":{"id":"s-1","params":{"maxTokens":100,"t":0.50}}}`+"\n"; got != want {
		t.Errorf("answer\n got %q\nwant %q", got, want)
	}
	s.send(`{"jsonrpc":"2.0","id":5,"method":"roots/list"}`)
	if got, want := s.next(), `{"jsonrpc":"2.0","id":5,"error":{"code":-32601,"message":"no roots"}}`+"\n"; got != want {
		t.Errorf("answer\n got %q\nwant %q", got, want)
	}
	s.send(`{"jsonrpc":"2.0","id":6,"method":"ping"}`)
	if got, want := s.next(), `{"jsonrpc":"2.0","id":6,"result":null}`+"\n"; got != want {
		t.Errorf("answer\n got %q\nwant %q", got, want)
	}
}

func TestLineConnWithoutARequestHandler(t *testing.T) {
	s := startLineConn(t, Handlers{})
	s.send(`{"jsonrpc":"2.0","id":3,"method":"elicitation/create","params":{}}`)
	if got, want := s.next(), `{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"no request handler configured for elicitation/create"}}`+"\n"; got != want {
		t.Errorf("answer\n got %q\nwant %q", got, want)
	}
}

func TestLineConnEnds(t *testing.T) {
	t.Run("the server's output ends", func(t *testing.T) {
		s := startLineConn(t, Handlers{})
		call := s.callAsync(context.Background(), 1, "m", "")
		s.next()
		s.out.Close()
		if o := wait(t, call); !errors.Is(o.err, transport.ErrTransportClosed) {
			t.Errorf("call = %v, want ErrTransportClosed", o.err)
		}
		if _, _, err := s.conn.call(context.Background(), 2, "m", nil, nil); !errors.Is(err, transport.ErrTransportClosed) {
			t.Errorf("a call after the end = %v, want ErrTransportClosed", err)
		}
		if err := s.conn.notify(context.Background(), "n", nil); !errors.Is(err, transport.ErrTransportClosed) {
			t.Errorf("a notification after the end = %v, want ErrTransportClosed", err)
		}
	})
	t.Run("closed", func(t *testing.T) {
		s := startLineConn(t, Handlers{})
		call := s.callAsync(context.Background(), 1, "m", "")
		s.next()
		_ = s.conn.close()
		if o := wait(t, call); !errors.Is(o.err, transport.ErrTransportClosed) {
			t.Errorf("call = %v, want ErrTransportClosed", o.err)
		}
	})
	t.Run("the caller gives up", func(t *testing.T) {
		s := startLineConn(t, Handlers{})
		ctx, cancel := context.WithCancel(context.Background())
		call := s.callAsync(ctx, 1, "m", "")
		s.next()
		cancel()
		if o := wait(t, call); !errors.Is(o.err, context.Canceled) {
			t.Errorf("call = %v, want context.Canceled", o.err)
		}
		s.send(`{"jsonrpc":"2.0","id":1,"result":{}}`) // late: dropped
		again := s.callAsync(context.Background(), 2, "m", "")
		s.next()
		s.send(`{"jsonrpc":"2.0","id":2,"result":{"ok":1}}`)
		if o := wait(t, again); string(o.result) != `{"ok":1}` {
			t.Errorf("the next call got %s, %v, %v", o.result, o.rpcErr, o.err)
		}
	})
}

func TestLineConnNotify(t *testing.T) {
	s := startLineConn(t, Handlers{})
	sent := make(chan error, 1)
	go func() { // the pipe holds nothing: the write waits for the read
		sent <- s.conn.notify(context.Background(), "notifications/cancelled", json.RawMessage(`{"requestId":3,"reason":"x"}`))
	}()
	if got, want := s.next(), `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3,"reason":"x"}}`+"\n"; got != want {
		t.Errorf("notification\n got %q\nwant %q", got, want)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
}

func TestParseID(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"7", 7, true}, {"-3", -3, true}, {"9223372036854775807", 9223372036854775807, true},
		{"", 0, false}, {"-", 0, false}, {`"7"`, 0, false}, {"7.0", 0, false}, {"1e3", 0, false}, {"null", 0, false},
		{"92233720368547758070", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseID(json.RawMessage(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseID(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// BenchmarkLineConnCall is one call and its answer over pipes, with a
// goroutine answering as the server.
func BenchmarkLineConnCall(b *testing.B) {
	toServerR, toServerW := io.Pipe()
	fromServerR, fromServerW := io.Pipe()
	c := newLineConn(fromServerR, toServerW, 1<<20, Handlers{})
	c.start()
	defer func() {
		_ = c.close()
		fromServerW.Close()
	}()
	go func() {
		in := bufio.NewReader(toServerR)
		for {
			line, err := in.ReadBytes('\n')
			if err != nil {
				return
			}
			f, err := ParseFrame(line)
			if err != nil {
				return
			}
			if _, err := fromServerW.Write(append(ResultFrame(f.ID, benchResult), '\n')); err != nil {
				return
			}
		}
	}()
	params := json.RawMessage(`{"name":"echo","arguments":{"text":"hello"}}`)
	b.ReportAllocs()
	var id int64
	for b.Loop() {
		id++
		if _, _, err := c.call(context.Background(), id, "tools/call", params, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// Frames written while another caller writes are batched, and every
// caller's frame arrives whole, once, and on a line of its own.
func TestLineConnBatchesConcurrentWrites(t *testing.T) {
	r, w := io.Pipe()
	c := newLineConn(strings.NewReader(""), w, DefaultMaxFrame, Handlers{})
	const n = 200
	got := make(chan map[string]int, 1)
	go func() {
		seen := map[string]int{}
		lines := NewLineReader(r, DefaultMaxFrame)
		for range n {
			line, err := lines.Next()
			if err != nil {
				break
			}
			seen[string(line)]++
		}
		got <- seen
	}()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.write([]byte(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	seen := <-got
	for i := range n {
		if seen[fmt.Sprintf(`{"n":%d}`, i)] != 1 {
			t.Fatalf("frame %d arrived %d times; all: %v", i, seen[fmt.Sprintf(`{"n":%d}`, i)], len(seen))
		}
	}
}
