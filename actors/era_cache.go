package actors

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plugboard/plugboard/config"
	"github.com/plugboard/plugboard/transports"
)

// eraCacheTTL is how long a remembered era is trusted before the server
// is probed again.
const eraCacheTTL = 7 * 24 * time.Hour

// maxEraEntries bounds the cache: past it, the entries seen longest ago are
// dropped. Each configuration of a server (its name, command, arguments or
// URL) has an entry, so the cache would otherwise grow with every
// configuration ever run, and it is read whole at every start.
const maxEraEntries = 1024

// eraCache remembers, across runs of plugboard, which revision each
// configured server speaks, so that a server that ignores server/discover
// costs the probe's timeout once, not on every start of a desktop client.
// It is a small JSON file: read once at start-up, and written behind the
// changes by a goroutine of its own (a start of many new servers is a
// write or two), never from an actor. Entries past eraCacheTTL are
// dropped when it is read and when it is written.
type eraCache struct {
	log  *slog.Logger
	file *transports.FileBehind // nil: in memory only

	mu      sync.Mutex
	entries map[string]eraEntry
}

// eraEntry is what is remembered of one server's configuration: the
// revision it speaks, and how long its last start took (from its spawn or
// connection to the end of its lists), by which fleet starts the slowest
// servers first. Each part has its own time, so that starting a server
// every day does not keep a week-old era from being probed again.
type eraEntry struct {
	Era     string    `json:"era,omitempty"` // "modern", "legacy" or "both"
	Seen    time.Time `json:"seen"`
	StartMS int64     `json:"startMs,omitempty"`
	Started time.Time `json:"started,omitzero"`
}

// expire drops the parts of e past eraCacheTTL and says whether anything
// is left.
func (e *eraEntry) expire(now time.Time) bool {
	if now.Sub(e.Seen) > eraCacheTTL || eraOf(e.Era) == eraUnknown {
		e.Era, e.Seen = "", time.Time{}
	}
	if now.Sub(e.Started) > eraCacheTTL || e.StartMS <= 0 {
		e.StartMS, e.Started = 0, time.Time{}
	}
	return e.Era != "" || e.StartMS > 0
}

// newest is when e was last told anything.
func (e eraEntry) newest() time.Time {
	if e.Started.After(e.Seen) {
		return e.Started
	}
	return e.Seen
}

// DefaultEraCache is where plugboard keeps the era cache: the user's cache
// directory, or "" when there is none.
func DefaultEraCache() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "plugboard", "eras.json")
}

// loadEraCache reads the cache at path; "" keeps eras in memory only.
func loadEraCache(path string, log *slog.Logger) *eraCache {
	c := &eraCache{log: log, entries: map[string]eraEntry{}}
	if path == "" {
		return c
	}
	c.file = transports.NewFileBehind(path, func() ([]byte, error) { return c.render(path) },
		func(err error) { log.Debug("era cache not written", "path", path, "err", err) })
	data, err := os.ReadFile(path)
	if err != nil {
		return c
	}
	if json.Unmarshal(data, &c.entries) != nil {
		log.Warn("ignoring an unreadable era cache", "path", path)
		c.entries = map[string]eraEntry{}
		return c
	}
	if c.prune(time.Now()) {
		c.file.Changed()
	}
	return c
}

// prune drops the entries past their time and, over maxEraEntries, those
// seen longest ago; it says whether it dropped any. c.mu is held or c is
// not shared yet.
func (c *eraCache) prune(now time.Time) bool {
	before := len(c.entries)
	for key, e := range c.entries {
		if e.expire(now) {
			c.entries[key] = e
		} else {
			delete(c.entries, key)
		}
	}
	if over := len(c.entries) - maxEraEntries; over > 0 {
		keys := make([]string, 0, len(c.entries))
		for key := range c.entries {
			keys = append(keys, key)
		}
		slices.SortFunc(keys, func(a, b string) int { return c.entries[a].newest().Compare(c.entries[b].newest()) })
		for _, key := range keys[:over] {
			delete(c.entries, key)
		}
	}
	return len(c.entries) < before
}

// render is the file's content: the entries still in time.
func (c *eraCache) render(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prune(time.Now())
	return json.Marshal(c.entries)
}

// flush returns once every change is in the file.
func (c *eraCache) flush() {
	if c.file != nil {
		c.file.Flush()
	}
}

// eraKey identifies a server's configuration: a changed command, argument
// list or URL is probed again.
func eraKey(cfg config.Server) string {
	h := sha256.Sum256([]byte(strings.Join(append([]string{cfg.Name, cfg.Command, cfg.URL, cfg.Transport}, cfg.Args...), "\x00")))
	return hex.EncodeToString(h[:12])
}

// get returns the remembered era of a server, or eraUnknown.
func (c *eraCache) get(key string) int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || time.Since(e.Seen) > eraCacheTTL {
		return eraUnknown
	}
	return eraOf(e.Era)
}

func eraOf(name string) int32 {
	switch name {
	case "modern":
		return eraModern
	case "legacy":
		return eraLegacy
	case "both":
		return eraBoth
	}
	return eraUnknown
}

// set remembers a server's era (eraUnknown forgets it); the file follows.
func (c *eraCache) set(key string, era int32) {
	c.mu.Lock()
	e := c.entries[key]
	e.Era, e.Seen = eraNames[era], time.Now().UTC()
	if era == eraUnknown {
		e.Seen = time.Time{}
	}
	c.store(key, e)
	c.mu.Unlock()
	c.changed()
}

var eraNames = map[int32]string{eraModern: "modern", eraLegacy: "legacy", eraBoth: "both"}

// tookToStart remembers how long a server's start took.
func (c *eraCache) tookToStart(key string, d time.Duration) {
	c.mu.Lock()
	e := c.entries[key]
	e.StartMS, e.Started = max(d.Milliseconds(), 1), time.Now().UTC()
	c.store(key, e)
	c.mu.Unlock()
	c.changed()
}

// startCost is how long a server's last start took, if that is known.
func (c *eraCache) startCost(key string) (time.Duration, bool) {
	if c == nil {
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || e.StartMS <= 0 || time.Since(e.Started) > eraCacheTTL {
		return 0, false
	}
	return time.Duration(e.StartMS) * time.Millisecond, true
}

// store keeps e under key, or forgets key when e holds nothing; c.mu is
// held.
func (c *eraCache) store(key string, e eraEntry) {
	if e.Era == "" && e.StartMS <= 0 {
		delete(c.entries, key)
		return
	}
	c.entries[key] = e
}

func (c *eraCache) changed() {
	if c.file != nil {
		c.file.Changed()
	}
}
