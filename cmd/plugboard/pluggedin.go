package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plugboard/plugboard/actors"
	"github.com/plugboard/plugboard/config"
	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/transports"
	"github.com/spf13/pflag"
)

// The plugged.in App as a source of servers (issue 12): its API as the
// plugged.in MCP proxy uses it.
const (
	appFetchTimeout   = 10 * time.Second
	appMaxBackoff     = 5 * time.Minute
	appMaxAnswer      = 16 << 20
	activityQueue     = 1000
	toolReportSettle  = 300 * time.Millisecond
	discoverToolName  = "pluggedin_discover_tools"
	appStateOK        = "ok"
	appStateCached    = "cached"
	appStateRefused   = "unauthorized"
	appStateOffline   = "unreachable"
	appStateMalformed = "malformed"
)

// appFlags declares the plugged.in proxy's flags on fs.
func appFlags(fs *pflag.FlagSet) {
	fs.String("pluggedin-api-key", "", "a plugged.in App API key: take servers from that account (env PLUGGEDIN_API_KEY)")
	fs.String("pluggedin-api-base-url", config.DefaultAppBaseURL, "the plugged.in App's address (env PLUGGEDIN_API_BASE_URL)")
	fs.Duration("pluggedin-poll", config.DefaultAppPoll, "how often the plugged.in App is asked for changes")
}

// appFromFlags returns the App the flags and environment name, or nil
// when no key is given. Flags win over the environment.
func appFromFlags(fs *pflag.FlagSet) (*config.App, error) {
	value := func(flag, env string) string {
		if f := fs.Lookup(flag); f != nil && f.Changed {
			return f.Value.String()
		}
		if v := os.Getenv(env); v != "" {
			return v
		}
		if f := fs.Lookup(flag); f != nil {
			return f.DefValue
		}
		return ""
	}
	key := value("pluggedin-api-key", "PLUGGEDIN_API_KEY")
	if key == "" {
		return nil, nil
	}
	app, err := config.CheckApp(key, value("pluggedin-api-base-url", "PLUGGEDIN_API_BASE_URL"))
	if err != nil {
		return nil, err
	}
	if poll, err := fs.GetDuration("pluggedin-poll"); err == nil && poll > 0 {
		app.Poll = poll
	}
	return app, nil
}

// appSource keeps the App's last good answers and polls it for changes,
// reports the tools of its servers and the calls to them. Its state is
// read by the reloader and by status.
type appSource struct {
	app    *config.App
	client *http.Client
	log    *slog.Logger
	cache  string // file of the last good answers

	mu       sync.Mutex // guards the fields below
	servers  []config.AppServer
	inactive map[string][]string
	raw      [2][]byte // the answers they came from
	state    string
	lastErr  string

	polling  sync.Mutex // one fetch at a time
	activity chan messages.Activity
	sent     atomic.Int64
	dropped  atomic.Int64
	reported atomic.Int64
	changed  chan struct{} // the catalog changed: tools to report
	reloads  atomic.Pointer[reloader]
}

// newAppSource starts from the cached answers, if any.
func newAppSource(app *config.App, log *slog.Logger) *appSource {
	a := &appSource{app: app, log: log, client: &http.Client{Timeout: appFetchTimeout},
		activity: make(chan messages.Activity, activityQueue), changed: make(chan struct{}, 1)}
	if dir, err := os.UserCacheDir(); err == nil {
		sum := sha256.Sum256([]byte(app.BaseURL + "\x00" + app.Key))
		a.cache = filepath.Join(dir, "plugboard", "pluggedin-"+hex.EncodeToString(sum[:8])+".json")
		a.readCache()
	}
	return a
}

// appCache is the cache file's content: the App's last good answers.
type appCache struct {
	Servers  json.RawMessage `json:"servers"`
	Inactive json.RawMessage `json:"inactive_tools"`
}

func (a *appSource) readCache() {
	b, err := os.ReadFile(a.cache)
	if err != nil {
		return
	}
	var c appCache
	if json.Unmarshal(b, &c) != nil {
		return
	}
	servers, err1 := config.ParseAppServers(c.Servers)
	inactive, err2 := config.ParseInactiveTools(c.Inactive)
	if err1 != nil || err2 != nil {
		a.log.Warn("plugged.in App: the cached server list is unreadable; ignored", "file", a.cache)
		return
	}
	a.servers, a.inactive, a.raw, a.state = servers, inactive, [2][]byte{c.Servers, c.Inactive}, appStateCached
}

func (a *appSource) writeCache() {
	b, _ := json.Marshal(appCache{Servers: a.raw[0], Inactive: a.raw[1]})
	if err := os.MkdirAll(filepath.Dir(a.cache), 0o700); err != nil {
		a.log.Warn("plugged.in App: not caching its server list", "err", err)
		return
	}
	tmp := a.cache + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err == nil {
		err = os.Rename(tmp, a.cache)
	}
}

// merge adds the App's servers, as last fetched, to cfg.
func (a *appSource) merge(cfg *config.Config) {
	a.mu.Lock()
	defer a.mu.Unlock()
	cfg.AddAppServers(a.servers, a.inactive)
}

// appRefused is the App's answer to a key it does not accept.
type appRefused struct{ status int }

func (e *appRefused) Error() string {
	return fmt.Sprintf("the plugged.in App refused the API key (HTTP %d)", e.status)
}

// appMalformed is an App's answer plugboard could not take.
type appMalformed struct{ err error }

func (e *appMalformed) Error() string { return e.err.Error() }

// request sends one request to the App and returns the body of a 2xx
// answer.
func (a *appSource) request(ctx context.Context, method, path string, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.app.BaseURL+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.app.Key)
	req.Header.Set("User-Agent", "plugboard/"+actors.Version)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, appMaxAnswer))
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, &appRefused{status: resp.StatusCode}
	case resp.StatusCode/100 != 2:
		return nil, fmt.Errorf("%s %s: HTTP %d", method, path, resp.StatusCode)
	case err != nil:
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return answer, nil
}

// fetch asks the App for its servers and inactive tools; changed is set
// when what plugboard should run changed.
func (a *appSource) fetch(ctx context.Context) (changed bool, err error) {
	serversRaw, err := a.request(ctx, http.MethodGet, "/api/mcp-servers", nil)
	var inactiveRaw []byte
	if err == nil {
		inactiveRaw, err = a.request(ctx, http.MethodGet, "/api/tools?status=INACTIVE", nil)
	}
	var refused *appRefused
	if errors.As(err, &refused) {
		a.mu.Lock()
		defer a.mu.Unlock()
		changed = len(a.servers) > 0
		if a.state != appStateRefused {
			a.log.Error("plugged.in App: "+err.Error()+"; its servers are stopped", "url", transports.RedactURL(a.app.BaseURL))
		}
		a.servers, a.inactive, a.raw, a.state, a.lastErr = nil, nil, [2][]byte{}, appStateRefused, err.Error()
		return changed, err
	}
	if err != nil {
		a.setProblem(appStateOffline, "plugged.in App unreachable; keeping its last server list", err)
		return false, err
	}
	servers, err := config.ParseAppServers(serversRaw)
	var inactive map[string][]string
	if err == nil {
		inactive, err = config.ParseInactiveTools(inactiveRaw)
	}
	if err != nil {
		a.setProblem(appStateMalformed, "plugged.in App: answer refused; keeping its last server list", err)
		return false, &appMalformed{err}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	changed = !bytes.Equal(serversRaw, a.raw[0]) || !bytes.Equal(inactiveRaw, a.raw[1])
	if a.state != appStateOK {
		a.log.Info("plugged.in App answered", "servers", len(servers))
	}
	a.servers, a.inactive, a.raw, a.state, a.lastErr = servers, inactive, [2][]byte{serversRaw, inactiveRaw}, appStateOK, ""
	if changed && a.cache != "" {
		a.writeCache()
	}
	return changed, nil
}

// setProblem records a failed fetch, logging it when the state changes.
func (a *appSource) setProblem(state, msg string, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state != state || a.lastErr != err.Error() {
		a.log.Warn(msg, "err", err.Error())
	}
	a.state, a.lastErr = state, err.Error()
}

// pollOnce fetches and, when the servers changed, reloads.
func (a *appSource) pollOnce(ctx context.Context, reloads *reloader) error {
	a.polling.Lock()
	defer a.polling.Unlock()
	changed, err := a.fetch(ctx)
	if changed && reloads != nil {
		if _, rerr := reloads.request(ctx, reloadRequest{why: "the plugged.in App's servers changed"}); rerr != nil {
			return rerr
		}
	}
	return err
}

// run polls the App until ctx ends, backing off while it fails, reports
// activity and the tools of its servers.
func (a *appSource) run(ctx context.Context, sys *actors.System, reloads *reloader) {
	go a.sendActivity(ctx)
	go a.reportTools(ctx, sys)
	go func() {
		wait := a.app.Poll
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			fetchCtx, cancel := context.WithTimeout(ctx, 2*appFetchTimeout)
			err := a.pollOnce(fetchCtx, reloads)
			cancel()
			var refused *appRefused
			var malformed *appMalformed
			switch {
			case err == nil || errors.As(err, &refused) || errors.As(err, &malformed):
				wait = a.app.Poll // the App answered: no reason to ask it less often
			default:
				wait = min(2*wait, appMaxBackoff)
			}
		}
	}()
}

// options gives the actors what the App needs of them: the activity sink,
// the catalog's changes, and pluggedin_discover_tools.
func (a *appSource) options(opts *actors.Options) {
	if a == nil {
		return
	}
	opts.Activity = a.report
	opts.CatalogChanged = a.changed
	opts.OwnTools = append(opts.OwnTools, a.discoverTool())
}

// start polls the App, reports activity and tools, until ctx ends.
func (a *appSource) start(ctx context.Context, sys *actors.System, reloads *reloader) {
	if a == nil {
		return
	}
	a.reloads.Store(reloads)
	a.run(ctx, sys, reloads)
}

// report is the activity sink the actors call: it never waits.
func (a *appSource) report(act messages.Activity) {
	select {
	case a.activity <- act:
	default:
		a.dropped.Add(1)
	}
}

// activityJSON is the body of POST /api/notifications/mcp-activity.
type activityJSON struct {
	Action        string `json:"action"`
	ServerName    string `json:"serverName"`
	ServerUUID    string `json:"serverUuid"`
	ItemName      string `json:"itemName"`
	Success       bool   `json:"success"`
	ErrorMessage  string `json:"errorMessage,omitempty"`
	ExecutionTime int64  `json:"executionTime"`
}

func (a *appSource) sendActivity(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case act := <-a.activity:
			body := activityJSON{Action: act.Action, ServerName: act.ServerName, ServerUUID: act.ServerUUID, ItemName: act.ItemName,
				Success: act.Success, ErrorMessage: act.ErrorMessage, ExecutionTime: act.ExecutionTime.Milliseconds()}
			if _, err := a.request(ctx, http.MethodPost, "/api/notifications/mcp-activity", body); err != nil {
				a.log.Debug("plugged.in App: activity not reported", "err", err.Error())
				continue
			}
			a.sent.Add(1)
		}
	}
}

// toolJSON is one tool of POST /api/tools.
type toolJSON struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	ToolSchema  json.RawMessage `json:"toolSchema"`
	ServerUUID  string          `json:"mcp_server_uuid"`
}

// reportTools reports the tools of each App server when they change.
func (a *appSource) reportTools(ctx context.Context, sys *actors.System) {
	reported := map[string][sha256.Size]byte{} // by server uuid
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.changed:
		}
		select { // a burst of changes is one report
		case <-ctx.Done():
			return
		case <-time.After(toolReportSettle):
		}
		askCtx, cancel := context.WithTimeout(ctx, statusTimeout)
		lists, err := sys.ServerTools(askCtx)
		cancel()
		if err != nil {
			continue
		}
		a.mu.Lock()
		uuids := map[string]string{}
		for _, s := range a.servers {
			name := s.Slug
			if name == "" {
				name = s.UUID
			}
			uuids[name] = s.UUID
		}
		a.mu.Unlock()
		names := make([]string, 0, len(uuids))
		for n := range uuids {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			tools, ok := lists[name]
			if !ok || len(tools) == 0 {
				continue
			}
			body := struct {
				Tools []toolJSON `json:"tools"`
			}{Tools: make([]toolJSON, 0, len(tools))}
			for _, raw := range tools {
				var t struct {
					Name        string          `json:"name"`
					Description string          `json:"description"`
					InputSchema json.RawMessage `json:"inputSchema"`
				}
				if json.Unmarshal(raw, &t) != nil || t.Name == "" {
					continue
				}
				body.Tools = append(body.Tools, toolJSON{Name: t.Name, Description: t.Description, ToolSchema: t.InputSchema, ServerUUID: uuids[name]})
			}
			b, _ := json.Marshal(body)
			sum := sha256.Sum256(b)
			if reported[uuids[name]] == sum {
				continue
			}
			postCtx, cancel := context.WithTimeout(ctx, appFetchTimeout)
			_, err := a.request(postCtx, http.MethodPost, "/api/tools", json.RawMessage(b))
			cancel()
			if err != nil {
				a.log.Warn("plugged.in App: tools not reported", "server", name, "err", err.Error())
				continue
			}
			reported[uuids[name]] = sum
			a.reported.Add(int64(len(body.Tools)))
		}
	}
}

// discoverTool is pluggedin_discover_tools: the App discovers the tools
// of one server or all, then plugboard reads its lists again.
func (a *appSource) discoverTool() actors.OwnTool {
	def := json.RawMessage(`{"name":"` + discoverToolName + `","description":"Asks the plugged.in App to discover the tools of its MCP servers (one, by server_uuid, or all), then reads the App's server and tool lists again.","inputSchema":{"type":"object","properties":{"server_uuid":{"type":"string","description":"the server to discover; all when left out"},"force_refresh":{"type":"boolean","description":"discover again even if the App has the tools already"}}}}`)
	return actors.OwnTool{Definition: def, Call: func(ctx context.Context, arguments json.RawMessage) (json.RawMessage, error) {
		var args struct {
			ServerUUID   string
			ForceRefresh bool
		}
		if len(arguments) > 0 && string(arguments) != "null" {
			// The members decided on are read by their exact names.
			var v [2]json.RawMessage
			if err := transports.ReadMembers(arguments, discoverArgs, v[:]); err != nil {
				return nil, fmt.Errorf("%s: arguments: %v", discoverToolName, err)
			}
			if v[0] != nil && json.Unmarshal(v[0], &args.ServerUUID) != nil || v[1] != nil && json.Unmarshal(v[1], &args.ForceRefresh) != nil {
				return nil, fmt.Errorf("%s: server_uuid must be a string and force_refresh a boolean", discoverToolName)
			}
		}
		path := "/api/discover/all"
		if args.ServerUUID != "" {
			path = "/api/discover/" + urlPathEscape(args.ServerUUID)
		}
		if _, err := a.request(ctx, http.MethodPost, path, map[string]bool{"force_refresh": args.ForceRefresh}); err != nil {
			return toolText(true, "the plugged.in App did not discover: "+err.Error()), nil
		}
		if err := a.pollOnce(ctx, a.reloads.Load()); err != nil {
			return toolText(true, "discovery started, but reading the App's lists again failed: "+err.Error()), nil
		}
		a.mu.Lock()
		n := len(a.servers)
		a.mu.Unlock()
		return toolText(false, fmt.Sprintf("the plugged.in App discovered the tools (%s); plugboard read its %d servers again", path, n)), nil
	}}
}

var discoverArgs = []string{"server_uuid", "force_refresh"}

func toolText(isError bool, text string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"content": []map[string]string{{"type": "text", "text": text}}, "isError": isError})
	return b
}

func urlPathEscape(s string) string {
	var b bytes.Buffer
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// appStatusJSON is the App's part of `plugboard status --json`.
type appStatusJSON struct {
	BaseURL         string `json:"base_url"`
	State           string `json:"state"`
	LastError       string `json:"last_error,omitempty"`
	Servers         int    `json:"servers"`
	ActivitySent    int64  `json:"activity_sent"`
	ActivityDropped int64  `json:"activity_dropped"`
	ToolsReported   int64  `json:"tools_reported"`
}

func (a *appSource) status() *appStatusJSON {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return &appStatusJSON{BaseURL: transports.RedactURL(a.app.BaseURL), State: a.state, LastError: a.lastErr, Servers: len(a.servers),
		ActivitySent: a.sent.Load(), ActivityDropped: a.dropped.Load(), ToolsReported: a.reported.Load()}
}
