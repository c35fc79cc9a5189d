package transports

import (
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// NonBlockingWriter writes to a pipe or socket in non-blocking mode
// without ever waiting for room, so that a goroutine that must not block
// (one running an actor) can write a frame itself, and leave only what
// does not fit to a goroutine that may wait. Its callers keep its writes
// from overlapping.
type NonBlockingWriter struct {
	raw   syscall.RawConn
	write func(fd uintptr) bool // bound once: a write allocates nothing
	buf   []byte
	n     int
	err   error
}

// NewNonBlockingWriter returns a writer for w when w is a pipe or socket
// in non-blocking mode, which the Go runtime's poller drives (os.Pipe and
// exec.Cmd's StdinPipe make such pipes, and a net.UnixConn is such a
// socket); otherwise nil.
func NewNonBlockingWriter(w io.Writer) *NonBlockingWriter {
	raw := polledConn(w)
	if raw == nil {
		return nil
	}
	nb := &NonBlockingWriter{raw: raw}
	nb.write = nb.writeFD
	return nb
}

// polledConn returns the raw connection of v when v is a pipe or socket
// in non-blocking mode, which the Go runtime's poller drives; else nil.
func polledConn(v any) syscall.RawConn {
	conn, ok := v.(interface {
		SyscallConn() (syscall.RawConn, error)
	})
	if !ok {
		return nil
	}
	if file, ok := v.(*os.File); ok {
		if info, err := file.Stat(); err != nil || info.Mode()&(os.ModeNamedPipe|os.ModeSocket) == 0 {
			return nil
		}
	}
	raw, err := conn.SyscallConn()
	if err != nil || !nonBlocking(raw) {
		return nil
	}
	return raw
}

// nonBlocking reports whether raw's descriptor is in non-blocking mode.
func nonBlocking(raw syscall.RawConn) bool {
	on := false
	_ = raw.Control(func(fd uintptr) {
		flags, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
		on = err == nil && flags&unix.O_NONBLOCK != 0
	})
	return on
}

func (nb *NonBlockingWriter) writeFD(fd uintptr) bool {
	for {
		nb.n, nb.err = rawWrite(int(fd), nb.buf)
		if nb.err != syscall.EINTR {
			return true // never wait for the descriptor to be writable
		}
	}
}

// WriteNow writes as much of buf as the pipe or socket takes now: n <
// len(buf) with a nil error means it is full.
func (nb *NonBlockingWriter) WriteNow(buf []byte) (int, error) {
	nb.buf = buf
	err := nb.raw.Write(nb.write)
	n, werr := nb.n, nb.err
	nb.buf, nb.n, nb.err = nil, 0, nil
	if err != nil {
		return 0, err // closed
	}
	if werr == syscall.EAGAIN {
		return 0, nil
	}
	if n < 0 {
		n = 0
	}
	return n, werr
}
