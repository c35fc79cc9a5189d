package transports

import (
	"os"

	"golang.org/x/sys/unix"
)

// awaitExit returns once proc has exited, parked in Go's poller on a
// pidfd rather than holding an OS thread in wait4 for the server's whole
// life (a thread per server, about 19 KiB of memory each, measured). The
// process is not reaped: Wait does that, at once. Where pidfds cannot be
// polled (a kernel before 5.10), it returns at once and Wait waits.
func awaitExit(proc *os.Process) {
	fd, err := unix.PidfdOpen(proc.Pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	conn, err := f.SyscallConn()
	if err != nil {
		return
	}
	// The pidfd is readable once the process has exited: the first call
	// says not yet, so that Read waits for the poller; the next one, after
	// it, is done.
	waited := false
	_ = conn.Read(func(uintptr) bool {
		done := waited
		waited = true
		return done
	})
}
