package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// startNDJSONServer starts cmd/ndjson-fixture and returns the URL of its
// endpoint.
func startNDJSONServer(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(ndjsonFixtureBin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("ndjson server stderr:\n%s", stderr)
		}
	})
	url, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("the server printed no URL: %v", err)
	}
	return strings.TrimSpace(url)
}

// drainNotifications returns the notifications already received.
func drainNotifications(c *client) []*message {
	var got []*message
	for {
		select {
		case m := <-c.notifications:
			got = append(got, m)
		default:
			return got
		}
	}
}

// TestNewlineDelimitedJSONFromAGoSDKServer drives, through plugboard on
// stdio, a server built on the official Go SDK behind a middleware that
// answers every POST with newline-delimited JSON (notifications first,
// the response last): progress and log messages reach the client before
// their call's response, list changes are delivered, and with 2026-07-28
// (the SDK's stateless handler) the subscriptions/listen that carries them
// survives the server cutting it, as does a resource subscription's. (The SDK v1.8.0 serves 2026-07-28 only
// from its stateless handler, and a server of both generations gets a
// handshake-era session: -2026 makes it serve the revision alone.)
func TestNewlineDelimitedJSONFromAGoSDKServer(t *testing.T) {
	for _, tc := range []struct {
		name, arg, protocol string
	}{
		{"2026-07-28 alone", "-2026", "protocol=2026-07-28"},
		{"handshake era (sessions)", "", "protocol=2025"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var args []string
			if tc.arg != "" {
				args = append(args, tc.arg)
			}
			url := startNDJSONServer(t, args...)
			cfg := writeConfig(t, fmt.Sprintf("servers:\n  nd:\n    url: %q\n    transport: streamable-http\n    prefix: \"\"\n", url))
			c := startPlugboardAs(t, cfg, fullClientCaps, answerAsClient)
			eventually(t, 20*time.Second, "the server's tools listed", func() bool {
				return contains(names(t, c.listAll("tools/list", "tools"), "name"), "progress")
			})
			eventually(t, 10*time.Second, "plugboard speaking "+tc.protocol+" to the server", func() bool {
				return strings.Contains(c.stderr.String(), tc.protocol)
			})
			c.mustCall("logging/setLevel", map[string]any{"level": "debug"})
			drainNotifications(c)

			_, ch := c.send("tools/call", map[string]any{"name": "progress", "arguments": map[string]any{}, "_meta": map[string]any{"progressToken": "nd-1"}})
			m := c.wait(ch, "the progress call")
			if m.Error != nil || textOf(t, m.Result) != "progress done" {
				t.Fatalf("progress call: %s", m.raw)
			}
			var progress []string
			for _, n := range drainNotifications(c) {
				if n.Method == "notifications/progress" {
					var p struct {
						Token    string  `json:"progressToken"`
						Progress float64 `json:"progress"`
					}
					_ = json.Unmarshal(n.Params, &p)
					progress = append(progress, fmt.Sprintf("%s:%v", p.Token, p.Progress))
				}
			}
			if fmt.Sprint(progress) != "[nd-1:1 nd-1:2 nd-1:3]" {
				t.Errorf("progress before the response: %v, want nd-1:1..3", progress)
			}

			_, ch = c.send("tools/call", map[string]any{"name": "log", "arguments": map[string]any{}})
			if m := c.wait(ch, "the log call"); m.Error != nil || textOf(t, m.Result) != "logged" {
				t.Fatalf("log call: %s", m.raw)
			}
			logged := false
			for _, n := range drainNotifications(c) {
				logged = logged || n.Method == "notifications/message" && strings.Contains(string(n.Params), "a line from the tool")
			}
			if !logged {
				t.Error("the tool's log message did not come before its response")
			}

			addTool := func(want string) {
				t.Helper()
				if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "add_tool", "arguments": map[string]any{}})); got != want {
					t.Fatalf("add_tool: %q", got)
				}
				c.waitNotification("notifications/tools/list_changed", 10*time.Second)
				eventually(t, 10*time.Second, want+" listed", func() bool {
					return contains(names(t, c.listAll("tools/list", "tools"), "name"), want)
				})
			}
			if tc.arg == "-2026" {
				// The list changes come on plugboard's subscriptions/listen.
				waitListens(t, c, 1)
			}
			addTool("added_1")
			if tc.arg != "-2026" {
				return
			}

			if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "cut_listens", "arguments": map[string]any{}})); got != "cut 1" {
				t.Fatalf("cut_listens: %q", got)
			}
			eventually(t, 10*time.Second, "a warning that the listen ended", func() bool {
				return strings.Contains(c.stderr.String(), "level=WARN") && strings.Contains(c.stderr.String(), "listen ended; re-opening")
			})
			waitListens(t, c, 1)
			addTool("added_2")

			// A resource subscription is a listen of its own: it survives
			// being cut too.
			c.mustCall("resources/subscribe", map[string]any{"uri": "test://ndjson/counter"})
			waitListens(t, c, 2)
			touch := func() {
				t.Helper()
				c.mustCall("tools/call", map[string]any{"name": "touch", "arguments": map[string]any{}})
				if n := c.waitNotification("notifications/resources/updated", 10*time.Second); !strings.Contains(string(n.Params), "test://ndjson/counter") {
					t.Errorf("update of another resource: %s", n.raw)
				}
			}
			touch()
			if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "cut_listens", "arguments": map[string]any{}})); got != "cut 2" {
				t.Fatalf("cut_listens: %q", got)
			}
			eventually(t, 10*time.Second, "a warning that the subscription's listen ended", func() bool {
				return strings.Contains(c.stderr.String(), "resource subscription's listen ended; re-opening")
			})
			waitListens(t, c, 2)
			touch()

			// What changes while no listen is open is not lost: the lists
			// are fetched again, and subscribers told the resource may
			// have changed, once the listens are back.
			drainNotifications(c)
			if got := textOf(t, c.mustCall("tools/call", map[string]any{"name": "cut_listens", "arguments": map[string]any{"then_add": true}})); got != "cut 2, added added_3" {
				t.Fatalf("cut_listens: %q", got)
			}
			waitNotifications(t, c, 10*time.Second, "notifications/tools/list_changed", "notifications/resources/updated")
			if !contains(names(t, c.listAll("tools/list", "tools"), "name"), "added_3") {
				t.Error("a tool added while no listen was open is not listed")
			}
		})
	}
}

// waitNotifications waits for a notification of each method, in any
// order, skipping others.
func waitNotifications(t *testing.T, c *client, within time.Duration, methods ...string) {
	t.Helper()
	missing := map[string]bool{}
	for _, m := range methods {
		missing[m] = true
	}
	deadline := time.After(within)
	for len(missing) > 0 {
		select {
		case m := <-c.notifications:
			delete(missing, m.Method)
		case <-deadline:
			t.Fatalf("no %v within %s", missing, within)
		}
	}
}

// waitListens waits until the server has n subscriptions/listen open.
func waitListens(t *testing.T, c *client, n int) {
	t.Helper()
	eventually(t, 10*time.Second, fmt.Sprintf("%d listen(s) open on the server", n), func() bool {
		return textOf(t, c.mustCall("tools/call", map[string]any{"name": "listens", "arguments": map[string]any{}})) == fmt.Sprint(n)
	})
}
