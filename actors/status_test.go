package actors

import (
	"reflect"
	"testing"
	"time"

	"github.com/plugboard/plugboard/messages"
)

func TestMergeStatus(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	snap := &messages.Snapshot{
		Entries: []messages.SnapshotEntry{{Kind: messages.Tools, Server: "ok"}, {Kind: messages.Tools, Server: "ok"}, {Kind: messages.Prompts, Server: "ok"}},
		Servers: []messages.ServerState{
			{Name: "ok", Status: statusReady}, {Name: "crashy", Status: statusDown, Reason: "exited with status 3"},
			{Name: "booting", Status: statusDown}, {Name: "new", Status: statusStarting}, {Name: "off", Status: statusDisabled},
			{Name: "orphan", Status: statusDown, Reason: "gone"},
			{Name: "locked", Status: statusStarting, Reason: "needs login: run plugboard login locked"},
		},
	}
	sup := &messages.Supervision{Servers: []messages.SupervisedServer{
		{Name: "ok", Transport: "stdio", Target: "/bin/ok"},
		{Name: "crashy", Transport: "streamable-http", Target: "http://h/mcp?k=***", Restarts: 7, FirstRestart: now.Add(-3 * time.Minute),
			LastReason: "exited with status 3", LastFailure: now.Add(-time.Second), NextStart: now.Add(12 * time.Second)},
		{Name: "booting", Restarts: 1, FirstRestart: now.Add(-time.Second), LastFailure: now.Add(-time.Second), NextStart: now.Add(-time.Millisecond)},
		{Name: "new"},
		{Name: "locked", LastReason: "needs login: run plugboard login locked", LastFailure: now.Add(-time.Second), NextStart: now.Add(9 * time.Second), NeedsLogin: true},
	}}
	want := map[string]ServerStatus{
		"ok":      {Name: "ok", State: StateReady, Transport: "stdio", Target: "/bin/ok", Tools: 2},
		"crashy":  {Name: "crashy", State: StateRestarting, RetryIn: 12 * time.Second, Transport: "streamable-http", Target: "http://h/mcp?k=***", Restarts: 7, RestartsOver: 3 * time.Minute, LastFailure: time.Second, Reason: "exited with status 3"},
		"booting": {Name: "booting", State: StateStarting, Restarts: 1, RestartsOver: time.Second, LastFailure: time.Second},
		"new":     {Name: "new", State: StateStarting},
		"off":     {Name: "off", State: StateDisabled},
		"orphan":  {Name: "orphan", State: StateFailed, Reason: "gone"},
		"locked":  {Name: "locked", State: StateNeedsLogin, LastFailure: time.Second, Reason: "needs login: run plugboard login locked"},
	}
	got := mergeStatus(snap, sup, now)
	if len(got) != len(want) {
		t.Fatalf("got %d servers, want %d: %+v", len(got), len(want), got)
	}
	for i, s := range got {
		if i > 0 && got[i-1].Name >= s.Name {
			t.Errorf("not sorted by name: %s before %s", got[i-1].Name, s.Name)
		}
		if !reflect.DeepEqual(s, want[s.Name]) {
			t.Errorf("%s:\n got %+v\nwant %+v", s.Name, s, want[s.Name])
		}
	}
}
