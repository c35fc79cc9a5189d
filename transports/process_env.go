package transports

import (
	"runtime"
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
// never a PLUGBOARD_* variable; then the server's own env, which wins.
func childEnv(environ []string, own map[string]string, inherit bool) []string {
	return mergeEnv(passedEnv(environ, inherit, runtime.GOOS), own)
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
