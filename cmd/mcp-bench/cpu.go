package main

// Processor time of the stdio targets and of --watch-pid over the
// measuring time, from Linux's /proc/PID/stat: what a server spends per
// call, which latency and throughput alone do not tell on a machine with
// cores to spare.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTicksPerSec is USER_HZ, the unit of utime and stime in
// /proc/PID/stat: 100 on every Linux architecture Go runs on.
const clockTicksPerSec = 100

// cpuReport is the processor time some processes spent in the measuring
// time: from the end of the warmup to the end of the last call.
type cpuReport struct {
	UserSec   float64 `json:"user_sec"`
	SystemSec float64 `json:"system_sec"`
	// PerCallUS is user and system time together, in microseconds, over
	// the calls that succeeded; 0 when none did.
	PerCallUS float64 `json:"per_call_us"`
	Processes int     `json:"processes"`
}

// cpuTime is a process's user and system time so far, in clock ticks.
type cpuTime struct{ user, system int64 }

// readCPUTime reads a process's utime and stime, fields 14 and 15 of
// /proc/PID/stat, counted from after the parenthesised command name,
// which may itself hold spaces.
func readCPUTime(pid int) (cpuTime, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return cpuTime{}, err
	}
	return parseCPUTime(stat)
}

func parseCPUTime(stat []byte) (cpuTime, error) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return cpuTime{}, errors.New("/proc/PID/stat: no command name")
	}
	// After ")": state(3) ppid(4) ... utime(14) stime(15).
	fields := bytes.Fields(stat[end+1:])
	if len(fields) < 13 {
		return cpuTime{}, errors.New("/proc/PID/stat: too few fields")
	}
	user, err1 := strconv.ParseInt(string(fields[11]), 10, 64)
	system, err2 := strconv.ParseInt(string(fields[12]), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return cpuTime{}, fmt.Errorf("/proc/PID/stat: %w", err)
	}
	return cpuTime{user: user, system: system}, nil
}

// cpuMeter reads the processor time of some processes at the end of the
// warmup and again when finished.
type cpuMeter struct {
	pids  []int
	start chan []cpuTime // the readings at the end of the warmup
}

// startCPUMeter takes its first readings of pids once warmup has passed;
// nil when there are no pids.
func startCPUMeter(pids []int, warmup time.Duration) *cpuMeter {
	if len(pids) == 0 {
		return nil
	}
	m := &cpuMeter{pids: pids, start: make(chan []cpuTime, 1)}
	go func() {
		time.Sleep(warmup)
		m.start <- m.read()
	}()
	return m
}

func (m *cpuMeter) read() []cpuTime {
	times := make([]cpuTime, len(m.pids))
	for i, pid := range m.pids {
		times[i], _ = readCPUTime(pid) // an exited process reads as zero
	}
	return times
}

// finish takes the last readings and reports the difference, spread over
// ok calls; nil on a nil meter.
func (m *cpuMeter) finish(ok int64) *cpuReport {
	if m == nil {
		return nil
	}
	start := <-m.start
	end := m.read()
	r := &cpuReport{Processes: len(m.pids)}
	for i := range m.pids {
		if end[i] == (cpuTime{}) {
			continue
		}
		r.UserSec += float64(end[i].user-start[i].user) / clockTicksPerSec
		r.SystemSec += float64(end[i].system-start[i].system) / clockTicksPerSec
	}
	if ok > 0 {
		r.PerCallUS = (r.UserSec + r.SystemSec) * 1e6 / float64(ok)
	}
	return r
}
