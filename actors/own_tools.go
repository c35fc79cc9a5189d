package actors

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/transports"
)

// OwnTool is a tool plugboard answers itself, such as
// pluggedin_discover_tools.
type OwnTool struct {
	// Definition is the tool as tools/list shows it; its name is the
	// client-facing one.
	Definition json.RawMessage
	// Call runs the tool on a goroutine of its own and returns its
	// CallToolResult, or an error for the client.
	Call func(ctx context.Context, arguments json.RawMessage) (json.RawMessage, error)
}

// ownServer is the name own tools are listed and routed under, unprefixed.
const ownServer = "plugged.in App"

// ownToolTimeout bounds one call of an own tool.
const ownToolTimeout = 60 * time.Second

// ownTools tells the router of the own tools and the actor that answers
// them.
type ownTools struct {
	pid   *actor.PID
	lists messages.ServerLists
}

func ownToolsOf(root *actor.RootContext, tools []OwnTool) *ownTools {
	byName := map[string]OwnTool{}
	var lists messages.ServerLists
	for _, t := range tools {
		var def struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal(t.Definition, &def) // plugboard's own, well formed
		byName[def.Name] = t
		lists[messages.Tools] = append(lists[messages.Tools], t.Definition)
	}
	pid := root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &ownToolsActor{tools: byName} }))
	return &ownTools{pid: pid, lists: lists}
}

// ownToolsActor answers calls of own tools, each on a goroutine.
type ownToolsActor struct{ tools map[string]OwnTool }

var callMembers = []string{"name", "arguments"}

func (a *ownToolsActor) Receive(ctx actor.Context) {
	fwd, ok := ctx.Message().(*messages.Forward)
	if !ok || fwd.Session == nil {
		return
	}
	var v [2]json.RawMessage
	var name string
	if fwd.Method != "tools/call" || transports.ReadMembers(fwd.Params, callMembers, v[:]) != nil || json.Unmarshal(v[0], &name) != nil {
		ctx.Send(fwd.Session, messages.ErrorReply(fwd.ClientID, messages.CodeInvalidParams, fmt.Sprintf("%s: plugboard's own tools answer tools/call alone", fwd.Method)))
		return
	}
	tool, ok := a.tools[name]
	if !ok {
		ctx.Send(fwd.Session, messages.ErrorReply(fwd.ClientID, messages.CodeInvalidParams, fmt.Sprintf("unknown tool: %q", name)))
		return
	}
	root, session, id, args := ctx.ActorSystem().Root, fwd.Session, fwd.ClientID, v[1]
	go func() {
		callCtx, cancel := context.WithTimeout(context.Background(), ownToolTimeout)
		defer cancel()
		result, err := tool.Call(callCtx, args)
		if err != nil {
			root.Send(session, messages.ErrorReply(id, messages.CodeInternalError, err.Error()))
			return
		}
		root.Send(session, &messages.Reply{ClientID: id, Result: result})
	}()
}

// addOwnTools lists the own tools under ownServer, ready.
func (r *routerActor) addOwnTools(ctx actor.Context, msg *ownTools) {
	r.servers[ownServer] = &routedServer{pid: msg.pid, status: statusReady, triedOnce: true}
	changed, notes := r.catalog.configureServer(ownServer, "", [numKinds]func(string) bool{})
	r.logNotes(notes)
	r.changed(ctx, changed)
	changed, notes = r.catalog.setLists(ownServer, msg.lists, [numKinds]bool{true, true, true, true})
	r.logNotes(notes)
	r.changed(ctx, changed)
}
