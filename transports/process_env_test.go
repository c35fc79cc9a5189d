package transports

import (
	"slices"
	"testing"
)

func TestPassedEnv(t *testing.T) {
	environ := []string{"HOME=/home/u", "PATH=/bin", "USER=u", "LOGNAME=u", "SHELL=/bin/sh", "TERM=xterm",
		"PLUGBOARD_AUTH_TOKEN=t", "PLUGBOARD_CONFIG=c", "AWS_SECRET_ACCESS_KEY=s", "NODE_OPTIONS=--x", "BASH_FUNC_f%%=() { :; }"}
	winEnviron := []string{"Path=C:\\bin", "SystemRoot=C:\\Windows", "ProgramFiles=C:\\P", "=C:=C:\\dir", "Plugboard_Auth_Token=t", "GITHUB_TOKEN=g"}
	tests := []struct {
		name    string
		environ []string
		inherit bool
		goos    string
		want    []string
	}{
		{"default set", environ, false, "linux", []string{"HOME=/home/u", "PATH=/bin", "USER=u", "LOGNAME=u", "SHELL=/bin/sh", "TERM=xterm"}},
		{"inherit, less PLUGBOARD_*", environ, true, "linux", []string{"HOME=/home/u", "PATH=/bin", "USER=u", "LOGNAME=u", "SHELL=/bin/sh", "TERM=xterm",
			"AWS_SECRET_ACCESS_KEY=s", "NODE_OPTIONS=--x", "BASH_FUNC_f%%=() { :; }"}},
		{"a shell function in the default set", []string{"PATH=() { :; }", "HOME=/h"}, false, "darwin", []string{"HOME=/h"}},
		{"windows names fold", winEnviron, false, "windows", []string{"Path=C:\\bin", "SystemRoot=C:\\Windows", "ProgramFiles=C:\\P"}},
		{"windows inherit", winEnviron, true, "windows", []string{"Path=C:\\bin", "SystemRoot=C:\\Windows", "ProgramFiles=C:\\P", "GITHUB_TOKEN=g"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := passedEnv(tt.environ, tt.inherit, tt.goos); !slices.Equal(got, tt.want) {
				t.Errorf("passedEnv = %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestChildEnvOwnEnvWins(t *testing.T) {
	got := childEnv([]string{"PATH=/bin", "SECRET=x"}, map[string]string{"PATH": "/opt/bin", "TOKEN": "t"}, false)
	if want := []string{"PATH=/opt/bin", "TOKEN=t", "PLUGBOARD_NESTING=1"}; !slices.Equal(got, want) {
		t.Errorf("childEnv = %q, want %q", got, want)
	}
}

func TestChildEnvCountsNesting(t *testing.T) {
	for _, c := range []struct {
		environ []string
		own     map[string]string
		want    string
	}{
		{nil, nil, "PLUGBOARD_NESTING=1"},
		{[]string{"PLUGBOARD_NESTING=1"}, nil, "PLUGBOARD_NESTING=2"},
		{[]string{"PLUGBOARD_NESTING=junk"}, nil, "PLUGBOARD_NESTING=1"},
		{[]string{"PLUGBOARD_NESTING=2"}, map[string]string{"PLUGBOARD_NESTING": "0"}, "PLUGBOARD_NESTING=3"},
	} {
		got := childEnv(c.environ, c.own, true)
		if !slices.Equal(got, []string{c.want}) {
			t.Errorf("childEnv(%q, %q) = %q, want only %s", c.environ, c.own, got, c.want)
		}
	}
	if got := childEnv(nil, nil, false); got == nil {
		t.Error("childEnv of nothing is nil, which exec takes as the whole environment")
	}
}
