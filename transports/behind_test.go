package transports

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// A burst of changes ends with the file holding the last value, written
// far fewer times than it changed, with no temporary file left beside it.
func TestFileBehindCatchesUpWithABurstInFewWrites(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	var (
		mu     sync.Mutex
		value  int
		writes atomic.Int32
	)
	f := NewFileBehind(path, func() ([]byte, error) {
		writes.Add(1)
		mu.Lock()
		defer mu.Unlock()
		return fmt.Appendf(nil, "%d", value), nil
	}, func(err error) { t.Errorf("write failed: %v", err) })

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 250 {
				mu.Lock()
				value++
				mu.Unlock()
				f.Changed()
			}
		})
	}
	wg.Wait()
	f.Flush()

	got, err := os.ReadFile(path)
	if err != nil || string(got) != "1000" {
		t.Fatalf("after the burst the file holds %q (%v), want 1000", got, err)
	}
	if n := writes.Load(); n < 1 || n >= 1000 {
		t.Errorf("%d writes for 1000 changes", n)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the directory holds %d files, want the file alone", len(entries))
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("the file's mode: %v, %v", info.Mode(), err)
	}
}

// After Close nothing is written, and with remove the file is gone.
func TestFileBehindWritesNothingAfterClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	f := NewFileBehind(path, func() ([]byte, error) { return []byte("x"), nil }, nil)
	if err := f.Write(); err != nil {
		t.Fatal(err)
	}
	f.Close(true)
	f.Changed()
	f.Flush()
	if err := f.Write(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the file after Close(true): %v", err)
	}
}

// A write that fails is reported, and the next change is written.
func TestFileBehindReportsAFailedWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gone")
	path := filepath.Join(dir, "state.json")
	var failures atomic.Int32
	f := NewFileBehind(path, func() ([]byte, error) { return []byte("x"), nil }, func(error) { failures.Add(1) })
	f.Changed()
	f.Flush()
	if failures.Load() != 1 {
		t.Fatalf("%d failures reported for a write into a missing directory", failures.Load())
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	f.Changed()
	f.Flush()
	if got, err := os.ReadFile(path); err != nil || string(got) != "x" {
		t.Fatalf("after the directory came back: %q, %v", got, err)
	}
}
