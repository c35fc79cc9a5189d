package main

import (
	"context"
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

// trimWhenIdle returns memory to the system each time plugboard has
// allocated enough since the last time and then stopped, until ctx ends.
func trimWhenIdle(ctx context.Context) {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	allocated := func() uint64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return sample[0].Value.Uint64()
	}
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
