package config

import (
	"math"
	"path/filepath"
	"testing"
	"time"
)

func TestDefaultPath(t *testing.T) {
	home := t.TempDir()
	tests := []struct {
		name, xdg, want string
	}{
		{"XDG_CONFIG_HOME", "/xdg", filepath.Join("/xdg", "plugboard", "config.yaml")},
		{"unset", "", filepath.Join(home, ".config", "plugboard", "config.yaml")},
		{"relative is ignored", "rel/dir", filepath.Join(home, ".config", "plugboard", "config.yaml")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HOME", home)
			t.Setenv("XDG_CONFIG_HOME", tt.xdg)
			if got := DefaultPath(); got != tt.want {
				t.Errorf("DefaultPath() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{Error{File: "/home/me/pb.yaml", Key: "servers.github.timeout", Problem: `invalid duration "6o s"`},
			`config /home/me/pb.yaml: servers.github.timeout: invalid duration "6o s"`},
		{Error{File: "/home/me/pb.yaml", Problem: "file does not exist"}, "config /home/me/pb.yaml: file does not exist"},
		{Error{Problem: "no config file path given"}, "config: no config file path given"},
		{Error{File: "/f", Key: "k", Problem: "line one\n  line two\r\n"}, "config /f: k: line one line two"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestToDuration(t *testing.T) {
	tests := []struct {
		in      any
		want    time.Duration
		problem string
	}{
		{"60s", time.Minute, ""},
		{"1m30s", 90 * time.Second, ""},
		{" 2h ", 2 * time.Hour, ""},
		{"45", 45 * time.Second, ""},
		{"0.5", 500 * time.Millisecond, ""},
		{60, time.Minute, ""},
		{int64(3), 3 * time.Second, ""},
		{float64(120), 2 * time.Minute, ""},
		{1.5, 1500 * time.Millisecond, ""},
		{7 * time.Second, 7 * time.Second, ""},
		{"6o s", 0, `invalid duration "6o s"`},
		{"NaN", 0, `invalid duration "NaN"`},
		{"1e300", 0, `invalid duration "1e300"`},
		{1e300, 0, "invalid duration: 1e+300 seconds is out of range"},
		{math.Inf(-1), 0, "invalid duration: -Inf seconds is out of range"},
		{true, 0, `expected a duration such as "30s" or a number of seconds, got a bool`},
		{map[string]any{}, 0, `expected a duration such as "30s" or a number of seconds, got a map`},
	}
	for _, tt := range tests {
		got, problem := toDuration(tt.in)
		if got != tt.want || problem != tt.problem {
			t.Errorf("toDuration(%#v) = %v, %q; want %v, %q", tt.in, got, problem, tt.want, tt.problem)
		}
	}
}

func TestToInt(t *testing.T) {
	tests := []struct {
		in      any
		want    int
		problem string
	}{
		{5, 5, ""},
		{int64(5), 5, ""},
		{uint16(5), 5, ""},
		{float64(5), 5, ""},
		{"5", 5, ""},
		{" 12 ", 12, ""},
		{2.5, 0, "expected a whole number, got 2.5"},
		{1e300, 0, "number 1e+300 is too large"},
		{math.NaN(), 0, "expected a whole number, got NaN"},
		{"five", 0, `expected a whole number, got "five"`},
		{true, 0, "expected a whole number, got a bool"},
		{uint64(1 << 63), 0, "number 9223372036854775808 is too large"},
	}
	for _, tt := range tests {
		got, problem := toInt(tt.in)
		if got != tt.want || problem != tt.problem {
			t.Errorf("toInt(%#v) = %d, %q; want %d, %q", tt.in, got, problem, tt.want, tt.problem)
		}
	}
}
