package config

import (
	"fmt"
	"slices"
	"strings"
)

// expand replaces ${VAR} and ${VAR:-default} in the value at key with the
// environment, warning about each VAR that is unset and has no default and
// remembering them, so that an error about the value names them.
func (d *decoder) expand(key, s string) (string, error) {
	out, unset, err := expandVars(s, d.lookupEnv)
	if err != nil {
		return "", d.errorf(key, "%v", err)
	}
	for _, name := range unset {
		d.warnf(key, "${%s} is not set; using an empty string", name)
	}
	if len(unset) > 0 {
		if d.unset == nil {
			d.unset = make(map[string][]string)
		}
		d.unset[key] = unset
	}
	return out, nil
}

// notSet names the unset variables behind a value: "${A} is not set",
// "${A}, ${B} are not set".
func notSet(names []string) string {
	refs := make([]string, len(names))
	for i, n := range names {
		refs[i] = "${" + n + "}"
	}
	if len(refs) == 1 {
		return refs[0] + " is not set"
	}
	return strings.Join(refs, ", ") + " are not set"
}

// expandVars replaces ${VAR} with VAR's value and ${VAR:-default} with VAR's
// value or, when VAR is unset or empty, with default (taken literally, up to
// the first '}'). "$${" stands for a literal "${"; any other '$' is left
// alone, so "$HOME" and "a$b" pass through unchanged. It returns the names
// of the variables that were unset and had no default, in order of first
// use, and an error for a reference that is unterminated or whose name is
// not [A-Za-z_][A-Za-z0-9_]*.
func expandVars(s string, lookup func(string) (string, bool)) (string, []string, error) {
	if !strings.Contains(s, "${") {
		return s, nil, nil
	}
	var b strings.Builder
	var unset []string
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), unset, nil
		}
		if i > 0 && s[i-1] == '$' {
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", nil, fmt.Errorf("unterminated %q: missing '}'", s[i:])
		}
		ref := s[i+2 : i+end]
		s = s[i+end+1:]

		name, def, hasDefault := strings.Cut(ref, ":-")
		if !validVarName(name) {
			return "", nil, fmt.Errorf("invalid variable reference %q: write ${NAME} or ${NAME:-default}", "${"+ref+"}")
		}
		value, set := lookup(name)
		switch {
		case hasDefault && value == "":
			value = def
		case !set && !hasDefault:
			if !slices.Contains(unset, name) {
				unset = append(unset, name)
			}
		}
		b.WriteString(value)
	}
}

// validVarName reports whether name is a portable environment variable name.
func validVarName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		letter := r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '_'
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}
