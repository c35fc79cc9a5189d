package config

import (
	"os"
	"path/filepath"
	"testing"
)

// writeConfig writes content to a file called name in a fresh directory and
// returns its path.
func writeConfig(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// clearOverrides blanks the PLUGBOARD_* variables Load reads (an empty one
// counts as unset), so the environment running the tests cannot leak in.
func clearOverrides(t *testing.T) {
	t.Helper()
	for _, o := range overrides() {
		t.Setenv(o.env, "")
	}
}

// mustLoad loads path with no flags and fails the test on error.
func mustLoad(t *testing.T, path string) *Config {
	t.Helper()
	cfg, err := Load(path, nil)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return cfg
}
