package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args    []string
		busy    time.Duration
		ns      string
		command []string
		wrong   bool
	}{
		{args: []string{"mcp-fixture", "--name", "fx"}, command: []string{"mcp-fixture", "--name", "fx"}},
		{args: []string{"--busy", "7us", "mcp-fixture", "--name", "fx"}, busy: 7 * time.Microsecond,
			command: []string{"mcp-fixture", "--name", "fx"}},
		{args: []string{"--busy=7.5µs", "mcp-fixture", "--busy", "1s"}, busy: 7500 * time.Nanosecond,
			command: []string{"mcp-fixture", "--busy", "1s"}},
		{args: []string{"--", "--odd-name"}, command: []string{"--odd-name"}},
		{args: []string{"--namespace", "fx", "mcp-fixture"}, ns: "fx", command: []string{"mcp-fixture"}},
		{args: []string{"--namespace", "fx", "--busy", "1us", "mcp-fixture"}, wrong: true},
		{args: nil, wrong: true},
		{args: []string{"--busy", "7us"}, wrong: true},
		{args: []string{"--busy", "soon", "mcp-fixture"}, wrong: true},
		{args: []string{"--busy", "-1us", "mcp-fixture"}, wrong: true},
		{args: []string{"--name", "fx", "mcp-fixture"}, wrong: true},
	}
	for _, tt := range tests {
		opts, command, err := parseArgs(tt.args)
		if tt.wrong {
			if err == nil {
				t.Errorf("parseArgs(%q) = %+v, %q; want an error", tt.args, opts, command)
			}
			continue
		}
		if err != nil || opts.busy != tt.busy || opts.namespace != tt.ns || !slices.Equal(command, tt.command) {
			t.Errorf("parseArgs(%q) = %+v, %q, %v; want %v, %q, %q", tt.args, opts, command, err, tt.busy, tt.ns, tt.command)
		}
	}
}

func TestBurnSpendsItsTime(t *testing.T) {
	b := newBurner(time.Millisecond)
	start := time.Now()
	b.burn()
	if took := time.Since(start); took < time.Millisecond {
		t.Errorf("burned %v, want 1ms at least", took)
	}
	if newBurner(0) != nil {
		t.Error("a burner for no time")
	}
}

func TestCopyLinesKeepsLines(t *testing.T) {
	in := "{\"id\":1}\n" + strings.Repeat("x", 100<<10) + "\n{\"id\":2}"
	for _, b := range []*burner{nil, newBurner(time.Microsecond)} {
		var out bytes.Buffer
		copyLines(&out, strings.NewReader(in), b)
		if out.String() != in {
			t.Errorf("burner %v: copied %d bytes, want the %d given, unchanged", b, out.Len(), len(in))
		}
	}
}
