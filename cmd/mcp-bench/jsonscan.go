package main

// A minimal JSON walker for the hot path: it finds the spans of an
// object's top-level members in one pass, without allocating and without
// decoding values the benchmark never looks at (a result's content, say).
// It checks structure only as far as finding those spans needs; the rare
// values that are decoded go through encoding/json, which checks them fully.

import (
	"bytes"
	"errors"
	"fmt"
)

// errMalformed reports a frame whose structure the walker cannot follow.
var errMalformed = errors.New("malformed JSON")

// walkObject calls visit with each top-level member of the JSON object in
// b: its key as written between the quotes (escapes left as they are) and
// the span of its value. Walking stops early when visit returns false.
func walkObject(b []byte, visit func(key, value []byte) bool) error {
	return walkObjectCounting(b, "", nil, visit)
}

// walkObjectCounting is walkObject that also counts, in the same pass, the
// elements of the member named countKey when it is an array, into *count:
// a listing's tools are thousands of objects, and skipping them once to
// find the member's end and again to count them doubled this client's
// work per listing.
func walkObjectCounting(b []byte, countKey string, count *int, visit func(key, value []byte) bool) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return fmt.Errorf("%w: not an object", errMalformed)
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return fmt.Errorf("%w: expected a key at offset %d", errMalformed, i)
		}
		keyEnd, err := skipString(b, i)
		if err != nil {
			return err
		}
		key := b[i+1 : keyEnd-1]
		i = skipSpace(b, keyEnd)
		if i >= len(b) || b[i] != ':' {
			return fmt.Errorf("%w: expected ':' at offset %d", errMalformed, i)
		}
		i = skipSpace(b, i+1)
		var valueEnd int
		if countKey != "" && string(key) == countKey && i < len(b) && b[i] == '[' {
			*count, valueEnd, err = scanArray(b, i)
		} else {
			valueEnd, err = skipValue(b, i)
		}
		if err != nil {
			return err
		}
		if !visit(key, b[i:valueEnd]) {
			return nil
		}
		i = skipSpace(b, valueEnd)
		if i >= len(b) {
			return fmt.Errorf("%w: unterminated object", errMalformed)
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return nil
		default:
			return fmt.Errorf("%w: expected ',' or '}' at offset %d", errMalformed, i)
		}
	}
}

// scanArray counts the elements of the JSON array starting at b[i] and
// returns the offset just past it.
func scanArray(b []byte, i int) (n, end int, err error) {
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return 0, i + 1, nil
	}
	for {
		end, err := skipValue(b, i)
		if err != nil {
			return 0, 0, err
		}
		n++
		i = skipSpace(b, end)
		if i >= len(b) {
			return 0, 0, fmt.Errorf("%w: unterminated array", errMalformed)
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return n, i + 1, nil
		default:
			return 0, 0, fmt.Errorf("%w: expected ',' or ']' at offset %d", errMalformed, i)
		}
	}
}

// skipValue returns the offset just past the JSON value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, fmt.Errorf("%w: missing value", errMalformed)
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, fmt.Errorf("%w: unterminated %c", errMalformed, b[i])
	case ',', '}', ']', ':':
		return 0, fmt.Errorf("%w: missing value at offset %d", errMalformed, i)
	default: // number, true, false, null
		j := i
		for j < len(b) && !isDelimiter(b[j]) {
			j++
		}
		return j, nil
	}
}

// skipString returns the offset just past the JSON string starting at b[i].
func skipString(b []byte, i int) (int, error) {
	// From quote to quote with bytes.IndexByte, which looks at many bytes
	// a step: a listing is mostly long strings (descriptions, schemas),
	// and a byte-by-byte loop here was most of this client's CPU while
	// listing 2000 tools.
	for j := i + 1; j < len(b); {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			break
		}
		j += k
		escapes := 0
		for e := j - 1; e > i && b[e] == '\\'; e-- {
			escapes++
		}
		if escapes%2 == 0 {
			return j + 1, nil
		}
		j++
	}
	return 0, fmt.Errorf("%w: unterminated string", errMalformed)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

func isDelimiter(c byte) bool {
	return isSpace(c) || c == ',' || c == '}' || c == ']' || c == ':'
}
