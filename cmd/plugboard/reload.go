package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/plugboard/plugboard/actors"
	"github.com/plugboard/plugboard/config"
	"github.com/spf13/pflag"
)

// reloadTimeout bounds one reload: the actors take the new configuration
// in at once; the servers it starts do so behind it.
const reloadTimeout = 30 * time.Second

// reloadRequest asks the reloader to read the configuration again; why
// is what the log says caused it; the outcome goes to done, if any.
type reloadRequest struct {
	why     string
	restart []string                 // servers to restart even if unchanged
	change  func(*config.State) bool // a change to the state file first; false if it changes nothing
	// read, if set, is given the running configuration, and nothing is
	// reloaded.
	read func(*config.Config)
	done chan<- reloadOutcome
}

type reloadOutcome struct {
	diff *actors.Reconfigured
	err  error
}

// reloader reads the configuration file again when it changes, on SIGHUP
// and on `plugboard reload`, one reload at a time, and hands a valid one
// to the actors. An invalid one is rejected with one log line and the
// running configuration stays.
type reloader struct {
	sys      *actors.System
	fs       *pflag.FlagSet // the flags plugboard started with, which still override the file
	path     string
	log      *slog.Logger
	running  *config.Config
	requests chan reloadRequest
	app      *appSource // the plugged.in App's servers, merged into each load; nil without a key
	optional bool       // the file may be missing (the App is the source)
	// read is a digest of the config and state files as last read: a
	// write that leaves them as they were (the state file saved by
	// `tools disable` itself, an editor's save without a change) is no
	// reason to reload.
	read [sha256.Size]byte
}

// digest hashes the config file and the state file as they are now.
func (r *reloader) digest() [sha256.Size]byte {
	h := sha256.New()
	for _, p := range []string{r.path, config.StatePath(r.path)} {
		b, err := os.ReadFile(p)
		if err != nil {
			b = []byte("unreadable: " + err.Error())
		}
		fmt.Fprintf(h, "%d:", len(b))
		h.Write(b)
	}
	var out [sha256.Size]byte
	copy(out[:], h.Sum(nil))
	return out
}

// contentChanged reports whether the files differ from when they were
// last read.
func (r *reloader) contentChanged() bool {
	return r.digest() != r.read
}

// startReloading starts the reloader of cfg's file and its watch, until
// ctx ends. SIGHUP reloads too.
func startReloading(ctx context.Context, cfg *config.Config, fs *pflag.FlagSet, sys *actors.System, log *slog.Logger, app *appSource) *reloader {
	r := &reloader{sys: sys, fs: fs, path: cfg.Source, log: log, running: cfg, requests: make(chan reloadRequest), app: app, optional: cfg.Missing()}
	r.read = r.digest() // near enough to what cfg was loaded from
	changed := make(chan struct{}, 1)
	if cfg.Missing() {
		// No file: the plugged.in App is the source; nothing to watch.
	} else if err := config.Watch(ctx, changed, cfg.Source, cfg.StatePath); err != nil {
		log.Warn("not watching the config file: reload with SIGHUP or `plugboard reload`", "err", err)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-changed:
				if r.contentChanged() {
					r.reload(reloadRequest{why: "the config file changed"})
				}
			case <-hup:
				r.reload(reloadRequest{why: "SIGHUP"})
			case req := <-r.requests:
				r.reload(req)
			}
		}
	}()
	return r
}

// request asks for a reload and waits for its outcome.
func (r *reloader) request(ctx context.Context, req reloadRequest) (*actors.Reconfigured, error) {
	done := make(chan reloadOutcome, 1)
	req.done = done
	select {
	case r.requests <- req:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case out := <-done:
		return out.diff, out.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *reloader) reload(req reloadRequest) {
	if req.read != nil {
		req.read(r.running)
		if req.done != nil {
			req.done <- reloadOutcome{diff: &actors.Reconfigured{}}
		}
		return
	}
	var diff *actors.Reconfigured
	err := r.changeState(req.change)
	if err == nil {
		diff, err = r.apply(req.why, req.restart)
	}
	if req.done != nil {
		req.done <- reloadOutcome{diff: diff, err: err}
	}
}

// changeState applies change to the state file beside the configuration.
func (r *reloader) changeState(change func(*config.State) bool) error {
	if change == nil {
		return nil
	}
	path := config.StatePath(r.path)
	st, err := config.LoadState(path)
	if err != nil {
		return err
	}
	if !change(&st) {
		return nil
	}
	if err := config.SaveState(path, st); err != nil {
		r.log.Error("state file not saved", "file", path, "err", err.Error())
		return err
	}
	return nil
}

func (r *reloader) apply(why string, restart []string) (*actors.Reconfigured, error) {
	r.read = r.digest()
	load := config.Load
	if r.optional {
		load = config.LoadOptional
	}
	cfg, err := load(r.path, r.fs)
	if err == nil && r.app != nil {
		r.app.merge(cfg)
	}
	if err != nil {
		r.log.Error("configuration rejected; the running one stays", "reason", why, "err", err.Error())
		return nil, err
	}
	for _, w := range cfg.Warnings {
		r.log.Warn("config", "warning", w)
	}
	for _, s := range restartOnlySettings(r.running, cfg) {
		r.log.Warn("a changed setting takes effect when plugboard restarts", "setting", s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()
	diff, err := r.sys.Reload(ctx, cfg, restart...)
	if err != nil {
		r.log.Error("configuration not applied", "reason", why, "err", err.Error())
		return nil, err
	}
	r.running = cfg
	if !diff.Changed() {
		r.log.Info("configuration reloaded: no server changed", "reason", why)
		return diff, nil
	}
	r.log.Info("configuration reloaded", "reason", why, "added", list(diff.Added), "removed", list(diff.Removed),
		"restarted", list(diff.Restarted), "renamed", list(diff.Renamed), "unchanged", len(diff.Unchanged))
	return diff, nil
}

// restartOnlySettings names the settings that differ between two
// configurations and that a reload does not apply.
func restartOnlySettings(old, new *config.Config) []string {
	var out []string
	if old.LogLevel != new.LogLevel {
		out = append(out, "log_level")
	}
	if old.PageSize != new.PageSize {
		out = append(out, "page_size")
	}
	if !reflect.DeepEqual(old.HTTP, new.HTTP) {
		out = append(out, "http")
	}
	if old.Metrics != new.Metrics {
		out = append(out, "metrics")
	}
	return out
}

func list(names []string) string {
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, ",")
}

// The reload request on the unix socket: the line "reload", answered with
// one JSON line (reloadJSON), then the connection closes.
const reloadRequestLine = "reload"

// reloadJSON is what `plugboard reload --json` prints and serve answers.
type reloadJSON struct {
	Error     string   `json:"error,omitempty"`
	Added     []string `json:"added"`
	Removed   []string `json:"removed"`
	Restarted []string `json:"restarted"`
	Renamed   []string `json:"renamed"`
	Unchanged []string `json:"unchanged"`
	// DisabledTools is the set of disabled tools after a tools
	// disable|enable; Unknown the names it was given that no server
	// offers now (kept: they apply once one does).
	DisabledTools []string `json:"disabled_tools,omitempty"`
	Unknown       []string `json:"unknown,omitempty"`
}

func answerReload(d daemonParts, _ []string, conn net.Conn) {
	answerReconfigured(conn, d.reloads, reloadRequest{why: "plugboard reload"})
}

// answerReconfigured has the reloader carry out req and answers what
// changed, as reloadJSON.
func answerReconfigured(conn net.Conn, reloads *reloader, req reloadRequest) {
	answerReconfiguredWith(conn, reloads, req, nil)
}

// answerReconfiguredWith is answerReconfigured with more to say, filled
// in by more after the reload.
func answerReconfiguredWith(conn net.Conn, reloads *reloader, req reloadRequest, more func(*reloadJSON)) {
	ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()
	diff, err := reloads.request(ctx, req)
	if err != nil {
		_ = json.NewEncoder(conn).Encode(reloadJSON{Error: err.Error()})
		return
	}
	out := reloadJSON{Added: orEmpty(diff.Added), Removed: orEmpty(diff.Removed),
		Restarted: orEmpty(diff.Restarted), Renamed: orEmpty(diff.Renamed), Unchanged: orEmpty(diff.Unchanged)}
	if more != nil {
		more(&out)
	}
	_ = json.NewEncoder(conn).Encode(out)
}

func orEmpty(names []string) []string {
	if names == nil {
		return []string{}
	}
	return names
}

// runReload asks a running `plugboard serve` to read its configuration
// file again, and prints what changed. An invalid configuration is
// printed with its problem and exits 1; the daemon keeps the running one.
func runReload(socket string, asJSON bool, stdout, stderr io.Writer) int {
	return printReconfigured("plugboard reload", socket, reloadRequestLine, asJSON, stdout, stderr)
}
