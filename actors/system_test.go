package actors

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plugboard/plugboard/config"
)

// These tests run the actor system in process with several sessions on
// pipes, in front of real fixture processes: what one stdio client cannot
// show (sessions sharing servers).

func buildFixture(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mcp-fixture")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/mcp-fixture").CombinedOutput(); err != nil {
		t.Fatalf("building the fixture: %v\n%s", err, out)
	}
	return bin
}

func startSystem(t *testing.T, servers ...config.Server) *System {
	t.Helper()
	cfg := &config.Config{StartupTimeout: 10 * time.Second, PageSize: 100, Servers: servers}
	sys := Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sys.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return sys
}

func fixtureConfig(bin, name string) config.Server {
	return config.Server{Name: name, Command: bin, Args: []string{"--name", name}, Prefix: name, Enabled: true, Timeout: 10 * time.Second}
}

// session is a client on a pipe pair served by the system.
type session struct {
	t       *testing.T
	in      *io.PipeWriter
	mu      sync.Mutex
	nextID  int
	waiting map[string]chan json.RawMessage
	notes   chan json.RawMessage
	answer  func(method string) any
}

func openSession(t *testing.T, sys *System, caps string, answer func(method string) any) *session {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := sys.ServeStream(inR, outW, 1<<20)
	s := &session{t: t, in: inW, waiting: map[string]chan json.RawMessage{}, notes: make(chan json.RawMessage, 100), answer: answer}
	go s.read(outR)
	t.Cleanup(func() {
		inW.Close()
		<-done
		outW.Close()
	})
	s.call("initialize", `{"protocolVersion":"2025-06-18","capabilities":`+caps+`,"clientInfo":{"name":"t","version":"1"}}`)
	s.write(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	return s
}

func (s *session) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		line := append([]byte(nil), sc.Bytes()...)
		if json.Unmarshal(line, &m) != nil {
			s.t.Errorf("not JSON: %s", line)
			continue
		}
		switch {
		case m.Method != "" && m.ID == nil:
			s.notes <- line
		case m.Method != "":
			result, _ := json.Marshal(s.answer(m.Method))
			go s.write(fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":%s}`, m.ID, result))
		default:
			s.mu.Lock()
			ch := s.waiting[string(m.ID)]
			s.mu.Unlock()
			if ch != nil {
				ch <- line
			}
		}
	}
}

func (s *session) write(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := io.WriteString(s.in, line+"\n"); err != nil {
		s.t.Errorf("write: %v", err)
	}
}

// call sends a request and returns the whole response line.
func (s *session) call(method, params string) string {
	s.t.Helper()
	s.mu.Lock()
	s.nextID++
	id := fmt.Sprint(s.nextID)
	ch := make(chan json.RawMessage, 1)
	s.waiting[id] = ch
	s.mu.Unlock()
	s.write(fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"method":%q,"params":%s}`, id, method, params))
	select {
	case line := <-ch:
		return string(line)
	case <-time.After(20 * time.Second):
		s.t.Fatalf("no answer to %s", method)
		return ""
	}
}

// notification waits for a notification of the method.
func (s *session) notification(method string, within time.Duration) (string, bool) {
	deadline := time.After(within)
	for {
		select {
		case n := <-s.notes:
			if bytes.Contains(n, []byte(`"method":"`+method+`"`)) {
				return string(n), true
			}
		case <-deadline:
			return "", false
		}
	}
}

func touch(t *testing.T, s *session, uri string) string {
	t.Helper()
	return s.call("tools/call", `{"name":"fx__touch","arguments":{"uri":"`+uri+`"}}`)
}

func TestSubscriptionsAreCountedAcrossSessions(t *testing.T) {
	sys := startSystem(t, fixtureConfig(buildFixture(t), "fx"))
	a := openSession(t, sys, `{}`, nil)
	b := openSession(t, sys, `{}`, nil)
	const uri = "test://watched-resource"
	sub := `{"uri":"` + uri + `"}`
	a.call("resources/subscribe", sub)
	b.call("resources/subscribe", sub)
	touch(t, a, uri)
	for name, s := range map[string]*session{"a": a, "b": b} {
		if _, ok := s.notification("notifications/resources/updated", 5*time.Second); !ok {
			t.Errorf("session %s got no update", name)
		}
	}
	a.call("resources/unsubscribe", sub)
	if got := touch(t, b, uri); !strings.Contains(got, "touched") {
		t.Fatalf("one session's unsubscribe unsubscribed the other: %s", got)
	}
	if _, ok := b.notification("notifications/resources/updated", 5*time.Second); !ok {
		t.Error("the remaining subscriber got no update")
	}
	if _, ok := a.notification("notifications/resources/updated", 300*time.Millisecond); ok {
		t.Error("an unsubscribed session got an update")
	}
	b.call("resources/unsubscribe", sub)
	if got := touch(t, a, uri); !strings.Contains(got, "not subscribed") {
		t.Fatalf("the last unsubscribe did not reach the server: %s", got)
	}
}

func TestServerRequestsGoToTheCallingSession(t *testing.T) {
	sys := startSystem(t, fixtureConfig(buildFixture(t), "fx"))
	var mu sync.Mutex
	asked := map[string]int{}
	answerAs := func(who string) func(string) any {
		return func(method string) any {
			mu.Lock()
			asked[who]++
			mu.Unlock()
			return map[string]any{"role": "assistant", "model": who, "content": map[string]any{"type": "text", "text": "from " + who}}
		}
	}
	caps := `{"sampling":{}}`
	a := openSession(t, sys, caps, answerAs("a"))
	b := openSession(t, sys, caps, answerAs("b"))
	for _, tc := range []struct {
		s   *session
		who string
	}{{a, "a"}, {b, "b"}, {a, "a"}} {
		got := tc.s.call("tools/call", `{"name":"fx__test_sampling","arguments":{"prompt":"hi"}}`)
		if !strings.Contains(got, "LLM response: from "+tc.who) {
			t.Errorf("sampling for session %s answered by another: %s", tc.who, got)
		}
	}
	if asked["a"] != 2 || asked["b"] != 1 {
		t.Errorf("requests per session: %v", asked)
	}
}

func TestLaterSessionsGetTheServersInstructions(t *testing.T) {
	bin := buildFixture(t)
	sys := startSystem(t, fixtureConfig(bin, "fx"), fixtureConfig(bin, "gx"))
	a := openSession(t, sys, `{}`, nil)
	a.call("tools/list", `{}`) // waits until both servers are ready
	b := openSession(t, sys, `{}`, nil)
	got := b.call("initialize", `{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}`)
	for _, want := range []string{`## fx`, `## gx`, `Fixture server fx`, `Fixture server gx`} {
		if !strings.Contains(got, want) {
			t.Errorf("instructions lack %q: %s", want, got)
		}
	}
}

// BenchmarkToolsCallRoundTrip measures one tools/call through the whole
// path, in process: a session on pipes, front, router, server actor, the
// fixture process over stdio, and back. Run with -benchtime to taste.
func BenchmarkToolsCallRoundTrip(b *testing.B) {
	benchToolsCallRoundTrip(b, Options{})
}

// benchToolsCallRoundTrip is BenchmarkToolsCallRoundTrip with opts.
func benchToolsCallRoundTrip(b *testing.B, opts Options) {
	bin := filepath.Join(b.TempDir(), "mcp-fixture")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/mcp-fixture").CombinedOutput(); err != nil {
		b.Fatalf("building the fixture: %v\n%s", err, out)
	}
	cfg := &config.Config{StartupTimeout: 10 * time.Second, PageSize: 100, Servers: []config.Server{fixtureConfig(bin, "fx")}}
	sys := Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), opts)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = sys.Shutdown(ctx)
	}()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := sys.ServeStream(inR, outW, 1<<20)
	defer func() {
		inW.Close()
		go io.Copy(io.Discard, outR) // whatever is still on its way out
		<-done
		outW.Close()
	}()
	lines := bufio.NewReader(outR)
	roundTrip := func(line string) {
		if _, err := io.WriteString(inW, line+"\n"); err != nil {
			b.Fatal(err)
		}
		for { // skip notifications (list_changed) up to the response
			out, err := lines.ReadBytes('\n')
			if err != nil {
				b.Fatal(err)
			}
			if !bytes.Contains(out, []byte(`"method"`)) {
				return
			}
		}
	}
	roundTrip(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"b","version":"1"}}}`)
	roundTrip(`{"jsonrpc":"2.0","id":0,"method":"tools/list"}`)
	call := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fx__echo","arguments":{"text":"hello"}}}`
	b.ReportAllocs()
	for b.Loop() {
		roundTrip(call)
	}
}
