package main

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"

	cmap "github.com/orcaman/concurrent-map"
)

// shrinkActorRegistry makes protoactor's process registry small before
// the actor system makes it. The registry is 1024 buckets, each a
// concurrent map of cmap.SHARD_COUNT (32) shards, each shard a Go map and
// a lock: 32,768 maps and 2.5 MiB of heap for the dozens of actors
// plugboard runs. One shard a bucket still spreads lookups over 1024
// locks. Called first thing in main, before anything reads the setting.
func shrinkActorRegistry() {
	cmap.SHARD_COUNT = 1
}

// Returning memory to the system when plugboard falls idle.
//
// Go's collector lets the heap grow to twice what is live before it
// collects, and gives pages back to the system only slowly; what start-up
// (handshakes, catalogs decoded and rebuilt) or a burst of calls leaves
// behind then stays resident for as long as plugboard sits idle, which is
// most of its life on a desktop. Once allocation has stopped, one forced
// collection that also returns the freed pages costs a few milliseconds
// and takes several MiB off the RSS.

// idleCheckInterval is how often allocation is looked at.
const idleCheckInterval = time.Second

// Thresholds of trimDecision, in bytes allocated.
const (
	// idleAllocs is the most allocated in one interval that still counts
	// as idle.
	idleAllocs = 64 << 10
	// trimWorth is the least allocated since the last trim for another
	// one to be worth its collection.
	trimWorth = 1 << 20
)

// trimDecision says whether to return memory now, from the bytes
// allocated in all so far (now), at the last check (last) and at the
// last trim (trimmed).
func trimDecision(now, last, trimmed uint64) bool {
	return now-last <= idleAllocs && now-trimmed >= trimWorth
}

// Collecting less often under load.
//
// plugboard's live heap is a few MiB, and each call leaves a few hundred
// bytes of garbage. With Go's default (GOGC=100) the collector runs each
// time as much again as is live has been allocated: several times a
// second under load, where it took about a sixth of plugboard's processor
// time per call at 256 calls in flight (BENCHMARKS.md). So unless GOGC is
// set, the heap may grow by gcHeadroom past what is live before a
// collection: a small heap is collected less often, and a large one (tens
// of MiB of catalogs) as Go would anyway. The price is RSS under a flood
// of calls: about 6 MiB more at its peak. Idle, the trim above gives it
// back.

// gcHeadroom is how much the heap may grow past what is live before the
// collector runs, at the least.
const gcHeadroom = 8 << 20

// maxGCPercent bounds the setting while almost nothing is live: Go also
// scales its smallest heap goal (4 MiB) by it, so 250 makes that 10 MiB.
const maxGCPercent = 250

// gcPercentFor is the GOGC percentage that gives a heap with live bytes
// live gcHeadroom to grow, and never less than Go's default.
func gcPercentFor(live uint64) int {
	if live == 0 {
		return maxGCPercent
	}
	return int(min(max(gcHeadroom*100/live, 100), maxGCPercent))
}

// tunesCollector says whether plugboard sets the collector's percentage:
// not when GOGC is in the environment, which is the operator's choice.
func tunesCollector() bool {
	_, set := os.LookupEnv("GOGC")
	return !set
}

// manageMemory returns memory to the system each time plugboard has
// allocated enough since the last time and then stopped, and keeps the
// collector's headroom (gcPercentFor) as the live heap changes, until ctx
// ends.
func manageMemory(ctx context.Context) {
	samples := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/live:bytes"}}
	read := func(i int) uint64 {
		if samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return samples[i].Value.Uint64()
	}
	allocated := func() uint64 {
		metrics.Read(samples)
		return read(0)
	}
	tune, percent := tunesCollector(), 0
	setPercent := func() {
		if p := gcPercentFor(read(1)); tune && p != percent {
			debug.SetGCPercent(p)
			percent = p
		}
	}
	allocated()
	setPercent()
	ticker := time.NewTicker(idleCheckInterval)
	defer ticker.Stop()
	var last, trimmed uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		now := allocated()
		setPercent()
		if trimDecision(now, last, trimmed) {
			// Twice: the first collection moves the sync.Pools' buffers
			// (answers, frames) to their victim caches, the second frees
			// them.
			runtime.GC()
			debug.FreeOSMemory()
			now = allocated() // the collection's own allocations are not the clients'
			trimmed = now
		}
		last = now
	}
}
