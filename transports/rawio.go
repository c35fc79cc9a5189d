package transports

import (
	"io"
	"os"
	"syscall"
	"unsafe"
)

// rawRead and rawWrite are read(2) and write(2) on a descriptor in
// non-blocking mode, made without telling Go's scheduler that a system
// call begins (syscall.RawSyscall). Such a call never waits, so the
// scheduler has nothing to do for it; told, it wakes the runtime's
// monitor thread (sysmon) whenever the process had gone idle, which on a
// proxy serving one call at a time is every call, twice: measured at
// about a fifth of plugboard's processor time per call (BENCHMARKS.md).
func rawRead(fd int, p []byte) (int, error) { return rawIO(syscall.SYS_READ, fd, p) }

func rawWrite(fd int, p []byte) (int, error) { return rawIO(syscall.SYS_WRITE, fd, p) }

// rawIO is read(2) or write(2), as trap says, of p on fd.
func rawIO(trap uintptr, fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, errno := syscall.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}

// polledReader reads a pipe or socket in non-blocking mode with rawRead,
// waiting in the Go runtime's poller when there is nothing to read, as
// os.File.Read does with a scheduled system call.
type polledReader struct {
	raw  syscall.RawConn
	read func(fd uintptr) bool // bound once: a read allocates nothing
	buf  []byte
	n    int
	err  error
}

// NewPolledReader returns a reader of f that reads with rawRead when f is
// a pipe or socket in non-blocking mode, which the runtime's poller
// drives; otherwise f itself. Closing f ends a read in progress, as it
// does f's own.
func NewPolledReader(f *os.File) io.Reader {
	raw := polledConn(f)
	if raw == nil {
		return f
	}
	r := &polledReader{raw: raw}
	r.read = r.readFD
	return r
}

func (r *polledReader) readFD(fd uintptr) bool {
	for {
		r.n, r.err = rawRead(int(fd), r.buf)
		if r.err != syscall.EINTR {
			return r.err != syscall.EAGAIN // else wait until readable
		}
	}
}

func (r *polledReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.buf = p
	err := r.raw.Read(r.read)
	n, rerr := r.n, r.err
	r.buf, r.n, r.err = nil, 0, nil
	switch {
	case err != nil:
		return 0, os.ErrClosed // the file was closed, as os.File.Read says it
	case rerr != nil:
		return 0, rerr
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}
