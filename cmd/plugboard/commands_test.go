package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/actors"
)

// runCLI runs plugboard's command line in this process, with no stdin.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// subcommandLines are the line each subcommand shows in plugboard --help.
var subcommandLines = map[string]string{
	"stdio":      "Serve one MCP client on stdin/stdout (the default)",
	"tools":      "Start the servers, print the catalog a client sees, exit",
	"serve":      "Serve many clients over HTTP (/mcp, /sse, /ws) and a unix socket",
	"attach":     "Bridge stdin/stdout to a running plugboard serve",
	"token":      "Print the bearer token plugboard serve requires over HTTP",
	"status":     "Show the servers of a running plugboard serve",
	"ui":         "Open the dashboard of a running plugboard serve",
	"login":      "Log in to a remote server that needs OAuth authorization",
	"logout":     "Forget the stored login to a remote server",
	"version":    "Print the version",
	"completion": "Generate the autocompletion script",
	"help":       "Help about any command",
}

func TestHelpListsEverySubcommandWithItsLine(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		code, stdout, stderr := runCLI(t, args...)
		if code != exitOK {
			t.Errorf("plugboard %s: exit %d, want 0; stderr %q", strings.Join(args, " "), code, stderr)
		}
		for name, line := range subcommandLines {
			if !strings.Contains(stdout, "  "+name+" ") || !strings.Contains(stdout, line) {
				t.Errorf("plugboard %s does not list %s with %q:\n%s", strings.Join(args, " "), name, line, stdout)
			}
		}
	}
}

func TestEachSubcommandDescribesItself(t *testing.T) {
	// A phrase of each command's longer description, and a flag it takes.
	for name, want := range map[string][]string{
		"stdio":   {"desktop client", "--config"},
		"tools":   {"quickest check", "--json", "--startup-timeout"},
		"serve":   {"daemon that many clients share", "--listen", "--socket", "--no-auth"},
		"attach":  {"desktop client", "--socket"},
		"token":   {"bearer token"},
		"status":  {"needs a plugboard serve", "--socket", "--json"},
		"ui":      {"$BROWSER", "works once", "--socket"},
		"login":   {"$BROWSER", "redirect_port", "--config"},
		"logout":  {"client registration", "--config"},
		"version": {"version"},
	} {
		for _, args := range [][]string{{name, "--help"}, {name, "-h"}, {"help", name}} {
			code, stdout, stderr := runCLI(t, args...)
			if code != exitOK {
				t.Errorf("plugboard %s: exit %d, want 0; stderr %q", strings.Join(args, " "), code, stderr)
			}
			for _, w := range append([]string{"plugboard " + name}, want...) {
				if !strings.Contains(stdout, w) {
					t.Errorf("plugboard %s lacks %q:\n%s", strings.Join(args, " "), w, stdout)
				}
			}
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		code, stdout, _ := runCLI(t, args...)
		if code != exitOK || stdout != "plugboard "+actors.Version+"\n" {
			t.Errorf("plugboard %s: exit %d, printed %q", args[0], code, stdout)
		}
	}
}

func TestCompletionPrintsAScript(t *testing.T) {
	for shell, want := range map[string]string{"bash": "complete -o default", "zsh": "#compdef plugboard", "fish": "complete -c plugboard", "powershell": "Register-ArgumentCompleter"} {
		code, stdout, stderr := runCLI(t, "completion", shell)
		if code != exitOK || !strings.Contains(stdout, want) {
			t.Errorf("completion %s: exit %d, stderr %q, script lacks %q", shell, code, stderr, want)
		}
	}
}

func TestCommandLineMistakesExitWithStatus2AndOneLine(t *testing.T) {
	for _, args := range [][]string{
		{"bogus"},
		{"--bogus"},
		{"tools", "--bogus"},
		{"tools", "extra"},
		{"status", "--config", "x.yaml"}, // status loads no configuration
		{"attach", "extra"},
		{"--config", filepath.Join(t.TempDir(), "missing.yaml")},
	} {
		code, stdout, stderr := runCLI(t, args...)
		if code != exitUsage {
			t.Errorf("plugboard %s: exit %d, want 2", strings.Join(args, " "), code)
		}
		if stdout != "" {
			t.Errorf("plugboard %s wrote to stdout: %q", strings.Join(args, " "), stdout)
		}
		if !strings.HasPrefix(stderr, "plugboard: ") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("plugboard %s: want one line on stderr, got %q", strings.Join(args, " "), stderr)
		}
	}
}

func TestConfigFlagBeforeTheCommand(t *testing.T) {
	cfg := writeConfig(t, "servers:\n"+fixtureServer("alpha"))
	for _, args := range [][]string{{"--config", cfg, "tools"}, {"tools", "-c", cfg}} {
		out, err := exec.Command(plugboardBin, args...).Output()
		if err != nil || !strings.Contains(string(out), "alpha__echo") {
			t.Errorf("plugboard %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func TestDemoConfigLists(t *testing.T) {
	// examples/demo.yaml names bin/mcp-fixture relative to the repository.
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(fixtureBin, filepath.Join(dir, "bin", "mcp-fixture")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(plugboardBin, "--config", filepath.Join(root, "examples", "demo.yaml"), "tools")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), "calc__add") || !strings.Contains(string(out), "notes__echo") {
		t.Errorf("plugboard --config examples/demo.yaml tools: %v\n%s", err, out)
	}
}
