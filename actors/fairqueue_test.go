package actors

import (
	"strconv"
	"strings"
	"testing"
)

// TestFairQueue runs scripts of steps against a fair queue of strings.
// Each step is "op args => want":
//
//	start S => true|false     a request of session S goes out now
//	done S                    one of S's requests is answered
//	push S item => -|refused  item queued ("-") or the item refused
//	pop => item|none          the next queued request for a free slot
//	withdraw S item => true|false
//	count => inflight/queued
func TestFairQueue(t *testing.T) {
	tests := []struct {
		name     string
		inflight int
		queued   int
		steps    []string
	}{
		{
			name: "below the cap every call goes straight out", inflight: 2, queued: 2,
			steps: []string{"start A => true", "start B => true", "start A => false", "done A", "start A => true", "count => 2/0"},
		},
		{
			name: "queued calls go out in arrival order for a single session", inflight: 1, queued: 3,
			steps: []string{"start A => true", "push A a1 => -", "push A a2 => -", "pop => none", "done A",
				"pop => a1", "start A => true", "pop => none", "done A", "pop => a2"},
		},
		{
			// Session A holds every slot and a queue of its own; B's one
			// call goes out at the first freed slot, not after A's queue.
			name: "a newcomer below its share goes first", inflight: 4, queued: 8,
			steps: []string{"start A => true", "start A => true", "start A => true", "start A => true",
				"push A a1 => -", "push A a2 => -", "push A a3 => -", "push B b1 => -",
				"done A", "pop => b1", "start B => true", "pop => none",
				"done A", "pop => a1", "start A => true"},
		},
		{
			// Each freed slot goes to the session served least recently:
			// C, never served, first.
			name: "freed slots go round robin among sessions with queued calls", inflight: 2, queued: 8,
			steps: []string{"start A => true", "start B => true",
				"push A a1 => -", "push A a2 => -", "push B b1 => -", "push B b2 => -", "push C c1 => -",
				"done A", "pop => c1", "start C => true",
				"done B", "pop => a1", "start A => true",
				"done A", "pop => b1", "start B => true",
				"done C", "pop => a2", "start A => true",
				"done B", "pop => b2", "start B => true", "pop => none"},
		},
		{
			// A slot goes to the session below its share of slots, even
			// when another session's turn comes first.
			name: "freed slots go to the session below its share", inflight: 2, queued: 8,
			steps: []string{"start A => true", "start B => true",
				"push A a1 => -", "push A a2 => -", "push B b1 => -",
				"done A", "pop => a1", "start A => true",
				"done A", "pop => a2", "start A => true",
				"done B", "pop => b1"},
		},
		{
			name: "a full queue refuses the session that holds it all, alone", inflight: 1, queued: 2,
			steps: []string{"start A => true", "push A a1 => -", "push A a2 => -", "push A a3 => a3", "count => 1/2"},
		},
		{
			// The queue is A's; B arrives: A's newest queued call is
			// refused to make room, and then A's further calls are.
			name: "a full queue makes room for a newcomer at the expense of the session over its share", inflight: 1, queued: 4,
			steps: []string{"start A => true", "push A a1 => -", "push A a2 => -", "push A a3 => -", "push A a4 => -",
				"push B b1 => a4", "push A a5 => a5", "push B b2 => a3", "push B b3 => b3", "count => 1/4",
				"done A", "pop => b1", "start B => true", "done B", "pop => a1"},
		},
		{
			name: "nobody over its share: the newcomer is refused", inflight: 1, queued: 2,
			steps: []string{"start C => true", "push A a1 => -", "push B b1 => -", "push C c1 => c1", "count => 1/2"},
		},
		{
			name: "withdrawing a queued call frees its place", inflight: 1, queued: 2,
			steps: []string{"start A => true", "push A a1 => -", "push B b1 => -", "withdraw A a1 => true", "withdraw A a1 => false",
				"count => 1/1", "push A a2 => -", "done A", "pop => b1", "start B => true", "done B", "pop => a2"},
		},
		{
			name: "done for a session with nothing in flight changes nothing", inflight: 1, queued: 1,
			steps: []string{"done A", "count => 0/0", "start A => true", "start A => false"},
		},
		{
			name: "a server that is not ready queues everything and then serves round robin", inflight: 3, queued: 8,
			steps: []string{"push A a1 => -", "push A a2 => -", "push A a3 => -", "push B b1 => -", "push C c1 => -",
				"pop => a1", "start A => true", "pop => b1", "start B => true", "pop => c1", "start C => true", "pop => none",
				"done A", "pop => a2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newFairQueue[string](tt.inflight, tt.queued)
			for i, step := range tt.steps {
				op, want, _ := strings.Cut(step, " => ")
				f := strings.Fields(op)
				var got string
				switch f[0] {
				case "start":
					got = boolText(q.start(f[1]))
				case "done":
					q.done(f[1])
					continue
				case "push":
					got = "-"
					if refused, ok := q.push(f[1], f[2]); ok {
						got = refused
					}
				case "pop":
					got = "none"
					if item, ok := q.pop(); ok {
						got = item
					}
				case "withdraw":
					got = boolText(q.withdraw(f[1], func(s string) bool { return s == f[2] }))
				case "count":
					got = strconv.Itoa(q.inflight) + "/" + strconv.Itoa(q.queued)
				default:
					t.Fatalf("step %d: unknown op %q", i, f[0])
				}
				if got != want {
					t.Fatalf("step %d %q: got %s", i, step, got)
				}
			}
		})
	}
}

func TestFairQueueTakeQueuedAndReset(t *testing.T) {
	q := newFairQueue[string](1, 4)
	q.start("A")
	q.push("A", "a1")
	q.push("B", "b1")
	q.push("A", "a2")
	got := strings.Join(q.takeQueued(), ",")
	if got != "a1,a2,b1" {
		t.Errorf("takeQueued = %s, want a1,a2,b1", got)
	}
	if _, ok := q.pop(); ok || q.queued != 0 {
		t.Errorf("the queue is not empty after takeQueued")
	}
	q.reset()
	if !q.start("B") {
		t.Errorf("no slot free after reset")
	}
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
