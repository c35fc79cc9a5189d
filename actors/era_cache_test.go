package actors

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// How long each server took to start is remembered across runs, apart
// from its era: starting a server every day does not keep its era from
// expiring, and forgetting its era keeps its start time.
func TestEraCacheRemembersStartTimesApartFromEras(t *testing.T) {
	path := filepath.Join(t.TempDir(), "eras.json")
	log := slog.New(slog.DiscardHandler)
	slow := config.Server{Name: "slow", Command: "npx", Args: []string{"-y", "some-server"}}
	key := eraKey(slow)

	c := loadEraCache(path, log)
	if _, known := c.startCost(key); known {
		t.Fatal("an empty cache knows a start time")
	}
	c.set(key, eraLegacy)
	c.tookToStart(key, 2500*time.Millisecond)
	c.flush()

	again := loadEraCache(path, log)
	if d, known := again.startCost(key); !known || d != 2500*time.Millisecond {
		t.Fatalf("start time after reloading: %v, %v", d, known)
	}
	if again.get(key) != eraLegacy {
		t.Fatalf("era after reloading: %d", again.get(key))
	}

	// An era seen eight days ago expires though the server started today.
	again.mu.Lock()
	e := again.entries[key]
	e.Seen = time.Now().Add(-eraCacheTTL - 24*time.Hour)
	again.entries[key] = e
	again.mu.Unlock()
	again.tookToStart(key, time.Second)
	if again.get(key) != eraUnknown {
		t.Error("a start refreshed an expired era")
	}
	again.set(key, eraUnknown)
	again.flush()
	if d, known := loadEraCache(path, log).startCost(key); !known || d != time.Second {
		t.Errorf("forgetting the era lost the start time: %v, %v", d, known)
	}
}

// Servers starting together start slowest first: never started before,
// then by their last start's length, then by name.
func TestServersStartSlowestFirst(t *testing.T) {
	c := loadEraCache("", slog.New(slog.DiscardHandler))
	servers := []config.Server{
		{Name: "b-fast", Command: "b"}, {Name: "npx-heavy", Command: "npx"}, {Name: "new-one", Command: "n"},
		{Name: "a-fast", Command: "a"}, {Name: "medium", Command: "m"}, {Name: "another-new", Command: "x"},
	}
	for name, d := range map[string]time.Duration{"b-fast": 40 * time.Millisecond, "a-fast": 40 * time.Millisecond,
		"npx-heavy": 4 * time.Second, "medium": 300 * time.Millisecond} {
		i := slices.IndexFunc(servers, func(s config.Server) bool { return s.Name == name })
		c.tookToStart(eraKey(servers[i]), d)
	}
	var got []string
	for _, s := range startOrder(servers, c) {
		got = append(got, s.Name)
	}
	want := "another-new new-one npx-heavy medium a-fast b-fast"
	if strings.Join(got, " ") != want {
		t.Errorf("start order %v, want %s", got, want)
	}
}
