package config

import (
	"os"
	"path/filepath"
	"time"
)

// DefaultStartupTimeout is how long list requests wait for servers still
// starting when the file does not say. It covers a server that `npx -y`
// downloads on a cold npm cache (13-25 s measured for server-everything;
// one that takes longer, as about 50 s once seen, is announced late with
// list_changed, not failed) and stays under the 60 s that clients on the
// TypeScript SDK wait for an answer by default, so that a client's first
// tools/list is answered rather than timed out.
const DefaultStartupTimeout = 45 * time.Second

// Defaults for settings the file leaves out.
const (
	defaultStartupTimeout = DefaultStartupTimeout
	defaultLogLevel       = "info"
	defaultPageSize       = 1000
	defaultServerTimeout  = 60 * time.Second
)

// Transports a Server can use.
const (
	TransportStdio          = "stdio"
	TransportStreamableHTTP = "streamable-http"
	TransportSSE            = "sse"
	TransportWebSocket      = "websocket"
)

// Config is plugboard's validated configuration.
type Config struct {
	Source         string        // the file it was loaded from (absolute path)
	StartupTimeout time.Duration // key startup_timeout, default DefaultStartupTimeout; > 0
	LogLevel       string        // key log_level: debug|info|warn|error, default "info"
	PageSize       int           // key page_size: items per page of list results plugboard returns, default 1000, >= 1
	HTTP           HTTP          // key http: the fronts of `plugboard serve`
	Metrics        Metrics       // key metrics: what `plugboard serve` serves at /metrics
	InheritEnv     bool          // key inherit_env: the default of servers' inherit_env, default false
	Servers        []Server      // sorted by Name
	// Workspaces (key workspaces) are named sets of servers, each the
	// names its server names and globs matched, sorted. Workspace (key
	// workspace, flag --workspace, env PLUGBOARD_WORKSPACE; the state
	// file's, set by `plugboard workspace use`, wins over the file's and
	// the environment's) is the default one; "" is every server.
	Workspaces map[string][]string
	Workspace  string
	// IdleGrace (key idle_grace, default 5m) is how long a server that no
	// workspace in use needs keeps running before it is stopped; it
	// starts again when a workspace in use needs it.
	IdleGrace     time.Duration
	StatePath     string   // the state file beside Source (StatePath)
	DisabledTools []string // from the state file: client-facing tool names hidden from clients
	missing       bool     // no file: the plugged.in App is the only source
	Warnings      []string // non-fatal findings (unknown keys, unset ${VAR}s), each naming file and key; the caller logs them
}

// Server is one downstream MCP server.
type Server struct {
	Name       string
	Command    string            // stdio server
	Args       []string          // nil when none
	Env        map[string]string // nil when none
	InheritEnv bool              // key inherit_env (default: the top-level inherit_env): the process gets plugboard's whole environment, less PLUGBOARD_*, instead of the default set
	Cwd        string
	URL        string            // remote server (http, https, ws, wss)
	Transport  string            // "stdio" for command servers; for URL servers "streamable-http" (default for http/https), "sse", or "websocket" (default and only choice for ws/wss)
	Headers    map[string]string // for URL servers; nil when none
	Prefix     string            // client-facing prefix; default Slug(Name); an explicit "" means no prefix
	Enabled    bool              // default true; `disabled: true` (Cline's key) means false
	Tools      Filter            // key tools: {include: [...], exclude: [...]}
	Prompts    Filter            // key prompts: same shape
	Timeout    time.Duration     // per request, default 60s
	// MaxInflight (key max_inflight) caps the requests sent to the server
	// at once; MaxQueued (key max_queued) caps those waiting for a slot.
	// Both are > 0 when set; 0 means unset, and the server actor's
	// defaults apply (512 and 1024).
	MaxInflight int
	MaxQueued   int
	// AppUUID and AppName are the uuid and name a server has in the
	// plugged.in App it comes from; "" for a server of the file.
	AppUUID, AppName string
	// Isolation (key isolation) is "" (IsolationShared, the default): one
	// instance every client session shares; or IsolationSession: one
	// instance per session, started on its first use and stopped when
	// the session ends.
	Isolation string
	// Auth (key auth) holds a url server's OAuth settings; nil when none.
	// A server without it still logs in when it asks for a bearer token.
	Auth *Auth
}

// Auth is how plugboard logs in to a url server that needs OAuth
// authorization. Every field is optional.
type Auth struct {
	// ClientID is a client registered with the authorization server
	// beforehand; "" registers one dynamically.
	ClientID string
	// ClientSecret goes with ClientID; it is a secret, never shown.
	ClientSecret string
	// Scopes are the scopes asked for; nil takes those the server names.
	Scopes []string
	// RedirectPort is the loopback port the login's redirect comes to;
	// 0 takes a free one.
	RedirectPort int
}

// Isolations of a server.
const (
	IsolationShared  = "shared"
	IsolationSession = "session"
)

// DefaultPath returns where plugboard looks for its configuration when it is
// not told: $XDG_CONFIG_HOME/plugboard/config.yaml, or
// ~/.config/plugboard/config.yaml when XDG_CONFIG_HOME is unset or relative
// (the XDG spec says to ignore a relative one). It returns "" when the home
// directory is unknown too.
func DefaultPath() string {
	if dir := os.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "plugboard", "config.yaml")
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	return filepath.Join(home, ".config", "plugboard", "config.yaml")
}
