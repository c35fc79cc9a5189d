package main

import (
	"strconv"
	"strings"
)

// goBenchmark is one line of `go test -bench -benchmem` output.
type goBenchmark struct {
	Package     string // the import path's last element: actors, transports
	Name        string // without the Benchmark prefix and the -GOMAXPROCS suffix
	Iterations  int64
	NsPerOp     float64
	BytesPerOp  float64 // -1 when not reported
	AllocsPerOp float64 // -1 when not reported
}

// goBenchOutput is what a `go test -bench` run printed, parsed.
type goBenchOutput struct {
	Benchmarks []goBenchmark
	CPU        string
	// Failures are the lines that say a package failed to build or a
	// benchmark failed, with the compiler's complaints.
	Failures []string
}

// parseGoBench reads the output of `go test -run '^$' -bench . -benchmem`.
func parseGoBench(text string) goBenchOutput {
	var out goBenchOutput
	pkg := ""
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(line, "pkg: "):
			path := strings.TrimPrefix(line, "pkg: ")
			pkg = path[strings.LastIndexByte(path, '/')+1:]
		case strings.HasPrefix(line, "cpu: "):
			out.CPU = strings.TrimPrefix(line, "cpu: ")
		case strings.HasPrefix(line, "Benchmark"):
			// A name alone is a benchmark that logged before its result.
			if b, ok := parseBenchLine(line); ok {
				b.Package = pkg
				out.Benchmarks = append(out.Benchmarks, b)
			}
		case isFailureLine(line):
			out.Failures = append(out.Failures, line)
		}
	}
	return out
}

// isFailureLine tells the lines that say why a package failed to build
// or a benchmark failed: "FAIL ...", "--- FAIL: ...", "# package", and
// the compiler's "file.go:12:3: message", which, unlike a benchmark's
// log lines, is not indented.
func isFailureLine(line string) bool {
	for _, prefix := range []string{"FAIL", "--- FAIL", "# ", "panic:", "go test exit"} {
		if strings.HasPrefix(line, prefix) {
			return true
		}
	}
	indented := strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")
	return !indented && strings.Contains(line, ".go:")
}

// parseBenchLine reads "BenchmarkName-2  123  45.6 ns/op  7 B/op  1 allocs/op".
func parseBenchLine(line string) (goBenchmark, bool) {
	fields := strings.Fields(line)
	if len(fields) < 4 || fields[3] != "ns/op" {
		return goBenchmark{}, false
	}
	name := strings.TrimPrefix(fields[0], "Benchmark")
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i]
		}
	}
	iterations, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		return goBenchmark{}, false
	}
	b := goBenchmark{Name: name, Iterations: iterations, BytesPerOp: -1, AllocsPerOp: -1}
	for i := 2; i+1 < len(fields); i += 2 {
		v, err := strconv.ParseFloat(fields[i], 64)
		if err != nil {
			return goBenchmark{}, false
		}
		switch fields[i+1] {
		case "ns/op":
			b.NsPerOp = v
		case "B/op":
			b.BytesPerOp = v
		case "allocs/op":
			b.AllocsPerOp = v
		}
	}
	return b, true
}
