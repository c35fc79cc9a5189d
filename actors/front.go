package actors

import (
	"encoding/json"
	"log/slog"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/transports"
)

// maxInflightPerSession caps one client session's unanswered requests:
// at the cap the session's reader stops reading until an answer goes out.
const maxInflightPerSession = 512

// Messages from a session's reader goroutine to its front.
type (
	clientFrame      struct{ frame transports.Frame }
	clientFrameError struct{ err *transports.FrameError }
	clientEnded      struct{ err error }
)

// frontActor is one client session: it turns the client's JSON-RPC
// requests into actor messages and the answers back into frames.
type frontActor struct {
	router  *actor.PID
	log     *slog.Logger
	out     chan<- []byte   // frames to the client, written by the session's writer
	credits <-chan struct{} // taken by the reader per request, returned per answer
}

// Receive handles the front's messages.
func (f *frontActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		ctx.Send(f.router, &messages.SessionOpened{Session: ctx.Self()})
	case *clientFrame:
		f.handle(ctx, &msg.frame)
	case *clientFrameError:
		f.write(transports.ErrorFrame(msg.err.ID, &messages.RPCError{Code: msg.err.Code, Message: msg.err.Message}))
	case *messages.Reply:
		f.answer(msg)
	case *messages.ListChanged:
		f.listChanged(msg)
	case *clientEnded:
		ctx.Send(f.router, &messages.SessionClosed{Session: ctx.Self()})
		ctx.Stop(ctx.Self())
	case *actor.Stopped:
		close(f.out)
	}
}

// clientListKinds maps the client's list methods to kinds.
var clientListKinds = map[string]messages.Kind{
	"tools/list":               messages.Tools,
	"prompts/list":             messages.Prompts,
	"resources/list":           messages.Resources,
	"resources/templates/list": messages.ResourceTemplates,
}

func (f *frontActor) handle(ctx actor.Context, fr *transports.Frame) {
	if !fr.IsRequest() {
		return // notifications and responses from the client: nothing to do yet
	}
	switch fr.Method {
	case "initialize":
		f.answer(&messages.Reply{ClientID: fr.ID, Result: initializeAnswer(fr.Params)})
	case "ping":
		f.answer(&messages.Reply{ClientID: fr.ID, Result: json.RawMessage(`{}`)})
	case "tools/list", "prompts/list", "resources/list", "resources/templates/list":
		var p struct {
			Cursor string `json:"cursor"`
		}
		if len(fr.Params) > 0 && json.Unmarshal(fr.Params, &p) != nil {
			f.answer(messages.ErrorReply(fr.ID, messages.CodeInvalidParams, fr.Method+": params must be an object"))
			return
		}
		ctx.Send(f.router, &messages.List{Session: ctx.Self(), ClientID: fr.ID, Kind: clientListKinds[fr.Method], Cursor: p.Cursor})
	case "tools/call", "prompts/get", "resources/read":
		ctx.Send(f.router, &messages.Route{Session: ctx.Self(), ClientID: fr.ID, Method: fr.Method, Params: fr.Params})
	default:
		f.answer(messages.ErrorReply(fr.ID, messages.CodeMethodNotFound, "method not found: "+fr.Method))
	}
}

// answer writes the response to one request and returns its credit.
func (f *frontActor) answer(r *messages.Reply) {
	if r.Error != nil {
		f.write(transports.ErrorFrame(r.ClientID, r.Error))
	} else {
		f.write(transports.ResultFrame(r.ClientID, r.Result))
	}
	<-f.credits
}

func (f *frontActor) write(frame []byte) {
	f.out <- frame // never blocks for long: answers are bounded by credits
}

// listChangedMethods are the notifications for each kind; templates share
// the resources one.
var listChangedMethods = [numKinds]string{
	"notifications/tools/list_changed",
	"notifications/prompts/list_changed",
	"notifications/resources/list_changed",
	"notifications/resources/list_changed",
}

func (f *frontActor) listChanged(msg *messages.ListChanged) {
	sent := map[string]bool{}
	for k, changed := range msg.Kinds {
		method := listChangedMethods[k]
		if !changed || sent[method] {
			continue
		}
		sent[method] = true
		select {
		case f.out <- transports.NotificationFrame(method, nil):
		default:
			f.log.Warn("client is not reading; dropped a notification", "method", method)
		}
	}
}

// supportedVersions are the protocol versions plugboard speaks with
// clients that initialize, newest first.
var supportedVersions = []string{mcp.LATEST_LEGACY_PROTOCOL_VERSION, "2025-06-18", "2025-03-26", "2024-11-05"}

// initializeAnswer is plugboard's answer to a client's initialize: the
// client's version if plugboard speaks it, else its newest.
func initializeAnswer(params json.RawMessage) json.RawMessage {
	var p struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	_ = json.Unmarshal(params, &p) // a missing version gets the newest
	version := supportedVersions[0]
	for _, v := range supportedVersions {
		if v == p.ProtocolVersion {
			version = v
		}
	}
	return mustJSON(map[string]any{
		"protocolVersion": version,
		"capabilities": map[string]any{
			"tools":     map[string]any{"listChanged": true},
			"prompts":   map[string]any{"listChanged": true},
			"resources": map[string]any{"listChanged": true},
		},
		"serverInfo": map[string]any{"name": "plugboard", "title": "plugboard MCP proxy", "version": Version},
	})
}
