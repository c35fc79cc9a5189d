package main

import (
	"os"
	"testing"
)

func TestTrimDecision(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name               string
		now, last, trimmed uint64
		want               bool
	}{
		{"idle after start-up", 30 * mib, 30*mib - 1000, 0, true},
		{"still allocating", 30 * mib, 20 * mib, 0, false},
		{"idle, nothing new since the last trim", 30 * mib, 30 * mib, 30*mib - 1000, false},
		{"idle again after a burst", 80 * mib, 80*mib - 10, 30 * mib, true},
		{"at the idle threshold", 30 * mib, 30*mib - idleAllocs, 0, true},
		{"just over it", 30 * mib, 30*mib - idleAllocs - 1, 0, false},
	}
	for _, tt := range tests {
		if got := trimDecision(tt.now, tt.last, tt.trimmed); got != tt.want {
			t.Errorf("%s: trimDecision(%d, %d, %d) = %v, want %v", tt.name, tt.now, tt.last, tt.trimmed, got, tt.want)
		}
	}
}

func TestGCPercentGivesASmallHeapHeadroomAndALargeOneGosDefault(t *testing.T) {
	const mib = 1 << 20
	for live, want := range map[uint64]int{
		0:         maxGCPercent, // nothing collected yet
		2 * mib:   maxGCPercent, // 8 MiB would be 400%: bounded
		4 * mib:   200,
		8 * mib:   100,
		64 * mib:  100, // never below Go's default
		512 * mib: 100,
	} {
		if got := gcPercentFor(live); got != want {
			t.Errorf("gcPercentFor(%d MiB) = %d, want %d", live/mib, got, want)
		}
	}
}

func TestGOGCInTheEnvironmentIsLeftAlone(t *testing.T) {
	t.Setenv("GOGC", "50")
	if tunesCollector() {
		t.Error("plugboard would override GOGC=50 from the environment")
	}
	os.Unsetenv("GOGC")
	if !tunesCollector() {
		t.Error("without GOGC plugboard does not set the collector's headroom")
	}
}
