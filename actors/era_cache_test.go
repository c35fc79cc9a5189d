package actors

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

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
	c.flush()

	again := loadEraCache(path, log)
	if again.get(eraKey(a)) != eraLegacy || again.get(eraKey(b)) != eraModern {
		t.Fatalf("after reloading: %d %d", again.get(eraKey(a)), again.get(eraKey(b)))
	}
	again.set(eraKey(a), eraUnknown)
	again.flush()
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

// Entries past their time are dropped when the cache is read, and the file
// is rewritten without them; past maxEraEntries, those seen longest ago go.
// The cache once grew to 3,400 entries (every configuration a test or a
// benchmark ever ran) and its reading cost 11 ms at every start.
func TestEraCacheDropsExpiredEntriesAndKeepsItsSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eras.json")
	log := slog.New(slog.DiscardHandler)
	now := time.Now().UTC()
	entries := map[string]eraEntry{
		"old":     {Era: "legacy", Seen: now.Add(-eraCacheTTL - time.Hour)},
		"strange": {Era: "unheard-of", Seen: now},
	}
	for i := range maxEraEntries + 10 {
		// The first ten are the ones seen longest ago.
		entries[fmt.Sprintf("k%04d", i)] = eraEntry{Era: "both", Seen: now.Add(-time.Hour + time.Duration(i)*time.Second)}
	}
	data, err := json.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}

	c := loadEraCache(path, log)
	c.flush()
	if got := len(c.entries); got != maxEraEntries {
		t.Fatalf("%d entries after loading, want %d", got, maxEraEntries)
	}
	for _, gone := range []string{"old", "strange", "k0000", "k0009"} {
		if _, ok := c.entries[gone]; ok {
			t.Errorf("entry %s was kept", gone)
		}
	}
	if c.get("k0010") != eraBoth || c.get(fmt.Sprintf("k%04d", maxEraEntries+9)) != eraBoth {
		t.Errorf("the newest entries were not kept")
	}
	var written map[string]eraEntry
	data, _ = os.ReadFile(path)
	if err := json.Unmarshal(data, &written); err != nil || len(written) != maxEraEntries {
		t.Fatalf("the file holds %d entries (%v), want %d", len(written), err, maxEraEntries)
	}
}
