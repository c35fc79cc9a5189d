package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
)

// listenAs listens on a unix socket at path as a process of uid would:
// the socket file is that user's, and SO_PEERCRED names that uid to whoever
// connects. Connections are closed at once.
func listenAs(t *testing.T, path string, uid int) {
	t.Helper()
	// Only one thread takes the uid (Linux credentials are per thread),
	// and it binds in a directory that user may write; the file is then
	// moved into place.
	scratch, err := os.MkdirTemp("", "plugboard-foreign-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(scratch) })
	if err := os.Chmod(scratch, 0o777); err != nil {
		t.Fatal(err)
	}
	type result struct {
		ln  net.Listener
		err error
	}
	got := make(chan result, 1)
	go func() {
		// Never unlocked: the thread ends with this goroutine, and its
		// borrowed uid with it.
		runtime.LockOSThread()
		if _, _, errno := syscall.RawSyscall(syscall.SYS_SETRESUID, ^uintptr(0), uintptr(uid), ^uintptr(0)); errno != 0 {
			got <- result{err: fmt.Errorf("setresuid: %w", errno)}
			return
		}
		ln, err := net.Listen("unix", filepath.Join(scratch, "s.sock"))
		got <- result{ln, err}
	}()
	r := <-got
	if r.err != nil {
		t.Fatal(r.err)
	}
	r.ln.(*net.UnixListener).SetUnlinkOnClose(false)
	t.Cleanup(func() { r.ln.Close() })
	if err := os.Rename(filepath.Join(scratch, "s.sock"), path); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			conn, err := r.ln.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
}
