package config

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// nestingVar counts the plugboards above this one: each gives its stdio
// servers one more than its own (transports' childEnv sets it).
const nestingVar = "PLUGBOARD_NESTING"

// maxNesting is how deep a plugboard still starts servers. A plugboard
// under a plugboard is legitimate (a wrapper script starting one with
// another configuration); a third level is almost surely a configuration
// starting itself through a wrapper that withoutPlugboard cannot see
// through (sh -c plugboard, npx some-plugboard), which would otherwise
// multiply without end.
const maxNesting = 2

// tooDeep returns a warning when the plugboard loading the configuration
// is nested too deep to start servers, else "".
func tooDeep(lookupEnv func(string) (string, bool), file string) string {
	v, _ := lookupEnv(nestingVar)
	n, err := strconv.Atoi(v)
	if err != nil || n < maxNesting {
		return ""
	}
	e := Error{File: file, Problem: fmt.Sprintf("this plugboard was started by %d plugboards, one under the other (%s=%d): starting none of its servers, as a configuration that starts plugboard through a wrapper would start it again without end", n, nestingVar, n)}
	return e.Error()
}

// withoutPlugboard returns servers less those whose command is plugboard:
// this very executable, or any program named plugboard (an entry
// "plugboard attach" copied from a desktop client's file). Started as a
// downstream, such an entry would start plugboard again with the same
// configuration, and so on without end; skipping it lets a desktop
// client's configuration file be used as is. self is this process's
// executable ("" when unknown); each skipped server adds a warning.
func withoutPlugboard(servers []Server, self string, file string) ([]Server, []string) {
	var selfInfo os.FileInfo
	if self != "" {
		selfInfo, _ = os.Stat(self)
	}
	var kept []Server
	var warnings []string
	for _, s := range servers {
		if s.Command == "" || !isPlugboard(s.Command, s.Cwd, selfInfo) {
			kept = append(kept, s)
			continue
		}
		e := Error{File: file, Problem: fmt.Sprintf("server %q is plugboard itself (command %q): skipped, so a desktop client's config can be used as is", s.Name, s.Command)}
		warnings = append(warnings, e.Error())
	}
	return kept, warnings
}

// isPlugboard says whether command, run in cwd, is a plugboard: its name
// or the name of the file it resolves to is plugboard, or that file is
// self (through symbolic or hard links).
func isPlugboard(command, cwd string, self os.FileInfo) bool {
	if isPlugboardName(command) {
		return true
	}
	path := resolveCommand(command, cwd)
	if path == "" {
		return false
	}
	if real, err := filepath.EvalSymlinks(path); err == nil && isPlugboardName(real) {
		return true
	}
	if self == nil {
		return false
	}
	info, err := os.Stat(path)
	return err == nil && os.SameFile(info, self)
}

// isPlugboardName says whether path names a file called plugboard.
func isPlugboardName(path string) bool {
	base := strings.ToLower(filepath.Base(path))
	return base == "plugboard" || base == "plugboard.exe"
}

// resolveCommand returns the file command names when started in cwd, as
// os/exec finds it: a command with a slash relative to cwd (or to this
// process's directory when cwd is ""), a bare name through PATH. It
// returns "" when there is no such file.
func resolveCommand(command, cwd string) string {
	if strings.ContainsRune(command, filepath.Separator) || strings.ContainsRune(command, '/') {
		if !filepath.IsAbs(command) && cwd != "" {
			command = filepath.Join(cwd, command)
		}
		return command
	}
	path, err := exec.LookPath(command)
	if err != nil {
		return ""
	}
	return path
}

// executable returns this process's executable with its links resolved,
// or "" when the system cannot tell.
func executable() string {
	self, err := os.Executable()
	if err != nil {
		return ""
	}
	if real, err := filepath.EvalSymlinks(self); err == nil {
		return real
	}
	return self
}
