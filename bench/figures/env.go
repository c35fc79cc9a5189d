package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// describeEnvironment says what the run measured on: the date, the
// commit, the toolchain and the machine.
func describeEnvironment(ctx context.Context) environment {
	return environment{
		Date:      time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		Commit:    commit(ctx),
		GoVersion: firstLine(output(ctx, "go", "version")),
		CPU:       cpuModel(),
		Cores:     runtime.NumCPU(),
		Kernel:    strings.TrimSpace(readFile("/proc/sys/kernel/osrelease")),
	}
}

// commit names the checked-out commit, and says so when the tree has
// changes beyond it; "unknown" outside a git checkout.
func commit(ctx context.Context) string {
	head := firstLine(output(ctx, "git", "rev-parse", "--short", "HEAD"))
	if head == "" {
		return "unknown"
	}
	if status := output(ctx, "git", "status", "--porcelain", "--untracked-files=no"); strings.TrimSpace(status) != "" {
		return head + " with uncommitted changes"
	}
	return head
}

// loadAverage is the 1, 5 and 15 minute load averages, which show how
// busy the machine was with other work.
func loadAverage() string {
	fields := strings.Fields(readFile("/proc/loadavg"))
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], " ")
}

func cpuModel() string {
	for line := range strings.Lines(readFile("/proc/cpuinfo")) {
		if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return runtime.GOARCH
}

func output(ctx context.Context, name string, args ...string) string {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout = &out
	if cmd.Run() != nil {
		return ""
	}
	return out.String()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(line)
}

func readFile(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(data)
}
