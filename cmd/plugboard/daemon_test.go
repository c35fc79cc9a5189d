package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// attachTo starts `plugboard attach` on socket and initializes a session.
func attachTo(t *testing.T, socket string, args ...string) *client {
	t.Helper()
	c := launchCommand(t, plugboardBin, append([]string{"attach", "--socket", socket}, args...)...)
	if res := c.call("initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "daemon-e2e", "version": "1"}}); res.Error != nil {
		t.Fatalf("initialize through attach: %s", res.raw)
	}
	c.notify("notifications/initialized", nil)
	return c
}

// sendRaw writes a request with a raw id (a JSON string, say) and returns
// the channel its response arrives on.
func (c *client) sendRaw(id, method, params string) chan *message {
	ch := make(chan *message, 1)
	c.mu.Lock()
	c.waiting[id] = ch
	c.mu.Unlock()
	c.writeLine([]byte(`{"jsonrpc":"2.0","id":` + id + `,"method":"` + method + `","params":` + params + `}`))
	return ch
}

// exitCode waits for a command started by launchCommand to exit.
func exitCode(t *testing.T, c *client, within time.Duration) int {
	t.Helper()
	select {
	case <-c.exited:
	case <-time.After(within):
		t.Fatalf("%s still running after %s", c.cmd.Path, within)
	}
	err := c.cmd.Wait()
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

func TestAttachAnswersCallsInFlightWhenTheDaemonDies(t *testing.T) {
	socket := shortSocket(t)
	d := startServe(t, writeConfig(t, "servers:\n"+fixtureServer("slow")), "--socket", socket)
	c := attachTo(t, socket)

	byString := c.sendRaw(`"call-one"`, "tools/call", `{"name":"slow__sleep","arguments":{"ms":60000}}`)
	byNumber := c.sendRaw(`7`, "tools/call", `{"name":"slow__sleep","arguments":{"ms":60000}}`)
	// The daemon reads a session's frames in order: once the ping is
	// answered, it has the calls.
	if m := c.call("ping", nil); m.Error != nil {
		t.Fatalf("ping: %s", m.raw)
	}
	if err := d.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for what, ch := range map[string]chan *message{"the call with a string id": byString, "the call with a number id": byNumber} {
		m := c.wait(ch, what)
		if m.Error == nil || !strings.Contains(m.Error.Message, "gone") {
			t.Errorf("%s: got %s, want an error saying the daemon is gone", what, m.raw)
		}
	}
	if code := exitCode(t, c, 10*time.Second); code == 0 {
		t.Errorf("attach exited 0 after its daemon died")
	}
	if lines := strings.Split(strings.TrimSpace(c.stderr.String()), "\n"); len(lines) != 1 || !strings.Contains(lines[0], socket) {
		t.Errorf("attach's stderr: want one line naming the socket, got %q", c.stderr.String())
	}
}

func TestSecondServeOnOneSocketRefusesNamingTheFirst(t *testing.T) {
	socket := shortSocket(t)
	first := startServe(t, writeConfig(t, "servers:\n"+fixtureServer("first")), "--socket", socket)
	second := writeConfig(t, "servers:\n"+fixtureServer("second", "--stderr-lines", "1"))

	code, _, errOut := runPlugboard(t, t.TempDir(), "serve", "--config", second, "--socket", socket, "--listen", "127.0.0.1:0", "--no-auth")
	if code == 0 {
		t.Fatalf("a second serve on %s exited 0", socket)
	}
	if !strings.Contains(errOut, socket) || !strings.Contains(errOut, fmt.Sprintf("pid %d", first.cmd.Process.Pid)) {
		t.Errorf("the second serve's message does not name the socket and the first's pid %d:\n%s", first.cmd.Process.Pid, errOut)
	}
	if strings.Contains(errOut, "fixture second stderr line") || strings.Contains(errOut, "server ready") {
		t.Errorf("the second serve started a server before refusing:\n%s", errOut)
	}
	// The first goes on serving.
	c := attachTo(t, socket)
	c.mustCall("tools/list", nil)
}

func TestBusyHTTPPortSaysAPlugboardIsProbablyThere(t *testing.T) {
	d := startServe(t, writeConfig(t, "servers: {}\n"))
	addr := strings.TrimPrefix(d.url, "http://")
	code, _, errOut := runPlugboard(t, t.TempDir(), "serve", "--config", writeConfig(t, "servers: {}\n"), "--socket", "", "--listen", addr, "--no-auth")
	if code == 0 || !strings.Contains(errOut, "probably by another plugboard") || !strings.Contains(errOut, "--listen") {
		t.Errorf("serve on a busy port: exit %d, %q", code, errOut)
	}
}

func TestSIGTERMLetsCallsInFlightFinishThenRemovesTheSocket(t *testing.T) {
	socket := shortSocket(t)
	d := startServe(t, writeConfig(t, "servers:\n"+fixtureServer("slow")), "--socket", socket, "--grace", "30s")
	c := attachTo(t, socket)

	call := c.sendRaw(`"slow-call"`, "tools/call", `{"name":"slow__sleep","arguments":{"ms":1500}}`)
	if m := c.call("ping", nil); m.Error != nil {
		t.Fatalf("ping: %s", m.raw)
	}
	d.stop() // SIGTERM, and wait
	m := c.wait(call, "the call in flight at SIGTERM")
	if m.Error != nil || !strings.Contains(textOf(t, m.Result), "slept 1500 ms") {
		t.Errorf("the call in flight at SIGTERM: %s", m.raw)
	}
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("serve exited %d after SIGTERM, want 0", code)
	}
	if _, err := os.Lstat(socket); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the socket file is still there after serve stopped: %v", err)
	}
}

func TestAttachSpawnStartsADaemonWhenNoneAnswers(t *testing.T) {
	socket := shortSocket(t)
	runtimeDir := t.TempDir()
	env := []string{"XDG_RUNTIME_DIR=" + runtimeDir, "PLUGBOARD_LISTEN=127.0.0.1:0"}
	cfg := writeConfig(t, "servers:\n"+fixtureServer("spawned"))
	t.Cleanup(func() { stopDaemonAt(t, runtimeDir, socket) })

	c := launchCommandEnv(t, env, plugboardBin, "attach", "--spawn", "--socket", socket, "--config", cfg)
	if res := c.call("initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "spawn-e2e", "version": "1"}}); res.Error != nil {
		t.Fatalf("initialize: %s", res.raw)
	}
	c.notify("notifications/initialized", nil)
	res := c.mustCall("tools/call", map[string]any{"name": "spawned__echo", "arguments": map[string]any{"text": "hello"}})
	if !strings.Contains(textOf(t, res), "hello") {
		t.Errorf("echo through a spawned daemon: %s", res)
	}
	if _, err := os.Stat(filepath.Join(runtimeDir, "plugboard", spawnLog)); err != nil {
		t.Errorf("the spawned daemon's log: %v", err)
	}
}

// stopDaemonAt stops the plugboard serve answering on socket, found by
// its status, and waits until its socket is gone.
func stopDaemonAt(t *testing.T, runtimeDir, socket string) {
	t.Helper()
	code, out, _ := runPlugboard(t, runtimeDir, "status", "--json", "--socket", socket)
	var st statusJSON
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.PID == 0 {
		return
	}
	_ = syscall.Kill(st.PID, syscall.SIGTERM)
	eventually(t, 20*time.Second, "the spawned daemon gone", func() bool {
		_, err := os.Lstat(socket)
		return errors.Is(err, fs.ErrNotExist)
	})
}

func TestStatusShowsRuntimeSessionsAndTheStderrOfADownServer(t *testing.T) {
	socket := shortSocket(t)
	startServe(t, writeConfig(t, "servers:\n"+fixtureServer("ok")+fixtureServer("crashy", "--exit-at-start", "3")), "--socket", socket)
	c := attachTo(t, socket)
	c.sendRaw(`"long"`, "tools/call", `{"name":"ok__sleep","arguments":{"ms":60000}}`)
	if m := c.call("ping", nil); m.Error != nil {
		t.Fatalf("ping: %s", m.raw)
	}

	var st statusJSON
	eventually(t, 20*time.Second, "status --json showing ok's call in flight and crashy's stderr", func() bool {
		out, errOut, code := plugboardStatus(t, "--socket", socket, "--json")
		if code != 0 {
			t.Fatalf("status --json exited %d: %s", code, errOut)
		}
		st = statusJSON{}
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("status --json: %v: %s", err, out)
		}
		ok, crashy := statusOf(st, "ok"), statusOf(st, "crashy")
		return ok != nil && ok.InFlight == 1 && crashy != nil && len(crashy.Stderr) > 0
	})
	ok, crashy := statusOf(st, "ok"), statusOf(st, "crashy")
	if ok.PID <= 0 || ok.Revision == "" || ok.UptimeSeconds <= 0 || ok.Stderr != nil {
		t.Errorf("status --json for a ready server: %+v", *ok)
	}
	if !strings.Contains(strings.Join(crashy.Stderr, "\n"), "fixture crashy exiting at start with code 3") {
		t.Errorf("status --json for a crashing server shows no last stderr lines: %+v", *crashy)
	}
	if st.PID <= 0 || len(st.Sessions) != 1 || st.Sessions[0] != (sessionStatusJSON{Transport: "socket", ClientName: "daemon-e2e", InFlight: 1}) {
		t.Errorf("status --json: daemon pid %d, sessions %+v", st.PID, st.Sessions)
	}

	table, _, code := plugboardStatus(t, "--socket", socket)
	if code != 0 {
		t.Fatalf("status exited %d", code)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(fmt.Sprintf(`(?m)^ok\s+ready\s.*\s%d\s+%s\s+\d+ s\s+1$`, ok.PID, regexp.QuoteMeta(ok.Revision))),
		regexp.MustCompile(`(?m)^  fixture crashy exiting at start with code 3$`),
		regexp.MustCompile(`(?m)^1\s+socket\s+daemon-e2e\s+-\s+1$`),
	} {
		if !want.MatchString(table) {
			t.Errorf("status does not match %s:\n%s", want, table)
		}
	}
}

func statusOf(st statusJSON, name string) *serverStatusJSON {
	for i := range st.Servers {
		if st.Servers[i].Name == name {
			return &st.Servers[i]
		}
	}
	return nil
}

func TestLogsPrintsAServersStderrAndFollowsIt(t *testing.T) {
	socket := shortSocket(t)
	startServe(t, writeConfig(t, "servers:\n"+fixtureServer("talker", "--stderr-lines", "3")+fixtureServer("crashy", "--exit-at-start", "3")), "--socket", socket)

	runtimeDir := os.Getenv("XDG_RUNTIME_DIR")
	var out string
	eventually(t, 15*time.Second, "logs talker printing its stderr", func() bool {
		code, stdout, errOut := runPlugboard(t, runtimeDir, "logs", "talker", "--socket", socket)
		if code != 0 {
			t.Fatalf("logs talker exited %d: %s", code, errOut)
		}
		out = stdout
		return strings.Contains(out, "fixture talker stderr line 3")
	})
	if !strings.HasPrefix(out, "fixture talker stderr line 1\nfixture talker stderr line 2\nfixture talker stderr line 3\n") {
		t.Errorf("logs talker:\n%s", out)
	}

	code, _, errOut := runPlugboard(t, runtimeDir, "logs", "nosuch", "--socket", socket)
	if code != exitFailure || !strings.Contains(errOut, `"nosuch"`) || !strings.Contains(errOut, "crashy, talker") {
		t.Errorf("logs of an unknown server: exit %d, %q", code, errOut)
	}

	// crashy writes a line at each of its restarts: -f shows new ones.
	_, before, _ := runPlugboard(t, runtimeDir, "logs", "crashy", "--socket", socket)
	f := exec.Command(plugboardBin, "logs", "crashy", "-f", "--socket", socket)
	var followed lockedBuffer
	f.Stdout, f.Stderr = &followed, &followed
	if err := f.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "logs -f printing a line written after it started", func() bool {
		return strings.Count(followed.String(), "exiting at start") > strings.Count(before, "exiting at start")
	})
	_ = f.Process.Signal(syscall.SIGINT)
	if err := f.Wait(); err != nil {
		t.Errorf("logs -f after SIGINT: %v\n%s", err, followed.String())
	}
}
