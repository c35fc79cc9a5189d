package actors

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/plugboard/plugboard/config"
)

func TestEraCacheRemembersAcrossLoadsAndForgets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "eras.json")
	log := slog.New(slog.DiscardHandler)
	a := config.Server{Name: "a", Command: "srv", Args: []string{"--x"}}
	b := config.Server{Name: "a", Command: "srv", Args: []string{"--y"}}
	if eraKey(a) == eraKey(b) {
		t.Fatal("different arguments gave the same key")
	}

	c := loadEraCache(path, log)
	if got := c.get(eraKey(a)); got != eraUnknown {
		t.Fatalf("empty cache: %d", got)
	}
	c.set(eraKey(a), eraLegacy)
	c.set(eraKey(b), eraModern)

	again := loadEraCache(path, log)
	if again.get(eraKey(a)) != eraLegacy || again.get(eraKey(b)) != eraModern {
		t.Fatalf("after reloading: %d %d", again.get(eraKey(a)), again.get(eraKey(b)))
	}
	again.set(eraKey(a), eraUnknown)
	if loadEraCache(path, log).get(eraKey(a)) != eraUnknown {
		t.Fatal("a forgotten era came back")
	}

	if err := os.WriteFile(path, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := loadEraCache(path, log).get(eraKey(b)); got != eraUnknown {
		t.Fatalf("an unreadable cache gave %d", got)
	}
	// In memory only: nothing is written.
	mem := loadEraCache("", log)
	mem.set(eraKey(a), eraModern)
	if mem.get(eraKey(a)) != eraModern {
		t.Fatal("in-memory cache lost its entry")
	}
}
