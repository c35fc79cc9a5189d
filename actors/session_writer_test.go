package actors

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/transports"
)

// On a pipe, frames are written by the caller without ever blocking it:
// what the client has not read yet waits in the backlog, which refuses
// more past its cap, and everything arrives in order once the client
// reads.
func TestStreamWriterNeverBlocksAndKeepsTheOrder(t *testing.T) {
	r, w, sw := pipeStreamWriter(t)
	text := strings.Repeat("x", 4000)
	taken := 0
	for i := range 1000 { // 4 MB: more than the pipe and the backlog hold
		if !sw.offerNow(transports.Outbound{Frame: []byte(fmt.Sprintf(`{"n":%d,"t":%q}`, i, text))}) {
			break
		}
		taken++
	}
	if taken == 1000 || taken*4000 < maxWriteBacklog {
		t.Fatalf("the writer took %d frames of 4 kB before refusing; want it to refuse once its backlog of %d bytes is full", taken, maxWriteBacklog)
	}
	done := make(chan struct{})
	go func() {
		sw.writeNow([]byte(`{"last":true}`)) // waits for room, then goes after the rest
		sw.finish()
		w.Close()
		close(done)
	}()
	lines := bufio.NewScanner(r)
	lines.Buffer(nil, 1<<20)
	for i := range taken {
		if !lines.Scan() {
			t.Fatalf("frame %d missing: %v", i, lines.Err())
		}
		if want := fmt.Sprintf(`{"n":%d,`, i); !strings.HasPrefix(lines.Text(), want) {
			t.Fatalf("frame %d starts %.20q, want %q", i, lines.Text(), want)
		}
	}
	if !lines.Scan() || lines.Text() != `{"last":true}` {
		t.Fatalf("last frame %q, want the one written after the backlog", lines.Text())
	}
	<-done
}

// Frames larger than the pipe, written without a copy, arrive whole, each
// on its own line and in order among small ones, whether the client reads
// at once or late.
func TestStreamWriterLargeFramesArriveWholeAndInOrder(t *testing.T) {
	for _, late := range []bool{false, true} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		sw := newStreamWriter(w, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if sw.raw == nil {
			t.Fatal("a pipe was not written without waiting")
		}
		var want []string
		for i := range 12 {
			size := 10
			if i%3 == 0 {
				size = largeFrame + 90_000 // more than a pipe's 64 KiB
			}
			want = append(want, fmt.Sprintf(`{"n":%d,"t":%q}`, i, strings.Repeat("y", size)))
		}
		read := make(chan []string)
		start := make(chan struct{})
		go func() {
			<-start
			lines := bufio.NewScanner(r)
			lines.Buffer(nil, 1<<20)
			var got []string
			for lines.Scan() {
				got = append(got, lines.Text())
			}
			read <- got
		}()
		if !late {
			close(start)
		}
		go func() {
			for _, f := range want {
				sw.writeNow([]byte(f))
			}
			sw.finish()
			w.Close()
		}()
		if late {
			time.Sleep(50 * time.Millisecond) // the writer meets a full pipe
			close(start)
		}
		got := <-read
		r.Close()
		if len(got) != len(want) {
			t.Fatalf("late %v: %d lines, want %d", late, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("late %v: line %d is %d bytes starting %.20q, want %d bytes starting %.20q", late, i, len(got[i]), got[i], len(want[i]), want[i])
			}
		}
	}
}

// The answers of one read of a server's stream are held until that read
// is handled and then written at once; a frame that comes meanwhile
// without the batch goes after them; a batch flushed already holds
// nothing.
func TestStreamWriterHoldsABatchsAnswersUntilItIsFlushed(t *testing.T) {
	r, _, sw := pipeStreamWriter(t)
	nothingYet := func() {
		t.Helper()
		r.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		defer r.SetReadDeadline(time.Time{})
		var b [64]byte
		if n, err := r.Read(b[:]); n > 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("the client read %q before the batch was flushed (%v)", b[:n], err)
		}
	}
	batch := transports.NewWriteBatch()
	for i := range 3 {
		sw.offerNow(transports.Outbound{Frame: []byte(fmt.Sprintf(`{"n":%d}`, i)), Batch: batch})
	}
	nothingYet()
	sw.offerNow(transports.Outbound{Frame: []byte(`{"n":3}`)}) // no batch: written now, after the held ones
	batch.Flush()
	sw.offerNow(transports.Outbound{Frame: []byte(`{"n":4}`), Batch: batch}) // flushed already: written now
	want := "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n"
	got := make([]byte, len(want))
	if _, err := io.ReadFull(r, got); err != nil || string(got) != want {
		t.Fatalf("client read %q (%v), want %q", got, err, want)
	}

	held := transports.NewWriteBatch()
	sw.offerNow(transports.Outbound{Frame: []byte(`{"n":5}`), Batch: held})
	nothingYet()
	sw.finish() // the session ends: what is held is written
	got = make([]byte, len("{\"n\":5}\n"))
	if _, err := io.ReadFull(r, got); err != nil || string(got) != "{\"n\":5}\n" {
		t.Fatalf("held frame at the end: %q (%v)", got, err)
	}
}

// pipeStreamWriter is a stream writer on a real pipe, which it writes
// without waiting, and the pipe's ends.
func pipeStreamWriter(t *testing.T) (r, w *os.File, sw *streamWriter) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	sw = newStreamWriter(w, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if sw.raw == nil {
		t.Fatal("a pipe was not written without waiting")
	}
	return r, w, sw
}
