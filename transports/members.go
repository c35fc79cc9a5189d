package transports

import (
	"encoding/json"
	"fmt"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// AmbiguousMemberError reports a JSON object that gives a member plugboard
// decides on more than once: twice under its exact name, or beside (or
// instead of) a name that differs from it only in case. Readers disagree
// on such objects (encoding/json matches struct fields case-insensitively
// and keeps the last of two; other parsers keep the first or match
// exactly), so plugboard would decide on one member and the server act on
// another.
type AmbiguousMemberError struct {
	Name string // the member's exact name, as plugboard reads it
	Key  string // the name in the object that makes it ambiguous
}

func (e *AmbiguousMemberError) Error() string {
	if e.Key == e.Name {
		return fmt.Sprintf("member %q is given more than once", e.Name)
	}
	return fmt.Sprintf("member %q is ambiguous: the object also has %q, which differs only in case", e.Name, e.Key)
}

// ReadMembers finds the top-level members of the JSON object obj named
// names, by exact name after unescaping, and stores the raw value of
// names[i] in values[i] (nil when absent; values shares obj's bytes). A
// member given twice, or a member whose name is a case-variant of one of
// names, is refused with *AmbiguousMemberError, whether or not the exact
// name is there too. obj that is not a JSON object (white space around it
// is fine) is ErrNotObject. len(values) must be at least len(names).
func ReadMembers(obj []byte, names []string, values []json.RawMessage) error {
	i := skipSpace(obj, 0)
	if i == len(obj) || obj[i] != '{' || !ValidJSON(obj) {
		return ErrNotObject
	}
	return readMembers(obj, i, names, values)
}

// readMembers is ReadMembers over b, valid JSON with an object at b[i].
func readMembers(b []byte, i int, names []string, values []json.RawMessage) error {
	clear(values[:len(names)])
	var err error
	scanMembers(b, i, func(key []byte, start, end int) {
		if err == nil {
			err = takeMember(key, b[start:end:end], names, values)
		}
	})
	return err
}

// takeMember stores value under the name that the raw (quoted) key spells
// exactly, and refuses a second one or a case-variant.
func takeMember(key []byte, value json.RawMessage, names []string, values []json.RawMessage) error {
	inner := key[1 : len(key)-1]
	var unescaped string
	if hasEscape(inner) || !utf8.Valid(inner) { // compared as encoding/json unquotes it
		s, ok := unquoteJSON(key)
		if !ok {
			return nil // json.Valid let it through, so this does not happen
		}
		unescaped = s
	}
	ascii := unescaped == "" && isASCII(inner)
	for n, name := range names {
		if ascii && len(inner) != len(name) && isASCII([]byte(name)) {
			continue // no case of an ASCII name has another length in ASCII
		}
		// Case is folded only for a name that is not the key exactly:
		// nearly every key of a frame is one of names exactly, or of
		// another length.
		exact, folded := false, false
		if unescaped != "" || len(inner) == 0 {
			exact = unescaped == name
			folded = !exact && foldEqual(unescaped, name)
		} else {
			exact = string(inner) == name
			folded = !exact && foldEqualBytes(inner, name)
		}
		switch {
		case exact && values[n] == nil:
			values[n] = value
		case exact:
			return &AmbiguousMemberError{Name: name, Key: name}
		case folded:
			return &AmbiguousMemberError{Name: name, Key: keyText(inner, unescaped)}
		}
	}
	return nil
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func hasEscape(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

func keyText(inner []byte, unescaped string) string {
	if unescaped != "" {
		return unescaped
	}
	return string(inner)
}

// sameLetter reports whether two runes are one letter under case
// folding: encoding/json's (Unicode simple folding, as bytes.EqualFold),
// or a plain lower- or upper-casing as other case-insensitive readers do
// (which also takes U+0130 for an i).
func sameLetter(a, b rune) bool {
	return a == b || unicode.ToLower(a) == unicode.ToLower(b) || unicode.ToUpper(a) == unicode.ToUpper(b) || foldOrbit(a) == foldOrbit(b)
}

// foldOrbit is the smallest rune of r's simple case folding orbit.
func foldOrbit(r rune) rune {
	for {
		next := unicode.SimpleFold(r)
		if next <= r {
			return next
		}
		r = next
	}
}

// foldEqualBytes reports whether key and name are the same letters up to
// case (sameLetter). Invalid UTF-8 compares as U+FFFD, as encoding/json
// unquotes it.
func foldEqualBytes(key []byte, name string) bool {
	for len(key) > 0 && len(name) > 0 {
		a, b := key[0], name[0]
		if a < utf8.RuneSelf && b < utf8.RuneSelf {
			if a != b && foldASCII(a) != foldASCII(b) {
				return false
			}
			key, name = key[1:], name[1:]
			continue
		}
		ra, na := utf8.DecodeRune(key)
		rb, nb := utf8.DecodeRuneInString(name)
		if !sameLetter(ra, rb) {
			return false
		}
		key, name = key[na:], name[nb:]
	}
	return len(key) == 0 && len(name) == 0
}

// foldEqual is foldEqualBytes for a key already unquoted.
func foldEqual(key, name string) bool {
	for len(key) > 0 && len(name) > 0 {
		ra, na := utf8.DecodeRuneInString(key)
		rb, nb := utf8.DecodeRuneInString(name)
		if !sameLetter(ra, rb) {
			return false
		}
		key, name = key[na:], name[nb:]
	}
	return len(key) == 0 && len(name) == 0
}

func foldASCII(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// ValueOffset returns where value, one of the values ReadMembers or
// ExactMembers found in obj (which share obj's bytes), begins in obj, so
// that it can be replaced without reading obj again; ok is false when
// value's bytes are not within obj's.
func ValueOffset(obj, value []byte) (offset int, ok bool) {
	if len(value) == 0 || len(value) > len(obj) {
		return 0, false
	}
	o, v := uintptr(unsafe.Pointer(unsafe.SliceData(obj))), uintptr(unsafe.Pointer(unsafe.SliceData(value)))
	if v < o || v-o > uintptr(len(obj)-len(value)) {
		return 0, false
	}
	return int(v - o), true
}
