package transports

import (
	"errors"
	"os/exec"
	"syscall"
	"testing"
)

func TestExitStatusNamesSignalsAsUsersKnowThem(t *testing.T) {
	run := func(script string, sig syscall.Signal) error {
		t.Helper()
		cmd := exec.Command("/bin/sh", "-c", script)
		if err := cmd.Start(); err != nil {
			t.Skipf("no /bin/sh: %v", err)
		}
		if sig != 0 {
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
		}
		return cmd.Wait()
	}
	tests := []struct {
		name   string
		script string
		sig    syscall.Signal
		want   string
	}{
		{"clean exit", "exit 0", 0, "exited with status 0"},
		{"failure", "exit 3", 0, "exited with status 3"},
		{"SIGKILL", "exec sleep 60", syscall.SIGKILL, "killed by SIGKILL"},
		{"SIGTERM", "exec sleep 60", syscall.SIGTERM, "killed by SIGTERM"},
		{"a signal without a name here", "exec sleep 60", syscall.Signal(10), "killed by signal 10 (" + syscall.Signal(10).String() + ")"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitStatus(run(tt.script, tt.sig)); got != tt.want {
				t.Errorf("exitStatus = %q, want %q", got, tt.want)
			}
		})
	}
	if got := exitStatus(errors.New("no child")); got != "wait failed: no child" {
		t.Errorf("exitStatus of a wait error = %q", got)
	}
}
