package actors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/plugboard/plugboard/messages"
	"github.com/plugboard/plugboard/transports"
)

// Version is plugboard's version as it introduces itself.
const Version = "0.1.0"

// maxListPages bounds how many pages of one list are fetched from a server
// that keeps returning cursors.
const maxListPages = 1000

// listMethods are the downstream methods that fetch each kind's list.
var listMethods = [numKinds]string{"tools/list", "prompts/list", "resources/list", "resources/templates/list"}

// runIncarnation owns one incarnation's connection: it starts it, does the
// handshake, fetches the catalog, reports to the actor, then waits until
// the connection ends (reported) or the actor lets go of it (closed).
func (s *serverActor) runIncarnation(ctx context.Context, root *actor.RootContext, self *actor.PID, inc uint64, turn *transports.SpawnTurn) {
	defer s.procs.Done()
	defer turn.Done() // when the process was never spawned
	began := time.Now()
	conn, err := s.dial(turn)
	if err != nil {
		root.Send(self, s.endedBy(inc, "failed to start: "+err.Error(), err, nil))
		return
	}
	defer conn.Close()

	// The client's sampling, elicitation and roots are offered to the
	// server only when a client offers them: wait to know.
	var offer json.RawMessage
	select {
	case offer = <-s.offer:
	case <-conn.Done():
		root.Send(self, s.endedBy(inc, conn.Reason()+" before initialization", nil, conn))
		return
	case <-ctx.Done():
		return
	}

	hsCtx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	ready, err := s.negotiate(hsCtx, conn, offer)
	cancel()
	for fresh := 0; errors.Is(err, errFreshConnection) && fresh < 2; fresh++ {
		conn.Close()
		if conn, err = s.dial(nil); err != nil {
			root.Send(self, s.endedBy(inc, "failed to start: "+err.Error(), err, nil))
			return
		}
		defer conn.Close()
		hsCtx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
		ready, err = s.negotiate(hsCtx, conn, offer)
		cancel()
	}
	if err != nil {
		if errors.Is(err, transport.ErrTransportClosed) {
			// The server went away: its exit status says more than the
			// closed pipe, and it comes a moment later.
			select {
			case <-conn.Done():
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-conn.Done():
			err = fmt.Errorf("%s during initialization", conn.Reason())
		default:
		}
		root.Send(self, s.endedBy(inc, "failed to initialize: "+err.Error(), err, conn))
		return
	}
	if v, ok := conn.(interface{ SetProtocolVersion(string) }); ok {
		v.SetProtocolVersion(ready.version)
	}
	ready.incarnation, ready.conn, ready.offer = inc, conn, offer
	// From the spawn or connection to the end of the lists, the wait for
	// the client's offer included: the server starts meanwhile.
	s.era.tookToStart(time.Since(began))
	root.Send(self, ready)
	if ready.version == messages.ModernVersion {
		kinds := listKinds(ready.caps)
		go listenModern(ctx, s.log, conn, ready.caps, defaultBackoff(), func(id int64, again bool) {
			root.Send(self, &listListenOpened{incarnation: inc, id: id, again: again, kinds: kinds})
		})
	}

	select {
	case <-conn.Done():
		root.Send(self, s.endedBy(inc, conn.Reason(), nil, conn))
	case <-ctx.Done():
	}
}

// dial starts the server's connection; a process is spawned in its turn.
func (s *serverActor) dial(turn *transports.SpawnTurn) (transports.Downstream, error) {
	root, self, inc, fleet, name := s.root, s.self, s.incarnation, s.fleet, s.cfg.Name
	handlers := transports.Handlers{
		Notification: func(method string, params json.RawMessage) {
			root.Send(self, &downstreamNotification{incarnation: inc, method: method, params: params})
		},
		Stderr: func(line string) {
			s.log.Info("downstream stderr", "line", line)
			root.Send(fleet, &messages.ServerStderr{Server: name, Line: line})
		},
		Request: func(ctx context.Context, id json.RawMessage, method string, params json.RawMessage) (json.RawMessage, *messages.RPCError) {
			return s.askClient(ctx, inc, id, method, params)
		},
	}
	if s.cfg.URL != "" {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
		defer cancel()
		return transports.DialRemote(ctx, transports.RemoteSpec{URL: s.cfg.URL, Transport: s.cfg.Transport, Headers: s.cfg.Headers, Handlers: handlers, Quirks: s.quirks, Auth: authSpec(s.cfg, s.log)})
	}
	return transports.StartProcess(context.Background(), transports.ProcessSpec{
		Command: s.cfg.Command, Args: s.cfg.Args, Env: s.cfg.Env, InheritEnv: s.cfg.InheritEnv, Dir: s.cfg.Cwd, Handlers: handlers,
		Server: s.cfg.Name, Children: s.records, Turn: turn,
	})
}

// initializeCapabilities are the server capabilities plugboard reads.
type initializeCapabilities struct {
	Tools     json.RawMessage `json:"tools"`
	Prompts   json.RawMessage `json:"prompts"`
	Resources *struct {
		Subscribe bool `json:"subscribe"`
	} `json:"resources"`
	Logging     json.RawMessage `json:"logging"`
	Completions json.RawMessage `json:"completions"`
}

// initializeResult is the part of a server's initialize answer plugboard reads.
type initializeResult struct {
	ProtocolVersion string                 `json:"protocolVersion"`
	Capabilities    initializeCapabilities `json:"capabilities"`
	Instructions    string                 `json:"instructions"`
}

// initializeRefused is a server's error answer to initialize.
type initializeRefused struct{ *messages.RPCError }

func (e *initializeRefused) Error() string {
	return fmt.Sprintf("initialize: %s (%d)", e.Message, e.Code)
}

// errNoHandshakeVersion is an initialize answered with a version that is
// not of the handshake era.
var errNoHandshakeVersion = errors.New("initialize: the server answered with a protocol version outside 2024-11-05 to 2025-11-25")

// speaksNoHandshake reports whether err says the server has no handshake
// era: it does not know initialize, or answers it with a version of
// another generation. Such a server speaks 2026-07-28 alone.
func speaksNoHandshake(err error) bool {
	var refused *initializeRefused
	return errors.Is(err, errNoHandshakeVersion) || errors.As(err, &refused) && refused.Code == messages.CodeMethodNotFound
}

// handshake initializes the server, offering it the client capabilities
// in offer, and fetches every list it offers.
func handshake(ctx context.Context, conn transports.Downstream, offer json.RawMessage) (*serverConnected, error) {
	if len(offer) == 0 {
		offer = json.RawMessage(`{}`)
	}
	params, _ := json.Marshal(map[string]any{
		"protocolVersion": mcp.LATEST_LEGACY_PROTOCOL_VERSION,
		"capabilities":    offer,
		"clientInfo":      map[string]any{"name": "plugboard", "version": Version},
	})
	raw, rpcErr, err := conn.Call(ctx, conn.NewID(), "initialize", params)
	if err != nil {
		return nil, err
	}
	if rpcErr != nil {
		return nil, &initializeRefused{rpcErr}
	}
	var init initializeResult
	if err := json.Unmarshal(raw, &init); err != nil {
		return nil, fmt.Errorf("initialize: malformed result: %w", err)
	}
	if !slices.Contains(messages.ProtocolVersions(), init.ProtocolVersion) {
		return nil, fmt.Errorf("%w (%q)", errNoHandshakeVersion, init.ProtocolVersion)
	}
	if err := conn.Notify(ctx, "notifications/initialized", nil); err != nil {
		return nil, err
	}
	ready := &serverConnected{instructions: init.Instructions, version: init.ProtocolVersion, features: serverFeatures{
		logging:     init.Capabilities.Logging != nil,
		completions: init.Capabilities.Completions != nil,
		subscribe:   init.Capabilities.Resources != nil && init.Capabilities.Resources.Subscribe,
	}}
	if err := fetchLists(ctx, conn, &init.Capabilities, ready); err != nil {
		return nil, err
	}
	return ready, nil
}

// fetchLists fetches every list the server's capabilities offer.
func fetchLists(ctx context.Context, conn transports.Downstream, caps *initializeCapabilities, ready *serverConnected) error {
	offered := [numKinds]bool{
		messages.Tools:             caps.Tools != nil,
		messages.Prompts:           caps.Prompts != nil,
		messages.Resources:         caps.Resources != nil,
		messages.ResourceTemplates: caps.Resources != nil,
	}
	for k, ok := range offered {
		if !ok {
			continue
		}
		items, err := fetchList(ctx, conn, messages.Kind(k))
		if err != nil {
			return err
		}
		ready.lists[k] = items
	}
	ready.caps = caps
	return nil
}

// fetchList fetches every page of one list.
func fetchList(ctx context.Context, conn transports.Downstream, kind messages.Kind) ([]json.RawMessage, error) {
	var items []json.RawMessage
	cursor := ""
	for range maxListPages {
		var params json.RawMessage
		if cursor != "" {
			params, _ = json.Marshal(map[string]string{"cursor": cursor})
		}
		raw, rpcErr, err := conn.Call(ctx, conn.NewID(), listMethods[kind], params)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", listMethods[kind], err)
		}
		if rpcErr != nil {
			return nil, fmt.Errorf("%s: %s (%d)", listMethods[kind], rpcErr.Message, rpcErr.Code)
		}
		pageItems, next, err := readListPage(kind, raw)
		if err != nil {
			return nil, err
		}
		items = append(items, pageItems...)
		cursor = next
		if cursor == "" {
			if md, ok := conn.(transports.ModernDownstream); ok && kind == messages.Tools {
				md.SetTools(items)
			}
			return items, nil
		}
	}
	return nil, fmt.Errorf("%s: more than %d pages", listMethods[kind], maxListPages)
}

// readListPage reads one page of a list a server sent: its items and the
// cursor of the next page ("" at the end), as decoding the result into a
// map would (a null result is an empty page; a cursor that is not a
// string ends the list), without copying the rest.
func readListPage(kind messages.Kind, raw json.RawMessage) (items []json.RawMessage, cursor string, err error) {
	var page [2]json.RawMessage
	if string(bytes.TrimSpace(raw)) != "null" {
		if err := transports.ExactMembers(raw, []string{listKeys[kind], "nextCursor"}, page[:]); err != nil {
			return nil, "", fmt.Errorf("%s: malformed result: %w", listMethods[kind], err)
		}
	}
	if list := page[0]; len(list) > 0 && string(list) != "null" {
		if items, err = transports.ArrayElements(list); err != nil {
			return nil, "", fmt.Errorf("%s: malformed %s: %w", listMethods[kind], listKeys[kind], err)
		}
	}
	if next := page[1]; len(next) > 0 {
		_ = json.Unmarshal(next, &cursor)
	}
	return items, cursor, nil
}
