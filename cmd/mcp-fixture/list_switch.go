package main

import "sync"

// shared is what every session of one process has in common, as one
// catalog serves every client of a real server: the switches that change
// the tool and prompt lists, the 2026-07-28 subscriptions that hear of
// those changes, and the key that seals request state.
type shared struct {
	tools     *listSwitch // adds extra_tool
	prompts   *listSwitch // adds extra_prompt
	listeners *listenerHub
	states    *stateSealer
	ttlMs     int // the ttlMs hint of every cacheable 2026-07-28 result
}

func newShared(ttlMs int) *shared {
	hub := newListenerHub()
	return &shared{
		tools:     newListSwitch("notifications/tools/list_changed", changeTools, hub),
		prompts:   newListSwitch("notifications/prompts/list_changed", changePrompts, hub),
		listeners: hub,
		states:    newStateSealer(),
		ttlMs:     ttlMs,
	}
}

// listSwitch says whether an extra item is listed. Toggling it in one
// session changes the list in all of them, announces the change to every
// legacy session and publishes it to every 2026-07-28 subscription that
// asked for it.
type listSwitch struct {
	notification string // what legacy sessions are told, e.g. notifications/tools/list_changed
	change       changeKind
	hub          *listenerHub

	mu       sync.Mutex
	on       bool
	watchers map[*session]struct{}
}

func newListSwitch(notification string, change changeKind, hub *listenerHub) *listSwitch {
	return &listSwitch{notification: notification, change: change, hub: hub, watchers: make(map[*session]struct{})}
}

func (sw *listSwitch) isOn() bool {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return sw.on
}

// toggle flips the switch, tells every watching session and subscription
// and returns the new state.
func (sw *listSwitch) toggle() bool {
	sw.mu.Lock()
	sw.on = !sw.on
	on := sw.on
	watchers := make([]*session, 0, len(sw.watchers))
	for s := range sw.watchers {
		watchers = append(watchers, s)
	}
	sw.mu.Unlock()
	for _, s := range watchers {
		s.announce(sw.notification, nil)
	}
	sw.hub.publish(change{kind: sw.change})
	return on
}

// watch makes s hear of every toggle until unwatch.
func (sw *listSwitch) watch(s *session) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.watchers[s] = struct{}{}
}

func (sw *listSwitch) unwatch(s *session) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	delete(sw.watchers, s)
}
