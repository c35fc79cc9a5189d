package transports

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// processStart is the boot's id and the start time of process pid in
// clock ticks since boot: with the pid, a name the system never reuses.
// "" when the process is gone or a zombie.
func processStart(pid int) string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return ""
	}
	f, err := statFields(string(b))
	// After the name: state is field 3, start time field 22 (1-based).
	if err != nil || len(f) < 20 || f[0] == "Z" {
		return ""
	}
	boot, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(boot)) + "/" + f[19]
}

// groupMembers lists the live processes of the process group a recorded
// child led, when the child itself is gone: the servers a wrapper (npx,
// uvx, sh) started, which outlive its parent-death signal.
func groupMembers(leader procID) []int {
	if leader.Start == "" || sameProcess(leader) != notRunning {
		return nil
	}
	boot, ticks, _ := strings.Cut(leader.Start, "/")
	if now, _ := os.ReadFile("/proc/sys/kernel/random/boot_id"); strings.TrimSpace(string(now)) != boot {
		return nil // nothing outlives a reboot
	}
	since, _ := strconv.ParseUint(ticks, 10, 64)
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		f, err := statFields(string(b))
		if err != nil || len(f) < 20 || f[0] == "Z" {
			continue
		}
		start, _ := strconv.ParseUint(f[19], 10, 64)
		if f[2] == strconv.Itoa(leader.PID) && start >= since {
			pids = append(pids, pid)
		}
	}
	return pids
}
