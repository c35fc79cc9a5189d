package main

import "sync"

// toolSwitch says whether extra_tool is listed. One switch serves every
// session of a process, as one catalog serves every client of a real
// server: toggling it in one session changes tools/list in all of them
// and announces notifications/tools/list_changed to each.
type toolSwitch struct {
	mu       sync.Mutex
	on       bool
	watchers map[*session]struct{}
}

func newToolSwitch() *toolSwitch {
	return &toolSwitch{watchers: make(map[*session]struct{})}
}

func (sw *toolSwitch) isOn() bool {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return sw.on
}

// toggle flips the switch, announces the change to every watching session
// and returns the new state.
func (sw *toolSwitch) toggle() bool {
	sw.mu.Lock()
	sw.on = !sw.on
	on := sw.on
	watchers := make([]*session, 0, len(sw.watchers))
	for s := range sw.watchers {
		watchers = append(watchers, s)
	}
	sw.mu.Unlock()
	for _, s := range watchers {
		s.announce("notifications/tools/list_changed", nil)
	}
	return on
}

// watch makes s hear of every toggle until unwatch.
func (sw *toolSwitch) watch(s *session) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.watchers[s] = struct{}{}
}

func (sw *toolSwitch) unwatch(s *session) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	delete(sw.watchers, s)
}
