package actors

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/plugboard/plugboard/config"
	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/transports"
)

// ActivitySink takes what a call to a server of the plugged.in App did,
// once the call ended. It must not block: the server actor calls it.
type ActivitySink func(messages.Activity)

// activityActions are the calls reported, by method.
var activityActions = map[string]string{
	"tools/call":     "tool_call",
	"prompts/get":    "prompt_get",
	"resources/read": "resource_read",
}

var (
	nameMembers = []string{"name"}
	uriMembers  = []string{"uri"}
)

// pendingActivity is the report of a call in flight to an App server.
type pendingActivity struct {
	messages.Activity
	started time.Time
}

// appActivity starts the report of a call to an App server, or returns
// nil for a method that is not reported. params are the server's own.
func appActivity(cfg config.Server, method string, params json.RawMessage) *pendingActivity {
	action, ok := activityActions[method]
	if !ok {
		return nil
	}
	members := nameMembers
	if method == "resources/read" {
		members = uriMembers
	}
	var v [1]json.RawMessage
	var item string
	if transports.ReadMembers(params, members, v[:]) == nil && v[0] != nil {
		_ = json.Unmarshal(v[0], &item)
	}
	return &pendingActivity{Activity: messages.Activity{Action: action, ServerName: cfg.AppName, ServerUUID: cfg.AppUUID, ItemName: item}, started: time.Now()}
}

var isErrorTrue = []byte(`"isError":true`)

// reportActivity completes a call's report with its outcome and hands it
// to the sink.
func (s *serverActor) reportActivity(p *pendingCall, done *callDone) {
	a := p.activity.Activity
	a.ExecutionTime = time.Since(p.activity.started)
	switch {
	case done.err != nil:
		a.ErrorMessage = done.err.Error()
	case done.rpcErr != nil:
		a.ErrorMessage = done.rpcErr.Message
	case bytes.Contains(done.result, isErrorTrue):
		a.ErrorMessage = "the tool answered with isError"
	default:
		a.Success = true
	}
	s.activity(a)
}
