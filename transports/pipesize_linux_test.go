package transports

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestWidenPipeGrowsAPipeAndLeavesAFileAlone(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	size := func(f *os.File) int {
		n, err := unix.FcntlInt(f.Fd(), unix.F_GETPIPE_SZ, 0)
		if err != nil {
			t.Fatalf("F_GETPIPE_SZ: %v", err)
		}
		return n
	}
	if data, err := os.ReadFile("/proc/sys/fs/pipe-max-size"); err == nil && os.Geteuid() != 0 {
		if limit, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && limit < widePipe {
			t.Skipf("this system caps pipes at %d bytes", limit)
		}
	}
	before := size(w)
	WidenPipe(w)
	after := size(r) // one buffer, whichever end asked
	if after < widePipe && before < widePipe {
		t.Fatalf("the pipe's buffer is %d bytes after WidenPipe, %d before", after, before)
	}

	file, err := os.CreateTemp(t.TempDir(), "f")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	WidenPipe(file) // no error, no effect
}
