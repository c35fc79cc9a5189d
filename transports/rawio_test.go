package transports

import (
	"errors"
	"io"
	"os"
	"testing"
	"time"
)

// A polled reader reads what the pipe holds, waits for more, sees the end
// when the writer closes, and is ended by closing its file.
func TestPolledReaderReadsWaitsAndEnds(t *testing.T) {
	r, w, err := os.Pipe() // in non-blocking mode, as os.Pipe makes them
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	pr := NewPolledReader(r)
	if _, ok := pr.(*polledReader); !ok {
		t.Fatalf("os.Pipe's read end not read raw: %T", pr)
	}
	got := make(chan string)
	go func() {
		b, err := io.ReadAll(pr)
		if err != nil {
			b = append(b, " error: "+err.Error()...)
		}
		got <- string(b)
	}()
	w.Write([]byte("first "))
	time.Sleep(20 * time.Millisecond) // the reader waits in the poller
	w.Write([]byte("second"))
	w.Close()
	select {
	case s := <-got:
		if s != "first second" {
			t.Errorf("read %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no end of stream")
	}

	r2, w2, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	pr2 := NewPolledReader(r2)
	ended := make(chan error)
	go func() {
		_, err := pr2.Read(make([]byte, 16))
		ended <- err
	}()
	time.Sleep(20 * time.Millisecond)
	r2.Close()
	select {
	case err := <-ended:
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("a read ended by Close: %v, want os.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("closing the file did not end the read")
	}
}

// Anything but a pipe or socket in non-blocking mode is read as it is.
func TestPolledReaderLeavesOtherFilesAlone(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := NewPolledReader(f); got != io.Reader(f) {
		t.Errorf("a regular file wrapped: %T", got)
	}
}
