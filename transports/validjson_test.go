package transports

import (
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"
)

// validJSONCases are inputs on which validators are known to differ:
// numbers, escapes, literals, white space, nesting, bytes that are not
// UTF-8.
var validJSONCases = []string{
	``, ` `, `{}`, `[]`, ` {} `, "\t[\r\n]\n", `{`, `}`, `[`, `]`, `{]`, `[}`,
	`1`, `-1`, `-0`, `01`, `-01`, `1.`, `1.5`, `.5`, `1e`, `1e5`, `1E+5`, `1e-5`, `1.e5`, `-`, `+1`, `1.5e`, `0x1`, `1_000`, `Infinity`, `NaN`,
	`true`, `false`, `null`, `tru`, `nul`, `True`, `nulll`, `true false`, `[true,]`, `[,true]`, `[true,,false]`,
	`""`, `"a"`, `"a`, `"\"`, `"\\"`, `"\/"`, `"\u00e9"`, `"\u00G9"`, `"\u00e"`, `"\ud800"`, `"\x41"`, `"\'"`, "\"a\tb\"", "\"a\x00b\"", "\"a\x7fb\"",
	"\"\xff\xfe\"", "\"\xc3\xa9\"", "\xef\xbb\xbf{}", "{}\x00", "\v{}", "\f{}", "\u00a0{}",
	`{"a":1}`, `{"a":1,}`, `{"a" 1}`, `{"a":}`, `{a:1}`, `{'a':1}`, `{"a":1 "b":2}`, `{"a":1}{"b":2}`, `{"a":1}x`, `{"a":[1,{"b":null}]}`, `{"":""}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fx__echo","arguments":{"text":"hi"}}}`,
	strings.Repeat("[", maxFastNesting) + strings.Repeat("]", maxFastNesting),
	strings.Repeat("[", maxFastNesting+1) + strings.Repeat("]", maxFastNesting+1),
	strings.Repeat("[", maxFastNesting+1) + strings.Repeat("]", maxFastNesting),
	strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000),
	`"` + strings.Repeat("{[", 2000) + `"`,
}

// ValidJSON must answer as json.Valid does on every input: a frame one
// accepts and the other refuses would be forwarded or refused wrongly.
func TestValidJSONAgreesWithEncodingJSON(t *testing.T) {
	for _, c := range validJSONCases {
		if got, want := ValidJSON([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("ValidJSON(%.40q) = %v, json.Valid says %v", c, got, want)
		}
	}
}

func FuzzValidJSONAgreesWithEncodingJSON(f *testing.F) {
	for _, c := range validJSONCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := ValidJSON(b), json.Valid(b); got != want {
			t.Errorf("ValidJSON(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

// A frame of nothing but brackets, as long as a frame may be, is checked
// without recursing once per bracket: with goroutine stacks capped at
// 8 MiB, a recursion that deep would end the test binary.
func TestValidJSONOfDeepNestingKeepsTheStackSmall(t *testing.T) {
	defer debug.SetMaxStack(debug.SetMaxStack(8 << 20))
	for _, deep := range []string{
		strings.Repeat("[", DefaultMaxFrame-1),
		strings.Repeat("[", DefaultMaxFrame/2) + strings.Repeat("]", DefaultMaxFrame/2),
		strings.Repeat(`{"a":`, DefaultMaxFrame/8) + "1" + strings.Repeat("}", DefaultMaxFrame/8),
	} {
		if got, want := ValidJSON([]byte(deep)), json.Valid([]byte(deep)); got != want {
			t.Errorf("ValidJSON of %d bytes of nesting = %v, json.Valid says %v", len(deep), got, want)
		}
	}
}
