package actors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/plugboard/plugboard/transports"
)

// errNoField reports that a JSON object lacks the field asked for.
var errNoField = errors.New("field not present")

// replaceField returns obj with the value of its top-level field key
// replaced by value (raw JSON). Every other byte of obj, including key order,
// number spelling and unknown fields, is kept.
func replaceField(obj json.RawMessage, key string, value []byte) (json.RawMessage, error) {
	start, end, err := transports.MemberBounds(obj, key)
	switch {
	case errors.Is(err, transports.ErrNoMember):
		return nil, errNoField
	case err != nil:
		return nil, fmt.Errorf("not a JSON object")
	}
	out := make([]byte, 0, len(obj)-(end-start)+len(value))
	out = append(out, obj[:start]...)
	out = append(out, value...)
	return append(out, obj[end:]...), nil
}

func isJSONSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r'
}

// quoteJSON returns s as a JSON string.
func quoteJSON(s string) []byte {
	return transports.AppendJSONString(make([]byte, 0, len(s)+2), s)
}

// setField returns obj with its top-level field key set to value: replaced
// where present, else added as the first field.
func setField(obj json.RawMessage, key string, value []byte) (json.RawMessage, error) {
	out, err := replaceField(obj, key, value)
	if !errors.Is(err, errNoField) {
		return out, err
	}
	trimmed := bytes.TrimLeft(obj, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("not a JSON object")
	}
	rest := bytes.TrimLeft(trimmed[1:], " \t\r\n")
	out = make([]byte, 0, len(obj)+len(key)+len(value)+4)
	out = append(out, '{')
	out = append(out, quoteJSON(key)...)
	out = append(out, ':')
	out = append(out, value...)
	if len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, rest...), nil
}

// field returns the raw value of obj's top-level field key, or nil. The
// value shares obj's bytes.
func field(obj json.RawMessage, key string) json.RawMessage {
	start, end, err := transports.MemberBounds(obj, key)
	if err != nil {
		return nil
	}
	return obj[start:end:end]
}
