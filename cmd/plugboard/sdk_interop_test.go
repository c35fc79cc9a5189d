package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// typescriptSDK is the official TypeScript MCP SDK whose client
// testdata/sdk_client.mjs drives.
const typescriptSDK = "@modelcontextprotocol/sdk@1.32.2"

// coreSDKChecks must pass when the SDK client talks to the reference server
// directly; if one does not, testdata/sdk_client.mjs is wrong.
var coreSDKChecks = []string{"progress", "sampling", "elicitation", "roots", "logging", "subscriptions"}

// sdkCheck is the outcome of one journey of testdata/sdk_client.mjs.
type sdkCheck struct {
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	MS     int    `json:"ms"`
}

// sdkRun is what testdata/sdk_client.mjs prints.
type sdkRun struct {
	Checks       map[string]sdkCheck `json:"checks"`
	ConnectMS    int                 `json:"connect_ms"`
	ClientErrors []string            `json:"client_errors"`
}

// TestSDKClientDirectAndThroughPlugboard runs the official TypeScript SDK
// client through the same journeys (progress, sampling, elicitation, roots,
// logging, subscriptions, completion, cancellation) against the reference
// server, once directly and once behind plugboard, and requires plugboard
// to pass every check the server passes directly.
func TestSDKClientDirectAndThroughPlugboard(t *testing.T) {
	modules := npmInstall(t, typescriptSDK, serverEverything)
	node := nodeBin(t)
	script := sdkClientScript(t, modules)
	everything := filepath.Join(modules, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js")

	direct := runSDKClient(t, "direct", node, script, node, everything)
	for _, name := range coreSDKChecks {
		if c, ok := direct.Checks[name]; !ok || !c.OK {
			t.Errorf("direct run: check %s failed, so sdk_client.mjs is wrong: %s", name, c.Detail)
		}
	}

	cfg := writeConfig(t, fmt.Sprintf("startup_timeout: 30s\nservers:\n  everything:\n    command: %q\n    args: [%q]\n    prefix: \"\"\n", node, everything))
	through := runSDKClient(t, "plugboard", node, script, plugboardBin, "--config", cfg)

	for _, name := range sortedChecks(direct) {
		d := direct.Checks[name]
		if !d.OK {
			t.Logf("check %s fails directly too, so it is not required through plugboard: %s", name, d.Detail)
			continue
		}
		p, ok := through.Checks[name]
		if !ok || !p.OK {
			t.Errorf("check %s passes directly but not through plugboard\n  direct:    %s\n  plugboard: %s", name, d.Detail, p.Detail)
		}
	}
}

// nodeBin finds node, with the same skip-or-fail policy as npmInstall.
func nodeBin(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("PLUGBOARD_REQUIRE_INTEROP") == "1" {
			t.Fatalf("node is required (PLUGBOARD_REQUIRE_INTEROP=1) but not found: %v", err)
		}
		t.Skipf("skipping interop test: node not found (%v)", err)
	}
	return node
}

// sdkClientScript copies testdata/sdk_client.mjs next to a link to the
// installed node_modules, since Node resolves a module's imports from where
// the module is.
func sdkClientScript(t *testing.T, modules string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "sdk_client.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(modules, "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "sdk_client.mjs")
	if err := os.WriteFile(script, src, 0o644); err != nil {
		t.Fatal(err)
	}
	return script
}

// runSDKClient runs the SDK client script with node on the server started
// by command and args, logs each check under label, and returns what the
// script reported.
func runSDKClient(t *testing.T, label, node, script, command string, args ...string) sdkRun {
	t.Helper()
	spec, err := json.Marshal(map[string]any{"command": command, "args": args})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, string(spec))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	started := time.Now()
	err = cmd.Run()
	elapsed := time.Since(started)
	if err != nil {
		t.Fatalf("sdk_client.mjs on %s: %v after %v\nstdout:\n%s\nstderr:\n%s", label, err, elapsed, stdout.Bytes(), stderr.Bytes())
	}
	var run sdkRun
	if err := json.Unmarshal(stdout.Bytes(), &run); err != nil {
		t.Fatalf("sdk_client.mjs on %s printed %q: %v\nstderr:\n%s", label, stdout.Bytes(), err, stderr.Bytes())
	}
	t.Logf("%s: %d checks in %v (connected in %d ms)", label, len(run.Checks), elapsed.Round(time.Millisecond), run.ConnectMS)
	for _, name := range sortedChecks(run) {
		c := run.Checks[name]
		t.Logf("  %-30s ok=%-5v %6d ms  %s", name, c.OK, c.MS, c.Detail)
	}
	for _, e := range run.ClientErrors {
		t.Logf("  client error: %s", e)
	}
	// plugboard built with -race reports races on its stderr, which only
	// this test sees.
	if bytes.Contains(stderr.Bytes(), []byte("WARNING: DATA RACE")) {
		t.Errorf("%s: the race detector reported a data race", label)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("stderr of sdk_client.mjs on %s (the server's or plugboard's log):\n%s", label, stderr.Bytes())
		}
	})
	return run
}

func sortedChecks(run sdkRun) []string {
	names := make([]string, 0, len(run.Checks))
	for name := range run.Checks {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
