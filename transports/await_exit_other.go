//go:build !linux

package transports

import "os"

// awaitExit returns at once: Wait waits for the process.
func awaitExit(*os.Process) {}
