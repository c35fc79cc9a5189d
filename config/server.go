package config

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// maxPrefixLen bounds a prefix so that prefixed names stay well inside the
// 64 characters clients allow for a tool name.
const maxPrefixLen = 32

// serverKeys returns the per-server keys Load understands or knowingly
// ignores, the likeliest meant first (a typo's suggestion prefers earlier
// keys).
func serverKeys() []string {
	return []string{
		"command", "args", "env", "url", "headers", "auth", "cwd", "inherit_env",
		"transport", "type", "transportType",
		"prefix", "enabled", "disabled", "tools", "prompts", "timeout", "max_inflight", "max_queued", "isolation",
		"autoApprove", "alwaysAllow", // Cline's and Cursor's approval lists: the client's business, not the proxy's
	}
}

// decodeServer decodes and validates the server called name under the
// servers map called parent.
func (d *decoder) decodeServer(parent, name string, v any) (Server, error) {
	if name == "" {
		return Server{}, d.errorf(parent, "a server has an empty name")
	}
	key := join(parent, name)
	m, ok := v.(map[string]any)
	if !ok {
		return Server{}, d.errorf(key, "expected a map of server settings, got %s", typeName(v))
	}
	d.warnUnknown(key, m, serverKeys())

	s := Server{Name: name, Enabled: true, Timeout: defaultServerTimeout}
	command, hasCommand, err := d.optString(m, key, "command")
	if err != nil {
		return Server{}, err
	}
	rawURL, hasURL, err := d.optString(m, key, "url")
	if err != nil {
		return Server{}, err
	}
	switch {
	case hasCommand && hasURL:
		return Server{}, d.errorf(key, "has both command and url; a server is either a command or a url")
	case !hasCommand && !hasURL:
		return Server{}, d.errorf(key, "%s", missingCommandProblem(m))
	}
	transport, transportKey, err := d.transport(m, key)
	if err != nil {
		return Server{}, err
	}
	if hasCommand {
		err = d.decodeCommand(&s, m, key, command, transport, transportKey)
	} else {
		err = d.decodeRemote(&s, m, key, rawURL, transport, transportKey)
	}
	if err != nil {
		return Server{}, err
	}
	if err := d.decodeOptions(&s, m, key); err != nil {
		return Server{}, err
	}
	return s, nil
}

// missingCommandProblem says why a server with neither command nor url
// cannot start: a misspelt one when a key of m is close to either, so the
// user is sent to the typo rather than told to add what they think they
// wrote.
func missingCommandProblem(m map[string]any) string {
	for _, k := range sortedKeys(m) {
		if slices.Contains(serverKeys(), k) {
			continue
		}
		if s := suggestKey(k, []string{"command", "url"}); s != "" {
			return unknownKeyProblem(k, []string{s}) + "; a server needs either command or url"
		}
	}
	return "needs either command or url"
}

// decodeCommand fills in a stdio server.
func (d *decoder) decodeCommand(s *Server, m map[string]any, key, command, transport, transportKey string) error {
	if transport != "" && transport != TransportStdio {
		return d.errorf(transportKey, "transport %s needs a url, but the server has a command", transport)
	}
	if _, ok := present(m, "headers"); ok {
		return d.errorf(join(key, "headers"), "a command server cannot have headers; headers are sent to url servers")
	}
	if _, ok := present(m, "auth"); ok {
		return d.errorf(join(key, "auth"), "a command server cannot have auth; auth is for logging in to url servers")
	}
	var err error
	if s.Command, err = d.expand(join(key, "command"), command); err != nil {
		return err
	}
	if strings.TrimSpace(s.Command) == "" {
		return d.errorf(join(key, "command"), "is empty")
	}
	if s.Args, err = d.optStringList(m, key, "args", true); err != nil {
		return err
	}
	if s.Env, err = d.optStringMap(m, key, "env"); err != nil {
		return err
	}
	for name := range s.Env {
		if name == "" || strings.ContainsAny(name, "=\x00") {
			return d.errorf(join(key, "env"), "invalid environment variable name %q", name)
		}
	}
	inherit, hasInherit, err := d.optBool(m, key, "inherit_env")
	if err != nil {
		return err
	}
	s.InheritEnv = d.inheritEnv
	if hasInherit {
		s.InheritEnv = inherit
	}
	cwd, _, err := d.optString(m, key, "cwd")
	if err != nil {
		return err
	}
	if s.Cwd, err = d.expand(join(key, "cwd"), cwd); err != nil {
		return err
	}
	s.Transport = TransportStdio
	return nil
}

// decodeRemote fills in a url server.
func (d *decoder) decodeRemote(s *Server, m map[string]any, key, rawURL, transport, transportKey string) error {
	for _, k := range []string{"args", "env", "inherit_env", "cwd"} {
		if _, ok := present(m, k); ok {
			return d.errorf(join(key, k), "a url server cannot have %s; %s is for command servers", k, k)
		}
	}
	urlKey := join(key, "url")
	expanded, err := d.expand(urlKey, rawURL)
	if err != nil {
		return err
	}
	u, err := url.Parse(expanded)
	if err != nil {
		// The url.Error would repeat the expanded url, which may hold a secret.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return d.errorf(urlKey, "invalid url: %v", err)
	}
	scheme := strings.ToLower(u.Scheme)
	switch scheme {
	case "http", "https":
		switch transport {
		case "":
			transport = TransportStreamableHTTP
		case TransportWebSocket:
			return d.errorf(transportKey, "transport websocket needs a ws:// or wss:// url, got a %s:// url", scheme)
		case TransportStdio:
			return d.errorf(transportKey, "transport stdio needs a command, but the server has a url")
		}
	case "ws", "wss":
		switch transport {
		case "", TransportWebSocket:
			transport = TransportWebSocket
		default:
			return d.errorf(transportKey, "transport %s cannot be used with a %s:// url; ws and wss urls use websocket", transport, scheme)
		}
	case "":
		return d.errorf(urlKey, "url must start with http://, https://, ws:// or wss://")
	default:
		return d.errorf(urlKey, "url scheme must be http, https, ws or wss, got %q", u.Scheme)
	}
	if u.Host == "" {
		return d.errorf(urlKey, "url has no host")
	}
	s.URL = expanded
	s.Transport = transport
	if s.Headers, err = d.optStringMap(m, key, "headers"); err != nil {
		return err
	}
	for name := range s.Headers {
		if !validHeaderName(name) {
			return d.errorf(join(key, "headers"), "invalid header name %q", name)
		}
	}
	s.Auth, err = d.optAuth(m, key)
	return err
}

// optAuth decodes a url server's auth settings; nil when there are none.
func (d *decoder) optAuth(m map[string]any, parent string) (*Auth, error) {
	key := join(parent, "auth")
	v, ok := present(m, "auth")
	if !ok {
		return nil, nil
	}
	raw, isMap := v.(map[string]any)
	if !isMap {
		return nil, d.errorf(key, "expected a map with client_id, client_secret, scopes and/or redirect_port, got %s", typeName(v))
	}
	d.warnUnknown(key, raw, []string{"client_id", "client_secret", "scopes", "redirect_port"})
	a := &Auth{}
	for _, f := range []struct {
		name string
		to   *string
	}{{"client_id", &a.ClientID}, {"client_secret", &a.ClientSecret}} {
		s, _, err := d.optString(raw, key, f.name)
		if err != nil {
			return nil, err
		}
		if *f.to, err = d.expand(join(key, f.name), s); err != nil {
			return nil, err
		}
	}
	if a.ClientSecret != "" && a.ClientID == "" {
		return nil, d.errorf(join(key, "client_secret"), "needs a client_id to go with it")
	}
	var err error
	if a.Scopes, err = d.optStringList(raw, key, "scopes", true); err != nil {
		return nil, err
	}
	for i, scope := range a.Scopes {
		if scope == "" || strings.ContainsAny(scope, " \t\n\"\\") {
			return nil, d.errorf(fmt.Sprintf("%s.scopes[%d]", key, i), "a scope cannot be empty or hold spaces or quotes, got %q", scope)
		}
	}
	if v, ok := present(raw, "redirect_port"); ok {
		port, problem := toInt(v)
		if problem != "" {
			return nil, d.errorf(join(key, "redirect_port"), "%s", problem)
		}
		if port < 1 || port > 65535 {
			return nil, d.errorf(join(key, "redirect_port"), "must be a port from 1 to 65535, got %d", port)
		}
		a.RedirectPort = port
	}
	return a, nil
}

// decodeOptions fills in the settings shared by command and url servers.
func (d *decoder) decodeOptions(s *Server, m map[string]any, key string) error {
	prefixKey := join(key, "prefix")
	prefix, hasPrefix, err := d.optString(m, key, "prefix")
	switch {
	case err != nil:
		return err
	case !hasPrefix:
		s.Prefix = Slug(s.Name)
	default:
		if s.Prefix, err = d.expand(prefixKey, prefix); err != nil {
			return err
		}
		if err := checkPrefix(s.Prefix); err != "" {
			return d.errorf(prefixKey, "%s", err)
		}
	}

	enabled, hasEnabled, err := d.optBool(m, key, "enabled")
	if err != nil {
		return err
	}
	disabled, hasDisabled, err := d.optBool(m, key, "disabled")
	if err != nil {
		return err
	}
	switch {
	case hasEnabled && hasDisabled && enabled == disabled:
		return d.errorf(join(key, "disabled"), "disabled: %t contradicts enabled: %t", disabled, enabled)
	case hasEnabled:
		s.Enabled = enabled
	case hasDisabled:
		s.Enabled = !disabled
	}

	if s.Tools, err = d.optFilter(m, key, "tools"); err != nil {
		return err
	}
	if s.Prompts, err = d.optFilter(m, key, "prompts"); err != nil {
		return err
	}

	if v, ok := present(m, "timeout"); ok {
		timeout, problem := toDuration(v)
		if problem != "" {
			return d.errorf(join(key, "timeout"), "%s", problem)
		}
		if timeout <= 0 {
			return d.errorf(join(key, "timeout"), "must be greater than 0, got %s", timeout)
		}
		s.Timeout = timeout
	}
	for _, limit := range []struct {
		key string
		to  *int
	}{{"max_inflight", &s.MaxInflight}, {"max_queued", &s.MaxQueued}} {
		v, ok := present(m, limit.key)
		if !ok {
			continue
		}
		n, problem := toInt(v)
		if problem != "" {
			return d.errorf(join(key, limit.key), "%s", problem)
		}
		if n < 1 {
			return d.errorf(join(key, limit.key), "must be at least 1, got %d", n)
		}
		*limit.to = n
	}
	isolation, _, err := d.optString(m, key, "isolation")
	if err != nil {
		return err
	}
	switch isolation {
	case "", IsolationShared: // "" in the Server: shared is the default
	case IsolationSession:
		s.Isolation = IsolationSession
	default:
		return d.errorf(join(key, "isolation"), "expected %q (one instance for every client, the default) or %q (one per client session), got %q", IsolationShared, IsolationSession, isolation)
	}
	return nil
}

// transport reads the transport a server asks for, under any of the names
// clients use for it, normalized to one of the Transport constants; it also
// returns the key it came from. Both are "" when none is given.
func (d *decoder) transport(m map[string]any, key string) (string, string, error) {
	var transport, from string
	for _, k := range []string{"transport", "type", "transportType"} {
		v, ok, err := d.optString(m, key, k)
		if err != nil {
			return "", "", err
		}
		if !ok {
			continue
		}
		t, known := normalizeTransport(v)
		if !known {
			return "", "", d.errorf(join(key, k), "unknown transport %q; use stdio, streamable-http, sse or websocket", v)
		}
		if from != "" && t != transport {
			return "", "", d.errorf(join(key, k), "%s: %q contradicts %s: %q", k, v, from, transport)
		}
		transport, from = t, k
	}
	if from == "" {
		return "", "", nil
	}
	return transport, join(key, from), nil
}

// normalizeTransport maps the transport names clients write to plugboard's.
func normalizeTransport(name string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "stdio":
		return TransportStdio, true
	case "sse":
		return TransportSSE, true
	case "http", "streamablehttp", "streamable-http", "streamable_http":
		return TransportStreamableHTTP, true
	case "websocket", "ws":
		return TransportWebSocket, true
	}
	return "", false
}

// checkPrefix returns what is wrong with an explicit prefix, or "".
func checkPrefix(prefix string) string {
	for _, r := range prefix {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return fmt.Sprintf("prefix %q may contain only letters, digits, '_' and '-'", prefix)
		}
	}
	if len(prefix) > maxPrefixLen {
		return fmt.Sprintf("prefix %q is %d characters long; the limit is %d", prefix, len(prefix), maxPrefixLen)
	}
	return ""
}

// validHeaderName reports whether name is an HTTP header field name
// (an RFC 9110 token).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if r > '~' || r <= ' ' || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", r) {
			return false
		}
	}
	return true
}
