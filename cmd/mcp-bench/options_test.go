package main

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"server", []string{"server"}},
		{"  npx -y  @scope/server  ", []string{"npx", "-y", "@scope/server"}},
		{`sh -c 'echo "$HOME" | cat'`, []string{"sh", "-c", `echo "$HOME" | cat`}},
		{`a "b c" "d \"e\" \$f \x"`, []string{"a", "b c", `d "e" $f \x`}},
		{`a\ b c\'d`, []string{"a b", "c'd"}},
		{`x '' ""`, []string{"x", "", ""}},
		{"a\tb\nc", []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		got, err := splitCommand(tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("splitCommand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if again, err := splitCommand(quoteCommand(got)); err != nil || !slices.Equal(again, got) {
			t.Errorf("quoteCommand(%q) = %q, which splits into %q", got, quoteCommand(got), again)
		}
	}
	for _, in := range []string{"", "   ", `a 'b`, `a "b`, `a\`} {
		if got, err := splitCommand(in); err == nil {
			t.Errorf("splitCommand(%q) = %q, want an error", in, got)
		}
	}
}

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, o options)
	}{
		{"defaults", []string{"--", "server", "--flag"}, func(t *testing.T, o options) {
			if !slices.Equal(o.command, []string{"server", "--flag"}) || o.mode != modeCall || o.sessions != 1 ||
				o.concurrency != 1 || o.tool != "echo" || string(o.args) != `{"text":"hello"}` ||
				o.duration != 10*time.Second || o.count != 0 || o.warmup != time.Second || o.json {
				t.Errorf("options = %+v", o)
			}
		}},
		{"stdio string", []string{"--stdio", "srv --name 'a b'"}, func(t *testing.T, o options) {
			if !slices.Equal(o.command, []string{"srv", "--name", "a b"}) {
				t.Errorf("command = %q", o.command)
			}
		}},
		{"list first", []string{"--list-first", "--tool", "fx__echo", "--", "srv"}, func(t *testing.T, o options) {
			if !o.listFirst || o.mode != modeCall {
				t.Errorf("options = %+v", o)
			}
		}},
		{"relist after a tool", []string{"--relist-after", "fx__toggle_tools", "--args", "{}", "--runs", "3", "--", "srv"},
			func(t *testing.T, o options) {
				if o.mode != modeRelist || o.tool != "fx__toggle_tools" || o.runs != 3 || string(o.args) != "{}" {
					t.Errorf("options = %+v", o)
				}
			}},
		{"count replaces duration", []string{"--count", "200", "--concurrency", "8", "--url", "http://127.0.0.1:1/mcp"},
			func(t *testing.T, o options) {
				if o.count != 200 || o.duration != 0 || o.concurrency != 8 || o.url != "http://127.0.0.1:1/mcp" {
					t.Errorf("options = %+v", o)
				}
			}},
		{"args compacted", []string{"--args", `{ "ms" : 5 }`, "--tool", "sleep", "--", "s"}, func(t *testing.T, o options) {
			if string(o.args) != `{"ms":5}` || o.tool != "sleep" {
				t.Errorf("tool %q args %s", o.tool, o.args)
			}
		}},
		{"headers", []string{"--url", "https://h/mcp", "--header", "Authorization: Bearer x:y", "--header", "X-A:1"},
			func(t *testing.T, o options) {
				if o.headers.Get("Authorization") != "Bearer x:y" || o.headers.Get("X-A") != "1" {
					t.Errorf("headers = %v", o.headers)
				}
			}},
		{"modes", []string{"--startup", "--runs", "3", "--json", "--", "s"}, func(t *testing.T, o options) {
			if o.mode != modeStartup || o.runs != 3 || !o.json {
				t.Errorf("options = %+v", o)
			}
		}},
		{"idle", []string{"--idle", "2s", "--sessions", "10", "--url", "http://h/mcp", "--watch-pid", "42"}, func(t *testing.T, o options) {
			if o.mode != modeIdle || o.idle != 2*time.Second || o.sessions != 10 || o.watchPID != 42 {
				t.Errorf("options = %+v", o)
			}
		}},
		{"rate", []string{"--rate", "250.5", "--concurrency", "4", "--", "s"}, func(t *testing.T, o options) {
			if o.mode != modeCall || o.rate != 250.5 || o.watchPID != 0 {
				t.Errorf("options = %+v", o)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseOptions(tt.args, io.Discard)
			if err != nil {
				t.Fatalf("parseOptions(%q): %v", tt.args, err)
			}
			tt.check(t, o)
		})
	}
}

func TestParseOptionsRejects(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "no target"},
		{[]string{"server"}, "after --"},
		{[]string{"--no-keepalive", "--", "server"}, "HTTP targets"},
		{[]string{"--url", "http://h/mcp", "--", "s"}, "not both"},
		{[]string{"--stdio", "a", "--", "b"}, "not both"},
		{[]string{"--stdio", "'a"}, "unterminated"},
		{[]string{"--url", "ftp://h/mcp"}, "not an http"},
		{[]string{"--header", "A: b", "--", "s"}, "--url"},
		{[]string{"--url", "http://h/mcp", "--header", "nocolon"}, "Name: value"},
		{[]string{"--list", "--startup", "--", "s"}, "give one"},
		{[]string{"--idle", "1s", "--list", "--", "s"}, "give one"},
		{[]string{"--idle", "0s", "--", "s"}, "--idle must be positive"},
		{[]string{"--rate", "-1", "--", "s"}, "--rate must not be negative"},
		{[]string{"--rate", "10", "--idle", "1s", "--", "s"}, "does not go with"},
		{[]string{"--rate", "10", "--startup", "--", "s"}, "does not go with"},
		{[]string{"--watch-pid", "-3", "--", "s"}, "--watch-pid"},
		{[]string{"--watch-pid", "3", "--startup", "--", "s"}, "--watch-pid"},
		{[]string{"--count", "5", "--duration", "1s", "--", "s"}, "not both"},
		{[]string{"--count", "0", "--", "s"}, "--count"},
		{[]string{"--args", "[1]", "--", "s"}, "JSON object"},
		{[]string{"--args", "{", "--", "s"}, "JSON object"},
		{[]string{"--concurrency", "0", "--", "s"}, "--concurrency"},
		{[]string{"--sessions", "0", "--", "s"}, "--sessions"},
		{[]string{"--timeout", "0s", "--", "s"}, "--timeout"},
		{[]string{"--"}, "no command"},
	}
	for _, tt := range tests {
		_, err := parseOptions(tt.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseOptions(%q) = %v, want an error mentioning %q", tt.args, err, tt.want)
		}
	}
}
