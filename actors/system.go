// Package actors is plugboard's actor system: control turns configuration
// into orders, fleet supervises one server actor per downstream, router
// owns the namespaced catalog, and one front actor serves each client
// session. Actors do no I/O in Receive: goroutines owned by transports and
// by each server's incarnation do it and post messages.
package actors

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/plugboard/plugboard/config"
	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/metrics"
	"github.com/plugboard/plugboard/tracing"
	"github.com/plugboard/plugboard/transports"
)

// System is a running plugboard: its actors and the processes they started.
type System struct {
	actors  *actor.ActorSystem
	router  *actor.PID
	fleet   *actor.PID
	control *actor.PID
	log     *slog.Logger
	procs   sync.WaitGroup
	// headerTools are the client-facing tools whose input schema mirrors
	// parameters into HTTP headers (x-mcp-header), by name; the router
	// replaces the map whenever the tool list changes.
	headerTools atomic.Pointer[map[string]json.RawMessage]
	// workspaces are the names of the configuration's workspaces, which
	// control replaces on every (re)configuration, for sessions opening.
	workspaces atomic.Pointer[map[string]bool]
	tel        telemetry
	eras       *eraCache
}

// Options tune a System.
type Options struct {
	// Offer is what servers are offered of a client's capabilities
	// (sampling, elicitation, roots), as a JSON object. Nil makes servers
	// wait for the first client's initialize and offer what it offers.
	Offer json.RawMessage
	// EraCache is the file where plugboard remembers which protocol
	// generation each server speaks (DefaultEraCache); "" keeps that in
	// memory for this run only.
	EraCache string
	// Children records the pids of the servers' processes while they run,
	// for the next plugboard to find any this one leaves behind; nil
	// records nothing.
	Children *transports.ChildRecords
	// Activity, if set, is told of each tools/call, prompts/get and
	// resources/read on a server of the plugged.in App, once it ended.
	Activity ActivitySink
	// CatalogChanged, if set, gets a value (without waiting) whenever
	// the catalog changed.
	CatalogChanged chan<- struct{}
	// OwnTools are tools plugboard answers itself, listed unprefixed.
	OwnTools []OwnTool
	// Metrics, if set, records the calls, sessions and frames.
	Metrics *metrics.Metrics
	// Tracer, if set, gives each client request and each request sent to
	// a server a span.
	Tracer *tracing.Tracer
}

// Start starts the actors for cfg; the servers start in parallel behind it.
// log receives plugboard's records; protoactor's own go to it at warning
// level and above.
func Start(cfg *config.Config, log *slog.Logger, opts Options) *System {
	quiet := slog.New(&minLevelHandler{min: slog.LevelWarn, next: log.Handler()}).With("lib", "protoactor")
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet }))
	s := &System{actors: system, log: log, tel: telemetry{metrics: opts.Metrics, tracer: opts.Tracer}, eras: loadEraCache(opts.EraCache, log)}
	root := system.Root
	s.router = root.Spawn(newRouterProps(cfg.PageSize, log, &s.headerTools, opts.CatalogChanged))
	s.fleet = root.Spawn(newFleetProps(s.router, &s.procs, log, defaultBackoff(), opts.Offer, s.eras, opts.Children, opts.Activity, s.tel))
	if len(opts.OwnTools) > 0 {
		root.Send(s.router, ownToolsOf(root, opts.OwnTools))
	}
	s.control = root.Spawn(actor.PropsFromProducer(func() actor.Actor {
		return &controlActor{cfg: cfg, router: s.router, fleet: s.fleet, published: &s.workspaces}
	}))
	return s
}

// Reload makes cfg, validated whole, the running configuration: servers
// added start, removed ones stop (their calls in flight answered with an
// error naming the server), changed ones restart, and unchanged ones keep
// running untouched. Settings other than the servers keep the values
// plugboard started with. The servers named in restart restart even if
// unchanged (`plugboard restart`). It returns what changed.
func (s *System) Reload(ctx context.Context, cfg *config.Config, restart ...string) (*Reconfigured, error) {
	timeout := 30 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	res, err := s.actors.Root.RequestFuture(s.control, &reconfigure{cfg: cfg, restart: restart}, timeout).Result()
	if err != nil {
		return nil, fmt.Errorf("reloading: %w", err)
	}
	switch res := res.(type) {
	case *Reconfigured:
		return res, nil
	case error:
		return nil, res
	default:
		return nil, fmt.Errorf("control answered %T", res)
	}
}

// ServerTools returns each server's tools as the server listed them.
func (s *System) ServerTools(ctx context.Context) (map[string][]json.RawMessage, error) {
	res, err := s.actors.Root.RequestFuture(s.router, &messages.SnapshotRequest{Tools: true}, timeoutOf(ctx)).Result()
	if err != nil {
		return nil, fmt.Errorf("asking the router for the servers' tools: %w", err)
	}
	snap, ok := res.(*messages.Snapshot)
	if !ok {
		return nil, fmt.Errorf("router answered %T", res)
	}
	return snap.ServerTools, nil
}

// Snapshot returns the catalog and the servers' states. With wait, it
// answers once every server has been ready or failed at least once, or at
// the start-up deadline.
func (s *System) Snapshot(ctx context.Context, wait bool) (*messages.Snapshot, error) {
	timeout := time.Minute
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	res, err := s.actors.Root.RequestFuture(s.router, &messages.SnapshotRequest{Wait: wait}, timeout).Result()
	if err != nil {
		return nil, fmt.Errorf("asking the router for its catalog: %w", err)
	}
	snap, ok := res.(*messages.Snapshot)
	if !ok {
		return nil, fmt.Errorf("router answered %T", res)
	}
	return snap, nil
}

// Shutdown stops every server and waits, until ctx ends, for their
// processes to exit and for what they taught the era cache to be written.
func (s *System) Shutdown(ctx context.Context) error {
	_ = s.actors.Root.StopFuture(s.fleet).Wait()
	defer s.eras.flush()
	done := make(chan struct{})
	go func() {
		s.procs.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.actors.Shutdown()
		return nil
	case <-ctx.Done():
		return fmt.Errorf("servers still running at shutdown: %w", ctx.Err())
	}
}

// minLevelHandler drops records below min; it quiets protoactor's logger.
type minLevelHandler struct {
	min  slog.Level
	next slog.Handler
}

func (h *minLevelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.next.Enabled(ctx, l)
}
func (h *minLevelHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.next.Handle(ctx, r)
}
func (h *minLevelHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return &minLevelHandler{min: h.min, next: h.next.WithAttrs(a)}
}
func (h *minLevelHandler) WithGroup(n string) slog.Handler {
	return &minLevelHandler{min: h.min, next: h.next.WithGroup(n)}
}

// HeaderTool implements transports.HeaderTools: the definition of a
// client-facing tool that has x-mcp-header parameters, or nil.
func (s *System) HeaderTool(name string) json.RawMessage {
	if m := s.headerTools.Load(); m != nil {
		return (*m)[name]
	}
	return nil
}
