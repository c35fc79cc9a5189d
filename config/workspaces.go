package config

import (
	"path"
	"regexp"
	"sort"
	"time"
)

// Keys of workspaces.
const (
	keyWorkspaces = "workspaces"
	keyWorkspace  = "workspace"
	keyIdleGrace  = "idle_grace"
)

// defaultIdleGrace is how long a server that no workspace in use needs
// keeps running before it is stopped.
const defaultIdleGrace = 5 * time.Minute

// workspaceName is what a workspace may be called: it appears in URL
// paths (/w/NAME/mcp) and on command lines.
var workspaceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// decodeWorkspaces decodes `workspaces: {NAME: [server names or globs]}`
// into the server names each workspace holds, `workspace: NAME` (the
// default workspace; "" for every server) and idle_grace.
func (d *decoder) decodeWorkspaces(raw map[string]any, cfg *Config) error {
	cfg.IdleGrace = defaultIdleGrace
	if v, ok := present(raw, keyIdleGrace); ok {
		grace, problem := toDuration(v)
		if problem != "" {
			return d.errorf(keyIdleGrace, "%s", problem)
		}
		if grace < 0 {
			return d.errorf(keyIdleGrace, "must not be negative, got %s", grace)
		}
		cfg.IdleGrace = grace
	}
	if v, ok := present(raw, keyWorkspaces); ok && v != nil {
		m, isMap := v.(map[string]any)
		if !isMap {
			return d.errorf(keyWorkspaces, "expected a map of workspace names to lists of server names or globs, got %s", typeName(v))
		}
		cfg.Workspaces = make(map[string][]string, len(m))
		for _, name := range sortedKeys(m) {
			key := join(keyWorkspaces, name)
			if !workspaceName.MatchString(name) {
				return d.errorf(key, "a workspace name is 1 to 64 letters, digits, '_' or '-', starting with a letter or digit")
			}
			patterns, err := d.optStringList(m, keyWorkspaces, name, false)
			if err != nil {
				return err
			}
			servers, err := d.matchServers(key, patterns, cfg.Servers)
			if err != nil {
				return err
			}
			cfg.Workspaces[name] = servers
		}
	}
	name, set, err := d.optString(raw, "", keyWorkspace)
	if err != nil {
		return err
	}
	if set && name != "" {
		if _, ok := cfg.Workspaces[name]; !ok {
			return d.errorf(keyWorkspace, "no workspace %q under %s (%s)", name, keyWorkspaces, workspaceList(cfg.Workspaces))
		}
		cfg.Workspace = name
	}
	return nil
}

// matchServers returns the names of the servers the patterns match, in
// order; a pattern that matches none is a warning, a malformed one an
// error.
func (d *decoder) matchServers(key string, patterns []string, servers []Server) ([]string, error) {
	in := map[string]bool{}
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return nil, d.errorf(key, "%q is not a valid glob: %v", p, err)
		}
		matched := false
		for _, s := range servers {
			if ok, _ := path.Match(p, s.Name); ok {
				in[s.Name], matched = true, true
			}
		}
		if !matched {
			d.warnf(key, "%q matches no server", p)
		}
	}
	out := make([]string, 0, len(in))
	for name := range in {
		out = append(out, name)
	}
	sort.Strings(out)
	return out, nil
}

// workspaceList names the workspaces for an error message.
func workspaceList(ws map[string][]string) string {
	if len(ws) == 0 {
		return "none is defined"
	}
	names := make([]string, 0, len(ws))
	for n := range ws {
		names = append(names, n)
	}
	sort.Strings(names)
	out := "defined: "
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

// HasWorkspace reports whether name is "" (every server) or a workspace
// of the configuration.
func (c *Config) HasWorkspace(name string) bool {
	if name == "" {
		return true
	}
	_, ok := c.Workspaces[name]
	return ok
}
