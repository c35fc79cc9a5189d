package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// npmInstalls holds a lock per install directory.
var npmInstalls sync.Map

// npmInstall installs npm packages (name@version) into a cache directory
// kept between runs and returns it. Without npm the test is skipped with a
// reason, unless PLUGBOARD_REQUIRE_INTEROP=1 (CI) makes that a failure.
func npmInstall(t *testing.T, packages ...string) string {
	t.Helper()
	npm, err := exec.LookPath("npm")
	if err != nil {
		if os.Getenv("PLUGBOARD_REQUIRE_INTEROP") == "1" {
			t.Fatalf("npm is required (PLUGBOARD_REQUIRE_INTEROP=1) but not found: %v", err)
		}
		t.Skipf("skipping interop test: npm not found (%v)", err)
	}
	sum := sha256.Sum256([]byte(strings.Join(packages, " ")))
	base := os.Getenv("PLUGBOARD_NPM_CACHE")
	if base == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		base = filepath.Join(cache, "plugboard-tests", "npm")
	}
	dir := filepath.Join(base, hex.EncodeToString(sum[:6]))
	// Parallel tests wanting the same packages install them once: two npm
	// installs into one directory break each other's files.
	lock, _ := npmInstalls.LoadOrStore(dir, &sync.Mutex{})
	lock.(*sync.Mutex).Lock()
	defer lock.(*sync.Mutex).Unlock()
	marker := filepath.Join(dir, ".installed")
	if _, err := os.Stat(marker); err == nil {
		return dir
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"install", "--prefix", dir, "--no-audit", "--no-fund", "--loglevel", "error"}, packages...)
	cmd := exec.Command(npm, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
