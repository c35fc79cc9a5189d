// Command figures measures plugboard against direct connections to the
// same fixture servers and writes the results into BENCHMARKS.md. It is
// what bench/run calls, in two steps:
//
//	figures measure --bin DIR --work DIR --out results.json [--quick] [--peers DIR]
//	figures render --results results.json --gobench gobench.txt --doc BENCHMARKS.md [--seconds N]
//
// measure runs mcp-bench, plugboard and mcp-fixture from --bin through
// every scenario and writes what they reported; render turns that, and
// the output of the Go benchmarks, into the tables between the
// generated markers of the document, leaving the rest of it as it is.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage:
  figures measure --bin DIR --work DIR --out FILE [--quick] [--peers DIR] [--only SCENARIO,...]
  figures render --results FILE --gobench FILE --doc FILE [--seconds N] [--stdout]
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "measure":
		err = runMeasure(ctx, args[1:], stderr)
	case "render":
		err = runRender(args[1:], stdout, stderr)
	default:
		fmt.Fprint(stderr, usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "figures %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func runMeasure(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("figures measure", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("bin", "", "the directory holding plugboard, mcp-fixture and mcp-bench")
	work := fs.String("work", "", "a directory for the configurations")
	out := fs.String("out", "", "where to write the results (JSON)")
	quick := fs.Bool("quick", false, "short runs, to check that everything works")
	peers := fs.String("peers", "", "a directory of other proxies' binaries to measure alike (see bench/run); none when empty")
	only := fs.String("only", "", "run only these scenarios, comma-separated ("+strings.Join(scenarioNames, ", ")+
		"); the others' tables say they were not measured")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *bin == "" || *work == "" || *out == "" {
		return errors.New("--bin, --work and --out are required")
	}
	for _, name := range []string{"plugboard", "mcp-fixture", "mcp-bench"} {
		if _, err := os.Stat(filepath.Join(*bin, name)); err != nil {
			return fmt.Errorf("--bin %s: %w", *bin, err)
		}
	}
	if err := os.MkdirAll(*work, 0o755); err != nil {
		return err
	}
	r := &runner{bin: *bin, work: *work}
	if _, err := os.Stat(r.path("linerelay")); err == nil {
		r.hasRelay = true
	}
	s := newSettings(*quick)
	s.peersDir = *peers
	if *only != "" {
		s.only = map[string]bool{}
		for _, name := range strings.Split(*only, ",") {
			name = strings.TrimSpace(name)
			if !slices.Contains(scenarioNames, name) {
				return fmt.Errorf("--only: no scenario %q (there are %s)", name, strings.Join(scenarioNames, ", "))
			}
			s.only[name] = true
		}
	}
	res := measure(ctx, r, s, *quick)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(*out, append(data, '\n'), 0o644)
}

func runRender(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("figures render", flag.ContinueOnError)
	fs.SetOutput(stderr)
	resultsPath := fs.String("results", "", "the results that figures measure wrote")
	goBenchPath := fs.String("gobench", "", "the output of the Go benchmarks; none when empty")
	docPath := fs.String("doc", "BENCHMARKS.md", "the document whose generated blocks to rewrite")
	secs := fs.Int("seconds", 0, "how long the whole run took, to say so")
	toStdout := fs.Bool("stdout", false, "write the document to stdout instead of rewriting it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	data, err := os.ReadFile(*resultsPath)
	if err != nil {
		return err
	}
	var res results
	if err := json.Unmarshal(data, &res); err != nil {
		return fmt.Errorf("%s: %w", *resultsPath, err)
	}
	res.Env.Seconds = *secs
	goBench := ""
	if *goBenchPath != "" {
		text, err := os.ReadFile(*goBenchPath)
		if err != nil {
			return err
		}
		goBench = string(text)
	}
	doc, err := os.ReadFile(*docPath)
	if err != nil {
		return err
	}
	updated, err := splice(string(doc), renderBlocks(&res, goBench))
	if err != nil {
		return fmt.Errorf("%s: %w", *docPath, err)
	}
	if *toStdout {
		_, err = io.WriteString(stdout, updated)
		return err
	}
	return os.WriteFile(*docPath, []byte(updated), 0o644)
}
