package transports

import (
	"os/exec"
	"runtime"
	"sync"
)

// Servers are started on one OS thread that lives as long as plugboard.
// Linux sends a child its parent-death signal (childSysProcAttr) when the
// thread that forked it ends, not the process (golang/go#27505), and Go
// ends a thread when a goroutine locked to it returns. The spawner's
// goroutine locks its thread and never returns, so no server is killed
// before plugboard dies, and no thread is kept per server: the process is
// then waited for through Go's poller (awaitExit).
var spawner struct {
	start    sync.Once
	requests chan spawnRequest
}

type spawnRequest struct {
	cmd  *exec.Cmd
	done chan<- error
}

// spawn starts cmd on the spawner's thread. Starts are one after another
// there: a fork and exec take a millisecond or two, and servers started
// together take turns anyway (SpawnTurn).
func spawn(cmd *exec.Cmd) error {
	spawner.start.Do(func() {
		spawner.requests = make(chan spawnRequest)
		go runSpawner(spawner.requests)
	})
	done := make(chan error, 1)
	spawner.requests <- spawnRequest{cmd: cmd, done: done}
	return <-done
}

func runSpawner(requests <-chan spawnRequest) {
	runtime.LockOSThread() // never unlocked, and this never returns: the thread stays
	for r := range requests {
		r.done <- r.cmd.Start()
	}
}
