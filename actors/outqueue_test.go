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
	for o := range q.channel() {
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
	for o := range q.channel() {
		last = o.Frame
		count++
	}
	if string(last) != "answer" || count != kept+1 {
		t.Fatalf("got %d frames ending with %q, want %d ending with the answer", count, last, kept+1)
	}
}

// A consuming queue hands every frame over in order from a goroutine that
// runs only while there are frames, and says when it has ended.
func TestOutQueueConsumerGetsEveryFrameThenTheEnd(t *testing.T) {
	q := newOutQueue()
	got := make(chan string, 1000)
	ended := make(chan struct{})
	q.consume(func(o transports.Outbound) { got <- string(o.Frame) }, func() { close(ended) })
	for i := range 300 {
		if i%3 == 0 {
			q.offer(transports.Outbound{Frame: []byte(strconv.Itoa(i))})
		} else {
			q.push(transports.Outbound{Frame: []byte(strconv.Itoa(i))})
		}
	}
	q.close()
	<-ended
	close(got)
	i := 0
	for f := range got {
		if f != strconv.Itoa(i) {
			t.Fatalf("frame %d came as %s", i, f)
		}
		i++
	}
	if i != 300 {
		t.Fatalf("got %d frames", i)
	}
}

// A borrowed frame's buffer is reused once pushBorrowed returns: a direct
// consumer that keeps frames (the HTTP front hands them to the request
// waiting for them), or the queue, must get a copy; only a consumer that
// copies itself may be lent the buffer.
func TestOutQueuePushBorrowedLendsOnlyToACopyingConsumer(t *testing.T) {
	for _, copying := range []bool{false, true} {
		q := newOutQueue()
		var kept [][]byte
		direct := func(o transports.Outbound) bool {
			if copying {
				kept = append(kept, append([]byte(nil), o.Frame...))
			} else {
				kept = append(kept, o.Frame)
			}
			return true
		}
		if copying {
			q.consumeDirectCopying(direct, func(transports.Outbound) {}, func() {})
		} else {
			q.consumeDirect(direct, func(transports.Outbound) {}, func() {})
		}
		buf := make([]byte, 0, 16)
		for i := range 3 {
			buf = strconv.AppendInt(buf[:0], int64(i), 10)
			q.pushBorrowed(transports.Outbound{Frame: buf})
		}
		for i, frame := range kept {
			if string(frame) != strconv.Itoa(i) {
				t.Errorf("copying %v: frame %d reads %q once its buffer was reused", copying, i, frame)
			}
		}
	}
}
