package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// foreignUID is the uid the tests give files and listeners that another
// local user would own.
const foreignUID = 12345

func needRoot(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("skipped: making files and sockets of another user needs root (CI runs as root)")
	}
}

// runPlugboard runs the binary to its end with XDG_RUNTIME_DIR=runtimeDir
// and nothing on stdin, and returns its exit status and output.
func runPlugboard(t *testing.T, runtimeDir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runWithEnv(t, []string{"XDG_RUNTIME_DIR=" + runtimeDir}, args...)
}

// serveArgs start plugboard serve on a free port with the fixture.
func serveArgs(t *testing.T, extra ...string) []string {
	return append([]string{"serve", "--config", unprefixedFixture(t, ""), "--listen", "127.0.0.1:0", "--no-auth"}, extra...)
}

// listenAsUs listens on a unix socket at path as this user.
func listenAsUs(t *testing.T, path string) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
}

func privateDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "plugboard")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestServeAndAttachThroughThePrivateStateDirectory(t *testing.T) {
	runtimeDir := t.TempDir()
	state := filepath.Join(runtimeDir, "plugboard")
	// A state directory of ours with a wider mode is narrowed, not refused.
	if err := os.Mkdir(state, 0o755); err != nil {
		t.Fatal(err)
	}
	d := startServeIn(t, runtimeDir, unprefixedFixture(t, ""), "--no-auth", "--socket", defaultSocketIn(runtimeDir))
	socket := filepath.Join(state, "plugboard.sock")
	eventually(t, 10*time.Second, "the socket", func() bool { return strings.Contains(d.stderr.String(), "socket="+socket) })
	for path, want := range map[string]os.FileMode{state: 0o700, socket: 0o600} {
		info, err := os.Lstat(path)
		if err != nil || info.Mode().Perm() != want {
			t.Errorf("%s: %v, mode %v, want %04o", path, err, info.Mode().Perm(), want)
		}
	}
	c := launchCommandEnv(t, []string{"XDG_RUNTIME_DIR=" + runtimeDir}, plugboardBin, "attach")
	c.mustCall("initialize", map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "e2e", "version": "1"}})
	if tools := names(t, c.listAll("tools/list", "tools"), "name"); !contains(tools, "echo") {
		t.Errorf("tools through attach on the default socket: %v", tools)
	}
}

// defaultSocketIn is where serve and attach put the socket when
// XDG_RUNTIME_DIR is runtimeDir.
func defaultSocketIn(runtimeDir string) string {
	return filepath.Join(runtimeDir, "plugboard", "plugboard.sock")
}

func TestServeRefusesAStateDirectoryItCannotOwn(t *testing.T) {
	for _, tc := range []struct {
		name string
		root bool
		make func(t *testing.T, state string)
		want string
	}{
		{"another user's", true, func(t *testing.T, state string) {
			mustDo(t, os.Mkdir(state, 0o700), os.Chown(state, foreignUID, foreignUID))
		}, "belongs to uid 12345"},
		{"writable by others", false, func(t *testing.T, state string) {
			mustDo(t, os.Mkdir(state, 0o700), os.Chmod(state, 0o777))
		}, "writable by other users"},
		{"writable by the group", false, func(t *testing.T, state string) {
			mustDo(t, os.Mkdir(state, 0o700), os.Chmod(state, 0o770))
		}, "writable by other users"},
		{"a symbolic link to a directory of ours", false, func(t *testing.T, state string) {
			mustDo(t, os.Symlink(t.TempDir(), state))
		}, "is a symbolic link"},
		{"a file", false, func(t *testing.T, state string) {
			mustDo(t, os.WriteFile(state, nil, 0o600))
		}, "is not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root {
				needRoot(t)
			}
			runtimeDir := t.TempDir()
			state := filepath.Join(runtimeDir, "plugboard")
			tc.make(t, state)
			for _, args := range [][]string{serveArgs(t), {"token"}} {
				code, stdout, stderr := runPlugboard(t, runtimeDir, args...)
				if code == 0 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, state) || strings.Count(stderr, "\n") != 1 || stdout != "" {
					t.Errorf("plugboard %s with a state directory that is %s: exit %d, stderr %q; want a failure naming %s: %q in one line", args[0], tc.name, code, stderr, state, tc.want)
				}
			}
		})
	}
}

func mustDo(t *testing.T, errs ...error) {
	t.Helper()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestServeRefusesASocketItCannotOwn(t *testing.T) {
	for _, tc := range []struct {
		name string
		root bool
		make func(t *testing.T, socket string)
		want string
	}{
		{"a live socket of another user", true, func(t *testing.T, socket string) {
			listenAs(t, socket, foreignUID)
		}, "belongs to uid 12345"},
		{"a live socket of ours", false, func(t *testing.T, socket string) {
			listenAsUs(t, socket)
		}, "another plugboard is listening"},
		{"a file that is not a socket", false, func(t *testing.T, socket string) {
			mustDo(t, os.WriteFile(socket, []byte("keep me"), 0o600))
		}, "not a socket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root {
				needRoot(t)
			}
			socket := filepath.Join(privateDir(t), "pb.sock")
			tc.make(t, socket)
			code, _, stderr := runPlugboard(t, t.TempDir(), serveArgs(t, "--socket", socket)...)
			if code == 0 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, socket) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("serve on %s: exit %d, stderr %q; want a one-line refusal saying %q", tc.name, code, stderr, tc.want)
			}
		})
	}
	t.Run("a directory others can write", func(t *testing.T) {
		dir := privateDir(t)
		mustDo(t, os.Chmod(dir, 0o777))
		code, _, stderr := runPlugboard(t, t.TempDir(), serveArgs(t, "--socket", filepath.Join(dir, "pb.sock"))...)
		if code == 0 || !strings.Contains(stderr, "writable by other users") {
			t.Errorf("serve with --socket in a 0777 directory: exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("a stale socket of ours is replaced", func(t *testing.T) {
		socket := filepath.Join(privateDir(t), "pb.sock")
		ln, err := net.Listen("unix", socket)
		if err != nil {
			t.Fatal(err)
		}
		ln.(*net.UnixListener).SetUnlinkOnClose(false)
		ln.Close()
		d := startServeIn(t, t.TempDir(), unprefixedFixture(t, ""), "--no-auth", "--socket", socket)
		eventually(t, 10*time.Second, "the socket", func() bool { return strings.Contains(d.stderr.String(), "socket="+socket) })
	})
}

func TestAttachRefusesASocketOfAnotherUser(t *testing.T) {
	needRoot(t)
	for _, tc := range []struct {
		name string
		make func(t *testing.T, socket string)
		want string
	}{
		{"the socket file is another user's", func(t *testing.T, socket string) {
			listenAs(t, socket, foreignUID)
		}, "socket %s belongs to uid 12345"},
		// The file can be ours while another user's process listens: only
		// SO_PEERCRED tells.
		{"the listener runs as another user", func(t *testing.T, socket string) {
			listenAs(t, socket, foreignUID)
			mustDo(t, os.Lchown(socket, os.Getuid(), os.Getgid()))
		}, "the process listening on %s runs as uid 12345"},
		{"the directory is another user's", func(t *testing.T, socket string) {
			listenAsUs(t, socket)
			mustDo(t, os.Chown(filepath.Dir(socket), foreignUID, foreignUID))
		}, "belongs to uid 12345"},
		{"the directory is writable by others", func(t *testing.T, socket string) {
			listenAsUs(t, socket)
			mustDo(t, os.Chmod(filepath.Dir(socket), 0o777))
		}, "writable by other users"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			socket := filepath.Join(privateDir(t), "pb.sock")
			tc.make(t, socket)
			want := tc.want
			if strings.Contains(want, "%s") {
				want = fmt.Sprintf(want, socket)
			}
			code, stdout, stderr := runPlugboard(t, t.TempDir(), "attach", "--socket", socket)
			if code == 0 || !strings.Contains(stderr, want) || stdout != "" {
				t.Errorf("attach when %s: exit %d, stderr %q; want a refusal saying %q", tc.name, code, stderr, want)
			}
		})
	}
}

func TestServeRequiresItsTokenOverHTTP(t *testing.T) {
	runtimeDir := t.TempDir()
	cfg := unprefixedFixture(t, "")
	status := func(d *daemon, token string) int {
		t.Helper()
		s := newHTTPSession(t, d.url)
		if token != "" {
			s.header.Set("Authorization", "Bearer "+token)
		}
		resp := s.post(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "e2e", "version": "1"}}})
		resp.Body.Close()
		return resp.StatusCode
	}
	d := startServeIn(t, runtimeDir, cfg)
	tokenFile := filepath.Join(runtimeDir, "plugboard", "token")
	info, err := os.Lstat(tokenFile)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the token file: %v %v, want mode 0600", err, info)
	}
	code, printed, stderr := runPlugboard(t, runtimeDir, "token")
	token := strings.TrimSpace(printed)
	if code != 0 || len(token) != 64 || strings.Trim(token, "0123456789abcdef") != "" {
		t.Fatalf("plugboard token: exit %d, %q, %s; want 32 bytes in hex", code, printed, stderr)
	}
	for _, tc := range []struct {
		name, token string
		want        int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"a wrong token", strings.Repeat("0", 64), http.StatusUnauthorized},
		{"the printed token", token, http.StatusOK},
	} {
		if got := status(d, tc.token); got != tc.want {
			t.Errorf("%s: HTTP %d, want %d", tc.name, got, tc.want)
		}
	}
	if strings.Contains(d.stderr.String(), token) {
		t.Errorf("the token is in plugboard's log")
	}

	// The next start keeps the token.
	d.stop()
	d = startServeIn(t, runtimeDir, cfg)
	if got := status(d, token); got != http.StatusOK {
		t.Errorf("after a restart, the same token: HTTP %d, want 200", got)
	}
	d.stop()

	// A token of the user's own wins; --no-auth opts out, with a warning.
	d = startServeIn(t, runtimeDir, cfg, "--auth-token", "sesame")
	if a, b := status(d, token), status(d, "sesame"); a != http.StatusUnauthorized || b != http.StatusOK {
		t.Errorf("with --auth-token: the stored token HTTP %d (want 401), the given one HTTP %d (want 200)", a, b)
	}
	d.stop()
	t.Setenv("PLUGBOARD_AUTH_TOKEN", "open-sesame")
	d = startServeIn(t, runtimeDir, cfg)
	if a, b := status(d, token), status(d, "open-sesame"); a != http.StatusUnauthorized || b != http.StatusOK {
		t.Errorf("with PLUGBOARD_AUTH_TOKEN: the stored token HTTP %d (want 401), the given one HTTP %d (want 200)", a, b)
	}
	d.stop()
	os.Unsetenv("PLUGBOARD_AUTH_TOKEN")
	d = startServeIn(t, runtimeDir, cfg, "--no-auth")
	if got := status(d, ""); got != http.StatusOK || !strings.Contains(d.stderr.String(), "level=WARN msg=\"HTTP without authentication (--no-auth)") {
		t.Errorf("with --no-auth: HTTP %d without a token (want 200), log:\n%s", got, d.stderr.String())
	}
	if code, _, stderr := runPlugboard(t, runtimeDir, append(serveArgs(t), "--auth-token", "x")...); code != exitUsage || !strings.Contains(stderr, "exclude each other") {
		t.Errorf("--no-auth with --auth-token: exit %d, %s", code, stderr)
	}
}

func TestProfilesRefuseAForeignHost(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := launchCommandEnv(t, []string{"PLUGBOARD_PPROF=" + addr}, plugboardBin, "--config", unprefixedFixture(t, ""))
	get := func(host string) (int, error) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/debug/pprof/", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	eventually(t, 10*time.Second, "the profiles served", func() bool {
		_, err := get(addr)
		return err == nil
	})
	for _, tc := range []struct {
		host string
		want int
	}{{addr, 200}, {"localhost:6060", 200}, {"evil.example:" + strings.Split(addr, ":")[1], 403}, {"evil.example", 403}} {
		if got, err := get(tc.host); err != nil || got != tc.want {
			t.Errorf("profiles with Host %q: HTTP %d %v, want %d", tc.host, got, err, tc.want)
		}
	}
	_ = c
}
