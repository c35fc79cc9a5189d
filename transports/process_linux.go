package transports

import "syscall"

// childSysProcAttr puts a server in a process group of its own and has
// the kernel SIGKILL it when plugboard dies (the thread that forked it,
// see spawn), even by SIGKILL: no server outlives plugboard waiting
// for a stdin EOF it ignores.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
