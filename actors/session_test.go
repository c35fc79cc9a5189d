package actors

import (
	"bufio"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// blockingPipe is a pipe in blocking mode, as a parent hands over stdin.
func blockingPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	var fds [2]int
	if err := unix.Pipe(fds[:]); err != nil {
		t.Fatal(err)
	}
	unix.CloseOnExec(fds[0])
	unix.CloseOnExec(fds[1])
	r, w = os.NewFile(uintptr(fds[0]), "r"), os.NewFile(uintptr(fds[1]), "w")
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

func nonblocking(t *testing.T, f *os.File) bool {
	t.Helper()
	raw, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var flags int
	_ = raw.Control(func(fd uintptr) {
		flags, _ = unix.FcntlInt(fd, unix.F_GETFL, 0)
	})
	return flags&unix.O_NONBLOCK != 0
}

func TestPollableReadsABlockingPipeAndRestoresIt(t *testing.T) {
	r, w := blockingPipe(t)
	in, restore := pollable(r, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if in == io.Reader(r) {
		t.Fatal("a blocking pipe was returned as it is")
	}
	if !nonblocking(t, r) {
		t.Error("the pipe is not in non-blocking mode while it is read")
	}
	go func() {
		_, _ = w.WriteString("one\ntwo\n")
		w.Close()
	}()
	got, err := io.ReadAll(bufio.NewReader(in))
	if err != nil || string(got) != "one\ntwo\n" {
		t.Fatalf("read %q, %v", got, err)
	}
	restore()
	if nonblocking(t, r) {
		t.Error("blocking mode was not restored")
	}
	if _, err := r.Stat(); err != nil {
		t.Errorf("the original file was closed: %v", err)
	}
}

// When stdin and stdout are one socket, the end of stdin leaves it in
// non-blocking mode while the writer still uses it; the last to finish
// puts blocking mode back.
func TestOneSocketForStdinAndStdoutKeepsItsModeUntilBothAreDone(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	ours := os.NewFile(uintptr(fds[0]), "stdio")
	defer ours.Close()
	defer syscall.Close(fds[1])
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// In ServeStream's order: the writer first, then the reader.
	out, raw, restoreOut := nonBlockingWriter(ours, log)
	if out == nil || raw == nil {
		t.Fatal("the socket was not taken for non-blocking writes")
	}
	in, restoreIn := pollable(ours, log)
	if in == io.Reader(ours) {
		t.Fatal("the socket was not taken for polled reads")
	}
	restoreIn()
	if !nonblocking(t, ours) {
		t.Fatal("the end of stdin put the socket back in blocking mode while stdout still writes to it")
	}
	restoreOut()
	if nonblocking(t, ours) {
		t.Error("blocking mode was not restored once both were done")
	}
}

func TestPollableLeavesOtherReadersAlone(t *testing.T) {
	file, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	pr, pw := io.Pipe()
	defer pw.Close()
	for _, r := range []io.Reader{file, pr} {
		got, restore := pollable(r, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if got != r {
			t.Errorf("%T was replaced", r)
		}
		restore()
	}
}
