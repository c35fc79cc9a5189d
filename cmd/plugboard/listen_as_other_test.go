//go:build !linux

package main

import "testing"

// listenAs skips the test: listening as another user from one thread
// (setresuid, per-thread credentials) and the peer's uid (SO_PEERCRED)
// are Linux's.
func listenAs(t *testing.T, path string, uid int) {
	t.Helper()
	t.Skip("listening as another user needs Linux's per-thread setresuid")
}
