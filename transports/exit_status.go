package transports

import (
	"errors"
	"fmt"
	"os/exec"
	"syscall"
)

// exitStatus describes how a process ended, from what exec.Cmd.Wait
// returned, in the words plugboard's logs and errors use: "exited with
// status 1", "killed by SIGKILL".
func exitStatus(err error) string {
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return "exited with status 0"
	case errors.As(err, &exitErr):
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "killed by " + signalName(ws.Signal())
		}
		return fmt.Sprintf("exited with status %d", exitErr.ExitCode())
	default:
		return "wait failed: " + err.Error()
	}
}

// signalName returns the name a user knows a signal by ("SIGKILL"); Go's
// own String gives its description ("killed"), which reads badly after
// "killed by". Signals without a name here keep their number and
// description.
func signalName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	case syscall.SIGILL:
		return "SIGILL"
	case syscall.SIGTRAP:
		return "SIGTRAP"
	case syscall.SIGABRT:
		return "SIGABRT"
	case syscall.SIGBUS:
		return "SIGBUS"
	case syscall.SIGFPE:
		return "SIGFPE"
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGSEGV:
		return "SIGSEGV"
	case syscall.SIGPIPE:
		return "SIGPIPE"
	case syscall.SIGALRM:
		return "SIGALRM"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return fmt.Sprintf("signal %d (%s)", int(sig), sig)
}
