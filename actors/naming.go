package actors

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// maxNameLen is the longest client-facing name: Claude and OpenAI clients
// reject tool names outside ^[a-zA-Z0-9_-]{1,64}$.
const maxNameLen = 64

// prefixSeparator joins a server's prefix and an original name.
const prefixSeparator = "__"

// clientName returns the client-facing name of original under prefix,
// before collisions are resolved: PREFIX__NAME with every character outside
// [A-Za-z0-9_-] replaced by '_', shortened with a stable hash when too long.
func clientName(prefix, original string) string {
	joined := original
	if prefix != "" {
		joined = prefix + prefixSeparator + original
	}
	name := make([]byte, 0, len(joined))
	for _, r := range joined {
		if r < 128 && isNameByte(byte(r)) {
			name = append(name, byte(r))
		} else {
			name = append(name, '_')
		}
	}
	if len(name) == 0 {
		name = append(name, '_')
	}
	if len(name) > maxNameLen {
		return withHashSuffix(string(name), joined)
	}
	return string(name)
}

func isNameByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '-'
}

// withHashSuffix shortens name so that "_" and eight hex digits of the hash
// of seed fit within maxNameLen, and appends them.
func withHashSuffix(name, seed string) string {
	sum := sha256.Sum256([]byte(seed))
	suffix := "_" + hex.EncodeToString(sum[:4])
	if len(name)+len(suffix) > maxNameLen {
		name = name[:maxNameLen-len(suffix)]
	}
	return name + suffix
}

// nameCandidate is one original name of one server that needs a
// client-facing name.
type nameCandidate struct {
	server, prefix, original string
}

// nameCollision records a candidate that could not have its plain name.
type nameCollision struct {
	server, original, wanted, given string
}

func (c nameCollision) String() string {
	return fmt.Sprintf("%s/%s wanted %q, taken; exposed as %q", c.server, c.original, c.wanted, c.given)
}

// assignNames gives every candidate a distinct client-facing name. The
// candidates must come in a deterministic order (the catalog sorts them by
// server, then by the server's own order): the first to want a name gets
// it, later ones get a hash suffix, so the outcome depends only on the set.
func assignNames(candidates []nameCandidate) ([]string, []nameCollision) {
	names := make([]string, len(candidates))
	taken := make(map[string]bool, len(candidates))
	var collisions []nameCollision
	for i, c := range candidates {
		wanted := clientName(c.prefix, c.original)
		name := wanted
		seed := c.server + "/" + c.original
		for n := 1; taken[name]; n++ {
			name = withHashSuffix(wanted, seed)
			seed = fmt.Sprintf("%s/%s#%d", c.server, c.original, n)
		}
		if name != wanted {
			collisions = append(collisions, nameCollision{c.server, c.original, wanted, name})
		}
		taken[name] = true
		names[i] = name
	}
	return names, collisions
}
