package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// The parts of mcp-bench's --json reports that the figures use. Field
// names follow cmd/mcp-bench/report.go.

type benchOut struct {
	Calls      int64   `json:"calls"`
	OK         int64   `json:"ok"`
	Throughput float64 `json:"throughput_per_sec"`
	LatencyUS  struct {
		P50  float64 `json:"p50"`
		P90  float64 `json:"p90"`
		P99  float64 `json:"p99"`
		P999 float64 `json:"p99_9"`
	} `json:"latency_us"`
	Errors struct {
		Total    int64             `json:"total"`
		Examples map[string]string `json:"examples"`
	} `json:"errors"`
	Tools      int      `json:"tools"`
	Pages      int      `json:"pages"`
	RSS        *rssOut  `json:"rss"`
	Watched    *rssOut  `json:"watched"`
	CPU        *cpuOut  `json:"cpu"`
	WatchedCPU *cpuOut  `json:"watched_cpu"`
	Notes      []string `json:"notes"`
}

// cpuOut is processor time over the measuring time.
type cpuOut struct {
	PerCallUS float64 `json:"per_call_us"`
}

// relistOut is a --relist-after report.
type relistOut struct {
	Tools    int `json:"tools"`
	RelistMS struct {
		Median float64 `json:"median"`
	} `json:"relist_ms"`
	Notes []string `json:"notes"`
}

type startupOut struct {
	Tools     int `json:"tools"`
	StartupMS struct {
		Min    float64   `json:"min"`
		Median float64   `json:"median"`
		Max    float64   `json:"max"`
		Runs   []float64 `json:"runs"`
	} `json:"startup_ms"`
	Notes []string `json:"notes"`
}

type idleOut struct {
	OpenSec float64  `json:"open_sec"`
	Tools   int      `json:"tools"`
	RSS     *rssOut  `json:"rss"`
	Watched *rssOut  `json:"watched"`
	Notes   []string `json:"notes"`
}

type rssOut struct {
	PeakBytes     int64 `json:"peak_bytes"`
	FirstBytes    int64 `json:"first_bytes"`
	LastBytes     int64 `json:"last_bytes"`
	TreeLastBytes int64 `json:"tree_last_bytes"`
	LastAnonBytes int64 `json:"last_anon_bytes"`
	LastFileBytes int64 `json:"last_file_bytes"`
	TreeProcesses int   `json:"tree_processes"`
}

// sample turns a call report into a latency sample; its processor time
// is the stdio target's, or else the watched server's.
func (b benchOut) sample() latencySample {
	s := latencySample{P50: b.LatencyUS.P50, P90: b.LatencyUS.P90, P99: b.LatencyUS.P99, P999: b.LatencyUS.P999,
		Throughput: b.Throughput, Calls: b.OK}
	switch {
	case b.CPU != nil:
		s.CPUPerCallUS = b.CPU.PerCallUS
	case b.WatchedCPU != nil:
		s.CPUPerCallUS = b.WatchedCPU.PerCallUS
	}
	return s
}

// problems describes what went wrong in a call report, if anything.
func (b benchOut) problems() []string {
	var out []string
	if b.Errors.Total > 0 {
		kinds := make([]string, 0, len(b.Errors.Examples))
		for kind, example := range b.Errors.Examples {
			kinds = append(kinds, fmt.Sprintf("%s: %s", kind, example))
		}
		sort.Strings(kinds)
		out = append(out, fmt.Sprintf("%d of %d calls failed (%s)", b.Errors.Total, b.Calls, strings.Join(kinds, "; ")))
	}
	if b.OK == 0 {
		out = append(out, "no call succeeded")
	}
	return append(out, b.Notes...)
}

// runner runs mcp-bench and records its command lines.
type runner struct {
	bin, work string // the binaries' directory and the work directory
	// aliases name words that change from run to run, such as a port
	// or a pid, in the command lines shown.
	aliases  map[string]string
	commands []string
	problems []string
	// hasRelay says that bin holds linerelay, measured beside plugboard
	// as the floor of a proxy hop.
	hasRelay bool
}

func (r *runner) path(name string) string { return filepath.Join(r.bin, name) }

// bench runs mcp-bench --json with args and decodes its report into v;
// what describes the run in problems.
func (r *runner) bench(ctx context.Context, what string, v any, args ...string) error {
	full := append([]string{"--json"}, args...)
	r.commands = append(r.commands, r.display(append([]string{r.path("mcp-bench")}, args...)))
	cmd := exec.CommandContext(ctx, r.path("mcp-bench"), full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		err = fmt.Errorf("%s: mcp-bench: %v: %s", what, err, strings.TrimSpace(stderr.String()))
		r.problems = append(r.problems, err.Error())
		return err
	}
	if err := json.Unmarshal(stdout.Bytes(), v); err != nil {
		err = fmt.Errorf("%s: reading mcp-bench's report: %v", what, err)
		r.problems = append(r.problems, err.Error())
		return err
	}
	return nil
}

// call runs a call or list benchmark and notes its problems.
func (r *runner) call(ctx context.Context, what string, args ...string) (benchOut, error) {
	var out benchOut
	if err := r.bench(ctx, what, &out, args...); err != nil {
		return out, err
	}
	for _, p := range out.problems() {
		r.problems = append(r.problems, what+": "+p)
	}
	return out, nil
}

// note records a problem that is not a failed mcp-bench run.
func (r *runner) note(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

// alias shows word as name in the command lines.
func (r *runner) alias(word, name string) {
	if r.aliases == nil {
		r.aliases = map[string]string{}
	}
	r.aliases[word] = name
}

// display writes a command line for the document: paths under the
// binaries' and work directories as $BIN and $WORK, aliased words by
// their names, words quoted for a shell where they need it.
func (r *runner) display(argv []string) string {
	words := make([]string, len(argv))
	for i, w := range argv {
		if name, ok := r.aliases[w]; ok {
			words[i] = name
			continue
		}
		w = strings.ReplaceAll(w, r.bin, "$BIN")
		w = strings.ReplaceAll(w, r.work, "$WORK")
		if w == "" || strings.ContainsAny(w, ` "'{}*`) {
			w = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
		words[i] = w
	}
	return strings.Join(words, " ")
}
