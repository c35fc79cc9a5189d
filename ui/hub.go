package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// pollEvery is how often the daemon is asked for its state while a
// browser watches; a change made from the dashboard is asked at once.
const pollEvery = time.Second

// hub asks the daemon for its state while at least one event stream is
// open, and sends each stream every snapshot that differs from the last.
// With no stream open it asks nothing.
type hub struct {
	daemon  Daemon
	traffic Traffic
	log     *slog.Logger

	mu        sync.Mutex
	listeners map[chan []byte]struct{}
	running   bool
	pokes     chan struct{}
	closed    chan struct{}
	last      []byte // the last snapshot sent
	history   *history
}

func newHub(daemon Daemon, traffic Traffic, log *slog.Logger) *hub {
	return &hub{daemon: daemon, traffic: traffic, log: log, listeners: map[chan []byte]struct{}{},
		pokes: make(chan struct{}, 1), closed: make(chan struct{}), history: newHistory()}
}

// poke has the poller ask at once, after a change.
func (h *hub) poke() {
	select {
	case h.pokes <- struct{}{}:
	default:
	}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.closed:
	default:
		close(h.closed)
	}
}

// subscribe adds a stream; the first starts the poller.
func (h *hub) subscribe() chan []byte {
	ch := make(chan []byte, 4)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.listeners[ch] = struct{}{}
	if h.last != nil {
		ch <- h.last
	}
	if !h.running {
		h.running = true
		go h.poll()
	}
	return ch
}

func (h *hub) unsubscribe(ch chan []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.listeners, ch)
}

// poll asks the daemon every pollEvery, or when poked, until no stream is
// left.
func (h *hub) poll() {
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), askTimeout)
		snap, err := h.snapshot(ctx)
		cancel()
		h.mu.Lock()
		if len(h.listeners) == 0 {
			h.running, h.last = false, nil
			h.mu.Unlock()
			return
		}
		if err != nil {
			h.log.Debug("dashboard: asking the daemon", "err", err)
		} else if !bytes.Equal(snap, h.last) {
			h.last = snap
			for ch := range h.listeners {
				select {
				case ch <- snap:
				default: // a slow browser gets the next one
				}
			}
		}
		h.mu.Unlock()
		select {
		case <-h.closed:
			h.mu.Lock()
			h.running = false
			h.mu.Unlock()
			return
		case <-tick.C:
		case <-h.pokes:
		}
	}
}

// current is the latest snapshot, asked now.
func (h *hub) current(ctx context.Context) ([]byte, error) {
	return h.snapshot(ctx)
}

// snapshotJSON is what the page renders: the socket's answers as they
// are, and what the dashboard adds.
type snapshotJSON struct {
	Status     json.RawMessage            `json:"status"`     // as plugboard status --json
	Catalog    json.RawMessage            `json:"catalog"`    // as plugboard tools --json
	Workspaces json.RawMessage            `json:"workspaces"` // as plugboard workspace list --json
	Traffic    map[string]trafficRateJSON `json:"traffic"`    // null when unknown
	Activity   []activityJSON             `json:"activity"`
}

// snapshot asks the daemon for its state and adds the rates and activity.
func (h *hub) snapshot(ctx context.Context) ([]byte, error) {
	var out snapshotJSON
	var err error
	if out.Status, err = h.daemon.Ask(ctx, "status"); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	if out.Catalog, err = h.daemon.Ask(ctx, "tools"); err != nil {
		return nil, fmt.Errorf("tools: %w", err)
	}
	if out.Workspaces, err = h.daemon.Ask(ctx, "workspace list"); err != nil {
		return nil, fmt.Errorf("workspace list: %w", err)
	}
	var counts map[string]TrafficCounts
	if h.traffic != nil {
		counts = h.traffic.ServerTraffic()
	}
	out.Traffic, out.Activity = h.history.observe(time.Now(), out.Status, out.Catalog, out.Workspaces, counts)
	return json.Marshal(out)
}

// serveEvents streams snapshots as server-sent events until the browser
// leaves.
func (d *Dashboard) serveEvents(w http.ResponseWriter, r *http.Request, _ *browserSession) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeJSONError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprint(w, "retry: 2000\n\n")
	flusher.Flush()
	ch := d.hub.subscribe()
	defer d.hub.unsubscribe(ch)
	keepAlive := time.NewTicker(25 * time.Second)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-d.hub.closed:
			return
		case snap := <-ch:
			if _, err := fmt.Fprintf(w, "event: state\ndata: %s\n\n", snap); err != nil {
				return
			}
			flusher.Flush()
		case <-keepAlive.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}
