package transports

import (
	"slices"
	"sync"

	"github.com/plugboard/plugboard/messages"
)

// WriteBatch is one read of a client's stream (messages.WriteBatch): the
// started calls' frames its requests make are held by their servers'
// connections until the reader has handled every frame of the read and
// calls Flush, and each connection then writes its frames at once. A
// connection that asks after Flush writes at once.
type WriteBatch struct {
	mu      sync.Mutex
	flushed bool
	held    []messages.HeldWriter
}

// NewWriteBatch starts the batch of a read.
func NewWriteBatch() *WriteBatch { return &WriteBatch{} }

// Hold implements messages.WriteBatch.
func (b *WriteBatch) Hold(w messages.HeldWriter) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.flushed {
		return false
	}
	if !slices.Contains(b.held, w) {
		b.held = append(b.held, w)
	}
	return true
}

// Flush writes what the batch holds; after it, the batch holds nothing
// more. It may be called more than once.
func (b *WriteBatch) Flush() {
	b.mu.Lock()
	held := b.held
	b.held, b.flushed = nil, true
	b.mu.Unlock()
	for _, w := range held {
		w.FlushHeld()
	}
}
