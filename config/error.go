package config

import "strings"

// Error is a configuration problem: which file, which key in it (a dotted
// path such as "servers.github.args", empty for the file as a whole) and
// what is wrong, in plain words.
type Error struct {
	File, Key, Problem string
}

// Error returns the problem on one line: "config FILE: KEY: PROBLEM".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config")
	if e.File != "" {
		b.WriteString(" ")
		b.WriteString(e.File)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(oneLine(e.Problem))
	return b.String()
}

// oneLine joins a possibly multi-line message (parsers produce them) into
// one line, so that a log line stays a log line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.Join(lines, " ")
}
