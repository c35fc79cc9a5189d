//go:build !linux

package transports

import "os"

// WidenPipe does nothing here: only Linux lets a pipe's buffer grow.
func WidenPipe(*os.File) {}
