package actors

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/plugboard/plugboard/messages"
)

// askEachTimeout bounds how long a gathering waits for the next answer.
const askEachTimeout = time.Second

// gatherActor asks several actors the same question and answers whoever
// started it with every reply that came, once all have or the wait for
// the next one has run out. It lives for one gathering, so that no actor
// on a call's path waits on another.
type gatherActor struct {
	targets []*actor.PID
	ask     any
	replyTo *actor.PID
	replies []any
	heard   int
}

// gatherStart starts a gathering; its sender gets a *gathered.
type gatherStart struct{}

type gathered struct{ replies []any }

func (g *gatherActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *gatherStart:
		g.replyTo = ctx.Sender()
		if len(g.targets) == 0 {
			g.finish(ctx)
			return
		}
		for _, t := range g.targets {
			ctx.Request(t, g.ask)
		}
		ctx.SetReceiveTimeout(askEachTimeout)
	case *messages.ServerInfo, *messages.SessionInfo:
		g.replies = append(g.replies, msg)
		g.heardOne(ctx)
	case *actor.DeadLetterResponse: // gone meanwhile
		g.heardOne(ctx)
	case *actor.ReceiveTimeout:
		g.finish(ctx)
	}
}

func (g *gatherActor) heardOne(ctx actor.Context) {
	if g.heard++; g.heard == len(g.targets) {
		g.finish(ctx)
	}
}

func (g *gatherActor) finish(ctx actor.Context) {
	ctx.CancelReceiveTimeout()
	ctx.Send(g.replyTo, &gathered{replies: g.replies})
	ctx.Stop(ctx.Self())
}

// gather asks each of targets ask and returns the replies that came.
func (s *System) gather(ctx context.Context, targets []*actor.PID, ask any) ([]any, error) {
	pid := s.actors.Root.Spawn(actor.PropsFromProducer(func() actor.Actor {
		return &gatherActor{targets: targets, ask: ask}
	}))
	res, err := s.actors.Root.RequestFuture(pid, &gatherStart{}, timeoutOf(ctx)).Result()
	if err != nil {
		return nil, err
	}
	g, ok := res.(*gathered)
	if !ok {
		return nil, fmt.Errorf("gathering answered %T", res)
	}
	return g.replies, nil
}

// timeoutOf is the time left before ctx's deadline, or 5 s without one.
func timeoutOf(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return time.Until(d)
	}
	return 5 * time.Second
}

// servers asks the fleet for its server actors.
func (s *System) servers(ctx context.Context) (*messages.ServerList, error) {
	res, err := s.actors.Root.RequestFuture(s.fleet, &messages.ServersRequest{}, timeoutOf(ctx)).Result()
	if err != nil {
		return nil, fmt.Errorf("asking the fleet for its servers: %w", err)
	}
	list, ok := res.(*messages.ServerList)
	if !ok {
		return nil, fmt.Errorf("fleet answered %T", res)
	}
	return list, nil
}

// serverInfo asks every server actor that is awake what it runs, by name.
func (s *System) serverInfo(ctx context.Context, list *messages.ServerList) (map[string]*messages.ServerInfo, error) {
	var awake []*actor.PID
	for _, ref := range list.Servers {
		if !ref.Asleep {
			awake = append(awake, ref.PID)
		}
	}
	replies, err := s.gather(ctx, awake, &messages.ServerInfoRequest{})
	if err != nil {
		return nil, fmt.Errorf("asking the servers: %w", err)
	}
	out := make(map[string]*messages.ServerInfo, len(replies))
	for _, r := range replies {
		info := r.(*messages.ServerInfo)
		out[info.Name] = info
	}
	return out, nil
}

// InFlight returns how many of the clients' requests each server has in
// flight or queued, by name; servers waiting for a restart have none.
func (s *System) InFlight(ctx context.Context) (map[string]int, error) {
	list, err := s.servers(ctx)
	if err != nil {
		return nil, err
	}
	infos, err := s.serverInfo(ctx, list)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(list.Servers))
	for _, ref := range list.Servers {
		if info := infos[ref.Name]; info != nil {
			out[ref.Name] = info.InFlight
		} else {
			out[ref.Name] = 0
		}
	}
	return out, nil
}

// SessionStatus is one client session as `plugboard status` shows it.
type SessionStatus struct {
	Transport  string
	ClientName string
	Workspace  string
	InFlight   int
}

// Sessions asks the router for the client sessions and each session's
// front about itself.
func (s *System) Sessions(ctx context.Context) ([]SessionStatus, error) {
	res, err := s.actors.Root.RequestFuture(s.router, &messages.SessionsRequest{}, timeoutOf(ctx)).Result()
	if err != nil {
		return nil, fmt.Errorf("asking the router for the sessions: %w", err)
	}
	list, ok := res.(*messages.SessionList)
	if !ok {
		return nil, fmt.Errorf("router answered %T", res)
	}
	replies, err := s.gather(ctx, list.Sessions, &messages.SessionInfoRequest{})
	if err != nil {
		return nil, fmt.Errorf("asking the sessions: %w", err)
	}
	out := make([]SessionStatus, 0, len(replies))
	for _, r := range replies {
		info := r.(*messages.SessionInfo)
		out = append(out, SessionStatus{Transport: info.Transport, ClientName: info.ClientName, Workspace: info.Workspace, InFlight: info.InFlight})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Transport != out[j].Transport {
			return out[i].Transport < out[j].Transport
		}
		return out[i].ClientName < out[j].ClientName
	})
	return out, nil
}

// Logs returns the standard error kept of server name: the lines from
// number after on (0 for all that are kept).
func (s *System) Logs(ctx context.Context, name string, after uint64) (*messages.Logs, error) {
	res, err := s.actors.Root.RequestFuture(s.fleet, &messages.LogsRequest{Server: name, After: after}, timeoutOf(ctx)).Result()
	if err != nil {
		return nil, fmt.Errorf("asking the fleet for the logs of %s: %w", name, err)
	}
	logs, ok := res.(*messages.Logs)
	if !ok {
		return nil, fmt.Errorf("fleet answered %T", res)
	}
	return logs, nil
}
