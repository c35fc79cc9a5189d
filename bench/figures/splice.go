package main

import (
	"fmt"
	"slices"
	"strings"
)

// Generated blocks in BENCHMARKS.md are marked by lines of their own,
//
//	<!-- generated:begin NAME -->
//	...
//	<!-- generated:end NAME -->
//
// and everything outside them is written by hand and kept as it is. A
// marker quoted inside a line of prose is not a marker.
const (
	beginMarker = "<!-- generated:begin "
	endMarker   = "<!-- generated:end "
	markerClose = " -->"
)

// marker reads a marker line: its kind (beginMarker or endMarker) and
// name, or ok false for any other line.
func marker(line string) (kind, name string, ok bool) {
	line = strings.TrimSpace(line)
	for _, kind := range []string{beginMarker, endMarker} {
		if rest, found := strings.CutPrefix(line, kind); found {
			name, closed := strings.CutSuffix(rest, markerClose)
			if !closed || name == "" || strings.ContainsAny(name, " \t") {
				return kind, "", true // malformed: the caller says so
			}
			return kind, name, true
		}
	}
	return "", "", false
}

// splice replaces the content of every generated block in doc with
// blocks[NAME]. It fails when a block in doc has no content, when a
// block has no place in doc, or when the markers do not pair up, so that
// a document is never left half generated.
func splice(doc string, blocks map[string]string) (string, error) {
	var out strings.Builder
	placed := map[string]bool{}
	open := "" // the block being replaced
	for i, line := range strings.SplitAfter(doc, "\n") {
		kind, name, ok := marker(line)
		switch {
		case !ok:
			if open == "" {
				out.WriteString(line)
			}
			continue
		case name == "":
			return "", fmt.Errorf("line %d: malformed marker %q: want %sNAME%s", i+1, strings.TrimSpace(line), kind, markerClose)
		case kind == beginMarker && open != "":
			return "", fmt.Errorf("line %d: block %q begins inside block %q", i+1, name, open)
		case kind == endMarker && open != name:
			return "", fmt.Errorf("line %d: %q without its begin marker", i+1, strings.TrimSpace(line))
		case kind == endMarker:
			out.WriteString(line)
			open = ""
			continue
		}
		content, known := blocks[name]
		switch {
		case !known:
			return "", fmt.Errorf("line %d: the document has a block %q that nothing generates", i+1, name)
		case placed[name]:
			return "", fmt.Errorf("line %d: block %q appears twice", i+1, name)
		}
		placed[name], open = true, name
		out.WriteString(line)
		if !strings.HasSuffix(line, "\n") {
			out.WriteString("\n")
		}
		out.WriteString(strings.TrimRight(content, "\n") + "\n")
	}
	if open != "" {
		return "", fmt.Errorf("block %q has no end marker %s%s%s", open, endMarker, open, markerClose)
	}
	var missing []string
	for name := range blocks {
		if !placed[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return "", fmt.Errorf("the document has no place for the generated blocks %s: add %sNAME%s and %sNAME%s lines",
			strings.Join(missing, ", "), beginMarker, markerClose, endMarker, markerClose)
	}
	return out.String(), nil
}
