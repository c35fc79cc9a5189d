package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The soak test runs `plugboard serve` for PLUGBOARD_SOAK_DURATION
// (default 10m) under a mix of Streamable HTTP and WebSocket sessions
// opening and closing, calls (some dropped mid-way), and servers killed
// (the crash tool, SIGKILL of the child) and restarted by plugboard. It
// samples plugboard's goroutines, open fds and RSS before and after, and
// fails if goroutines or fds grew beyond a margin once the load stopped
// and things settled. plugboard has no configuration reload yet: server
// restarts stand in for it. Only PLUGBOARD_SOAK=1 runs it; it is not for
// CI: it takes minutes and a core.
//
//	PLUGBOARD_SOAK=1 go test ./cmd/plugboard -run TestSoak -v -timeout 30m

// Growth allowed once the load stopped and things settled.
const (
	soakGoroutineMargin = 25
	soakFDMargin        = 10
)

func TestSoak(t *testing.T) {
	if os.Getenv("PLUGBOARD_SOAK") != "1" {
		t.Skip("the soak test runs only with PLUGBOARD_SOAK=1 (for PLUGBOARD_SOAK_DURATION, default 10m)")
	}
	duration := 10 * time.Minute
	if v := os.Getenv("PLUGBOARD_SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("PLUGBOARD_SOAK_DURATION: %v", err)
		}
		duration = d
	}
	cfg := "servers:\n" + fixtureServer("fx") + "    timeout: 5s\n" +
		fixtureServer("gx", "--legacy-only") + "    timeout: 5s\n" +
		fixtureServer("hx") + "    timeout: 5s\n    max_inflight: 8\n"
	d := startSoakServe(t, writeConfig(t, cfg))
	sk := &soak{t: t, base: d.url, errors: map[string]int{}}
	sk.settle()
	start := d.sample(t)
	t.Logf("start: %s", start)

	ctx, stop := context.WithTimeout(context.Background(), duration)
	defer stop()
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() { sk.loop(ctx, sk.httpSession, int64(i)) })
	}
	for i := range 2 {
		wg.Go(func() { sk.loop(ctx, sk.webSocketSession, int64(10+i)) })
	}
	wg.Go(func() { sk.chaos(ctx, d) })
	wg.Wait()
	http.DefaultClient.CloseIdleConnections()

	sk.settle()
	var end soakSample
	deadline := time.Now().Add(90 * time.Second)
	for {
		end = d.sample(t)
		if end.goroutines <= start.goroutines+soakGoroutineMargin && end.fds <= start.fds+soakFDMargin || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second) // polling for the settled state, bounded by the deadline
	}
	t.Logf("end:   %s", end)
	t.Logf("sessions %d, calls %d, dropped on purpose %d, server kills %d (crash tool %d, SIGKILL %d)",
		sk.sessions.Load(), sk.calls.Load(), sk.dropped.Load(), sk.crashes.Load()+sk.kills.Load(), sk.crashes.Load(), sk.kills.Load())
	t.Logf("errors by kind:\n%s", sk.errorReport())
	if end.goroutines > start.goroutines+soakGoroutineMargin {
		t.Errorf("goroutines grew from %d to %d (margin %d)", start.goroutines, end.goroutines, soakGoroutineMargin)
	}
	if end.fds > start.fds+soakFDMargin {
		t.Errorf("open fds grew from %d to %d (margin %d)", start.fds, end.fds, soakFDMargin)
	}
}

// soakDaemon is the plugboard serve under soak, with its profile address.
type soakDaemon struct {
	*daemon
	pprof string
}

func startSoakServe(t *testing.T, configPath string) *soakDaemon {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pprofAddr := l.Addr().String()
	l.Close()
	d := &daemon{stderr: &lockedBuffer{}}
	d.cmd = exec.Command(plugboardBin, "serve", "--config", configPath, "--listen", "127.0.0.1:0", "--socket", "")
	d.cmd.Env = append(os.Environ(), "PLUGBOARD_PPROF="+pprofAddr)
	d.cmd.Stderr = &tail{buf: d.stderr}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { d.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			d.cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("plugboard serve stderr (its start):\n%s", d.stderr.String())
		}
	})
	eventually(t, 15*time.Second, "plugboard serve listening", func() bool {
		m := listeningURL.FindStringSubmatch(d.stderr.String())
		if m != nil {
			d.url = m[1]
		}
		return m != nil
	})
	return &soakDaemon{daemon: d, pprof: pprofAddr}
}

// tail keeps the first 64 KiB of a process's stderr: enough to find its
// address and its start, without growing for the whole soak.
type tail struct {
	buf  *lockedBuffer
	kept atomic.Int64
}

func (w *tail) Write(p []byte) (int, error) {
	if w.kept.Add(int64(len(p))) < 64<<10 {
		w.buf.Write(p)
	}
	return len(p), nil
}

type soakSample struct {
	goroutines, fds int
	rssKiB          int
}

func (s soakSample) String() string {
	return fmt.Sprintf("goroutines %d, open fds %d, RSS %.1f MiB", s.goroutines, s.fds, float64(s.rssKiB)/1024)
}

var goroutineTotal = regexp.MustCompile(`goroutine profile: total (\d+)`)

func (d *soakDaemon) sample(t *testing.T) soakSample {
	t.Helper()
	var s soakSample
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + d.pprof + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatalf("goroutine profile: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := goroutineTotal.FindSubmatch(body)
	if m == nil {
		t.Fatalf("goroutine profile without a total: %.200s", body)
	}
	s.goroutines, _ = strconv.Atoi(string(m[1]))
	pid := d.cmd.Process.Pid
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("open fds: %v", err)
	}
	s.fds = len(fds)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			s.rssKiB, _ = strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
	return s
}

// children are the pids of plugboard's child processes.
func (d *soakDaemon) children() []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		rest := string(stat[bytes.LastIndexByte(stat, ')')+1:])
		f := strings.Fields(rest)
		if len(f) > 1 && f[1] == strconv.Itoa(d.cmd.Process.Pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// soak is the load and its tally.
type soak struct {
	t    *testing.T
	base string

	sessions, calls, dropped, crashes, kills atomic.Int64

	mu     sync.Mutex
	errors map[string]int
}

var soakServers = []string{"fx", "gx", "hx"}

// loop runs sessions one after the other until ctx ends.
func (sk *soak) loop(ctx context.Context, session func(context.Context, *rand.Rand), seed int64) {
	r := rand.New(rand.NewPCG(uint64(seed), 7))
	for ctx.Err() == nil {
		sk.sessions.Add(1)
		session(ctx, r)
		pause(ctx, 20*time.Millisecond) // pacing: the soak is about time, not throughput
	}
}

func pause(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// someCall is a random call of the mix, and whether it is one to drop.
func someCall(r *rand.Rand) (params map[string]any, drop bool) {
	server := soakServers[r.IntN(len(soakServers))]
	switch n := r.IntN(10); {
	case n < 5:
		return map[string]any{"name": server + "__echo", "arguments": map[string]any{"text": "soak"}}, false
	case n < 7:
		return map[string]any{"name": server + "__sleep", "arguments": map[string]any{"ms": 10 + r.IntN(40)}}, false
	case n < 9:
		return map[string]any{"name": server + "__progress", "arguments": map[string]any{"steps": 3, "delay_ms": 5},
			"_meta": map[string]any{"progressToken": "p"}}, false
	default:
		return map[string]any{"name": server + "__sleep", "arguments": map[string]any{"ms": 2000}}, true
	}
}

// httpSession is one Streamable HTTP session: initialize, a few calls
// (one in ten dropped before its answer), DELETE.
func (sk *soak) httpSession(ctx context.Context, r *rand.Rand) {
	id, ok := sk.httpInitialize()
	if !ok {
		return
	}
	defer func() {
		req, _ := http.NewRequest(http.MethodDelete, sk.base+"/mcp", nil)
		req.Header.Set("Mcp-Session-Id", id)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	for i := 0; i < 5 && ctx.Err() == nil; i++ {
		params, drop := someCall(r)
		callCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if drop {
			callCtx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
		}
		m, err := sk.post(callCtx, id, map[string]any{"jsonrpc": "2.0", "id": i + 2, "method": "tools/call", "params": params})
		cancel()
		switch {
		case drop && err != nil:
			sk.dropped.Add(1)
		default:
			sk.tally(m, err)
		}
	}
}

func (sk *soak) httpInitialize() (string, bool) {
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "initialize",
		"params": map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "soak", "version": "1"}}})
	req, _ := http.NewRequest(http.MethodPost, sk.base+"/mcp", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		sk.count("transport: " + err.Error())
		return "", false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	id := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != http.StatusOK || id == "" {
		sk.count(fmt.Sprintf("initialize: HTTP %d", resp.StatusCode))
		return "", false
	}
	if _, err := sk.post(context.Background(), id, map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"}); err != nil {
		sk.count("transport: " + err.Error())
		return "", false
	}
	return id, true
}

// post sends one message on a session and returns the response, if the
// message is a request.
func (sk *soak) post(ctx context.Context, session string, frame map[string]any) (*message, error) {
	b, _ := json.Marshal(frame)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, sk.base+"/mcp", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Session-Id", session)
	req.Header.Set("MCP-Protocol-Version", "2025-11-25")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusAccepted {
		return nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		var m message
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			return nil, err
		}
		return &m, nil
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var m message
		if json.Unmarshal([]byte(data), &m) == nil && m.Method == "" {
			return &m, nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("the stream ended without a response")
}

// webSocketSession is one WebSocket session: initialize, a few calls, and
// the connection closed (now and then with a call in flight).
func (sk *soak) webSocketSession(ctx context.Context, r *rand.Rand) {
	dialer := websocket.Dialer{Subprotocols: []string{"mcp"}, HandshakeTimeout: 10 * time.Second}
	conn, _, err := dialer.Dial("ws"+strings.TrimPrefix(sk.base, "http")+"/ws", nil)
	if err != nil {
		sk.count("transport: " + err.Error())
		return
	}
	defer conn.Close()
	call := func(id int, method string, params any, wait bool) (*message, error) {
		b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
		if err := conn.WriteMessage(websocket.TextMessage, b); err != nil || !wait {
			return nil, err
		}
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				return nil, err
			}
			var m message
			if json.Unmarshal(data, &m) == nil && m.Method == "" && string(m.ID) == strconv.Itoa(id) {
				return &m, nil
			}
		}
	}
	if m, err := call(1, "initialize", map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "soak", "version": "1"}}, true); err != nil || m.Error != nil {
		sk.tally(m, err)
		return
	}
	conn.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`))
	for i := 0; i < 5 && ctx.Err() == nil; i++ {
		params, drop := someCall(r)
		if drop { // closed with the call in flight
			call(i+2, "tools/call", params, false)
			sk.dropped.Add(1)
			return
		}
		sk.tally(call(i+2, "tools/call", params, true))
	}
}

// chaos kills a server every 15 s: by its crash tool, or by SIGKILL.
func (sk *soak) chaos(ctx context.Context, d *soakDaemon) {
	r := rand.New(rand.NewPCG(99, 7))
	for {
		pause(ctx, 15*time.Second)
		if ctx.Err() != nil {
			return
		}
		if r.IntN(2) == 0 {
			if id, ok := sk.httpInitialize(); ok {
				server := soakServers[r.IntN(len(soakServers))]
				callCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				m, err := sk.post(callCtx, id, map[string]any{"jsonrpc": "2.0", "id": 2, "method": "tools/call",
					"params": map[string]any{"name": server + "__crash", "arguments": map[string]any{}}})
				cancel()
				sk.crashes.Add(1)
				if err != nil || m == nil || m.Error == nil {
					sk.tally(m, err) // a crash must fail its own call
				}
				req, _ := http.NewRequest(http.MethodDelete, sk.base+"/mcp", nil)
				req.Header.Set("Mcp-Session-Id", id)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}
			continue
		}
		if pids := d.children(); len(pids) > 0 {
			syscall.Kill(pids[r.IntN(len(pids))], syscall.SIGKILL)
			sk.kills.Add(1)
		}
	}
}

// settle waits until every server answers a call.
func (sk *soak) settle() {
	sk.t.Helper()
	eventually(sk.t, 60*time.Second, "every server answering", func() bool {
		id, ok := sk.httpInitialize()
		if !ok {
			return false
		}
		defer func() {
			req, _ := http.NewRequest(http.MethodDelete, sk.base+"/mcp", nil)
			req.Header.Set("Mcp-Session-Id", id)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
		for i, server := range soakServers {
			m, err := sk.post(context.Background(), id, map[string]any{"jsonrpc": "2.0", "id": i + 2, "method": "tools/call",
				"params": map[string]any{"name": server + "__echo", "arguments": map[string]any{"text": "settle"}}})
			if err != nil || m == nil || m.Error != nil {
				return false
			}
		}
		return true
	})
}

// soakNumbers are the digits of ids, pids and durations in error messages.
var soakNumbers = regexp.MustCompile(`\d+(\.\d+)?(ms|s)?`)

// tally counts a call's outcome: ok, or its error by kind.
func (sk *soak) tally(m *message, err error) {
	sk.calls.Add(1)
	switch {
	case err != nil:
		sk.count("transport: " + soakNumbers.ReplaceAllString(err.Error(), "N"))
	case m == nil:
		sk.count("no response")
	case m.Error != nil:
		msg := m.Error.Message
		for _, s := range soakServers {
			msg = strings.ReplaceAll(msg, "server "+s, "server S")
		}
		sk.count(fmt.Sprintf("%d %s", m.Error.Code, soakNumbers.ReplaceAllString(msg, "N")))
	default:
		sk.count("ok")
	}
}

func (sk *soak) count(kind string) {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	sk.errors[kind]++
}

func (sk *soak) errorReport() string {
	sk.mu.Lock()
	defer sk.mu.Unlock()
	kinds := make([]string, 0, len(sk.errors))
	for k := range sk.errors {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool { return sk.errors[kinds[i]] > sk.errors[kinds[j]] })
	var b strings.Builder
	for _, k := range kinds {
		fmt.Fprintf(&b, "  %7d  %s\n", sk.errors[k], k)
	}
	return b.String()
}
