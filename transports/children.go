package transports

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// ChildRecords keeps, in a file of the state directory, the pids of the
// stdio servers this plugboard runs, so that the next plugboard of the
// same configuration finds those a plugboard that died without stopping
// them left behind. Each plugboard has a file of its own
// (children-CONFIGHASH-PID.json), so that plugboards of one configuration
// running side by side (two windows of a desktop client) never mistake
// each other's children for leftovers.
//
// The file is written behind the records, by a goroutine of its own:
// servers that start together (200 at a cold start) cost a write or two,
// not one write of the whole file each, and none of them waits for the
// disk before its handshake.
type ChildRecords struct {
	mu   sync.Mutex // guards file
	file childrenFile

	behind *FileBehind
	log    *slog.Logger
}

// childrenFile is what a records file holds.
type childrenFile struct {
	Config   string        `json:"config"`
	Owner    procID        `json:"owner"`
	Children []childRecord `json:"children"`
}

// procID names a process beyond its pid, which the system reuses: Start
// is the boot's id and the process's start time where the platform says
// (Linux: /proc), else "".
type procID struct {
	PID   int    `json:"pid"`
	Start string `json:"start,omitempty"`
}

type childRecord struct {
	Server string `json:"server"`
	procID
}

// OpenChildRecords starts this plugboard's records of its children for
// the configuration file config, in the private directory dir. First it
// looks for the records of dead plugboards of the same configuration: a
// child still running that is provably the recorded process (same pid and
// start time, Linux) is killed with its process group; what cannot be
// proved the same process, and members of a recorded process group whose
// leader is gone, are reported and left running. Each is logged as a
// warning naming the server and the pid.
func OpenChildRecords(dir, config string, log *slog.Logger) (*ChildRecords, error) {
	if abs, err := filepath.Abs(config); err == nil {
		config = abs
	}
	prefix := recordsPrefix(dir, config)
	self := os.Getpid()
	path := prefix + strconv.Itoa(self) + ".json"
	r := &ChildRecords{
		file: childrenFile{Config: config, Owner: procID{PID: self, Start: processStart(self)}, Children: []childRecord{}},
		log:  log,
	}
	r.behind = NewFileBehind(path, r.render, func(err error) { log.Warn("recording the servers' pids", "err", err) })
	stale, _ := filepath.Glob(prefix + "*.json")
	for _, other := range stale {
		if other != path {
			r.settleLeftovers(other)
		}
	}
	if err := r.behind.Write(); err != nil {
		return nil, err
	}
	return r, nil
}

// recordsPrefix is the start of the names of the records files of the
// plugboards of one configuration: the rest is the plugboard's pid.
func recordsPrefix(dir, config string) string {
	sum := sha256.Sum256([]byte(config))
	return filepath.Join(dir, "children-"+hex.EncodeToString(sum[:6])+"-")
}

// settleLeftovers handles one records file: nothing if its plugboard still
// runs, else its children are killed or reported and the file removed.
func (r *ChildRecords) settleLeftovers(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	var f childrenFile
	if err := json.Unmarshal(b, &f); err != nil || f.Config != r.file.Config {
		return
	}
	if sameProcess(f.Owner) != notRunning {
		return // a live plugboard of the same configuration
	}
	for _, c := range f.Children {
		switch sameProcess(c.procID) {
		case provenSame:
			// Its own process group (Setpgid): a wrapper's server goes too.
			err := syscall.Kill(-c.PID, syscall.SIGKILL)
			r.log.Warn("killed a server left running by a plugboard that died", "server", c.Server, "pid", c.PID, "err", err)
		case maybeSame:
			r.log.Warn("a server left running by a plugboard that died may still run; not killed, as pid reuse cannot be ruled out here", "server", c.Server, "pid", c.PID)
		}
		for _, pid := range groupMembers(c.procID) {
			r.log.Warn("a process of a server left running by a plugboard that died is still running; not killed, as it cannot be proved ours (kill it with kill -- -PGID)", "server", c.Server, "pid", pid, "pgid", c.PID)
		}
	}
	_ = os.Remove(path)
}

// Add records a child this plugboard started for server.
func (r *ChildRecords) Add(server string, pid int) {
	if r == nil {
		return
	}
	record := childRecord{Server: server, procID: procID{PID: pid, Start: processStart(pid)}}
	r.mu.Lock()
	r.file.Children = append(r.file.Children, record)
	r.mu.Unlock()
	r.behind.Changed()
}

// Remove forgets a child that has exited and been reaped.
func (r *ChildRecords) Remove(pid int) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.file.Children = slices.DeleteFunc(r.file.Children, func(c childRecord) bool { return c.PID == pid })
	r.mu.Unlock()
	r.behind.Changed()
}

// Close removes the records: every child has been stopped. No write
// follows.
func (r *ChildRecords) Close() {
	if r == nil {
		return
	}
	r.behind.Close(true)
}

func (r *ChildRecords) render() ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return json.Marshal(r.file)
}

// identity is how sure plugboard is that a recorded process still runs.
type identity int

const (
	notRunning identity = iota
	maybeSame           // a process has the pid; the platform cannot tell more
	provenSame          // the pid and the start time match
)

func sameProcess(p procID) identity {
	if p.PID <= 0 || !pidAlive(p.PID) {
		return notRunning
	}
	if p.Start == "" {
		return maybeSame
	}
	// A start time was recorded, so the platform tells it: none now is a
	// zombie (a dead plugboard its parent has not reaped yet), another is
	// a reused pid.
	if processStart(p.PID) == p.Start {
		return provenSame
	}
	return notRunning
}

func pidAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// fields of /proc/PID/stat after the command name, which may hold spaces.
func statFields(stat string) ([]string, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return nil, fmt.Errorf("malformed stat %q", stat)
	}
	return strings.Fields(stat[i+1:]), nil
}
