package config

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// newFlags defines the flags the way plugboard's main does, with defaults
// that differ from Load's so that a leaked default would show, plus a flag
// Load must ignore.
func newFlags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("plugboard", pflag.ContinueOnError)
	fs.Duration("startup-timeout", 42*time.Second, "")
	fs.String("log-level", "warn", "")
	fs.Int("page-size", 7, "")
	fs.String("config", "", "")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestLoadPrecedence(t *testing.T) {
	const full = "startup_timeout: 10s\nlog_level: debug\npage_size: 50\nservers: {a: {command: x}}\n"
	const bare = "servers: {a: {command: x}}\n"
	tests := []struct {
		name    string
		file    string
		env     map[string]string
		flags   []string // nil: no FlagSet at all
		timeout time.Duration
		level   string
		size    int
	}{
		{"defaults", bare, nil, nil, DefaultStartupTimeout, "info", 1000},
		{"unset flag defaults do not override defaults", bare, nil, []string{}, DefaultStartupTimeout, "info", 1000},
		{"file over defaults", full, nil, nil, 10 * time.Second, "debug", 50},
		{"unset flag defaults do not override the file", full, nil, []string{"--config", "x.yaml"}, 10 * time.Second, "debug", 50},
		{"env over file", full, map[string]string{"PLUGBOARD_STARTUP_TIMEOUT": "20s", "PLUGBOARD_LOG_LEVEL": "ERROR"}, nil,
			20 * time.Second, "error", 50},
		{"env over defaults", bare, map[string]string{"PLUGBOARD_PAGE_SIZE": "60", "PLUGBOARD_STARTUP_TIMEOUT": "15"}, nil,
			15 * time.Second, "info", 60},
		{"empty env is unset", full, map[string]string{"PLUGBOARD_PAGE_SIZE": ""}, nil, 10 * time.Second, "debug", 50},
		{"flags over env over file", full,
			map[string]string{"PLUGBOARD_STARTUP_TIMEOUT": "20s", "PLUGBOARD_PAGE_SIZE": "60"},
			[]string{"--startup-timeout=30s", "--log-level=warn"},
			30 * time.Second, "warn", 60},
		{"flag set to its default still wins", full, nil, []string{"--page-size=7"}, 10 * time.Second, "debug", 7},
		{"flags over defaults", bare, nil, []string{"--page-size", "3", "--log-level", "error"}, DefaultStartupTimeout, "error", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearOverrides(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var fs *pflag.FlagSet
			if tt.flags != nil {
				fs = newFlags(t, tt.flags...)
			}
			cfg, err := Load(writeConfig(t, "c.yaml", tt.file), fs)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.StartupTimeout != tt.timeout || cfg.LogLevel != tt.level || cfg.PageSize != tt.size {
				t.Errorf("got (%s, %q, %d), want (%s, %q, %d)",
					cfg.StartupTimeout, cfg.LogLevel, cfg.PageSize, tt.timeout, tt.level, tt.size)
			}
		})
	}
}

func TestLoadOverrideErrorsNameTheirOrigin(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		flags []string
		want  string
	}{
		{"env", map[string]string{"PLUGBOARD_PAGE_SIZE": "0"}, nil,
			"page_size: must be at least 1, got 0 (from PLUGBOARD_PAGE_SIZE)"},
		{"env type", map[string]string{"PLUGBOARD_STARTUP_TIMEOUT": "soon"}, nil,
			`startup_timeout: invalid duration "soon" (from PLUGBOARD_STARTUP_TIMEOUT)`},
		{"flag", nil, []string{"--log-level=loud"},
			`log_level: must be one of debug, info, warn, error; got "loud" (from --log-level)`},
		{"flag beats env", map[string]string{"PLUGBOARD_STARTUP_TIMEOUT": "1s"}, []string{"--startup-timeout=0s"},
			"startup_timeout: must be greater than 0, got 0s (from --startup-timeout)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearOverrides(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			path := writeConfig(t, "c.yaml", "page_size: 5\nservers: {a: {command: x}}\n")
			_, err := Load(path, newFlags(t, tt.flags...))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if got, want := err.Error(), "config "+path+": "+tt.want; got != want {
				t.Errorf("error\n got %s\nwant %s", got, want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}
