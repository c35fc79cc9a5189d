package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
)

// The plugged.in App, as the plugged.in MCP proxy
// (@pluggedin/pluggedin-mcp-proxy) is configured for it.
const (
	DefaultAppBaseURL = "https://plugged.in"
	DefaultAppPoll    = 30 * time.Second
)

// appKeyChars are the characters of a plugged.in API key, which the
// plugged.in proxy accepts 32 to 256 of (isAppKey). The length is checked
// apart: a regexp counting to 256 compiles 256 copies of the class, a
// millisecond and a quarter of a megabyte at every start.
var appKeyChars = regexp.MustCompile(`^[a-zA-Z0-9\-_.]*$`)

// isAppKey reports whether key is what the plugged.in proxy accepts as an
// API key.
func isAppKey(key string) bool {
	return len(key) >= 32 && len(key) <= 256 && appKeyChars.MatchString(key)
}

// App is a plugged.in App account plugboard takes servers from.
type App struct {
	Key     string // never shown anywhere
	BaseURL string // without a trailing slash
	Poll    time.Duration
}

// CheckApp validates an App's key and base URL. Its errors name the flag
// and never the key.
func CheckApp(key, baseURL string) (*App, error) {
	if !isAppKey(key) {
		return nil, fmt.Errorf("--pluggedin-api-key: not a plugged.in API key (32 to 256 letters, digits, '-', '_' or '.')")
	}
	u, err := url.Parse(baseURL)
	switch {
	case err != nil || u.Host == "" || u.Scheme != "https" && u.Scheme != "http":
		return nil, fmt.Errorf("--pluggedin-api-base-url: %q is not an http(s) URL", redactedURL(baseURL))
	case u.User != nil:
		return nil, fmt.Errorf("--pluggedin-api-base-url: must not carry a user name or password (the API key authenticates)")
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return nil, fmt.Errorf("--pluggedin-api-base-url: %s must be https, unless its host is this machine (127.0.0.1, ::1, localhost)", redactedURL(baseURL))
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("--pluggedin-api-base-url: must have no query or fragment")
	}
	return &App{Key: key, BaseURL: strings.TrimRight(baseURL, "/"), Poll: DefaultAppPoll}, nil
}

func isLoopback(host string) bool {
	switch strings.ToLower(host) {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return strings.HasPrefix(host, "127.")
}

// redactedURL is a URL without its user information, for messages.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	u.User = nil
	return u.String()
}

// AppServer is one server of the App's list, as the App describes it.
type AppServer struct {
	UUID                  string            `json:"uuid"`
	Name                  string            `json:"name"`
	Description           string            `json:"description"`
	Slug                  string            `json:"slug"`
	Type                  string            `json:"type"`
	Command               string            `json:"command"`
	Args                  []string          `json:"args"`
	Env                   map[string]string `json:"env"`
	URL                   string            `json:"url"`
	StreamableHTTPOptions *struct {
		Headers map[string]string `json:"headers"`
	} `json:"streamableHTTPOptions"`
	Status string `json:"status"`
}

// ParseAppServers reads the App's answer to GET /api/mcp-servers. An
// answer with one malformed item is refused whole, naming the field.
func ParseAppServers(body []byte) ([]AppServer, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("/api/mcp-servers: expected an array of servers: %v", err)
	}
	out := make([]AppServer, 0, len(raw))
	for i, item := range raw {
		var s AppServer
		field := func(name string) string { return fmt.Sprintf("/api/mcp-servers: [%d].%s", i, name) }
		if err := json.Unmarshal(item, &s); err != nil {
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) && typeErr.Field != "" {
				return nil, fmt.Errorf("%s: expected %s, got a JSON %s", field(typeErr.Field), typeErr.Type, typeErr.Value)
			}
			return nil, fmt.Errorf("/api/mcp-servers: [%d]: %v", i, err)
		}
		switch {
		case s.UUID == "":
			return nil, fmt.Errorf("%s: missing", field("uuid"))
		case s.Type == "STDIO" && s.Command == "":
			return nil, fmt.Errorf("%s: missing for a STDIO server", field("command"))
		case (s.Type == "SSE" || s.Type == "STREAMABLE_HTTP") && s.URL == "":
			return nil, fmt.Errorf("%s: missing for a %s server", field("url"), s.Type)
		case s.Type != "STDIO" && s.Type != "SSE" && s.Type != "STREAMABLE_HTTP":
			return nil, fmt.Errorf("%s: %q is not STDIO, SSE or STREAMABLE_HTTP", field("type"), s.Type)
		}
		if s.URL != "" {
			if u, err := url.Parse(s.URL); err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
				return nil, fmt.Errorf("%s: not an http(s) URL", field("url"))
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// ParseInactiveTools reads the App's answer to GET /api/tools?status=INACTIVE:
// the original names of the inactive tools, by server uuid.
func ParseInactiveTools(body []byte) (map[string][]string, error) {
	var answer struct {
		Tools *[]struct {
			Name       string `json:"name"`
			ServerUUID string `json:"_serverUuid"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || answer.Tools == nil {
		return nil, fmt.Errorf("/api/tools: expected {\"tools\": [...]}")
	}
	out := map[string][]string{}
	for i, t := range *answer.Tools {
		if t.Name == "" || t.ServerUUID == "" {
			return nil, fmt.Errorf("/api/tools: [%d]: name and _serverUuid are needed", i)
		}
		out[t.ServerUUID] = append(out[t.ServerUUID], t.Name)
	}
	return out, nil
}

// AddAppServers adds the App's active servers to cfg, each named and
// prefixed by its slug (else its uuid), with its inactive tools excluded.
// A local server of the same name wins: the App's is left out, with a
// warning.
func (cfg *Config) AddAppServers(servers []AppServer, inactive map[string][]string) {
	local := map[string]bool{}
	for _, s := range cfg.Servers {
		local[s.Name] = true
	}
	for _, a := range servers {
		if a.Status != "" && !strings.EqualFold(a.Status, "ACTIVE") {
			continue
		}
		name := a.Slug
		if name == "" {
			name = a.UUID
		}
		if local[name] {
			cfg.Warnings = append(cfg.Warnings, fmt.Sprintf("plugged.in App: server %q has the name of a server of %s, which wins", name, cfg.Source))
			continue
		}
		local[name] = true
		s := Server{Name: name, Prefix: Slug(name), Enabled: true, Timeout: defaultServerTimeout, AppUUID: a.UUID, AppName: a.Name, InheritEnv: cfg.InheritEnv}
		switch a.Type {
		case "STDIO":
			s.Command, s.Args, s.Transport = a.Command, a.Args, TransportStdio
			if len(a.Env) > 0 {
				s.Env = a.Env
			}
		case "SSE":
			s.URL, s.Transport = a.URL, TransportSSE
		case "STREAMABLE_HTTP":
			s.URL, s.Transport = a.URL, TransportStreamableHTTP
			if a.StreamableHTTPOptions != nil && len(a.StreamableHTTPOptions.Headers) > 0 {
				s.Headers = a.StreamableHTTPOptions.Headers
			}
		}
		for _, tool := range inactive[a.UUID] {
			s.Tools.Exclude = append(s.Tools.Exclude, globLiteral(tool))
		}
		cfg.Servers = append(cfg.Servers, s)
	}
	sort.Slice(cfg.Servers, func(i, j int) bool { return cfg.Servers[i].Name < cfg.Servers[j].Name })
}

// globLiteral is a glob (path.Match) matching name alone.
func globLiteral(name string) string {
	var b strings.Builder
	for _, r := range name {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
