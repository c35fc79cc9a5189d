package transports

import (
	"os"

	"golang.org/x/sys/unix"
)

// widePipe is the buffer WidenPipe asks for: Linux's default ceiling for
// an unprivileged process (/proc/sys/fs/pipe-max-size).
const widePipe = 1 << 20

// WidenPipe grows the kernel buffer of the pipe f to 1 MiB, from the
// default 64 KiB, so that a large frame (a listing of thousands of tools
// is megabytes) crosses in a few writes instead of one wake-up of the
// reader per 64 KiB. Not a pipe, or a refusal (the system's ceiling or the
// user's quota of pipe memory), leaves it as it was.
func WidenPipe(f *os.File) {
	raw, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		if size, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0); err == nil && size < widePipe {
			_, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, widePipe)
		}
	})
}
