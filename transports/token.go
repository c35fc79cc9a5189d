package transports

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// TokenFile is the name of the auth token's file in the state directory.
const TokenFile = "token"

// LoadOrCreateToken returns the bearer token kept in dir (a private
// directory, see EnsurePrivateDir), creating it on first use: 32 random
// bytes in hex, in a file of mode 0600. Two plugboards creating it at once
// end up with the same token.
func LoadOrCreateToken(dir string) (string, error) {
	path := filepath.Join(dir, TokenFile)
	token, err := readToken(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return token, err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating a token: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".token-*")
	if err != nil {
		return "", fmt.Errorf("writing the token: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(hex.EncodeToString(b[:]) + "\n")
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return "", fmt.Errorf("writing the token: %w", werr)
	}
	// A link never replaces: whoever links first wins, and the other
	// reads the winner's token.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("writing the token: %w", err)
	}
	return readToken(path)
}

// readToken reads the token file, refusing one that is not a regular file
// of this user, and narrowing its mode to 0600 if it is wider.
func readToken(path string) (string, error) {
	info, err := os.Lstat(path)
	if err != nil {
		return "", err
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file: %w", path, ErrNotPrivate)
	}
	if uid, ok := fileOwner(info); ok && uid != os.Getuid() {
		return "", fmt.Errorf("%s belongs to uid %d, not to this user (uid %d): %w", path, uid, os.Getuid(), ErrNotPrivate)
	}
	if info.Mode().Perm() != 0o600 {
		if err := os.Chmod(path, 0o600); err != nil {
			return "", fmt.Errorf("narrowing %s to mode 0600: %w", path, err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return "", fmt.Errorf("%s is empty; delete it to get a new token", path)
	}
	return token, nil
}
