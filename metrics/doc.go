// Package metrics is what plugboard counts for Prometheus: per server the
// calls by method and outcome, their latency, the requests in flight and
// queued, restarts, state and tools; per client-facing transport the
// sessions open and the frames in and out; the requests refused at the
// fronts; and the process's own (goroutines, memory, CPU).
//
// Recording on the call path takes no lock: each server's and each
// transport's counters are resolved once, when it first appears, and an
// increment or an observation is an atomic operation. What the actors
// already know (state, tools, restarts, requests in flight and queued) is
// asked for at scrape time instead of being recorded as it changes.
//
// Every method is safe on a nil *Metrics, *Server or *Front and then does
// nothing, so that a plugboard without metrics pays one nil check.
//
// The package does not serve HTTP by itself: Handler is mounted by the
// caller behind the same checks as the MCP fronts.
package metrics
