package actors

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/plugboard/plugboard/messages"
)

// Server states as `plugboard status` shows them.
const (
	StateReady      = "ready"
	StateStarting   = "starting"
	StateRestarting = "restarting" // a restart is pending, RetryIn away
	StateFailed     = "failed"     // down with no restart pending
	StateDisabled   = "disabled"
	StateIdle       = "idle" // stopped, or never started: no workspace in use needs it
	// StateNeedsLogin is a url server that wants a login (plugboard login);
	// it is tried again every few seconds, reading the stored login.
	StateNeedsLogin = "needs-login"
)

// ServerStatus is one server's state, supervision and catalog size. No
// field holds a secret.
type ServerStatus struct {
	Name         string
	State        string
	RetryIn      time.Duration // until the pending restart, for StateRestarting
	Transport    string
	Target       string // the redacted URL, or the command
	Tools        int
	Restarts     int
	RestartsOver time.Duration // since the first restart
	LastFailure  time.Duration // how long ago; with Reason
	Reason       string        // why it last failed
	ProcessID    int           // of a stdio server's running process; 0 when none
	Revision     string        // the protocol revision negotiated, when ready
	Uptime       time.Duration // since it was last ready; zero when not ready
	InFlight     int           // clients' requests sent to it or queued, unanswered
	Queued       int           // of InFlight, those queued
	Stderr       []string      // the last lines of its standard error, when it is not ready
}

// Status asks the router and the fleet, each by a request with ctx's
// deadline, and returns every configured server's status by name.
func (s *System) Status(ctx context.Context) ([]ServerStatus, error) {
	timeout := 5 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	snap, err := s.Snapshot(ctx, false)
	if err != nil {
		return nil, err
	}
	res, err := s.actors.Root.RequestFuture(s.fleet, &messages.SupervisionRequest{}, timeout).Result()
	if err != nil {
		return nil, fmt.Errorf("asking the fleet for its servers: %w", err)
	}
	sup, ok := res.(*messages.Supervision)
	if !ok {
		return nil, fmt.Errorf("fleet answered %T", res)
	}
	out := mergeStatus(snap, sup, time.Now())
	list, err := s.servers(ctx)
	if err != nil {
		return nil, err
	}
	infos, err := s.serverInfo(ctx, list)
	if err != nil {
		return nil, err
	}
	addRuntime(out, list, infos, time.Now())
	return out, nil
}

// addRuntime adds to each status what the server runs now, and the last
// lines of standard error of a server that is not ready.
func addRuntime(out []ServerStatus, list *messages.ServerList, infos map[string]*messages.ServerInfo, now time.Time) {
	stderr := map[string][]string{}
	for _, ref := range list.Servers {
		stderr[ref.Name] = ref.Stderr
	}
	for i := range out {
		st := &out[i]
		if info := infos[st.Name]; info != nil {
			st.ProcessID, st.Revision, st.InFlight, st.Queued = info.ProcessID, info.Revision, info.InFlight, info.Queued
			if !info.ReadySince.IsZero() {
				st.Uptime = now.Sub(info.ReadySince)
			}
		}
		if st.State != StateReady && st.State != StateDisabled && st.State != StateIdle {
			st.Stderr = stderr[st.Name]
		}
	}
}

// mergeStatus joins the router's view (state, tools) and the fleet's
// (restarts, pending restart, last failure) as of now.
func mergeStatus(snap *messages.Snapshot, sup *messages.Supervision, now time.Time) []ServerStatus {
	tools := map[string]int{}
	for _, e := range snap.Entries {
		if e.Kind == messages.Tools {
			tools[e.Server]++
		}
	}
	records := map[string]messages.SupervisedServer{}
	for _, r := range sup.Servers {
		records[r.Name] = r
	}
	out := make([]ServerStatus, 0, len(snap.Servers))
	for _, st := range snap.Servers {
		rec, supervised := records[st.Name]
		s := ServerStatus{Name: st.Name, Transport: rec.Transport, Target: rec.Target, Tools: tools[st.Name],
			Restarts: rec.Restarts, Reason: rec.LastReason}
		if s.Reason == "" {
			s.Reason = st.Reason
		}
		if rec.Restarts > 0 {
			s.RestartsOver = now.Sub(rec.FirstRestart)
		}
		if !rec.LastFailure.IsZero() {
			s.LastFailure = now.Sub(rec.LastFailure)
		}
		switch {
		case st.Status == statusDisabled:
			s.State = StateDisabled
		case st.Status == statusIdle:
			s.State = StateIdle
		case st.Status == statusReady:
			s.State = StateReady
		case rec.NeedsLogin:
			s.State = StateNeedsLogin
		case rec.NextStart.After(now):
			s.State, s.RetryIn = StateRestarting, rec.NextStart.Sub(now)
		case st.Status == statusDown && !supervised:
			s.State = StateFailed
		default: // starting, or restarting with its delay over
			s.State = StateStarting
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
