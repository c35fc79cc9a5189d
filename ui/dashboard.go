package ui

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

//go:embed assets
var assets embed.FS

// Daemon answers the dashboard's requests: request lines of plugboard
// serve's unix socket ("status", "tools", "tools disable NAME...",
// "workspace list", "workspace use NAME", "restart NAME", "logs NAME"),
// each answered with the one JSON value the socket answers. An answer
// with an "error" member is returned as that error.
type Daemon interface {
	Ask(ctx context.Context, request string) (json.RawMessage, error)
}

// Traffic gives each server's calls since the daemon started; the
// dashboard shows their rates.
type Traffic interface {
	ServerTraffic() map[string]TrafficCounts
}

// TrafficCounts are one server's calls so far.
type TrafficCounts struct {
	Calls        uint64
	Errors       uint64
	LatencySum   time.Duration // over the timed calls
	LatencyCount uint64        // the calls timed (sent and answered); 0 counts every call
}

// Options configure the dashboard.
type Options struct {
	Daemon Daemon
	// Token is the bearer token of the HTTP API, which the login page
	// asks for; "" when plugboard serve runs with --no-auth, and then
	// the dashboard asks for none (but changes still need its CSRF token).
	Token string
	// Traffic, if set, gives the calls per second and latency shown; nil
	// shows them as unknown.
	Traffic Traffic
	Log     *slog.Logger
}

// Dashboard serves the dashboard under /ui.
type Dashboard struct {
	opts     Options
	sessions *sessions
	hub      *hub
}

// askTimeout bounds one request to the daemon.
const askTimeout = 10 * time.Second

// changeTimeout bounds one change (a reload behind it).
const changeTimeout = 45 * time.Second

// New returns the dashboard of a daemon.
func New(opts Options) *Dashboard {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Dashboard{opts: opts, sessions: newSessions(), hub: newHub(opts.Daemon, opts.Traffic, opts.Log)}
}

// LoginCode returns a code that logs a browser in once, within a minute,
// at /ui/login?code=CODE: what `plugboard ui` opens, so that the token
// itself never appears in a command line or a URL.
func (d *Dashboard) LoginCode() string { return d.sessions.newCode() }

// Close ends the event streams.
func (d *Dashboard) Close() { d.hub.close() }

// Handler serves /ui and everything under it.
func (d *Dashboard) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ui", d.servePage)
	mux.HandleFunc("GET /ui/{$}", d.servePage)
	mux.HandleFunc("GET /ui/app.css", d.serveAsset("assets/app.css", "text/css; charset=utf-8", false))
	mux.HandleFunc("GET /ui/app.js", d.serveAsset("assets/app.js", "text/javascript; charset=utf-8", true))
	mux.HandleFunc("POST /ui/login", d.serveLogin)
	mux.HandleFunc("GET /ui/login", d.serveLoginCode)
	mux.HandleFunc("POST /ui/logout", d.serveLogout)
	mux.HandleFunc("GET /ui/api/session", d.api(d.serveSession))
	mux.HandleFunc("GET /ui/api/state", d.api(d.serveState))
	mux.HandleFunc("GET /ui/api/events", d.api(d.serveEvents))
	mux.HandleFunc("GET /ui/api/logs", d.api(d.serveLogs))
	mux.HandleFunc("POST /ui/api/tools", d.change(d.serveTools))
	mux.HandleFunc("POST /ui/api/workspace", d.change(d.serveWorkspace))
	mux.HandleFunc("POST /ui/api/restart", d.change(d.serveRestart))
	mux.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		if how, _ := d.authenticate(r); how == denied {
			d.writeLogin(w, http.StatusUnauthorized, "")
			return
		}
		http.NotFound(w, r)
	})
	return securityHeaders(mux)
}

// securityHeaders forbid framing, sniffing and any script, style or
// connection but the dashboard's own.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		// same-origin, not no-referrer: with no-referrer a browser sends
		// "Origin: null" on the login form, which the origin checks refuse.
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// servePage serves the dashboard to a logged-in browser and the login
// page to anyone else.
func (d *Dashboard) servePage(w http.ResponseWriter, r *http.Request) {
	how, _ := d.authenticate(r)
	switch how {
	case denied:
		d.writeLogin(w, http.StatusOK, "")
		return
	case openAccess:
		d.startSession(w, r) // --no-auth: a session all the same, for its CSRF token
	}
	d.writeAsset(w, "assets/index.html", "text/html; charset=utf-8")
}

// serveAsset serves an embedded file; private ones only to a logged-in
// browser.
func (d *Dashboard) serveAsset(name, contentType string, private bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if how, _ := d.authenticate(r); private && how == denied {
			d.writeLogin(w, http.StatusUnauthorized, "")
			return
		}
		d.writeAsset(w, name, contentType)
	}
}

func (d *Dashboard) writeAsset(w http.ResponseWriter, name, contentType string) {
	b, err := assets.ReadFile(name)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	_, _ = w.Write(b)
}

func (d *Dashboard) writeLogin(w http.ResponseWriter, status int, problem string) {
	b, _ := assets.ReadFile("assets/login.html")
	page := strings.Replace(string(b), "<!--problem-->", htmlEscape(problem), 1)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, page)
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;").Replace(s)
}

// serveLogin logs a browser in with the token from the login form.
func (d *Dashboard) serveLogin(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		http.Error(w, "a login must come from the dashboard's own page", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	token := r.PostFormValue("token")
	if d.opts.Token != "" && !d.tokenMatches(strings.TrimSpace(token)) {
		d.opts.Log.Warn("dashboard login refused: wrong token", "remote", r.RemoteAddr)
		d.writeLogin(w, http.StatusUnauthorized, "That is not the token. plugboard token prints it.")
		return
	}
	d.startSession(w, r)
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
}

// serveLoginCode logs a browser in with a one-time code of plugboard ui.
func (d *Dashboard) serveLoginCode(w http.ResponseWriter, r *http.Request) {
	if !d.sessions.useCode(r.URL.Query().Get("code")) {
		d.writeLogin(w, http.StatusUnauthorized, "That login link is used or expired; run plugboard ui again, or give the token.")
		return
	}
	d.startSession(w, r)
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
}

func (d *Dashboard) serveLogout(w http.ResponseWriter, r *http.Request) {
	how, b := d.authenticate(r)
	if !csrfValid(r, how, b) {
		http.Error(w, "refused: not from the dashboard's page", http.StatusForbidden)
		return
	}
	if c, err := r.Cookie(cookieName); err == nil {
		d.sessions.close(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/ui", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
}

// api serves an endpoint that only reads, to whoever is authenticated.
func (d *Dashboard) api(next func(http.ResponseWriter, *http.Request, *browserSession)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		how, b := d.authenticate(r)
		if how == denied {
			w.Header().Set("WWW-Authenticate", `Bearer realm="plugboard"`)
			writeJSONError(w, http.StatusUnauthorized, "log in first: the dashboard needs the token that plugboard token prints")
			return
		}
		next(w, r, b)
	}
}

// change serves an endpoint that changes state: a POST of JSON with the
// session's CSRF token (or the bearer token) from the same origin.
func (d *Dashboard) change(next func(context.Context, json.RawMessage) (json.RawMessage, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		how, b := d.authenticate(r)
		if how == denied {
			writeJSONError(w, http.StatusUnauthorized, "log in first: the dashboard needs the token that plugboard token prints")
			return
		}
		if !csrfValid(r, how, b) {
			d.opts.Log.Warn("dashboard refused a change without its CSRF token or from another origin", "path", r.URL.Path, "origin", r.Header.Get("Origin"))
			writeJSONError(w, http.StatusForbidden, "refused: a change must come from the dashboard's page with its "+csrfHeader+" header")
			return
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			writeJSONError(w, http.StatusUnsupportedMediaType, "send application/json")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil {
			writeJSONError(w, http.StatusRequestEntityTooLarge, err.Error())
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), changeTimeout)
		defer cancel()
		answer, err := next(ctx, body)
		var bad *badRequest
		switch {
		case errors.As(err, &bad):
			writeJSONError(w, http.StatusBadRequest, bad.msg)
			return
		case err != nil:
			writeJSONError(w, http.StatusConflict, err.Error())
			return
		}
		d.hub.poke()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(answer)
	}
}

type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// sessionJSON is what the page learns of its session.
type sessionJSON struct {
	CSRF string `json:"csrf"`
	// Auth is "token" when the dashboard asks for the token, "none" when
	// plugboard serve runs with --no-auth.
	Auth string `json:"auth"`
}

func (d *Dashboard) serveSession(w http.ResponseWriter, r *http.Request, b *browserSession) {
	if how, _ := d.authenticate(r); how == openAccess {
		// --no-auth, and no session yet (or one of a daemon since restarted).
		b = d.startSession(w, r)
	}
	if b == nil {
		writeJSONError(w, http.StatusBadRequest, "only a browser session has a CSRF token; with the bearer token none is needed")
		return
	}
	auth := "token"
	if d.opts.Token == "" {
		auth = "none"
	}
	writeJSON(w, sessionJSON{CSRF: b.csrf, Auth: auth})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (d *Dashboard) serveState(w http.ResponseWriter, r *http.Request, _ *browserSession) {
	ctx, cancel := context.WithTimeout(r.Context(), askTimeout)
	defer cancel()
	snap, err := d.hub.current(ctx)
	if err != nil {
		writeJSONError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(snap)
}

// serveLogs answers a server's kept standard error.
func (d *Dashboard) serveLogs(w http.ResponseWriter, r *http.Request, _ *browserSession) {
	name := r.URL.Query().Get("server")
	if !isWord(name) {
		writeJSONError(w, http.StatusBadRequest, "name a server: ?server=NAME")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), askTimeout)
	defer cancel()
	answer, err := d.opts.Daemon.Ask(ctx, "logs "+name)
	if err != nil {
		writeJSONError(w, http.StatusNotFound, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(answer)
}

// isWord reports whether s can travel as one word of a request line.
func isWord(s string) bool {
	return s != "" && len(s) <= 256 && !strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f })
}

func (d *Dashboard) serveTools(ctx context.Context, body json.RawMessage) (json.RawMessage, error) {
	var req struct {
		Names   []string `json:"names"`
		Enabled *bool    `json:"enabled"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Enabled == nil || len(req.Names) == 0 {
		return nil, &badRequest{`send {"names":[TOOL...],"enabled":true|false}`}
	}
	for _, n := range req.Names {
		if !isWord(n) {
			return nil, &badRequest{fmt.Sprintf("%q is no tool name", n)}
		}
	}
	verb := "disable"
	if *req.Enabled {
		verb = "enable"
	}
	return d.opts.Daemon.Ask(ctx, "tools "+verb+" "+strings.Join(req.Names, " "))
}

func (d *Dashboard) serveWorkspace(ctx context.Context, body json.RawMessage) (json.RawMessage, error) {
	var req struct {
		Name *string `json:"name"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Name == nil {
		return nil, &badRequest{`send {"name":WORKSPACE}, or "" for the configuration's default`}
	}
	name := *req.Name
	if name == "" {
		name = "--default"
	} else if !isWord(name) || strings.HasPrefix(name, "-") {
		return nil, &badRequest{fmt.Sprintf("%q is no workspace name", name)}
	}
	return d.opts.Daemon.Ask(ctx, "workspace use "+name)
}

func (d *Dashboard) serveRestart(ctx context.Context, body json.RawMessage) (json.RawMessage, error) {
	var req struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(body, &req); err != nil || !isWord(req.Name) {
		return nil, &badRequest{`send {"name":SERVER}`}
	}
	return d.opts.Daemon.Ask(ctx, "restart "+req.Name)
}
