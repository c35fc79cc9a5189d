package actors

import (
	"testing"

	"github.com/plugboard/plugboard/messages"
)

// TestResolveRequestDecidesOnExactMembers: each member the router decides
// on is read by its exact name, and a request that gives one twice or
// under another case is refused as invalid params (issue 10, item 1).
func TestResolveRequestDecidesOnExactMembers(t *testing.T) {
	c := fuzzCatalog()
	tests := []struct {
		name, method, params string
		server, out          string // where it goes and what it gets; "" when refused
		code                 int
	}{
		{"tool by name", "tools/call", `{"name":"a__echo","arguments":{}}`, "alpha", `{"name":"echo","arguments":{}}`, 0},
		{"unprefixed tool", "tools/call", `{"name":"plain"}`, "beta", `{"name":"plain"}`, 0},
		{"escaped name", "tools/call", `{"n\u0061me":"plain"}`, "beta", `{"n\u0061me":"plain"}`, 0},
		{"escaped name restored in place", "tools/call", ` { "arguments" : {"name":"a__echo"} , "name" : "a\u005f_echo" } `, "alpha",
			` { "arguments" : {"name":"a__echo"} , "name" : "echo" } `, 0},
		{"Name alone is no name", "tools/call", `{"Name":"plain"}`, "", "", messages.CodeInvalidParams},
		{"smuggle: Name after name", "tools/call", `{"name":"secret","Name":"plain"}`, "", "", messages.CodeInvalidParams},
		{"smuggle: Name before name", "tools/call", `{"Name":"plain","name":"secret"}`, "", "", messages.CodeInvalidParams},
		{"name twice", "tools/call", `{"name":"plain","name":"secret"}`, "", "", messages.CodeInvalidParams},
		{"name not a string", "tools/call", `{"name":["plain"]}`, "", "", messages.CodeInvalidParams},
		{"filtered-out tool", "tools/call", `{"name":"a__secret"}`, "", "", messages.CodeInvalidParams},
		{"smuggle: Arguments after arguments", "tools/call", `{"name":"plain","arguments":{"region":"us"},"Arguments":{"region":"eu"}}`, "", "", messages.CodeInvalidParams},
		{"smuggle: arguments twice", "tools/call", `{"name":"plain","arguments":{"region":"eu"},"arguments":{"region":"us"}}`, "", "", messages.CodeInvalidParams},
		{"ARGUMENTS alone", "tools/call", `{"name":"plain","ARGUMENTS":{}}`, "", "", messages.CodeInvalidParams},
		{"a prompt's arguments are its own", "prompts/get", `{"name":"a__greeting","arguments":{},"Arguments":{}}`, "alpha", `{"name":"greeting","arguments":{},"Arguments":{}}`, 0},
		{"smuggle: a mirrored argument's case variant", "tools/call", `{"name":"mirror","arguments":{"region":"us","Region":"eu"}}`, "", "", messages.CodeInvalidParams},
		{"smuggle: a mirrored argument twice", "tools/call", `{"name":"mirror","arguments":{"region":"eu","region":"us"}}`, "", "", messages.CodeInvalidParams},
		{"smuggle: a nested mirrored argument's case variant", "tools/call", `{"name":"mirror","arguments":{"opts":{"tenant":"a","TENANT":"b"}}}`, "", "", messages.CodeInvalidParams},
		{"smuggle: the object around a mirrored argument twice", "tools/call", `{"name":"mirror","arguments":{"opts":{"tenant":"a"},"Opts":{"tenant":"b"}}}`, "", "", messages.CodeInvalidParams},
		{"unmirrored arguments of a mirroring tool may differ in case", "tools/call", `{"name":"mirror","arguments":{"region":"us","text":"a","Text":"b","opts":{"tenant":"a","x":1,"X":2}}}`, "beta",
			`{"name":"mirror","arguments":{"region":"us","text":"a","Text":"b","opts":{"tenant":"a","x":1,"X":2}}}`, 0},
		{"a mirrored path through a string", "tools/call", `{"name":"mirror","arguments":{"opts":"tenant"}}`, "beta", `{"name":"mirror","arguments":{"opts":"tenant"}}`, 0},
		{"a tool that mirrors nothing", "tools/call", `{"name":"plain","arguments":{"region":"us","Region":"eu"}}`, "beta", `{"name":"plain","arguments":{"region":"us","Region":"eu"}}`, 0},
		{"arguments may differ in case", "tools/call", `{"name":"plain","arguments":{"Name":"x","name":"y"}}`, "beta", `{"name":"plain","arguments":{"Name":"x","name":"y"}}`, 0},
		{"progress token", "tools/call", `{"name":"plain","_meta":{"progressToken":1}}`, "beta", `{"name":"plain","_meta":{"progressToken":1}}`, 0},
		{"progress token twice", "tools/call", `{"name":"plain","_meta":{"progressToken":1,"progressToken":2}}`, "", "", messages.CodeInvalidParams},
		{"ProgressToken", "tools/call", `{"name":"plain","_meta":{"ProgressToken":1}}`, "", "", messages.CodeInvalidParams},
		{"_Meta", "tools/call", `{"name":"plain","_Meta":{}}`, "", "", messages.CodeInvalidParams},
		{"prompt", "prompts/get", `{"name":"a__greeting"}`, "alpha", `{"name":"greeting"}`, 0},
		{"prompt NAME", "prompts/get", `{"name":"greeting","NAME":"a__greeting"}`, "", "", messages.CodeInvalidParams},
		{"resource", "resources/read", `{"uri":"test://alpha/r"}`, "alpha", `{"uri":"test://alpha/r"}`, 0},
		{"resource by template", "resources/read", `{"uri":"test://alpha/t/7"}`, "alpha", `{"uri":"test://alpha/t/7"}`, 0},
		{"resource URI", "resources/read", `{"uri":"test://alpha/r","URI":"test://beta/x"}`, "", "", messages.CodeInvalidParams},
		{"subscribe uri twice", "resources/subscribe", `{"uri":"test://x","uri":"test://alpha/r"}`, "", "", messages.CodeInvalidParams},
		{"completion by prompt", "completion/complete", `{"ref":{"type":"ref/prompt","name":"a__greeting"}}`, "alpha", `{"ref":{"type":"ref/prompt","name":"greeting"}}`, 0},
		{"completion Ref", "completion/complete", `{"ref":{"type":"ref/prompt","name":"a__greeting"},"Ref":{}}`, "", "", messages.CodeInvalidParams},
		{"completion ref Type", "completion/complete", `{"ref":{"type":"ref/prompt","Type":"ref/resource","name":"a__greeting"}}`, "", "", messages.CodeInvalidParams},
		{"completion ref name twice", "completion/complete", `{"ref":{"type":"ref/prompt","name":"greeting","name":"a__greeting"}}`, "", "", messages.CodeInvalidParams},
		{"completion ref Uri", "completion/complete", `{"ref":{"type":"ref/resource","uri":"test://alpha/t/{id}","Uri":"x"}}`, "", "", messages.CodeInvalidParams},
		{"completion by template", "completion/complete", `{"ref":{"type":"ref/resource","uri":"test://alpha/t/{id}"}}`, "alpha", `{"ref":{"type":"ref/resource","uri":"test://alpha/t/{id}"}}`, 0},
		{"params not an object", "tools/call", `["plain"]`, "", "", messages.CodeInvalidParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server, out, rpcErr, _ := c.resolveRequest(tt.method, []byte(tt.params))
			if tt.code != 0 {
				if rpcErr == nil || rpcErr.Code != tt.code {
					t.Fatalf("got %s %s %+v, want code %d", server, out, rpcErr, tt.code)
				}
				return
			}
			if rpcErr != nil || server != tt.server || string(out) != tt.out {
				t.Fatalf("got %q %s %+v, want %q %s", server, out, rpcErr, tt.server, tt.out)
			}
		})
	}
}
