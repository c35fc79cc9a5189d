package actors

import (
	"slices"
	"strings"
	"testing"
)

func TestStderrRingKeepsTheLastLinesWithinItsLimits(t *testing.T) {
	tests := []struct {
		name        string
		maxLines    int
		maxBytes    int
		add         []string
		wantKept    []string
		wantNextNum uint64
	}{
		{"under the limits", 3, 100, []string{"a", "b"}, []string{"a", "b"}, 2},
		{"too many lines", 2, 100, []string{"a", "b", "c"}, []string{"b", "c"}, 3},
		{"too many bytes", 10, 5, []string{"aaa", "bb", "cc"}, []string{"bb", "cc"}, 3},
		{"a line over the byte limit is cut", 10, 4, []string{"a", "bbbbbb"}, []string{"bbbb"}, 2},
		{"nothing", 10, 10, nil, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newStderrRing(tt.maxLines, tt.maxBytes)
			for _, l := range tt.add {
				r.add(l)
			}
			got, next := r.since(0)
			if !slices.Equal(got, tt.wantKept) || next != tt.wantNextNum {
				t.Errorf("since(0) = %q, %d; want %q, %d", got, next, tt.wantKept, tt.wantNextNum)
			}
		})
	}
}

func TestStderrRingFollowerGetsOnlyNewLines(t *testing.T) {
	r := newStderrRing(3, 1<<10)
	r.add("one")
	r.add("two")
	_, next := r.since(0)
	if got, _ := r.since(next); got != nil {
		t.Errorf("since(next) with nothing new = %q", got)
	}
	for _, l := range []string{"three", "four", "five", "six"} {
		r.add(l)
	}
	// "three" was dropped before the follower asked: it gets what is kept.
	got, next2 := r.since(next)
	if strings.Join(got, ",") != "four,five,six" || next2 != 6 {
		t.Errorf("since(%d) = %q, %d", next, got, next2)
	}
	if tail := r.tail(2); strings.Join(tail, ",") != "five,six" {
		t.Errorf("tail(2) = %q", tail)
	}
}
