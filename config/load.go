package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"

	kjson "github.com/knadh/koanf/parsers/json"
	ktoml "github.com/knadh/koanf/parsers/toml/v2"
	kyaml "github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/pflag"
)

// keyDelim separates the parts of koanf key paths. Server names may contain
// dots ("github.com"), which koanf's usual "." would split into nested keys.
const keyDelim = "\x1f"

// envPrefix is the prefix of the environment variables Load reads.
const envPrefix = "PLUGBOARD_"

// Top-level keys.
const (
	keyStartupTimeout = "startup_timeout"
	keyLogLevel       = "log_level"
	keyPageSize       = "page_size"
	keyInheritEnv     = "inherit_env"
	keyServers        = "servers"
	keyMCPServers     = "mcpServers"
)

// override ties a top-level key to the environment variable and the flag
// that can set it.
type override struct {
	key, env, flag string
}

// overrides lists the only settings the environment and flags can change;
// other PLUGBOARD_* variables (PLUGBOARD_CONFIG) and flags belong to the caller.
func overrides() []override {
	return []override{
		{keyStartupTimeout, "PLUGBOARD_STARTUP_TIMEOUT", "startup-timeout"},
		{keyLogLevel, "PLUGBOARD_LOG_LEVEL", "log-level"},
		{keyPageSize, "PLUGBOARD_PAGE_SIZE", "page-size"},
		{keyWorkspace, "PLUGBOARD_WORKSPACE", "workspace"},
		{keyHTTP + keyDelim + keyListen, "PLUGBOARD_LISTEN", "listen"},
		{keyHTTP + keyDelim + keyAuthToken, "PLUGBOARD_AUTH_TOKEN", "auth-token"},
		{keyHTTP + keyDelim + keyAllowedOrigins, "PLUGBOARD_ALLOWED_ORIGINS", "allowed-origins"},
		{keyHTTP + keyDelim + keyAllowedHosts, "PLUGBOARD_ALLOWED_HOSTS", "allowed-hosts"},
		{keyHTTP + keyDelim + keySessionIdle, "PLUGBOARD_SESSION_IDLE", "session-idle"},
		{keyHTTP + keyDelim + keyMaxSessions, "PLUGBOARD_MAX_SESSIONS", "max-sessions"},
	}
}

// Load reads path (format by extension: .yaml/.yml, .json, .toml; anything
// else is an error naming the file), then PLUGBOARD_* environment variables,
// then the flags the user set in fs (fs may be nil), each overriding the one
// before, expands ${VAR} and ${VAR:-default} in every string value of the
// servers (command, args, env values, cwd, url, headers, prefix), validates
// everything, and returns the Config or an *Error. A server whose command
// is plugboard (this executable, or any program named plugboard) is left
// out with a warning: plugboard never starts itself. A plugboard nested
// under maxNesting others (PLUGBOARD_NESTING) gets no servers, with a
// warning.
//
// Only PLUGBOARD_STARTUP_TIMEOUT, PLUGBOARD_LOG_LEVEL and PLUGBOARD_PAGE_SIZE
// are read (an empty one counts as unset), and only the flags
// --startup-timeout, --log-level and --page-size, when Changed. Durations
// are Go duration strings ("90s", "1m30s") or numbers of seconds.
func Load(path string, fs *pflag.FlagSet) (*Config, error) {
	return load(path, fs, true)
}

// LoadOptional is Load for a file that may be missing: the plugged.in App
// can be the only source of servers. A missing file is an empty one.
func LoadOptional(path string, fs *pflag.FlagSet) (*Config, error) {
	return load(path, fs, false)
}

// Missing reports whether the configuration came from no file.
func (c *Config) Missing() bool { return c.missing }

func load(path string, fs *pflag.FlagSet, required bool) (*Config, error) {
	if path == "" {
		return nil, &Error{Problem: "no config file path given"}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &Error{File: path, Problem: fmt.Sprintf("cannot resolve path: %v", err)}
	}

	ko := koanf.New(keyDelim)
	missing := false
	if _, err := os.Stat(abs); !required && errors.Is(err, iofs.ErrNotExist) {
		missing = true
	} else if err := loadFile(ko, abs); err != nil {
		return nil, err
	}
	// Neither provider can fail: both only read maps already in memory.
	if err := ko.Load(env.Provider(keyDelim, env.Opt{Prefix: envPrefix, TransformFunc: envKey}), nil); err != nil {
		return nil, &Error{File: abs, Problem: fmt.Sprintf("reading environment: %v", err)}
	}
	if fs != nil {
		if err := ko.Load(posflag.ProviderWithFlag(fs, keyDelim, ko, flagKey(fs)), nil); err != nil {
			return nil, &Error{File: abs, Problem: fmt.Sprintf("reading flags: %v", err)}
		}
	}

	d := &decoder{file: abs, origins: origins(fs), lookupEnv: os.LookupEnv}
	if missing {
		d.quietEmpty = true
	}
	cfg, err := d.decodeConfig(ko.Raw())
	if err != nil {
		return nil, err
	}
	cfg.missing = missing
	cfg.StatePath = StatePath(abs)
	st, err := LoadState(cfg.StatePath)
	if err != nil {
		return nil, err
	}
	cfg.DisabledTools = st.DisabledTools
	if st.Workspace != "" && !flagSet(fs, "workspace") {
		if cfg.HasWorkspace(st.Workspace) {
			cfg.Workspace = st.Workspace
		} else {
			d.warnf(keyWorkspace, "the workspace %q that plugboard workspace use chose (%s) is no longer defined; using %q", st.Workspace, cfg.StatePath, cfg.Workspace)
			cfg.Warnings = d.warnings
		}
	}
	var skipped []string
	cfg.Servers, skipped = withoutPlugboard(cfg.Servers, executable(), abs)
	cfg.Warnings = append(cfg.Warnings, skipped...)
	if warning := tooDeep(d.lookupEnv, abs); warning != "" {
		cfg.Servers = nil
		cfg.Warnings = append(cfg.Warnings, warning)
	}
	return cfg, nil
}

// flagSet reports whether the user set the flag.
func flagSet(fs *pflag.FlagSet, name string) bool {
	if fs == nil {
		return false
	}
	f := fs.Lookup(name)
	return f != nil && f.Changed
}

// envKey maps an overriding environment variable to its key and drops
// every other one, and empty ones.
func envKey(name, value string) (string, any) {
	for _, o := range overrides() {
		if name == o.env && value != "" {
			return o.key, value
		}
	}
	return "", nil
}

// flagKey maps an overriding flag the user set to its key and drops every
// other flag. Unset flags must be dropped here rather than left to posflag,
// which merges an unset flag's default whenever the file lacks the key and
// would so override plugboard's own default with the caller's.
func flagKey(fs *pflag.FlagSet) func(*pflag.Flag) (string, any) {
	return func(f *pflag.Flag) (string, any) {
		if !f.Changed {
			return "", nil
		}
		for _, o := range overrides() {
			if f.Name == o.flag {
				return o.key, posflag.FlagVal(fs, f)
			}
		}
		return "", nil
	}
}

// origins names, for each top-level key set by a flag or an environment
// variable, where its value came from, so that an error about the value does
// not send the user looking in the file.
func origins(fs *pflag.FlagSet) map[string]string {
	out := make(map[string]string)
	for _, o := range overrides() {
		key := strings.ReplaceAll(o.key, keyDelim, ".")
		switch {
		case fs != nil && fs.Changed(o.flag):
			out[key] = "--" + o.flag
		case os.Getenv(o.env) != "":
			out[key] = o.env
		}
	}
	return out
}

// loadFile reads and parses the file at abs into ko.
func loadFile(ko *koanf.Koanf, abs string) error {
	parser, format := parserFor(abs)
	if parser == nil {
		return &Error{File: abs, Problem: fmt.Sprintf("unsupported file extension %q; use .yaml, .yml, .json or .toml", filepath.Ext(abs))}
	}
	b, err := file.Provider(abs).ReadBytes()
	if err != nil {
		return &Error{File: abs, Problem: readProblem(err)}
	}
	// Editors on Windows like to start JSON files with a byte order mark,
	// which encoding/json rejects.
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if err := ko.Load(rawBytes(b), parser); err != nil {
		return &Error{File: abs, Problem: fmt.Sprintf("cannot parse %s: %s", format, oneLine(parseProblem(err, b)))}
	}
	return nil
}

// parserFor returns the koanf parser for the file's extension and the name
// of the format, or a nil parser when the extension is not supported.
func parserFor(path string) (koanf.Parser, string) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return kyaml.Parser(), "YAML"
	case ".json":
		return kjson.Parser(), "JSON"
	case ".toml":
		return ktoml.Parser(), "TOML"
	}
	return nil, ""
}

// readProblem describes why the file could not be read, without repeating
// its path.
func readProblem(err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return "file does not exist"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return "cannot read file: " + pe.Err.Error()
	}
	return "cannot read file: " + err.Error()
}

// parseProblem returns the parser's message, with a line and column where
// the parser knows an offset but does not say it.
func parseProblem(err error, src []byte) string {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		line, col := lineColumn(src, syntax.Offset)
		return fmt.Sprintf("line %d, column %d: %v", line, col, err)
	}
	var decode *toml.DecodeError
	if errors.As(err, &decode) {
		line, col := decode.Position()
		return fmt.Sprintf("line %d, column %d: %v", line, col, err)
	}
	return err.Error()
}

// lineColumn converts a byte offset in src into a 1-based line and column.
func lineColumn(src []byte, offset int64) (line, col int) {
	if offset > int64(len(src)) {
		offset = int64(len(src))
	}
	before := src[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, col
}

// rawBytes is a koanf.Provider of bytes already read, so that a parse error
// can be told apart from a read error and located in the bytes.
type rawBytes []byte

// ReadBytes returns the bytes.
func (r rawBytes) ReadBytes() ([]byte, error) { return r, nil }

// Read is not supported; koanf calls it only when there is no parser.
func (r rawBytes) Read() (map[string]any, error) {
	return nil, errors.New("raw bytes need a parser")
}
