package actors

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/plugboard/plugboard/config"
)

// eraCacheTTL is how long a remembered era is trusted before the server
// is probed again.
const eraCacheTTL = 7 * 24 * time.Hour

// eraCache remembers, across runs of plugboard, which revision each
// configured server speaks, so that a server that ignores server/discover
// costs the probe's timeout once, not on every start of a desktop client.
// It is a small JSON file; it is read once at start-up and written from
// the handshake's goroutine, never from an actor.
type eraCache struct {
	path string
	log  *slog.Logger

	mu      sync.Mutex
	entries map[string]eraEntry
}

type eraEntry struct {
	Era  string    `json:"era"` // "modern" or "legacy"
	Seen time.Time `json:"seen"`
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
	c := &eraCache{path: path, log: log, entries: map[string]eraEntry{}}
	if path == "" {
		return c
	}
	if data, err := os.ReadFile(path); err == nil {
		if json.Unmarshal(data, &c.entries) != nil {
			log.Warn("ignoring an unreadable era cache", "path", path)
			c.entries = map[string]eraEntry{}
		}
	}
	return c
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
	switch e.Era {
	case "modern":
		return eraModern
	case "legacy":
		return eraLegacy
	case "both":
		return eraBoth
	}
	return eraUnknown
}

// set remembers a server's era (eraUnknown forgets it) and writes the file.
func (c *eraCache) set(key string, era int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch era {
	case eraModern:
		c.entries[key] = eraEntry{Era: "modern", Seen: time.Now().UTC()}
	case eraLegacy:
		c.entries[key] = eraEntry{Era: "legacy", Seen: time.Now().UTC()}
	case eraBoth:
		c.entries[key] = eraEntry{Era: "both", Seen: time.Now().UTC()}
	default:
		delete(c.entries, key)
	}
	if c.path == "" {
		return
	}
	data, _ := json.MarshalIndent(c.entries, "", "  ")
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		c.log.Debug("era cache not written", "err", err)
		return
	}
	tmp := c.path + ".tmp" + hex.EncodeToString([]byte(time.Now().Format("150405.000000000")))
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		c.log.Debug("era cache not written", "err", err)
		return
	}
	if err := os.Rename(tmp, c.path); err != nil {
		_ = os.Remove(tmp)
		c.log.Debug("era cache not written", "err", err)
	}
}
