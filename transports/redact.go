package transports

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"sort"
	"strings"
)

// redactedMark stands in for a secret in anything plugboard shows.
const redactedMark = "***"

// RedactURL returns raw fit for logs, errors and status output: the
// userinfo (user name and password: either may be a token) and every
// query value replaced by ***, the fragment dropped. A string that does
// not parse as a URL is replaced whole.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redactedMark
	}
	return redactURL(u)
}

func redactURL(u *url.URL) string {
	c := *u
	user := c.User != nil
	c.User = nil
	c.Fragment, c.RawFragment = "", ""
	if c.RawQuery != "" {
		parts := strings.FieldsFunc(c.RawQuery, func(r rune) bool { return r == '&' || r == ';' })
		for i, p := range parts {
			if k, _, ok := strings.Cut(p, "="); ok {
				parts[i] = k + "=" + redactedMark
			}
		}
		c.RawQuery = strings.Join(parts, "&")
	}
	shown := c.String()
	if user && c.Host != "" { // url.User would escape the mark
		if scheme, rest, ok := strings.Cut(shown, "://"); ok {
			shown = scheme + "://" + redactedMark + "@" + rest
		}
	}
	return shown
}

// secretText removes the secrets of one remote server (its URL's userinfo
// and query values, its header values) from text that a library built:
// mcp-go's errors and log records quote the URL it was given, query and
// all.
type secretText struct {
	replacer *strings.Replacer
	shown    string // the URL as RedactURL shows it
}

// minSecretLen is the shortest query value or header value removed on its
// own, outside the URL it came in: shorter ones ("1", "json") would blank
// out ordinary words. The URL itself is always replaced whole.
const minSecretLen = 6

func newSecretText(raw string, headers map[string]string) *secretText {
	var pairs []string
	add := func(secret, shown string) {
		if secret != "" && secret != shown {
			pairs = append(pairs, secret, shown)
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		add(raw, redactedMark)
		return &secretText{replacer: strings.NewReplacer(pairs...), shown: redactedMark}
	}
	shown := redactURL(u)
	// Whole URLs first, in every form a library may print them.
	add(raw, shown)
	add(u.String(), shown)
	add(u.Redacted(), shown)
	if p, ok := u.User.Password(); ok { // net/http's form
		add(strings.Replace(u.String(), p+"@", redactedMark+"@", 1), shown)
	}
	var loose []string
	if u.User != nil {
		loose = append(loose, u.User.Username(), u.User.String())
		if p, ok := u.User.Password(); ok {
			loose = append(loose, p)
		}
	}
	for _, p := range strings.FieldsFunc(u.RawQuery, func(r rune) bool { return r == '&' || r == ';' }) {
		if _, v, ok := strings.Cut(p, "="); ok {
			loose = append(loose, v)
			if dec, err := url.QueryUnescape(v); err == nil {
				loose = append(loose, dec)
			}
		}
	}
	for _, v := range headers {
		loose = append(loose, v)
		if _, token, ok := strings.Cut(v, " "); ok { // "Bearer TOKEN"
			loose = append(loose, strings.TrimSpace(token))
		}
	}
	// Longest first, so that a secret is never half replaced by a shorter
	// one it contains.
	sort.Slice(loose, func(i, j int) bool { return len(loose[i]) > len(loose[j]) })
	for _, s := range loose {
		if len(s) >= minSecretLen {
			add(s, redactedMark)
		}
	}
	return &secretText{replacer: strings.NewReplacer(pairs...), shown: shown}
}

// String removes the secrets from s.
func (x *secretText) String(s string) string { return x.replacer.Replace(s) }

// Error returns err with the secrets removed from its text. It still
// unwraps to err, so errors.Is and errors.As see through it; a *url.Error
// in its chain gets the redacted URL too, since callers print those on
// their own.
func (x *secretText) Error(err error) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = x.shown
	}
	text := err.Error()
	clean := x.String(text)
	if clean == text {
		return err
	}
	return &redactedError{text: clean, err: err}
}

// redactedError is an error whose text had secrets removed.
type redactedError struct {
	text string
	err  error
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }

// logger returns a logger that writes to slog's default handler with the
// secrets removed from messages and attribute values: for libraries that
// log on their own (mcp-go's Streamable HTTP client logs the errors of
// its listening stream).
func (x *secretText) logger() *slog.Logger {
	return slog.New(&redactingHandler{next: slog.Default().Handler(), secrets: x})
}

// redactingHandler removes one server's secrets from every record.
type redactingHandler struct {
	next    slog.Handler
	secrets *secretText
}

func (h *redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.secrets.String(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *redactingHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.secrets.String(v.String()))
	case slog.KindGroup:
		group := v.Group()
		attrs := make([]any, len(group))
		for i, g := range group {
			attrs[i] = h.attr(g)
		}
		return slog.Group(a.Key, attrs...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, h.secrets.String(err.Error()))
		}
		return slog.String(a.Key, h.secrets.String(v.String()))
	default:
		return slog.Attr{Key: a.Key, Value: v}
	}
}

func (h *redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.attr(a)
	}
	return &redactingHandler{next: h.next.WithAttrs(clean), secrets: h.secrets}
}

func (h *redactingHandler) WithGroup(name string) slog.Handler {
	return &redactingHandler{next: h.next.WithGroup(name), secrets: h.secrets}
}
