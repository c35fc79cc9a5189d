package config

import (
	"strings"
	"testing"
)

func TestCheckAppRefusesWhatThePluggedInProxyRefuses(t *testing.T) {
	key := strings.Repeat("k", 32)
	for _, c := range []struct {
		key, base, want string
	}{
		{"short", DefaultAppBaseURL, "--pluggedin-api-key"},
		{strings.Repeat("k", 257), DefaultAppBaseURL, "--pluggedin-api-key"},
		{strings.Repeat("k", 31), DefaultAppBaseURL, "--pluggedin-api-key"},
		{key[:16] + "/" + key[17:], DefaultAppBaseURL, "--pluggedin-api-key"},
		{key[:16] + "é" + key[18:], DefaultAppBaseURL, "--pluggedin-api-key"},
		{key + " ", DefaultAppBaseURL, "--pluggedin-api-key"},
		{key, "http://plugged.in", "must be https"},
		{key, "https://user:pass@plugged.in", "user name or password"},
		{key, "ftp://plugged.in", "not an http(s) URL"},
		{key, "https://plugged.in/?x=1", "no query"},
	} {
		_, err := CheckApp(c.key, c.base)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckApp(%q, %q) = %v, want an error saying %q", c.key, c.base, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), key) {
			t.Errorf("an error shows the key: %v", err)
		}
	}
	if _, err := CheckApp(strings.Repeat("k", 256), DefaultAppBaseURL); err != nil {
		t.Errorf("a key of 256 characters refused: %v", err)
	}
	for _, base := range []string{"https://plugged.in", "http://127.0.0.1:8080", "http://localhost:3000/", "http://[::1]:9/"} {
		app, err := CheckApp(key+"-_.", base)
		if err != nil || strings.HasSuffix(app.BaseURL, "/") {
			t.Errorf("CheckApp(%q) = %+v, %v", base, app, err)
		}
	}
}

func TestParseAppServersRefusesAMalformedAnswerWhole(t *testing.T) {
	for body, want := range map[string]string{
		`{}`: "expected an array",
		`[{"uuid":"a","type":"STDIO","command":"x"},{"type":"STDIO","command":"y"}]`: "[1].uuid",
		`[{"uuid":"a","type":"GRPC"}]`:                              "[0].type",
		`[{"uuid":"a","type":"STDIO"}]`:                             "[0].command",
		`[{"uuid":"a","type":"SSE"}]`:                               "[0].url",
		`[{"uuid":"a","type":"STREAMABLE_HTTP","url":"file:///x"}]`: "[0].url",
		`[{"uuid":"a","type":"STDIO","command":"x","args":"-v"}]`:   "[0]",
	} {
		if _, err := ParseAppServers([]byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseAppServers(%s) = %v, want an error naming %s", body, err, want)
		}
	}
}

func TestAddAppServersNamesBySlugAndHidesInactiveTools(t *testing.T) {
	servers, err := ParseAppServers([]byte(`[
		{"uuid":"u1","name":"GitHub","slug":"github","type":"STDIO","command":"gh-mcp","args":["-v"],"env":{"T":"1"},"status":"ACTIVE"},
		{"uuid":"u2","name":"Off","slug":"off","type":"STDIO","command":"x","status":"INACTIVE"},
		{"uuid":"u3","name":"Remote","type":"STREAMABLE_HTTP","url":"https://r.example/mcp","streamableHTTPOptions":{"headers":{"X-K":"v"}}},
		{"uuid":"u4","name":"Local twin","slug":"fs","type":"SSE","url":"https://s.example/sse"}]`))
	if err != nil {
		t.Fatal(err)
	}
	inactive, err := ParseInactiveTools([]byte(`{"tools":[{"name":"delete_repo","_serverUuid":"u1"},{"name":"odd*name","_serverUuid":"u1"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	cfg := &Config{Source: "/c.yaml", Servers: []Server{{Name: "fs", Command: "fs-mcp", Enabled: true}}}
	cfg.AddAppServers(servers, inactive)
	byName := map[string]Server{}
	for _, s := range cfg.Servers {
		byName[s.Name] = s
	}
	gh, remote := byName["github"], byName["u3"]
	switch {
	case len(cfg.Servers) != 3:
		t.Fatalf("servers %+v: want fs, github and u3", cfg.Servers)
	case gh.Prefix != "github" || gh.Command != "gh-mcp" || gh.AppUUID != "u1" || gh.AppName != "GitHub" || gh.Env["T"] != "1":
		t.Errorf("github: %+v", gh)
	case remote.Transport != TransportStreamableHTTP || remote.Headers["X-K"] != "v" || remote.Prefix != "u3":
		t.Errorf("remote: %+v", remote)
	case byName["fs"].AppUUID != "":
		t.Errorf("the App's fs replaced the file's")
	case len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], `"fs"`):
		t.Errorf("warnings %q", cfg.Warnings)
	}
	if gh.Tools.Allows("delete_repo") || gh.Tools.Allows("odd*name") || !gh.Tools.Allows("oddXname") || !gh.Tools.Allows("create_issue") {
		t.Errorf("github's filter %+v does not hide exactly the inactive tools", gh.Tools)
	}
}
