package main

import (
	"os"
	"strings"
	"testing"
)

func TestSpliceReplacesOnlyTheBlocks(t *testing.T) {
	doc := "# Title\n\nintro\n\n<!-- generated:begin a -->\nold a\n<!-- generated:end a -->\n\nbetween\n\n" +
		"<!-- generated:begin b -->\n<!-- generated:end b -->\nend\n"
	got, err := splice(doc, map[string]string{"a": "new a\n\n", "b": "| x |\n"})
	if err != nil {
		t.Fatal(err)
	}
	want := "# Title\n\nintro\n\n<!-- generated:begin a -->\nnew a\n<!-- generated:end a -->\n\nbetween\n\n" +
		"<!-- generated:begin b -->\n| x |\n<!-- generated:end b -->\nend\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	again, err := splice(got, map[string]string{"a": "new a\n\n", "b": "| x |\n"})
	if err != nil || again != got {
		t.Errorf("splicing twice changed the document: %v\n%s", err, again)
	}
}

func TestSpliceIgnoresMarkersQuotedInProse(t *testing.T) {
	doc := "Text outside `<!-- generated:begin NAME -->` stays.\n<!-- generated:begin a -->\n<!-- generated:end a -->"
	got, err := splice(doc, map[string]string{"a": "x"})
	want := "Text outside `<!-- generated:begin NAME -->` stays.\n<!-- generated:begin a -->\nx\n<!-- generated:end a -->"
	if err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
}

func TestSpliceRefusesBrokenDocuments(t *testing.T) {
	blocks := map[string]string{"a": "x"}
	tests := []struct {
		doc, want string
	}{
		{"<!-- generated:begin a -->\n", "no end marker"},
		{"<!-- generated:end a -->\n", "without its begin marker"},
		{"<!-- generated:begin a -->\n<!-- generated:end a -->\n<!-- generated:begin a -->\n<!-- generated:end a -->\n", "twice"},
		{"<!-- generated:begin a -->\n<!-- generated:end a -->\n<!-- generated:begin z -->\n<!-- generated:end z -->\n", `"z" that nothing generates`},
		{"no markers\n", "no place for the generated blocks a"},
		{"<!-- generated:begin a b -->\n", "malformed"},
		{"<!-- generated:begin a -->\n<!-- generated:begin a -->\n<!-- generated:end a -->\n", "begins inside block"},
		{"<!-- generated:begin a -->\n<!-- generated:end b -->\n", "without its begin marker"},
	}
	for _, tt := range tests {
		if _, err := splice(tt.doc, blocks); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("splice(%q) = %v, want an error mentioning %q", tt.doc, err, tt.want)
		}
	}
}

// The committed document must have a place for every block that render
// writes, and nothing else generated, or bench/run fails at its end.
func TestBenchmarksDocumentHasEveryBlock(t *testing.T) {
	doc, err := os.ReadFile("../../BENCHMARKS.md")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := splice(string(doc), renderBlocks(&results{}, "")); err != nil {
		t.Error(err)
	}
}
