package main

import (
	"os"
	"testing"
	"time"
)

func TestParseCPUTime(t *testing.T) {
	// A real line's shape, with a command name holding spaces and ")".
	stat := []byte("4242 (mcp (x) fixture) S 1 4242 4242 0 -1 4194560 1200 0 0 0 371 52 0 0 20 0 9 0 100 1000000 2000 18446744073709551615\n")
	got, err := parseCPUTime(stat)
	if err != nil {
		t.Fatal(err)
	}
	if got != (cpuTime{user: 371, system: 52}) {
		t.Fatalf("parseCPUTime = %+v, want user 371 system 52", got)
	}
	if _, err := parseCPUTime([]byte("4242 (short) S 1 2")); err == nil {
		t.Fatal("a truncated line parsed without an error")
	}
}

// TestCPUMeterCountsOwnWork burns processor time in this process between
// the meter's two readings and expects to see at least part of it.
func TestCPUMeterCountsOwnWork(t *testing.T) {
	m := startCPUMeter([]int{os.Getpid()}, 0)
	began := time.Now()
	x := 0
	for time.Since(began) < 300*time.Millisecond {
		x++
	}
	r := m.finish(1000)
	if r.UserSec+r.SystemSec <= 0 || r.PerCallUS <= 0 || r.Processes != 1 {
		t.Fatalf("busy 300 ms (%d spins), meter reported %+v", x, r)
	}
	if startCPUMeter(nil, 0) != nil || (*cpuMeter)(nil).finish(1) != nil {
		t.Fatal("a meter of no processes should be nil and finish to nil")
	}
}
