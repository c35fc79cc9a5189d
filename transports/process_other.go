//go:build !linux

package transports

import "syscall"

// childSysProcAttr puts a server in a process group of its own. There is
// no parent-death signal here: a plugboard that starts reports the servers
// a dead one left (ChildRecords).
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
