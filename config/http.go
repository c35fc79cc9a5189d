package config

import (
	"net"
	"strings"
	"time"
)

// HTTP configures the network fronts of `plugboard serve`.
type HTTP struct {
	Listen         string        // key http.listen: host:port, default 127.0.0.1:8931
	AuthToken      string        // key http.auth_token: bearer token clients must send; required off loopback
	AllowedOrigins []string      // key http.allowed_origins: browser origins allowed besides loopback ones
	AllowedHosts   []string      // key http.allowed_hosts: Host header names allowed besides loopback ones
	SessionIdle    time.Duration // key http.session_idle: idle sessions end after it, default 30m
	MaxSessions    int           // key http.max_sessions: default 10000
}

// Keys of the http section.
const (
	keyHTTP           = "http"
	keyListen         = "listen"
	keyAuthToken      = "auth_token"
	keyAllowedOrigins = "allowed_origins"
	keyAllowedHosts   = "allowed_hosts"
	keySessionIdle    = "session_idle"
	keyMaxSessions    = "max_sessions"
)

// decodeHTTP decodes the http section. Lists may also be given as one
// comma-separated string, as environment variables give them.
func (d *decoder) decodeHTTP(raw map[string]any) (HTTP, error) {
	h := HTTP{Listen: "127.0.0.1:8931", SessionIdle: 30 * time.Minute, MaxSessions: 10000}
	v, ok := present(raw, keyHTTP)
	if !ok {
		return h, nil
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		return h, d.errorf(keyHTTP, "expected a map, got %s", typeName(v))
	}
	d.warnUnknown(keyHTTP, m, []string{keyListen, keyAuthToken, keyAllowedOrigins, keyAllowedHosts, keySessionIdle, keyMaxSessions})
	if s, set, err := d.optString(m, keyHTTP, keyListen); err != nil {
		return h, err
	} else if set {
		if _, _, err := net.SplitHostPort(s); err != nil {
			return h, d.errorf(join(keyHTTP, keyListen), "expected host:port, got %q", s)
		}
		h.Listen = s
	}
	token, _, err := d.optString(m, keyHTTP, keyAuthToken)
	if err != nil {
		return h, err
	}
	if h.AuthToken, err = d.expand(join(keyHTTP, keyAuthToken), token); err != nil {
		return h, err
	}
	for k, dst := range map[string]*[]string{keyAllowedOrigins: &h.AllowedOrigins, keyAllowedHosts: &h.AllowedHosts} {
		if s, isString := m[k].(string); isString {
			m[k] = splitList(s)
		}
		if *dst, err = d.optStringList(m, keyHTTP, k, false); err != nil {
			return h, err
		}
	}
	if v, ok := present(m, keySessionIdle); ok {
		idle, problem := toDuration(v)
		if problem != "" {
			return h, d.errorf(join(keyHTTP, keySessionIdle), "%s", problem)
		}
		if idle <= 0 {
			return h, d.errorf(join(keyHTTP, keySessionIdle), "must be greater than 0, got %s", idle)
		}
		h.SessionIdle = idle
	}
	if v, ok := present(m, keyMaxSessions); ok {
		n, problem := toInt(v)
		if problem != "" {
			return h, d.errorf(join(keyHTTP, keyMaxSessions), "%s", problem)
		}
		if n < 1 {
			return h, d.errorf(join(keyHTTP, keyMaxSessions), "must be at least 1, got %d", n)
		}
		h.MaxSessions = n
	}
	return h, nil
}

// splitList splits a comma-separated list, dropping empty entries.
func splitList(s string) []any {
	var out []any
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
