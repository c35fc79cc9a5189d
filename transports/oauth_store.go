package transports

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
)

// refreshAhead is how long before its expiry an access token is refreshed,
// so that a request never goes out with a token about to lapse on the way.
const refreshAhead = 60 * time.Second

// DefaultTokenDir returns where plugboard keeps its logins to remote
// servers: $XDG_STATE_HOME/plugboard/tokens when XDG_STATE_HOME is an
// absolute path, else ~/.local/state/plugboard/tokens. It returns "" when
// the home directory is unknown too.
func DefaultTokenDir() string {
	if dir := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "plugboard", "tokens")
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	return filepath.Join(home, ".local", "state", "plugboard", "tokens")
}

// LoginRecord is what plugboard keeps of its login to one server: the
// client it registered (or was given) and the tokens it holds. Every
// field but Server is secret or may lead to one; the record is never
// shown.
type LoginRecord struct {
	// Server is the server's URL as RedactURL shows it, for a person
	// looking into the directory.
	Server string `json:"server"`
	// ClientID, ClientSecret and AuthMethod are the client's registration
	// (dynamic, or the configured one the login used).
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	AuthMethod   string `json:"token_endpoint_auth_method,omitempty"`
	// RedirectURI is the redirect URI the client was registered with: a
	// later login listens on its port again when it can.
	RedirectURI string `json:"redirect_uri,omitempty"`
	// ResourceMetadata is the protected resource metadata URL the login
	// found, and Resource the resource identifier it names, so that a
	// refresh discovers the authorization server the same way.
	ResourceMetadata string `json:"resource_metadata,omitempty"`
	Resource         string `json:"resource,omitempty"`
	// StepUpScope is a scope the server asked for (403
	// insufficient_scope) after the login: the next login asks for it too.
	StepUpScope string           `json:"step_up_scope,omitempty"`
	Token       *transport.Token `json:"token,omitempty"`
}

// FileTokenStore keeps one server's login in a file of its own, named by
// a hash of the server's URL, in a directory only this user can use
// (0700; the file 0600). It implements mcp-go's transport.TokenStore,
// reading the file on every GetToken, so that a login made by another
// process (plugboard login) is used at once.
type FileTokenStore struct {
	dir, path string
	shown     string // the server's URL, redacted
}

// NewFileTokenStore returns the store of the server at serverURL in dir
// (DefaultTokenDir when ""). Nothing is created before the first save.
func NewFileTokenStore(dir, serverURL string) (*FileTokenStore, error) {
	if dir == "" {
		if dir = DefaultTokenDir(); dir == "" {
			return nil, errors.New("no directory for logins: neither XDG_STATE_HOME nor the home directory is known")
		}
	}
	sum := sha256.Sum256([]byte(serverURL))
	return &FileTokenStore{dir: dir, path: filepath.Join(dir, hex.EncodeToString(sum[:16])+".json"), shown: RedactURL(serverURL)}, nil
}

// Path returns the file of the store.
func (s *FileTokenStore) Path() string { return s.path }

// errNoLogin is returned by Load when nothing is stored.
var errNoLogin = fmt.Errorf("no stored login: %w", transport.ErrNoToken)

// Load returns the stored record; an error wrapping transport.ErrNoToken
// when there is none.
func (s *FileTokenStore) Load() (*LoginRecord, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoLogin
	}
	if err != nil {
		return nil, fmt.Errorf("reading the login to %s: %w", s.shown, err)
	}
	var rec LoginRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		// The decoder's error may quote the file, tokens and all.
		return nil, fmt.Errorf("the login to %s in %s is not valid JSON; run plugboard logout and login again", s.shown, s.path)
	}
	return &rec, nil
}

// Save replaces the stored record, atomically: a reader sees the old
// record or the new one, never half of one.
func (s *FileTokenStore) Save(rec *LoginRecord) error {
	if err := ensureTokenDir(s.dir); err != nil {
		return err
	}
	rec.Server = s.shown
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the login to %s: %w", s.shown, err)
	}
	f, err := os.CreateTemp(s.dir, ".login-*")
	if err != nil {
		return fmt.Errorf("saving the login to %s: %w", s.shown, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename, there is nothing left to remove
	// CreateTemp makes the file 0600 already; say so for the reader.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("saving the login to %s: %w", s.shown, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("saving the login to %s: %w", s.shown, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("saving the login to %s: %w", s.shown, err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("saving the login to %s: %w", s.shown, err)
	}
	return nil
}

// Update applies change to the stored record (an empty one when there is
// none) and saves it.
func (s *FileTokenStore) Update(change func(*LoginRecord)) error {
	rec, err := s.Load()
	if errors.Is(err, transport.ErrNoToken) {
		rec, err = &LoginRecord{}, nil
	}
	if err != nil {
		return err
	}
	change(rec)
	return s.Save(rec)
}

// Delete removes the stored record; it reports whether there was one.
func (s *FileTokenStore) Delete() (bool, error) {
	err := os.Remove(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("removing the login to %s: %w", s.shown, err)
	}
	return true, nil
}

// GetToken implements transport.TokenStore. The token it returns expires
// refreshAhead early, so that mcp-go's handler refreshes it before the
// server would refuse it.
func (s *FileTokenStore) GetToken(ctx context.Context) (*transport.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rec, err := s.Load()
	if err != nil {
		return nil, err
	}
	if rec.Token == nil || (rec.Token.AccessToken == "" && rec.Token.RefreshToken == "") {
		return nil, errNoLogin
	}
	t := *rec.Token
	if !t.ExpiresAt.IsZero() {
		t.ExpiresAt = t.ExpiresAt.Add(-refreshAhead)
	}
	return &t, nil
}

// SaveToken implements transport.TokenStore: it replaces the tokens and
// keeps the rest of the record. A step-up scope the new token grants is
// no longer wanted.
func (s *FileTokenStore) SaveToken(ctx context.Context, token *transport.Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	saved := *token
	if saved.ExpiresAt.IsZero() && saved.ExpiresIn > 0 {
		saved.ExpiresAt = time.Now().Add(time.Duration(saved.ExpiresIn) * time.Second)
	}
	return s.Update(func(rec *LoginRecord) {
		rec.Token = &saved
		if rec.StepUpScope != "" && scopeCovers(saved.Scope, rec.StepUpScope) {
			rec.StepUpScope = ""
		}
	})
}

// scopeCovers reports whether the space-separated scopes granted include
// every one of wanted.
func scopeCovers(granted, wanted string) bool {
	have := map[string]bool{}
	for _, s := range splitScopes(granted) {
		have[s] = true
	}
	for _, s := range splitScopes(wanted) {
		if !have[s] {
			return false
		}
	}
	return true
}

// ensureTokenDir creates the token directory, its parents 0700 too, or
// checks that an existing one is private.
func ensureTokenDir(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(dir), err)
	}
	return EnsurePrivateDir(dir)
}
