package transports

import (
	"os"
	"path/filepath"
	"sync"
	"time"
)

// FileBehind keeps a file in step with a value that changes in bursts.
// Changed asks for a write; a goroutine, started for the burst and ended
// once the file has caught up, waits burstWait for the changes that come
// with the first, renders the value as it is then and
// replaces the file at once (a temporary file renamed over it), so a
// reader never sees half of it. Twenty changes during one write cost one
// more write, not twenty, and whoever changed the value never waits for
// the disk.
type FileBehind struct {
	path   string
	render func() ([]byte, error) // the file's content now; called with no lock of FileBehind held
	failed func(error)            // told of a write that failed; may be nil

	mu      sync.Mutex // guards the fields below
	dirty   bool       // a change came after the last write began
	closed  bool
	running bool          // a goroutine is writing the burst
	idle    chan struct{} // closed when that goroutine ends

	writing sync.Mutex // held for each write, so writes never cross
}

// NewFileBehind keeps path in step with what render returns.
func NewFileBehind(path string, render func() ([]byte, error), failed func(error)) *FileBehind {
	return &FileBehind{path: path, render: render, failed: failed}
}

// Changed has the file written again soon; a write already pending takes
// this change too. After Close it does nothing.
func (f *FileBehind) Changed() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.dirty = true
	if !f.running {
		f.running = true
		f.idle = make(chan struct{})
		go f.catchUp()
	}
}

// burstWait is how long a burst's first write waits for the changes that
// follow it: servers starting together are added one by one, a
// millisecond or so apart.
const burstWait = 10 * time.Millisecond

// catchUp writes until no change is pending.
func (f *FileBehind) catchUp() {
	time.Sleep(burstWait)
	for {
		f.mu.Lock()
		if !f.dirty || f.closed {
			f.running = false
			close(f.idle)
			f.mu.Unlock()
			return
		}
		f.dirty = false
		f.mu.Unlock()
		if err := f.Write(); err != nil && f.failed != nil {
			f.failed(err)
		}
	}
}

// Write writes the file now and says whether that failed; after Close it
// writes nothing.
func (f *FileBehind) Write() error {
	f.writing.Lock()
	defer f.writing.Unlock()
	f.mu.Lock()
	closed := f.closed
	f.mu.Unlock()
	if closed {
		return nil
	}
	data, err := f.render()
	if err != nil {
		return err
	}
	dir, base := filepath.Split(f.path)
	tmp, err := os.CreateTemp(dir, base+".*.tmp") // mode 0600
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), f.path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return err
}

// Flush returns once every change made before it is in the file (or its
// write has failed).
func (f *FileBehind) Flush() {
	f.mu.Lock()
	running, idle := f.running, f.idle
	f.mu.Unlock()
	if running {
		<-idle
	}
}

// Close ends the writes: a pending change is dropped, a write under way
// finishes first. With remove the file is deleted.
func (f *FileBehind) Close(remove bool) {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.writing.Lock()
	defer f.writing.Unlock()
	if remove {
		_ = os.Remove(f.path)
	}
}
