package main

// subscriptions/listen, the 2026-07-28 way to hear of changes: a request
// that stays open, whose stream first carries
// notifications/subscriptions/acknowledged and then the change
// notifications the client opted in to, each tagged in _meta with the id
// of the listen request. It ends when the client cancels it (closing its
// HTTP stream, or notifications/cancelled on stdio), without a response,
// or when the server goes away, with a result that says so.

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
)

// changeKind is what changed.
type changeKind int

const (
	changeTools changeKind = iota
	changePrompts
	changeResources
	changeResourceUpdated
)

// change is one event a subscription may be told of.
type change struct {
	kind changeKind
	uri  string // the updated resource, for changeResourceUpdated
}

// notification is the method that tells of c, and its uri if any.
func (c change) notification() (method, uri string) {
	switch c.kind {
	case changeTools:
		return "notifications/tools/list_changed", ""
	case changePrompts:
		return "notifications/prompts/list_changed", ""
	case changeResources:
		return "notifications/resources/list_changed", ""
	default:
		return "notifications/resources/updated", c.uri
	}
}

// subscriptionFilter is the notifications a listen request opts in to,
// and the ones its acknowledgement agrees to.
type subscriptionFilter struct {
	ToolsListChanged      bool     `json:"toolsListChanged,omitempty"`
	PromptsListChanged    bool     `json:"promptsListChanged,omitempty"`
	ResourcesListChanged  bool     `json:"resourcesListChanged,omitempty"`
	ResourceSubscriptions []string `json:"resourceSubscriptions,omitempty"`
}

func (f subscriptionFilter) accepts(c change) bool {
	switch c.kind {
	case changeTools:
		return f.ToolsListChanged
	case changePrompts:
		return f.PromptsListChanged
	case changeResources:
		return f.ResourcesListChanged
	default:
		return slices.Contains(f.ResourceSubscriptions, c.uri)
	}
}

// listener is one open subscription.
type listener struct {
	filter  subscriptionFilter
	deliver func(change)
	ended   func() bool // the subscription was cancelled (it may not be unsubscribed yet)
}

// listenerHub holds the open subscriptions of a process, across
// transports and sessions, as the list switches and resources are
// process-wide.
type listenerHub struct {
	mu        sync.Mutex
	listeners map[*listener]struct{}
}

func newListenerHub() *listenerHub {
	return &listenerHub{listeners: make(map[*listener]struct{})}
}

// subscribe acknowledges l with ack and adds it; no change reaches l
// before its acknowledgement.
func (h *listenerHub) subscribe(l *listener, ack func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ack()
	h.listeners[l] = struct{}{}
}

func (h *listenerHub) unsubscribe(l *listener) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.listeners, l)
}

// publish tells every subscription that wants to hear of c, and returns
// how many did.
func (h *listenerHub) publish(c change) int {
	h.mu.Lock()
	var heard []*listener
	for l := range h.listeners {
		if l.filter.accepts(c) && (l.ended == nil || !l.ended()) {
			heard = append(heard, l)
		}
	}
	h.mu.Unlock()
	for _, l := range heard {
		l.deliver(c)
	}
	return len(heard)
}

// subscriptionParams are the params of the notifications on a listen
// stream, tagged with the subscription's id.
type subscriptionParams struct {
	Meta          map[string]json.RawMessage `json:"_meta"`
	Notifications *subscriptionFilter        `json:"notifications,omitempty"`
	URI           string                     `json:"uri,omitempty"`
}

// listen serves subscriptions/listen until the client cancels it or the
// session closes.
func (s *session) listen(ctx context.Context, params json.RawMessage) (any, error) {
	var p struct {
		Notifications *subscriptionFilter `json:"notifications"`
	}
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if p.Notifications == nil {
		return nil, invalidParams("Invalid params: subscriptions/listen needs notifications, the filter of what to hear")
	}
	m, _ := modernOf(ctx)
	tag := map[string]json.RawMessage{metaSubscriptionID: m.id}
	l := &listener{filter: *p.Notifications, deliver: func(c change) {
		if ctx.Err() != nil {
			return // nothing may follow a cancellation
		}
		method, uri := c.notification()
		s.notify(ctx, method, subscriptionParams{Meta: tag, URI: uri})
	}, ended: func() bool { return ctx.Err() != nil }}
	s.shared.listeners.subscribe(l, func() {
		s.notify(ctx, "notifications/subscriptions/acknowledged", subscriptionParams{Meta: tag, Notifications: &l.filter})
	})
	defer s.shared.listeners.unsubscribe(l)
	s.logger.Printf("subscription %s listening for %s", m.id, mustRaw(l.filter))

	select {
	case <-ctx.Done():
		s.logger.Printf("subscription %s cancelled by the client", m.id)
		return nil, ctx.Err()
	case <-s.closing:
		s.logger.Printf("subscription %s closed by the server", m.id)
		return listenClosed{Meta: map[string]json.RawMessage{
			metaSubscriptionID: m.id,
			metaServerInfo:     mustRaw(implementation{Name: s.cfg.name, Version: serverVersion}),
		}}, nil
	}
}

// listenClosed is the result that ends a subscription gracefully.
type listenClosed struct {
	Meta map[string]json.RawMessage `json:"_meta"`
}
