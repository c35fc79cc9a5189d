package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// loadFuzzExts are the formats FuzzLoad writes its input as.
var loadFuzzExts = []string{".yaml", ".json", ".toml", ".yml", ".txt"}

// FuzzLoad checks that Load, on any file content in any format, returns a
// configuration or an *Error naming the file, never both and never a
// panic; that a configuration it returns holds its invariants; and that
// it returns the same on the same bytes.
func FuzzLoad(f *testing.F) {
	for _, seed := range []struct {
		ext  uint8
		text string
	}{
		{0, "servers:\n  fx:\n    command: /bin/true\n    prefix: \"\"\n    tools:\n      exclude: [\"secret_*\"]\n"},
		{0, "startup_timeout: 5s\nservers:\n  a:\n    command: x\n  b:\n    url: https://user:pw@example.com/mcp?api_key=SECRET\n    headers: {Authorization: Bearer t}\n"},
		{0, "servers:\n  a:\n    command: ${CMD:-/bin/true}\n    env: {TOKEN: \"${TOKEN}\"}\n"},
		{1, `{"mcpServers":{"fs":{"command":"npx","args":["-y","server"],"disabled":true}}}`},
		{1, `{"servers":{"a":{"command":"x","Command":"y"}}}`},
		{2, "page_size = 0\n[servers.a]\ncommand = \"x\"\n"},
		{0, "servers: [1, 2]\n"},
		{0, "servers:\n  a:\n    url: ws://h/x\n    transport: sse\n"},
		{0, ": : :\n\t- ["},
		{4, "servers: {}\n"},
	} {
		f.Add(seed.ext, []byte(seed.text))
	}
	f.Fuzz(func(t *testing.T, ext uint8, content []byte) {
		path := filepath.Join(t.TempDir(), "plugboard"+loadFuzzExts[int(ext)%len(loadFuzzExts)])
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(path, nil)
		if (cfg == nil) == (err == nil) {
			t.Fatalf("Load = %v, %v: want exactly one of a config and an error", cfg, err)
		}
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || ce.File == "" {
				t.Fatalf("Load error %T %v does not name the file", err, err)
			}
		} else {
			checkLoaded(t, cfg)
		}
		again, err2 := Load(path, nil)
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) || (cfg != nil && len(cfg.Servers) != len(again.Servers)) {
			t.Fatalf("Load is not deterministic: %v then %v", err, err2)
		}
	})
}

// checkLoaded checks what Load promises of a configuration it returns.
func checkLoaded(t *testing.T, cfg *Config) {
	t.Helper()
	if cfg.StartupTimeout <= 0 || cfg.PageSize < 1 {
		t.Fatalf("startup timeout %v, page size %d", cfg.StartupTimeout, cfg.PageSize)
	}
	for i, s := range cfg.Servers {
		if s.Name == "" || (i > 0 && cfg.Servers[i-1].Name >= s.Name) {
			t.Fatalf("servers not named, or not sorted and unique: %q after %q", s.Name, cfg.Servers[max(i-1, 0)].Name)
		}
		if (s.Command == "") == (s.URL == "") {
			t.Fatalf("server %q: command %q and url %q, want exactly one", s.Name, s.Command, s.URL)
		}
		if s.Timeout <= 0 {
			t.Fatalf("server %q: timeout %v", s.Name, s.Timeout)
		}
	}
}
