package transports

import (
	"log/slog"
	"sync"
)

// Quirks notes the transport rules a server breaks that plugboard reads
// past anyway, and logs each at warn the first time it is seen: once per
// server and rule, not per call. It lives as long as the server's
// configuration, across reconnections.
type Quirks struct {
	log  *slog.Logger
	mu   sync.Mutex
	seen map[string]bool
}

// NewQuirks returns a Quirks that logs to log, which should name the
// server.
func NewQuirks(log *slog.Logger) *Quirks {
	return &Quirks{log: log, seen: map[string]bool{}}
}

func (q *Quirks) note(rule string) {
	if q == nil {
		return
	}
	q.mu.Lock()
	first := !q.seen[rule]
	q.seen[rule] = true
	q.mu.Unlock()
	if first {
		q.log.Warn("the server breaks the Streamable HTTP transport's rules; reading it anyway", "how", rule)
	}
}
