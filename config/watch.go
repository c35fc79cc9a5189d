package config

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchSettle is how long a file must stay quiet after a change before it
// is reported: editors write a file in several steps (truncate and write,
// or write a temporary file and rename it over the old one).
const watchSettle = 200 * time.Millisecond

// Watch reports on changed, until ctx ends, each time one of the files at
// paths has changed and settled. It watches the files' directories, not
// the files, so that it survives editors that replace a file (rename over
// it, or delete and create) and files that do not exist yet; when a path
// is a symbolic link it watches the link target's directory too. A report
// may come for a change that left the content as it was; the caller
// decides whether anything changed.
func Watch(ctx context.Context, changed chan<- struct{}, paths ...string) error {
	names := map[string]bool{}
	for _, path := range paths {
		abs, err := filepath.Abs(path)
		if err != nil {
			return fmt.Errorf("watching %s: %w", path, err)
		}
		names[abs] = true
		if target, err := filepath.EvalSymlinks(abs); err == nil {
			names[target] = true
		}
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching %v: %w", paths, err)
	}
	dirs := map[string]bool{}
	for name := range names {
		dir := filepath.Dir(name)
		if dirs[dir] {
			continue
		}
		dirs[dir] = true
		if err := w.Add(dir); err != nil {
			w.Close()
			return fmt.Errorf("watching %s: %w", dir, err)
		}
	}
	go func() {
		defer w.Close()
		settle := time.NewTimer(0)
		<-settle.C
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if names[filepath.Clean(ev.Name)] && ev.Op != fsnotify.Chmod {
					settle.Reset(watchSettle)
				}
			case _, ok := <-w.Errors:
				if !ok {
					return
				}
				// An overflow of the kernel's queue may have hidden a
				// change: report one to be safe.
				settle.Reset(watchSettle)
			case <-settle.C:
				select {
				case changed <- struct{}{}:
				default: // a report is pending already
				}
			}
		}
	}()
	return nil
}
