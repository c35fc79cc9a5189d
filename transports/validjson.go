package transports

import (
	"bytes"
	"encoding/json"

	"github.com/tidwall/gjson"
)

// ValidJSON reports whether b is one JSON value, with white space around
// it allowed: what json.Valid reports, several times faster. Every frame
// from a client and every line from a stdio server is checked once on
// the way through, and encoding/json's validator, a state machine that
// calls a function per byte, was a tenth of plugboard's processor time
// per call under load (BENCHMARKS.md).
//
// gjson's validator recurses once per level of nesting, without a bound:
// a frame of a few MiB of '[' would grow the reader's stack by hundreds
// of MiB. The levels cannot outnumber the brackets that open them, which
// a byte count finds at memory speed; past maxFastNesting of them b goes
// to encoding/json, which keeps its own stack of states on the heap.
func ValidJSON(b []byte) bool {
	if bytes.Count(b, openBrace)+bytes.Count(b, openBracket) > maxFastNesting {
		return json.Valid(b)
	}
	return gjson.ValidBytes(b)
}

// maxFastNesting bounds the recursion of gjson's validator (ValidJSON):
// at most this many levels, well under a MiB of stack.
const maxFastNesting = 1000

var (
	openBrace   = []byte{'{'}
	openBracket = []byte{'['}
)
