package transports

import (
	"runtime"
	"strconv"
	"strings"
)

// defaultEnvNames are the variables a stdio server gets from plugboard's
// environment unless it inherits the whole of it: the set the official MCP
// SDKs' stdio clients pass (the TypeScript SDK's getDefaultEnvironment,
// the Python SDK's get_default_environment).
func defaultEnvNames(goos string) []string {
	if goos == "windows" {
		return []string{"APPDATA", "HOMEDRIVE", "HOMEPATH", "LOCALAPPDATA", "PATH", "PROCESSOR_ARCHITECTURE",
			"SYSTEMDRIVE", "SYSTEMROOT", "TEMP", "USERNAME", "USERPROFILE", "PROGRAMFILES"}
	}
	return []string{"HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER"}
}

// ownEnvPrefix marks plugboard's own variables (its auth token among
// them), which no server gets from plugboard's environment.
const ownEnvPrefix = "PLUGBOARD_"

// childEnv returns the environment of a stdio server: from environ (as
// os.Environ gives it) the default set, or with inherit everything, but
// never a PLUGBOARD_* variable; then the server's own env, which wins;
// then nestingVar, one more than plugboard's own, which wins over both.
func childEnv(environ []string, own map[string]string, inherit bool) []string {
	env := mergeEnv(passedEnv(environ, inherit, runtime.GOOS), own)
	return mergeEnv(env, map[string]string{nestingVar: strconv.Itoa(nesting(environ) + 1)})
}

// nestingVar counts the plugboards above a process: every stdio server
// gets one more than plugboard's own value (none counts as 0), whatever
// its env says, so that a plugboard started by a plugboard through a
// wrapper (sh -c, npx) that a check of the command cannot see through
// knows it. The config package reads it (its own copy of the name).
const nestingVar = "PLUGBOARD_NESTING"

// nesting returns nestingVar's value in environ, 0 when absent or not a
// number.
func nesting(environ []string) int {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, nestingVar+"="); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				return n
			}
		}
	}
	return 0
}

func passedEnv(environ []string, inherit bool, goos string) []string {
	// Windows names are case-insensitive (Path is PATH).
	fold := func(s string) string { return s }
	if goos == "windows" {
		fold = strings.ToUpper
	}
	allowed := map[string]bool{}
	for _, n := range defaultEnvNames(goos) {
		allowed[n] = true
	}
	out := make([]string, 0, len(allowed))
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if name == "" && goos == "windows" { // "=C:=C:\dir": per-drive directories
			continue
		}
		if strings.HasPrefix(fold(name), ownEnvPrefix) {
			continue
		}
		if !inherit && (!allowed[fold(name)] || strings.HasPrefix(value, "()")) {
			// A value starting "()" is an exported shell function, as the
			// SDKs skip too.
			continue
		}
		out = append(out, kv)
	}
	return out
}
