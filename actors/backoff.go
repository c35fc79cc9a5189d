package actors

import (
	"math/rand/v2"
	"time"
)

// backoff is the restart schedule of a failed server: Base doubling per
// consecutive failure up to Cap, with up to Jitter of that delay added at
// random, and the count reset once an incarnation stays up for ResetAfter.
type backoff struct {
	Base       time.Duration
	Cap        time.Duration
	Jitter     float64 // fraction of the delay, 0..1
	ResetAfter time.Duration
}

// defaultBackoff is 250 ms doubling to a 30 s cap, reset after 60 s of
// healthy uptime, with up to 20% jitter.
func defaultBackoff() backoff {
	return backoff{Base: 250 * time.Millisecond, Cap: 30 * time.Second, Jitter: 0.2, ResetAfter: time.Minute}
}

// delay returns the wait before restart attempt n (1 for the first restart
// after a failure). rnd returns a number in [0, 1).
func (b backoff) delay(n int, rnd func() float64) time.Duration {
	d := b.Base
	for i := 1; i < n && d < b.Cap; i++ {
		d *= 2
	}
	d = min(d, b.Cap)
	return d + time.Duration(float64(d)*b.Jitter*rnd())
}

// healthy reports whether an incarnation that stayed up for uptime resets
// the failure count.
func (b backoff) healthy(uptime time.Duration) bool {
	return uptime >= b.ResetAfter
}

// randomFraction is the production source of jitter.
func randomFraction() float64 { return rand.Float64() }
