package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/agnivade/levenshtein"
)

// unknownKeyProblem describes key k that the section does not accept,
// naming the known key the user most likely meant when one is close.
func unknownKeyProblem(k string, known []string) string {
	if s := suggestKey(k, known); s != "" {
		return fmt.Sprintf("unknown key %q (did you mean %q?)", k, s)
	}
	return fmt.Sprintf("unknown key %q", k)
}

// suggestKey returns the key of known closest to the unknown key k, or ""
// when none is close enough to be a likely typo. Keys that differ only in
// case, '-' and '_' ("startupTimeout", "startup-timeout") always match;
// otherwise the edit distance must be at most 2 and at most a third of the
// known key's length, so that short keys ("env", "url") are not offered
// for unrelated words. Two swapped letters ("ulr") count as one edit, as
// typists make them, though Levenshtein distance counts two. Ties go to
// the key listed first.
func suggestKey(k string, known []string) string {
	nk := normalizeKey(k)
	best, bestDist := "", -1
	for _, c := range known {
		nc := normalizeKey(c)
		if nk == nc {
			return c
		}
		if d := len(nk) - len(nc); d > 2 || d < -2 {
			continue // the distance is at least the difference in length: no typo, and no quadratic work on a long key
		}
		dist := levenshtein.ComputeDistance(nk, nc)
		if dist == 2 && sameLetters(nk, nc) {
			dist = 1
		}
		if dist > 2 || 3*dist > len(nc) {
			continue
		}
		if bestDist < 0 || dist < bestDist {
			best, bestDist = c, dist
		}
	}
	return best
}

// normalizeKey folds the spellings of one key that naming conventions
// produce: case, and '-' or '_' between words.
func normalizeKey(k string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' {
			return -1
		}
		return r
	}, strings.ToLower(k))
}

// sameLetters reports whether a and b are made of the same letters, as a
// word and its misspelling with two letters swapped are.
func sameLetters(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	slices.Sort(ra)
	slices.Sort(rb)
	return slices.Equal(ra, rb)
}
