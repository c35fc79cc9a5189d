package actors

import (
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	b := backoff{Base: 250 * time.Millisecond, Cap: 30 * time.Second, Jitter: 0.2, ResetAfter: time.Minute}
	tests := []struct {
		attempt int
		rnd     float64
		want    time.Duration
	}{
		{1, 0, 250 * time.Millisecond},
		{2, 0, 500 * time.Millisecond},
		{3, 0, time.Second},
		{8, 0, 30 * time.Second}, // 32 s capped
		{100, 0, 30 * time.Second},
		{1, 0.5, 275 * time.Millisecond},
		{100, 0.999, 30*time.Second + time.Duration(float64(30*time.Second)*0.2*0.999)},
	}
	for _, tt := range tests {
		if got := b.delay(tt.attempt, func() float64 { return tt.rnd }); got != tt.want {
			t.Errorf("delay(%d, %v) = %v, want %v", tt.attempt, tt.rnd, got, tt.want)
		}
	}
}

func TestBackoffHealthy(t *testing.T) {
	b := defaultBackoff()
	if b.healthy(59 * time.Second) {
		t.Error("59 s of uptime counted as healthy")
	}
	if !b.healthy(60 * time.Second) {
		t.Error("60 s of uptime not counted as healthy")
	}
}
