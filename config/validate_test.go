package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadErrors(t *testing.T) {
	clearOverrides(t)
	t.Setenv("PB_TEST_SET", "v")
	// srv wraps one server's settings (YAML flow style) in a config.
	srv := func(name, settings string) string {
		return "servers:\n  " + name + ": {" + settings + "}\n"
	}
	tests := []struct {
		name    string
		file    string // file name; its extension picks the format
		content string
		key     string // want Error.Key, exactly
		problem string // want in Error.Problem
	}{
		// The file as a whole.
		{"unsupported extension", "c.ini", "a=1", "", `unsupported file extension ".ini"; use .yaml, .yml, .json or .toml`},
		{"no extension", "config", "a: 1", "", `unsupported file extension ""`},
		{"yaml syntax", "c.yaml", "servers: [1\n", "", "cannot parse YAML: yaml: line 1: did not find expected ',' or ']'"},
		{"yaml duplicate key", "c.yaml", "servers: {}\nservers: {}\n", "", `cannot parse YAML: yaml: unmarshal errors: line 2: mapping key "servers" already defined at line 1`},
		{"yaml not a map", "c.yaml", "- a\n", "", "cannot parse YAML: "},
		{"json syntax", "c.json", "{\n  \"servers\": {,}\n}", "", "cannot parse JSON: line 2, column 15: invalid character ','"},
		{"json not an object", "c.json", "[]", "", "cannot parse JSON: json: cannot unmarshal array"},
		{"toml syntax", "c.toml", "servers = \n", "", "cannot parse TOML: line 1, column "},

		// Top-level keys.
		{"startup_timeout zero", "c.yaml", "startup_timeout: 0s\n", "startup_timeout", "must be greater than 0, got 0s"},
		{"startup_timeout negative", "c.json", `{"startup_timeout": -3}`, "startup_timeout", "must be greater than 0, got -3s"},
		{"startup_timeout garbage", "c.yaml", "startup_timeout: 6o s\n", "startup_timeout", `invalid duration "6o s"`},
		{"startup_timeout wrong type", "c.yaml", "startup_timeout: [5s]\n", "startup_timeout", `expected a duration such as "30s" or a number of seconds, got a list`},
		{"log_level unknown", "c.yaml", "log_level: verbose\n", "log_level", `must be one of debug, info, warn, error; got "verbose"`},
		{"log_level wrong type", "c.yaml", "log_level: 3\n", "log_level", "expected a string, got a number"},
		{"page_size zero", "c.yaml", "page_size: 0\n", "page_size", "must be at least 1, got 0"},
		{"page_size fraction", "c.json", `{"page_size": 1.5}`, "page_size", "expected a whole number, got 1.5"},
		{"page_size wrong type", "c.yaml", "page_size: lots\n", "page_size", `expected a whole number, got "lots"`},
		{"servers and mcpServers", "c.json", `{"servers": {}, "mcpServers": {}}`, "mcpServers", "cannot be used together with servers"},
		{"servers a list", "c.yaml", "servers: [a, b]\n", "servers", "expected a map of server names to server settings, got a list"},
		{"empty server name", "c.yaml", srv(`""`, "command: x"), "servers", "a server has an empty name"},
		{"server not a map", "c.yaml", "servers:\n  github: npx\n", "servers.github", "expected a map of server settings, got a string"},

		// Command or url.
		{"neither command nor url", "c.yaml", srv("github", "args: [a]"), "servers.github", "needs either command or url"},
		{"both command and url", "c.yaml", srv("github", "command: x, url: 'http://h'"), "servers.github", "has both command and url"},
		{"command wrong type", "c.yaml", srv("github", "command: [npx]"), "servers.github.command", "expected a string, got a list"},
		{"command empty", "c.yaml", srv("github", `command: ""`), "servers.github.command", "is empty"},
		{"command empty after expansion", "c.yaml", srv("github", `command: "${PB_TEST_UNSET}"`), "servers.github.command", "is empty: ${PB_TEST_UNSET} is not set"},
		{"command blank after expansion", "c.yaml", srv("github", `command: "${PB_TEST_UNSET} ${PB_TEST_UNSET2}"`), "servers.github.command", "is empty: ${PB_TEST_UNSET}, ${PB_TEST_UNSET2} are not set"},
		{"url emptied by a variable", "c.yaml", srv("r", `url: "${PB_TEST_UNSET}/mcp"`), "servers.r.url", "url must start with http://, https://, ws:// or wss://: ${PB_TEST_UNSET} is not set"},
		{"url host emptied by a variable", "c.yaml", srv("r", `url: "https://${PB_TEST_UNSET}/mcp"`), "servers.r.url", "url has no host: ${PB_TEST_UNSET} is not set"},
		{"prefix made invalid by a variable", "c.yaml", srv("r", `command: x, prefix: "a.${PB_TEST_UNSET}"`), "servers.r.prefix", `may contain only letters, digits, '_' and '-': ${PB_TEST_UNSET} is not set`},
		{"command misspelt", "c.yaml", srv("fix", "comand: npx, args: [a]"), "servers.fix", `unknown key "comand" (did you mean "command"?); a server needs either command or url`},
		{"url misspelt", "c.json", `{"mcpServers": {"r": {"ulr": "http://h"}}}`, "mcpServers.r", `unknown key "ulr" (did you mean "url"?); a server needs either command or url`},
		{"neither, nothing close", "c.yaml", srv("github", "cmd: npx"), "servers.github", "needs either command or url"},
		{"url wrong type", "c.json", `{"mcpServers": {"r": {"url": 5}}}`, "mcpServers.r.url", "expected a string, got a number"},
		{"url scheme", "c.yaml", srv("r", "url: 'ftp://h/x'"), "servers.r.url", `url scheme must be http, https, ws or wss, got "ftp"`},
		{"url without scheme", "c.yaml", srv("r", "url: example.com/mcp"), "servers.r.url", "url must start with http://, https://, ws:// or wss://"},
		{"url unparsable", "c.yaml", srv("r", "url: 'http://[::1/mcp'"), "servers.r.url", "invalid url: missing ']' in host"},
		{"url without host", "c.yaml", srv("r", "url: 'https:///mcp'"), "servers.r.url", "url has no host"},

		// Transport.
		{"transport unknown", "c.yaml", srv("r", "url: 'http://h', transport: grpc"), "servers.r.transport", `unknown transport "grpc"; use stdio, streamable-http, sse or websocket`},
		{"transport wrong type", "c.yaml", srv("r", "url: 'http://h', type: true"), "servers.r.type", "expected a string, got a bool"},
		{"transport contradiction", "c.json", `{"mcpServers": {"r": {"url": "http://h", "type": "sse", "transportType": "http"}}}`, "mcpServers.r.transportType", `transportType: "http" contradicts type: "sse"`},
		{"sse with ws url", "c.yaml", srv("r", "url: 'ws://h', transport: sse"), "servers.r.transport", "transport sse cannot be used with a ws:// url; ws and wss urls use websocket"},
		{"websocket with https url", "c.yaml", srv("r", "url: 'https://h', type: websocket"), "servers.r.type", "transport websocket needs a ws:// or wss:// url, got a https:// url"},
		{"stdio with url", "c.yaml", srv("r", "url: 'https://h', type: stdio"), "servers.r.type", "transport stdio needs a command, but the server has a url"},
		{"sse with command", "c.json", `{"mcpServers": {"c": {"command": "x", "transportType": "sse"}}}`, "mcpServers.c.transportType", "transport sse needs a url, but the server has a command"},

		// Settings that belong to one kind of server.
		{"command with headers", "c.yaml", srv("c", "command: x, headers: {A: b}"), "servers.c.headers", "a command server cannot have headers"},
		{"url with args", "c.yaml", srv("r", "url: 'http://h', args: [a]"), "servers.r.args", "a url server cannot have args"},
		{"url with env", "c.yaml", srv("r", "url: 'http://h', env: {A: b}"), "servers.r.env", "a url server cannot have env"},
		{"url with cwd", "c.yaml", srv("r", "url: 'http://h', cwd: /tmp"), "servers.r.cwd", "a url server cannot have cwd"},

		// Types of command server settings.
		{"args a string", "c.yaml", srv("github", "command: x, args: '-y foo'"), "servers.github.args", "expected a list of strings, got a string"},
		{"args entry a map", "c.yaml", srv("github", "command: x, args: [a, {b: c}]"), "servers.github.args[1]", "expected a string, got a map"},
		{"env a list", "c.yaml", srv("github", "command: x, env: [A=b]"), "servers.github.env", "expected a map of names to strings, got a list"},
		{"env value a list", "c.yaml", srv("github", "command: x, env: {TOKEN: [a]}"), "servers.github.env.TOKEN", "expected a string, got a list"},
		{"env value null", "c.yaml", srv("github", "command: x, env: {TOKEN: null}"), "servers.github.env.TOKEN", "expected a string, got null"},
		{"env name with =", "c.json", `{"servers": {"g": {"command": "x", "env": {"A=B": "c"}}}}`, "servers.g.env", `invalid environment variable name "A=B"`},
		{"cwd wrong type", "c.yaml", srv("github", "command: x, cwd: 1"), "servers.github.cwd", "expected a string, got a number"},
		{"headers value a map", "c.yaml", srv("r", "url: 'http://h', headers: {A: {b: c}}"), "servers.r.headers.A", "expected a string, got a map"},
		{"header name invalid", "c.json", `{"servers": {"r": {"url": "http://h", "headers": {"Bad Name": "x"}}}}`, "servers.r.headers", `invalid header name "Bad Name"`},

		// Expansion.
		{"unterminated reference", "c.yaml", srv("github", `command: x, args: ["${PB_TEST_SET"]`), "servers.github.args[0]", `unterminated "${PB_TEST_SET": missing '}'`},
		{"invalid reference", "c.yaml", srv("github", `command: x, env: {A: "${1X}"}`), "servers.github.env.A", `invalid variable reference "${1X}"`},
		{"invalid reference in url", "c.yaml", srv("r", `url: "http://${A-B}/"`), "servers.r.url", `invalid variable reference "${A-B}"`},

		// Shared settings.
		{"prefix characters", "c.yaml", srv("g", "command: x, prefix: g.h"), "servers.g.prefix", `prefix "g.h" may contain only letters, digits, '_' and '-'`},
		{"prefix too long", "c.yaml", srv("g", "command: x, prefix: "+strings.Repeat("p", 33)), "servers.g.prefix", "is 33 characters long; the limit is 32"},
		{"prefix expands to invalid", "c.yaml", srv("g", `command: x, prefix: "${PB_TEST_UNSET:-a b}"`), "servers.g.prefix", `prefix "a b" may contain only`},
		{"prefix wrong type", "c.yaml", srv("g", "command: x, prefix: 12"), "servers.g.prefix", "expected a string, got a number"},
		{"enabled wrong type", "c.yaml", srv("g", "command: x, enabled: 'yes'"), "servers.g.enabled", "expected true or false, got a string"},
		{"disabled wrong type", "c.json", `{"mcpServers": {"g": {"command": "x", "disabled": 0}}}`, "mcpServers.g.disabled", "expected true or false, got a number"},
		{"enabled contradicts disabled", "c.yaml", srv("g", "command: x, enabled: true, disabled: true"), "servers.g.disabled", "disabled: true contradicts enabled: true"},
		{"tools a list", "c.yaml", srv("g", "command: x, tools: [a]"), "servers.g.tools", "expected a map with include and/or exclude lists, got a list"},
		{"tools include a string", "c.yaml", srv("g", "command: x, tools: {include: 'a*'}"), "servers.g.tools.include", "expected a list of strings, got a string"},
		{"tools glob a number", "c.yaml", srv("g", "command: x, tools: {include: [1]}"), "servers.g.tools.include[0]", "expected a string, got a number"},
		{"tools bad glob", "c.yaml", srv("g", "command: x, tools: {include: ['[abc']}"), "servers.g.tools.include[0]", `invalid glob "[abc": syntax error in pattern`},
		{"prompts bad glob", "c.yaml", srv("g", `command: x, prompts: {exclude: [ok, 'a\']}`), "servers.g.prompts.exclude[1]", `invalid glob "a\\": syntax error in pattern`},
		{"timeout zero", "c.yaml", srv("github", "command: x, timeout: 0"), "servers.github.timeout", "must be greater than 0, got 0s"},
		{"timeout negative", "c.yaml", srv("github", "command: x, timeout: -1m"), "servers.github.timeout", "must be greater than 0, got -1m0s"},
		{"timeout garbage", "c.yaml", srv("github", "command: x, timeout: 6o s"), "servers.github.timeout", `invalid duration "6o s"`},
		{"timeout wrong type", "c.yaml", srv("github", "command: x, timeout: true"), "servers.github.timeout", "got a bool"},
		{"max_inflight zero", "c.yaml", srv("github", "command: x, max_inflight: 0"), "servers.github.max_inflight", "must be at least 1, got 0"},
		{"max_queued negative", "c.yaml", srv("github", "command: x, max_queued: -4"), "servers.github.max_queued", "must be at least 1, got -4"},
		{"max_queued fraction", "c.yaml", srv("github", "command: x, max_queued: 1.5"), "servers.github.max_queued", "whole number"},

		// Key paths keep dots in server names.
		{"dotted name", "c.yaml", srv("github.com", "command: x, timeout: nope"), "servers.github.com.timeout", `invalid duration "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.file, tt.content)
			checkError(t, path, tt.key, tt.problem)
		})
	}
}

// checkError loads path and checks that it fails with an *Error about key
// whose problem contains problem, formatted on one line.
func checkError(t *testing.T, path, key, problem string) {
	t.Helper()
	cfg, err := Load(path, nil)
	if err == nil {
		t.Fatalf("Load succeeded with %+v, want an error about %q", cfg, key)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is a %T, want *Error", err, err)
	}
	abs, _ := filepath.Abs(path)
	if e.File != abs || e.Key != key || !strings.Contains(e.Problem, problem) {
		t.Errorf("got  File=%q Key=%q Problem=%q\nwant File=%q Key=%q Problem containing %q", e.File, e.Key, e.Problem, abs, key, problem)
	}
	want := "config " + abs + ": "
	if key != "" {
		want += key + ": "
	}
	if msg := err.Error(); !strings.HasPrefix(msg, want) || strings.ContainsAny(msg, "\r\n") {
		t.Errorf("Error() = %q, want one line starting %q", msg, want)
	}
}

func TestLoadFileErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "dir.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, problem string
	}{
		{"missing", filepath.Join(dir, "missing.yaml"), "file does not exist"},
		{"unreadable", filepath.Join(dir, "dir.yaml"), "cannot read file: is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkError(t, tt.path, "", tt.problem)
		})
	}

	_, err := Load("", nil)
	var e *Error
	if !errors.As(err, &e) || e.Problem != "no config file path given" {
		t.Errorf(`Load("") = %v, want "no config file path given"`, err)
	}
}

// TestLoadExampleError pins the exact message from the package's contract.
func TestLoadExampleError(t *testing.T) {
	clearOverrides(t)
	path := writeConfig(t, "pb.yaml", "servers:\n  github:\n    command: npx\n    timeout: 6o s\n")
	_, err := Load(path, nil)
	want := "config " + path + `: servers.github.timeout: invalid duration "6o s"`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
}

// TestLoadFirstProblemWins checks the documented order: top-level keys,
// then servers by name, then each server's keys in a fixed order.
func TestLoadFirstProblemWins(t *testing.T) {
	clearOverrides(t)
	tests := []struct {
		name, content, key string
	}{
		{"top-level before servers", "page_size: 0\nservers:\n  a: {}\n", "page_size"},
		{"top-level in fixed order", "page_size: 0\nlog_level: x\nstartup_timeout: 0s\n", "startup_timeout"},
		{"servers by name", "servers:\n  b: {}\n  a: {command: x, timeout: 0}\n  c: {}\n", "servers.a.timeout"},
		{"command or url before the rest", "servers:\n  a: {timeout: 0, args: x}\n", "servers.a"},
		{"args before env before timeout", "servers:\n  a: {command: x, timeout: 0, env: 1, args: 1}\n", "servers.a.args"},
		{"env before prefix", "servers:\n  a: {command: x, prefix: '.', env: 1}\n", "servers.a.env"},
		{"tools before prompts before timeout", "servers:\n  a: {command: x, timeout: 0, prompts: 1, tools: 1}\n", "servers.a.tools"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, "c.yaml", tt.content)
			for range 5 { // map order must not matter
				_, err := Load(path, nil)
				var e *Error
				if !errors.As(err, &e) || e.Key != tt.key {
					t.Fatalf("error = %v, want one about %q", err, tt.key)
				}
			}
		})
	}
}
