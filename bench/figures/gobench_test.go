package main

import (
	"strings"
	"testing"
)

func TestParseGoBench(t *testing.T) {
	text := `goos: linux
goarch: amd64
pkg: github.com/plugboard/plugboard/actors
cpu: AMD EPYC
BenchmarkCatalogResolve-2     	100000000	        11.60 ns/op	       0 B/op	       0 allocs/op
BenchmarkToolsCallRoundTrip
    system_test.go:240: some log line
BenchmarkToolsCallRoundTrip-2 	    7000	    163784 ns/op	    6729 B/op	     118 allocs/op
PASS
ok  	github.com/plugboard/plugboard/actors	5.1s
pkg: github.com/plugboard/plugboard/transports
BenchmarkResultFrame 	 8000000	       154 ns/op
ok  	github.com/plugboard/plugboard/transports	2.0s
`
	out := parseGoBench(text)
	if out.CPU != "AMD EPYC" || len(out.Failures) != 0 {
		t.Errorf("cpu %q, failures %q", out.CPU, out.Failures)
	}
	want := []goBenchmark{
		{Package: "actors", Name: "CatalogResolve", Iterations: 100000000, NsPerOp: 11.6, BytesPerOp: 0, AllocsPerOp: 0},
		{Package: "actors", Name: "ToolsCallRoundTrip", Iterations: 7000, NsPerOp: 163784, BytesPerOp: 6729, AllocsPerOp: 118},
		{Package: "transports", Name: "ResultFrame", Iterations: 8000000, NsPerOp: 154, BytesPerOp: -1, AllocsPerOp: -1},
	}
	if len(out.Benchmarks) != len(want) {
		t.Fatalf("benchmarks = %+v", out.Benchmarks)
	}
	for i := range want {
		if out.Benchmarks[i] != want[i] {
			t.Errorf("benchmark %d = %+v, want %+v", i, out.Benchmarks[i], want[i])
		}
	}
}

func TestParseGoBenchFailures(t *testing.T) {
	text := `# github.com/plugboard/plugboard/transports
transports/frame.go:61:7: undefined: scanEnvelope
FAIL	github.com/plugboard/plugboard/transports [build failed]
go test exit status 1
`
	out := parseGoBench(text)
	if len(out.Benchmarks) != 0 || len(out.Failures) != 4 {
		t.Errorf("benchmarks %+v, failures %q", out.Benchmarks, out.Failures)
	}
	rendered := renderGoBench(text)
	if !strings.Contains(rendered, "`go test` failed") || !strings.Contains(rendered, "undefined: scanEnvelope") {
		t.Errorf("rendered:\n%s", rendered)
	}
}
