package transports

import "encoding/json"

// AppendJSONString appends s as a JSON string, as json.Marshal writes it.
func AppendJSONString(b []byte, s string) []byte {
	if PlainJSONString(s) {
		// Without json.Marshal's reflection and allocation: a method or a
		// tool's name is nearly always plain.
		return append(append(append(b, '"'), s...), '"')
	}
	m, _ := json.Marshal(s) // a string always marshals
	return append(b, m...)
}

// PlainJSONString reports whether s is written in JSON as it is, between
// quotes: printable ASCII that neither JSON nor json.Marshal's HTML
// escaping would escape.
func PlainJSONString[T ~string | ~[]byte](s T) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}
