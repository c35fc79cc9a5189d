package config

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// sameConfigFiles returns one configuration written in each supported
// format, by file name.
func sameConfigFiles() map[string]string {
	return map[string]string{
		"config.yaml": `
startup_timeout: 10s
log_level: debug
page_size: 50
servers:
  github:
    command: npx
    args: ["-y", "@modelcontextprotocol/server-github", 3]
    env: {GITHUB_TOKEN: tok, PORT: 8080, DEBUG: true}
    cwd: /tmp
    prefix: gh
    enabled: true
    tools: {include: ["read_*"], exclude: ["delete_*"]}
    prompts: {exclude: ["secret*"]}
    timeout: 30s
  remote:
    url: https://example.com/mcp
    headers: {Authorization: Bearer x}
    transport: sse
    timeout: 90
  sock:
    url: wss://example.com/ws
    enabled: false
`,
		"config.json": `{
  "startup_timeout": "10s",
  "log_level": "debug",
  "page_size": 50,
  "servers": {
    "github": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-github", 3],
      "env": {"GITHUB_TOKEN": "tok", "PORT": 8080, "DEBUG": true},
      "cwd": "/tmp",
      "prefix": "gh",
      "enabled": true,
      "tools": {"include": ["read_*"], "exclude": ["delete_*"]},
      "prompts": {"exclude": ["secret*"]},
      "timeout": "30s"
    },
    "remote": {
      "url": "https://example.com/mcp",
      "headers": {"Authorization": "Bearer x"},
      "transport": "sse",
      "timeout": 90
    },
    "sock": {"url": "wss://example.com/ws", "enabled": false}
  }
}`,
		"config.toml": `
startup_timeout = "10s"
log_level = "debug"
page_size = 50

[servers.github]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-github", 3]
env = { GITHUB_TOKEN = "tok", PORT = 8080, DEBUG = true }
cwd = "/tmp"
prefix = "gh"
enabled = true
tools = { include = ["read_*"], exclude = ["delete_*"] }
prompts = { exclude = ["secret*"] }
timeout = "30s"

[servers.remote]
url = "https://example.com/mcp"
headers = { Authorization = "Bearer x" }
transport = "sse"
timeout = 90

[servers.sock]
url = "wss://example.com/ws"
enabled = false
`,
	}
}

func TestLoadFormats(t *testing.T) {
	clearOverrides(t)
	want := Config{
		StartupTimeout: 10 * time.Second,
		LogLevel:       "debug",
		PageSize:       50,
		HTTP:           HTTP{Listen: "127.0.0.1:8931", SessionIdle: 30 * time.Minute, MaxSessions: 10000},
		Servers: []Server{
			{
				Name:      "github",
				Command:   "npx",
				Args:      []string{"-y", "@modelcontextprotocol/server-github", "3"},
				Env:       map[string]string{"GITHUB_TOKEN": "tok", "PORT": "8080", "DEBUG": "true"},
				Cwd:       "/tmp",
				Transport: TransportStdio,
				Prefix:    "gh",
				Enabled:   true,
				Tools:     Filter{Include: []string{"read_*"}, Exclude: []string{"delete_*"}},
				Prompts:   Filter{Exclude: []string{"secret*"}},
				Timeout:   30 * time.Second,
			},
			{
				Name:      "remote",
				URL:       "https://example.com/mcp",
				Transport: TransportSSE,
				Headers:   map[string]string{"Authorization": "Bearer x"},
				Prefix:    "remote",
				Enabled:   true,
				Timeout:   90 * time.Second,
			},
			{
				Name:      "sock",
				URL:       "wss://example.com/ws",
				Transport: TransportWebSocket,
				Prefix:    "sock",
				Enabled:   false,
				Timeout:   60 * time.Second,
			},
		},
	}
	files := sameConfigFiles()
	for _, name := range []string{"config.yaml", "config.json", "config.toml"} {
		t.Run(name, func(t *testing.T) {
			path := writeConfig(t, name, files[name])
			got := mustLoad(t, path)
			if got.Source != path {
				t.Errorf("Source = %q, want %q", got.Source, path)
			}
			w := want
			w.Source = path
			w.StatePath = StatePath(path)
			w.IdleGrace = defaultIdleGrace
			if !reflect.DeepEqual(*got, w) {
				t.Errorf("Load(%s)\n got %+v\nwant %+v", name, *got, w)
			}
		})
	}
}

func TestLoadBriefExample(t *testing.T) {
	clearOverrides(t)
	t.Setenv("GITHUB_TOKEN", "ghp_x")
	t.Setenv("TOKEN", "t0k")
	path := writeConfig(t, "pb.yml", `
startup_timeout: 5s
servers:
  github:
    command: npx
    args: ["-y", "@modelcontextprotocol/server-github"]
    env: {GITHUB_TOKEN: "${GITHUB_TOKEN}"}
    cwd: /tmp
    prefix: gh
    enabled: true
    tools: {include: ["read_*"], exclude: ["delete_*"]}
    timeout: 60s
  remote:
    url: https://example.com/mcp
    headers: {Authorization: "Bearer ${TOKEN}"}
`)
	got := mustLoad(t, path)
	if len(got.Warnings) != 0 {
		t.Errorf("Warnings = %q, want none", got.Warnings)
	}
	if len(got.Servers) != 2 {
		t.Fatalf("got %d servers, want 2", len(got.Servers))
	}
	if v := got.Servers[0].Env["GITHUB_TOKEN"]; v != "ghp_x" {
		t.Errorf("github env GITHUB_TOKEN = %q, want ghp_x", v)
	}
	remote := got.Servers[1]
	if remote.Headers["Authorization"] != "Bearer t0k" || remote.Transport != TransportStreamableHTTP || remote.Prefix != "remote" {
		t.Errorf("remote = %+v", remote)
	}
}

func TestLoadDottedServerNames(t *testing.T) {
	clearOverrides(t)
	tests := []struct{ file, content string }{
		{"c.yaml", "servers:\n  a.b: {command: x, timeout: 2s}\n  github.com: {url: 'https://api.github.com/mcp'}\n"},
		{"c.json", `{"servers": {"a.b": {"command": "x", "timeout": "2s"}, "github.com": {"url": "https://api.github.com/mcp"}}}`},
		{"c.toml", "[servers.\"a.b\"]\ncommand = \"x\"\ntimeout = \"2s\"\n[servers.\"github.com\"]\nurl = \"https://api.github.com/mcp\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := mustLoad(t, writeConfig(t, tt.file, tt.content))
			if len(got.Servers) != 2 {
				t.Fatalf("got %d servers (%+v), want 2", len(got.Servers), got.Servers)
			}
			ab, gh := got.Servers[0], got.Servers[1]
			if ab.Name != "a.b" || ab.Command != "x" || ab.Timeout != 2*time.Second || ab.Prefix != "a-b" {
				t.Errorf("server a.b = %+v", ab)
			}
			if gh.Name != "github.com" || gh.URL != "https://api.github.com/mcp" || gh.Prefix != "github-com" {
				t.Errorf("server github.com = %+v", gh)
			}
		})
	}
}

func TestLoadPrefix(t *testing.T) {
	clearOverrides(t)
	tests := []struct {
		name, server, prefixLine, want string
	}{
		{"default is the slug", "My Server.v2", "", "my-server-v2"},
		{"explicit", "github", "prefix: GH_1", "GH_1"},
		{"explicit empty stays empty", "github", `prefix: ""`, ""},
		{"null means default", "github", "prefix:", "github"},
		{"expanded", "github", "prefix: ${PB_TEST_PREFIX:-gh}", "gh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			content := "servers:\n  \"" + tt.server + "\":\n    command: x\n"
			if tt.prefixLine != "" {
				content += "    " + tt.prefixLine + "\n"
			}
			got := mustLoad(t, writeConfig(t, "c.yaml", content))
			if p := got.Servers[0].Prefix; p != tt.want {
				t.Errorf("Prefix = %q, want %q", p, tt.want)
			}
		})
	}
}

func TestLoadExpandsServerStrings(t *testing.T) {
	clearOverrides(t)
	t.Setenv("PB_TEST_BIN", "/usr/bin/tool")
	t.Setenv("PB_TEST_TOKEN", "s3cret")
	t.Setenv("PB_TEST_EMPTY", "")
	path := writeConfig(t, "c.yaml", `
servers:
  local:
    command: ${PB_TEST_BIN}
    args: ["--token=${PB_TEST_TOKEN}", "${PB_TEST_UNSET:-fallback}", "$HOME", "$${PB_TEST_TOKEN}"]
    env: {TOKEN: "${PB_TEST_TOKEN}", EMPTY: "${PB_TEST_EMPTY:-def}", MISSING: "${PB_TEST_UNSET}"}
    cwd: ${PB_TEST_UNSET:-/srv}/work
    prefix: ${PB_TEST_UNSET:-loc}
  remote:
    url: https://${PB_TEST_UNSET:-example.com}/mcp?k=${PB_TEST_TOKEN}
    headers: {Authorization: "Bearer ${PB_TEST_TOKEN}"}
`)
	got := mustLoad(t, path)
	local, remote := got.Servers[0], got.Servers[1]
	checks := []struct{ field, got, want string }{
		{"command", local.Command, "/usr/bin/tool"},
		{"args[0]", local.Args[0], "--token=s3cret"},
		{"args[1]", local.Args[1], "fallback"},
		{"args[2]", local.Args[2], "$HOME"},
		{"args[3]", local.Args[3], "${PB_TEST_TOKEN}"},
		{"env.TOKEN", local.Env["TOKEN"], "s3cret"},
		{"env.EMPTY", local.Env["EMPTY"], "def"},
		{"env.MISSING", local.Env["MISSING"], ""},
		{"cwd", local.Cwd, "/srv/work"},
		{"prefix", local.Prefix, "loc"},
		{"url", remote.URL, "https://example.com/mcp?k=s3cret"},
		{"headers.Authorization", remote.Headers["Authorization"], "Bearer s3cret"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	want := []string{"config " + path + ": servers.local.env.MISSING: ${PB_TEST_UNSET} is not set; using an empty string"}
	if !reflect.DeepEqual(got.Warnings, want) {
		t.Errorf("Warnings = %q, want %q", got.Warnings, want)
	}
}

func TestLoadWarnings(t *testing.T) {
	clearOverrides(t)
	tests := []struct {
		name, content string
		want          []string // "KEY: PROBLEM", without the "config FILE: " every warning starts with
	}{
		{"none", "servers:\n  a: {command: x, autoApprove: [t], alwaysAllow: [u]}\n", nil},
		{"no servers key", "log_level: info\n", []string{"servers: no servers configured"}},
		{"empty servers", "servers: {}\n", []string{"servers: no servers configured"}},
		{"empty mcpServers", `{"mcpServers": {}}`, []string{"mcpServers: no servers configured"}},
		{"unknown keys sorted", "zeta: 1\nalpha: 2\nservers:\n  a: {command: x, foo: 1, bar: 2}\n",
			[]string{`unknown key "alpha", ignored`, `unknown key "zeta", ignored`,
				`servers.a: unknown key "bar", ignored`, `servers.a: unknown key "foo", ignored`}},
		{"top-level typos", "startupTimeout: 9s\nlog_levle: debug\npage-size: 3\ninherit_env: false\nservers:\n  a: {command: x}\n",
			[]string{`unknown key "log_levle" (did you mean "log_level"?), ignored`,
				`unknown key "page-size" (did you mean "page_size"?), ignored`,
				`unknown key "startupTimeout" (did you mean "startup_timeout"?), ignored`}},
		{"server key typos", "servers:\n  a: {command: x, arg: [y], Env: {}, prefx: p, max_inflght: 2, tols: {}}\n",
			[]string{`servers.a: unknown key "Env" (did you mean "env"?), ignored`,
				`servers.a: unknown key "arg" (did you mean "args"?), ignored`,
				`servers.a: unknown key "max_inflght" (did you mean "max_inflight"?), ignored`,
				`servers.a: unknown key "prefx" (did you mean "prefix"?), ignored`,
				`servers.a: unknown key "tols" (did you mean "tools"?), ignored`}},
		{"http key typos", "http: {listn: '127.0.0.1:1', allowedHosts: [h], sesion_idle: 1m, port: 80}\nservers:\n  a: {command: x}\n",
			[]string{`http: unknown key "allowedHosts" (did you mean "allowed_hosts"?), ignored`,
				`http: unknown key "listn" (did you mean "listen"?), ignored`,
				`http: unknown key "port", ignored`,
				`http: unknown key "sesion_idle" (did you mean "session_idle"?), ignored`}},
		{"filter key typos", "servers:\n  a: {command: x, tools: {exlude: [rm]}, prompts: {Include: [p], only: [q]}}\n",
			[]string{`servers.a.tools: unknown key "exlude" (did you mean "exclude"?), ignored`,
				`servers.a.prompts: unknown key "Include" (did you mean "include"?), ignored`,
				`servers.a.prompts: unknown key "only", ignored`}},
		{"unset variable", "servers:\n  a: {command: x, args: [\"${PB_TEST_NOPE}\", \"${PB_TEST_NOPE}${PB_TEST_NOPE}\"]}\n",
			[]string{"servers.a.args[0]: ${PB_TEST_NOPE} is not set; using an empty string",
				"servers.a.args[1]: ${PB_TEST_NOPE} is not set; using an empty string"}},
		{"shared prefix", "servers:\n  a: {command: x, prefix: p}\n  b: {command: y, prefix: p}\n  c: {command: z, prefix: p, enabled: false}\n  d: {command: z, prefix: ''}\n  e: {command: z, prefix: ''}\n",
			[]string{`servers.b: prefix "p" is also used by server "a"`}},
		{"other PLUGBOARD variables ignored", "servers:\n  a: {command: x}\n", nil},
	}
	t.Setenv("PLUGBOARD_CONFIG", "/elsewhere.yaml")
	t.Setenv("PLUGBOARD_SERVERS", "x")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := "c.yaml"
			if tt.content[0] == '{' {
				file = "c.json"
			}
			path := writeConfig(t, file, tt.content)
			got := mustLoad(t, path)
			var want []string
			for _, w := range tt.want {
				want = append(want, "config "+path+": "+w)
			}
			if !reflect.DeepEqual(got.Warnings, want) {
				t.Errorf("Warnings\n got %q\nwant %q", got.Warnings, want)
			}
		})
	}
}

func TestLoadRelativePathIsMadeAbsolute(t *testing.T) {
	clearOverrides(t)
	path := writeConfig(t, "c.yaml", "servers:\n  a: {command: x}\n")
	t.Chdir(filepath.Dir(path))
	got := mustLoad(t, "c.yaml")
	if got.Source != path {
		t.Errorf("Source = %q, want %q", got.Source, path)
	}
}

func TestLoadServerCapacity(t *testing.T) {
	clearOverrides(t)
	tests := []struct {
		file, content    string
		inflight, queued int
	}{
		{"c.yaml", "servers:\n  a: {command: x, max_inflight: 4, max_queued: 8}\n", 4, 8},
		{"c.json", `{"servers": {"a": {"command": "x", "max_inflight": 4, "max_queued": 8}}}`, 4, 8},
		{"d.yaml", "servers:\n  a: {command: x}\n", 0, 0}, // unset: the defaults apply
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s := mustLoad(t, writeConfig(t, tt.file, tt.content)).Servers[0]
			if s.MaxInflight != tt.inflight || s.MaxQueued != tt.queued {
				t.Errorf("max_inflight %d, max_queued %d; want %d, %d", s.MaxInflight, s.MaxQueued, tt.inflight, tt.queued)
			}
		})
	}
}
