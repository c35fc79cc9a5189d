package ui

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"time"
)

const (
	// cookieName holds a browser's session secret: random, neither the
	// token nor derived from it, so a leaked cookie never gives the token.
	cookieName = "plugboard_ui"
	// csrfHeader carries a session's CSRF token on every state change.
	csrfHeader = "X-Plugboard-CSRF"
	// sessionLifetime is how long a browser stays logged in.
	sessionLifetime = 12 * time.Hour
	// maxSessions bounds the browsers logged in at once; the oldest goes.
	maxSessions = 64
	// loginCodeLifetime is how long a code of `plugboard ui` opens the
	// dashboard; it does so once.
	loginCodeLifetime = time.Minute
	maxLoginCodes     = 16
)

// browserSession is one logged-in browser.
type browserSession struct {
	csrf    string
	expires time.Time
}

// sessions are the dashboard's logged-in browsers and its pending login
// codes, by secret.
type sessions struct {
	mu     sync.Mutex
	byID   map[string]*browserSession
	codes  map[string]time.Time // one-time login codes, by code, with their expiry
	nowFor func() time.Time
}

func newSessions() *sessions {
	return &sessions{byID: map[string]*browserSession{}, codes: map[string]time.Time{}, nowFor: time.Now}
}

func randomSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails on the platforms Go supports
	return hex.EncodeToString(b[:])
}

// open starts a session and returns its secret.
func (s *sessions) open() (string, *browserSession) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowFor()
	for id, b := range s.byID {
		if now.After(b.expires) {
			delete(s.byID, id)
		}
	}
	if len(s.byID) >= maxSessions {
		var oldest string
		for id, b := range s.byID {
			if oldest == "" || b.expires.Before(s.byID[oldest].expires) {
				oldest = id
			}
		}
		delete(s.byID, oldest)
	}
	id := randomSecret()
	b := &browserSession{csrf: randomSecret(), expires: now.Add(sessionLifetime)}
	s.byID[id] = b
	return id, b
}

// find returns the live session of a secret, or nil.
func (s *sessions) find(id string) *browserSession {
	if id == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.byID[id]
	if b == nil || s.nowFor().After(b.expires) {
		delete(s.byID, id)
		return nil
	}
	return b
}

func (s *sessions) close(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
}

// newCode returns a one-time login code.
func (s *sessions) newCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowFor()
	for c, exp := range s.codes {
		if now.After(exp) || len(s.codes) >= maxLoginCodes {
			delete(s.codes, c)
		}
	}
	code := randomSecret()
	s.codes[code] = now.Add(loginCodeLifetime)
	return code
}

// useCode reports whether code is a live login code, and spends it.
func (s *sessions) useCode(code string) bool {
	if code == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.codes[code]
	delete(s.codes, code)
	return ok && !s.nowFor().After(exp)
}

// access is how a request is authenticated.
type access int

const (
	denied  access = iota
	byToken        // a bearer token: not a browser's ambient credential, no CSRF check
	byCookie
	// openAccess is a request without credentials to a plugboard serve
	// --no-auth: it may read, but a change needs a browser session and
	// its CSRF token all the same.
	openAccess
)

// authenticate says how r is authenticated, and its browser session if
// by cookie.
func (d *Dashboard) authenticate(r *http.Request) (access, *browserSession) {
	if c, err := r.Cookie(cookieName); err == nil {
		if b := d.sessions.find(c.Value); b != nil {
			return byCookie, b
		}
	}
	if d.opts.Token != "" {
		if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && d.tokenMatches(token) {
			return byToken, nil
		}
	}
	if d.opts.Token == "" {
		return openAccess, nil
	}
	return denied, nil
}

func (d *Dashboard) tokenMatches(token string) bool {
	return subtle.ConstantTimeCompare([]byte(token), []byte(d.opts.Token)) == 1
}

// startSession logs a browser in: a new session and its cookie.
func (d *Dashboard) startSession(w http.ResponseWriter, r *http.Request) *browserSession {
	id, b := d.sessions.open()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: "/ui", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionLifetime / time.Second)})
	return b
}

// sameOrigin reports whether a POST comes from the dashboard's own page:
// a browser's Sec-Fetch-Site and Origin, when it sends them, must say so.
// (The fronts' guard lets any loopback origin through, and another local
// web application is one.)
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	return strings.EqualFold(origin, scheme+r.Host)
}

// csrfValid reports whether a state-changing request may proceed: by
// token, or by cookie with the session's CSRF header, from the same
// origin.
func csrfValid(r *http.Request, how access, b *browserSession) bool {
	if r.Method != http.MethodPost || !sameOrigin(r) {
		return false
	}
	if how == byToken {
		return true
	}
	got := r.Header.Get(csrfHeader)
	return how == byCookie && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(b.csrf)) == 1
}
