package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestEveryControlCommandSpeaksHumanAndJSON runs each command that asks
// a running plugboard serve, once for people and once with --json, and
// checks what each says.
func TestEveryControlCommandSpeaksHumanAndJSON(t *testing.T) {
	_, socket, _, _ := serveOnSocket(t, "servers:\n"+fixtureServer("alpha", "--stderr-lines", "2")+"workspaces:\n  one: [alpha]\n", "alpha__echo")
	run := func(args ...string) (string, string) {
		t.Helper()
		stdout, stderr, code := plugboardCommand(t, append(args, "--socket", socket)...)
		if code != 0 {
			t.Fatalf("plugboard %v: exit %d\nstdout %s\nstderr %s", args, code, stdout, stderr)
		}
		return stdout, stderr
	}
	human := func(want string, args ...string) {
		t.Helper()
		if out, _ := run(args...); !strings.Contains(out, want) {
			t.Errorf("plugboard %v prints\n%s\nwant %q in it", args, out, want)
		}
	}
	asJSON := func(v any, args ...string) {
		t.Helper()
		out, _ := run(append(args, "--json")...)
		if err := json.NewDecoder(strings.NewReader(out)).Decode(v); err != nil { // the first JSON value
			t.Errorf("plugboard %v --json prints %.300q: %v", args, out, err)
		}
	}

	human("alpha", "status")
	var st statusJSON
	if asJSON(&st, "status"); len(st.Servers) != 1 || st.Servers[0].State != "ready" || st.Servers[0].PID == 0 || len(st.Sessions) != 1 {
		t.Errorf("status --json: %+v", st)
	}

	human("alpha__echo", "tools")
	human("alpha__echo", "tools", "--server", "alpha")
	var cat catalogJSON
	if asJSON(&cat, "tools"); len(cat.Tools) == 0 || cat.Servers[0].Status != "ready" {
		t.Errorf("tools --json: %+v", cat.Servers)
	}

	human("disabled alpha__add; disabled now: alpha__add", "tools", "disable", "alpha__add")
	if _, stderr := run("tools", "disable", "nosuch__tool"); !strings.Contains(stderr, "no server offers nosuch__tool now") {
		t.Errorf("disabling a name nobody offers says %q", stderr)
	}
	var toggled reloadJSON
	if asJSON(&toggled, "tools", "enable", "alpha__add", "nosuch__tool"); len(toggled.DisabledTools) != 0 {
		t.Errorf("tools enable --json: %+v", toggled)
	}

	human("1 unchanged", "reload")
	var reloaded reloadJSON
	if asJSON(&reloaded, "reload"); len(reloaded.Unchanged) != 1 {
		t.Errorf("reload --json: %+v", reloaded)
	}
	human("restarted alpha", "restart", "alpha")
	var restarted reloadJSON
	if asJSON(&restarted, "restart", "alpha"); len(restarted.Restarted) != 1 || restarted.Restarted[0] != "alpha" {
		t.Errorf("restart --json: %+v", restarted)
	}

	eventually(t, 15*time.Second, "alpha's stderr kept", func() bool {
		out, _ := run("logs", "alpha")
		return strings.Contains(out, "fixture alpha stderr line 2")
	})
	var logs logsJSON
	if asJSON(&logs, "logs", "alpha"); len(logs.Lines) == 0 {
		t.Errorf("logs --json: %+v", logs)
	}

	human("one", "workspace", "list")
	var ws workspacesJSON
	if asJSON(&ws, "workspace", "list"); len(ws.Workspaces) != 1 || ws.Workspaces[0].Name != "one" || ws.Default != "" {
		t.Errorf("workspace list --json: %+v", ws)
	}
	human("the default workspace is one", "workspace", "use", "one")
	var used reloadJSON
	asJSON(&used, "workspace", "use", "--default")
	if asJSON(&ws, "workspace", "list"); ws.Default != "" {
		t.Errorf("after workspace use --default the default is %q", ws.Default)
	}
}
