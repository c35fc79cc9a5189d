package actors

import (
	"strconv"
	"testing"

	"github.com/plugboard/plugboard/transports"
)

// A reader that is not reading never blocks the pusher, and gets every
// answer in order once it reads, then the end.
func TestOutQueueKeepsOrderPastItsChannelAndCloses(t *testing.T) {
	q := newOutQueue()
	const n = outSlots*3 + 7
	for i := range n {
		if i%2 == 0 {
			q.push(transports.Outbound{Frame: []byte(strconv.Itoa(i))})
		} else if !q.offer(transports.Outbound{Frame: []byte(strconv.Itoa(i))}) {
			t.Fatalf("notification %d dropped with a short backlog", i)
		}
	}
	q.close()
	i := 0
	for o := range q.ch {
		if string(o.Frame) != strconv.Itoa(i) {
			t.Fatalf("frame %d came as %s", i, o.Frame)
		}
		i++
	}
	if i != n {
		t.Fatalf("got %d frames, want %d", i, n)
	}
}

func TestOutQueueDropsNotificationsPastTheBacklog(t *testing.T) {
	q := newOutQueue()
	kept := 0
	for range outSlots + maxBacklog + 10 {
		if q.offer(transports.Outbound{Frame: []byte("n")}) {
			kept++
		}
	}
	// The channel, the backlog, and the one frame the feeding goroutine
	// may hold.
	if kept < outSlots+maxBacklog || kept > outSlots+maxBacklog+1 {
		t.Fatalf("kept %d notifications, want the channel's %d and the backlog's %d", kept, outSlots, maxBacklog)
	}
	q.push(transports.Outbound{Frame: []byte("answer")}) // answers are never dropped
	q.close()
	var last []byte
	count := 0
	for o := range q.ch {
		last = o.Frame
		count++
	}
	if string(last) != "answer" || count != kept+1 {
		t.Fatalf("got %d frames ending with %q, want %d ending with the answer", count, last, kept+1)
	}
}
