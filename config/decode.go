package config

import (
	"fmt"
	"slices"
	"strings"
)

// decoder turns the merged raw map into a Config. It checks types and
// values key by key in a fixed order and stops at the first problem, so the
// same file always yields the same error.
type decoder struct {
	file       string
	origins    map[string]string                // top-level key -> flag or variable that set it
	lookupEnv  func(name string) (string, bool) // for ${VAR} expansion
	inheritEnv bool                             // the top-level inherit_env, the servers' default
	unset      map[string][]string              // key -> the unset ${VAR}s its value expanded to nothing
	warnings   []string
	quietEmpty bool // no file: no servers is no news
}

// errorf returns an *Error about key. A top-level value set by a flag or an
// environment variable says so, and a value that an unset ${VAR} emptied
// names the variable, since the file shows the reference, not what it
// expanded to.
func (d *decoder) errorf(key, format string, args ...any) *Error {
	problem := fmt.Sprintf(format, args...)
	if origin, ok := d.origins[key]; ok {
		problem += " (from " + origin + ")"
	}
	if names, ok := d.unset[key]; ok {
		problem += ": " + notSet(names)
	}
	return &Error{File: d.file, Key: key, Problem: problem}
}

// warnf records a non-fatal finding about key.
func (d *decoder) warnf(key, format string, args ...any) {
	e := Error{File: d.file, Key: key, Problem: fmt.Sprintf(format, args...)}
	d.warnings = append(d.warnings, e.Error())
}

// warnUnknown warns about each key of m, in sorted order, that is not in
// known, under the key of the section (parent) so that the unknown key can
// be quoted whatever characters it holds, with the known key it most likely
// misspells.
func (d *decoder) warnUnknown(parent string, m map[string]any, known []string) {
	for _, k := range sortedKeys(m) {
		if !slices.Contains(known, k) {
			d.warnf(parent, "%s, ignored", unknownKeyProblem(k, known))
		}
	}
}

// decodeConfig decodes the merged map of all layers, applying defaults.
func (d *decoder) decodeConfig(raw map[string]any) (*Config, error) {
	cfg := &Config{
		Source:         d.file,
		StartupTimeout: defaultStartupTimeout,
		LogLevel:       defaultLogLevel,
		PageSize:       defaultPageSize,
	}
	d.warnUnknown("", raw, topLevelKeys())

	if v, ok := present(raw, keyStartupTimeout); ok {
		timeout, problem := toDuration(v)
		if problem != "" {
			return nil, d.errorf(keyStartupTimeout, "%s", problem)
		}
		if timeout <= 0 {
			return nil, d.errorf(keyStartupTimeout, "must be greater than 0, got %s", timeout)
		}
		cfg.StartupTimeout = timeout
	}
	if v, ok := present(raw, keyLogLevel); ok {
		level, isString := v.(string)
		if !isString {
			return nil, d.errorf(keyLogLevel, "expected a string, got %s", typeName(v))
		}
		level = strings.ToLower(strings.TrimSpace(level))
		if !slices.Contains([]string{"debug", "info", "warn", "error"}, level) {
			return nil, d.errorf(keyLogLevel, "must be one of debug, info, warn, error; got %q", v)
		}
		cfg.LogLevel = level
	}
	if v, ok := present(raw, keyPageSize); ok {
		size, problem := toInt(v)
		if problem != "" {
			return nil, d.errorf(keyPageSize, "%s", problem)
		}
		if size < 1 {
			return nil, d.errorf(keyPageSize, "must be at least 1, got %d", size)
		}
		cfg.PageSize = size
	}

	inherit, _, err := d.optBool(raw, "", keyInheritEnv)
	if err != nil {
		return nil, err
	}
	cfg.InheritEnv, d.inheritEnv = inherit, inherit

	httpCfg, err := d.decodeHTTP(raw)
	if err != nil {
		return nil, err
	}
	cfg.HTTP = httpCfg
	if cfg.Metrics, err = d.decodeMetrics(raw); err != nil {
		return nil, err
	}

	servers, err := d.decodeServers(raw)
	if err != nil {
		return nil, err
	}
	cfg.Servers = servers
	if err := d.decodeWorkspaces(raw, cfg); err != nil {
		return nil, err
	}
	cfg.Warnings = d.warnings
	return cfg, nil
}

// decodeServers decodes the servers map, named "servers" or, as desktop
// clients name it, "mcpServers".
func (d *decoder) decodeServers(raw map[string]any) ([]Server, error) {
	_, hasServers := raw[keyServers]
	_, hasMCPServers := raw[keyMCPServers]
	key := keyServers
	switch {
	case hasServers && hasMCPServers:
		return nil, d.errorf(keyMCPServers, "cannot be used together with %s; put all servers under one of them", keyServers)
	case hasMCPServers:
		key = keyMCPServers
	}

	v, _ := present(raw, key)
	if v == nil {
		if !d.quietEmpty {
			d.warnf(key, "no servers configured")
		}
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, d.errorf(key, "expected a map of server names to server settings, got %s", typeName(v))
	}
	if len(m) == 0 {
		d.warnf(key, "no servers configured")
		return nil, nil
	}

	servers := make([]Server, 0, len(m))
	prefixOwner := make(map[string]string)
	for _, name := range sortedKeys(m) {
		s, err := d.decodeServer(key, name, m[name])
		if err != nil {
			return nil, err
		}
		if s.Enabled && s.Prefix != "" {
			if owner, taken := prefixOwner[s.Prefix]; taken {
				d.warnf(join(key, name), "prefix %q is also used by server %q", s.Prefix, owner)
			} else {
				prefixOwner[s.Prefix] = name
			}
		}
		servers = append(servers, s)
	}
	return servers, nil
}

// topLevelKeys returns the keys Load accepts at the top of a file.
func topLevelKeys() []string {
	return []string{keyServers, keyStartupTimeout, keyLogLevel, keyPageSize, keyInheritEnv, keyMCPServers, keyHTTP, keyWorkspaces, keyWorkspace, keyIdleGrace, keyMetrics}
}

// join appends child to a dotted key path.
func join(parent, child string) string {
	if parent == "" {
		return child
	}
	return parent + "." + child
}

// present returns m[k] and whether it is set to something other than null;
// a key with no value (YAML "key:", JSON null) counts as absent.
func present(m map[string]any, k string) (any, bool) {
	v, ok := m[k]
	return v, ok && v != nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
