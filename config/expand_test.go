package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestExpandVars(t *testing.T) {
	env := map[string]string{"HOST": "example.com", "EMPTY": "", "TOKEN": "s3cret"}
	lookup := func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
	tests := []struct {
		in, want string
		unset    []string
		err      string // substring of the error; "" for none
	}{
		{in: "", want: ""},
		{in: "plain", want: "plain"},
		{in: "${HOST}", want: "example.com"},
		{in: "https://${HOST}/mcp?t=${TOKEN}", want: "https://example.com/mcp?t=s3cret"},
		{in: "${MISSING}", want: "", unset: []string{"MISSING"}},
		{in: "${MISSING}-${MISSING}-${OTHER}", want: "--", unset: []string{"MISSING", "OTHER"}},
		{in: "${EMPTY}", want: ""},
		{in: "${MISSING:-def}", want: "def"},
		{in: "${EMPTY:-def}", want: "def"},
		{in: "${HOST:-def}", want: "example.com"},
		{in: "${MISSING:-}", want: ""},
		{in: "${MISSING:-a:-b c}", want: "a:-b c"},
		{in: "${MISSING:-${HOST}", want: "${HOST"},
		{in: "$HOST and $ and a$b", want: "$HOST and $ and a$b"},
		{in: "$${HOST}", want: "${HOST}"},
		{in: "a$${HOST}b${HOST}", want: "a${HOST}bexample.com"},
		{in: "${_x1}", want: "", unset: []string{"_x1"}},
		{in: "${HOST", err: `unterminated "${HOST": missing '}'`},
		{in: "ok ${HOST} ${", err: `unterminated "${"`},
		{in: "${}", err: `invalid variable reference "${}"`},
		{in: "${1A}", err: `invalid variable reference "${1A}"`},
		{in: "${A-B}", err: `invalid variable reference "${A-B}"`},
		{in: "${A.B}", err: `invalid variable reference "${A.B}"`},
		{in: "${ HOST }", err: `invalid variable reference "${ HOST }"`},
		{in: "${input:token}", err: `invalid variable reference "${input:token}"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, unset, err := expandVars(tt.in, lookup)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("expandVars(%q) error = %v, want one containing %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("expandVars(%q): %v", tt.in, err)
			}
			if got != tt.want || !reflect.DeepEqual(unset, tt.unset) {
				t.Errorf("expandVars(%q) = %q, unset %q; want %q, unset %q", tt.in, got, unset, tt.want, tt.unset)
			}
		})
	}
}
