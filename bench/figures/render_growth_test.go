package main

import (
	"os"
	"strings"
	"testing"
)

func TestRenderGrowth(t *testing.T) {
	res := sampleResults()
	got := renderGrowth(res.Growth, res.HTTPFront)
	for _, want := range []string{
		// servers: added p50 is counted from the direct run of the same scenario
		"| 500 | 130 µs | +50 µs | 700 µs | 45 µs | 150.0 MiB |",
		// sessions: from the fixture's own HTTP, one session
		"| 5000 | 330 µs | +180 µs | 950 µs | 62 µs | 100.0 MiB |",
		// catalogs: memory per tool over the smallest catalog's RSS
		"| 20000 | 20.00 ms | 90.00 ms | 60.9 MiB | 2048 B | 240.00 ms | 95.00 ms |",
		"| 100 | 150 µs | 900 µs | 22.0 MiB | — | 12.00 ms | 3.00 ms |",
		"over 10 fixtures",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("growth tables lack %q:\n%s", want, got)
		}
	}
	none := renderGrowth(nil, nil)
	if strings.Count(none, "not measured in this run") != 3 {
		t.Errorf("with nothing measured, want three notes:\n%s", none)
	}
}

func TestRenderPeersAndFronts(t *testing.T) {
	res := sampleResults()
	peers := renderPeers(res.Peers)
	for _, want := range []string{
		"| plugboard serve | this commit | 310 µs | 800 µs | 60 µs | 9000 calls/s | 20.0 MiB |  |",
		"| mcp-proxy (TBXark, Go) | github.com/tbxark/mcp-proxy at 4f78891 | 330 µs | 1.20 ms | 90 µs | 4000 calls/s | 15.0 MiB |  |",
		"| other |  | — | — | — | — | — | not built: 403 Forbidden |",
	} {
		if !strings.Contains(peers, want) {
			t.Errorf("peers table lacks %q:\n%s", want, peers)
		}
	}
	front := renderHTTPFront(res.HTTPFront)
	for _, want := range []string{"one Streamable HTTP session", "Tool `echo`, each caller", "| 16 | 10000 calls/s | 8500 calls/s | 85.0% |",
		"ideal (C / sleep)", "| 256 | 20000 calls/s | 19500 calls/s | 97.5% |"} {
		if !strings.Contains(front, want) {
			t.Errorf("HTTP front lacks %q:\n%s", want, front)
		}
	}
	inFlight := renderInFlight(res.InFlight)
	if !strings.Contains(inFlight, "| 20.0 MiB | 22.0 MiB | 4.0 KiB | 2.0 MiB |") {
		t.Errorf("in-flight table:\n%s", inFlight)
	}
	if got := renderPeers(nil); !strings.Contains(got, "not measured") {
		t.Errorf("peers not run: %q", got)
	}
}

// TestTheDocumentHasEveryBlock splices a run into the repository's own
// BENCHMARKS.md: every generated block needs its markers there.
func TestTheDocumentHasEveryBlock(t *testing.T) {
	doc, err := os.ReadFile("../../BENCHMARKS.md")
	if err != nil {
		t.Fatal(err)
	}
	out, err := splice(string(doc), renderBlocks(sampleResults(), ""))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## How cost grows", "| 5000 | 330 µs | +180 µs |", "mcp-proxy (TBXark, Go)"} {
		if !strings.Contains(out, want) {
			t.Errorf("the spliced document lacks %q", want)
		}
	}
}
