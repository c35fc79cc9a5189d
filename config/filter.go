package config

import "path"

// Filter selects original names by glob (path.Match syntax). Empty Include means all.
type Filter struct {
	Include, Exclude []string
}

// Allows reports whether name is included (or Include is empty) and not
// excluded. Load has checked every glob's syntax; a malformed glob in a
// Filter built elsewhere matches nothing.
func (f Filter) Allows(name string) bool {
	if len(f.Include) > 0 && !matchesAny(f.Include, name) {
		return false
	}
	return !matchesAny(f.Exclude, name)
}

func matchesAny(globs []string, name string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}
