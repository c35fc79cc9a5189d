package actors

import (
	"bufio"
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/plugboard/plugboard/transports"
)

// maxWriteBacklog is how many bytes a stream writer keeps for a client
// that is not reading, before frames wait in the session's queue (whose
// answers credits bound, and whose notifications are dropped past
// maxBacklog).
const maxWriteBacklog = 1 << 20

// streamWriter writes frames, one per line, to a client's stream for the
// handshake-era session and the 2026-07-28 requests alike. On a pipe or
// socket in non-blocking mode (raw) a frame is written by the goroutine
// that has it, with a write that never waits: the common case, where the
// client reads, costs one system call and no goroutine. What the pipe
// has no room for is kept in backlog and written, in order before
// anything newer, by a flusher goroutine that runs only while there is a
// backlog. On anything else (a terminal, a file, an io.Pipe) frames go
// through a bufio.Writer from the session's writer goroutine.
type streamWriter struct {
	mu     sync.Mutex
	broken bool
	log    *slog.Logger

	w *bufio.Writer // without raw

	raw      *transports.NonBlockingWriter // the client's stream in non-blocking mode, or nil
	file     io.Writer                     // the same stream, for the flusher's writes (which wait)
	restore  func()                        // puts back the stream's blocking mode
	backlog  []byte                        // bytes the stream had no room for, in order
	scratch  []byte                        // a frame and its line ending, written at once
	held     []byte                        // answers, each with its line ending, that a server's read holds (holdFor)
	flushing bool                          // the flusher goroutine runs
	room     *sync.Cond                    // the backlog shrank, or the flusher ended
}

func newStreamWriter(out io.Writer, log *slog.Logger) *streamWriter {
	sw := &streamWriter{log: log, restore: func() {}}
	sw.room = sync.NewCond(&sw.mu)
	if file, raw, restore := nonBlockingWriter(out, log); raw != nil {
		sw.file, sw.raw, sw.restore = file, raw, restore
		return sw
	}
	sw.w = bufio.NewWriterSize(out, 64<<10)
	return sw
}

// nonBlockingWriter returns a pipe or socket as a descriptor in
// non-blocking mode that the Go runtime's poller drives, with its raw
// connection for writes that never wait. plugboard's stdout is usually a
// pipe in blocking mode: a duplicate of it is switched, and restore puts
// blocking mode back (the mode belongs to the pipe, shared with whoever
// holds it after plugboard). Anything else gives a nil raw.
func nonBlockingWriter(out io.Writer, log *slog.Logger) (io.Writer, *transports.NonBlockingWriter, func()) {
	if raw := transports.NewNonBlockingWriter(out); raw != nil {
		return out, raw, func() {}
	}
	f, ok := out.(*os.File)
	if !ok {
		return nil, nil, nil
	}
	pf, restore := pollableFile(f, log)
	if pf == nil {
		return nil, nil, nil
	}
	transports.WidenPipe(pf)
	raw := transports.NewNonBlockingWriter(pf)
	if raw == nil {
		restore()
		return nil, nil, nil
	}
	return pf, raw, restore
}

// writeNow writes one frame, or keeps it in the backlog, waiting while
// the backlog is full; without raw it writes and flushes.
func (sw *streamWriter) writeNow(frame []byte) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.raw == nil {
		sw.writeBuffered(frame, true)
		return
	}
	for !sw.broken && len(sw.backlog) >= maxWriteBacklog {
		sw.room.Wait()
	}
	sw.add(frame)
}

// offerNow writes one frame at once, or keeps it in the backlog; it
// never blocks, and reports false (taking nothing) when the backlog is
// full. It is the session queue's direct way (outQueue.consumeDirect).
func (sw *streamWriter) offerNow(o transports.Outbound) bool {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if !sw.broken && len(sw.backlog) >= maxWriteBacklog {
		return false
	}
	if !sw.holdFor(o) {
		sw.add(o.Frame)
	}
	return true
}

// holdFor keeps an answer until the read of a server's stream that
// brought it is handled (messages.WriteBatch), when FlushHeld writes it
// with the others of that read: one system call and one wake-up of the
// client for dozens of answers under load. It reports false when the
// frame is to be written now: no batch, a batch flushed already, a large
// frame, a backlog being written. sw.mu is held.
func (sw *streamWriter) holdFor(o transports.Outbound) bool {
	if o.Batch == nil || sw.broken || sw.flushing || len(o.Frame) > largeFrame || !o.Batch.Hold(sw) {
		return false
	}
	sw.held = append(append(sw.held, o.Frame...), '\n')
	return true
}

// FlushHeld implements messages.HeldWriter: it writes the answers held
// for a batch.
func (sw *streamWriter) FlushHeld() {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.writeHeld()
}

// writeHeld writes the held answers, before anything newer. sw.mu is
// held.
func (sw *streamWriter) writeHeld() {
	if len(sw.held) == 0 || sw.broken {
		sw.held = sw.held[:0]
		return
	}
	held := sw.held
	sw.held = sw.held[:0]
	if len(held) > maxHeldKept {
		sw.held = nil // a burst's buffer is not kept for an idle session
	}
	sw.addLines(held)
}

// maxHeldKept is the largest held buffer kept for the next batch.
const maxHeldKept = 64 << 10

// add writes a frame, or what the stream takes of it with the rest kept
// in the backlog. sw.mu is held.
func (sw *streamWriter) add(frame []byte) {
	if sw.broken {
		sw.held = sw.held[:0]
		return // drain, so that no writer ever blocks
	}
	if len(frame) <= largeFrame {
		// One write for the held answers, the frame and its line ending.
		if len(sw.held) > 0 {
			sw.held = append(append(sw.held, frame...), '\n')
			sw.writeHeld()
			return
		}
		sw.scratch = append(append(sw.scratch[:0], frame...), '\n')
		sw.addLines(sw.scratch)
		return
	}
	// A large frame, written without a copy, then its line ending (after
	// the rest of it, if the stream took only part).
	sw.writeHeld()
	sw.addLines(frame)
	sw.addLines(newline)
}

// addLines writes bytes, or what the stream takes of them with the rest
// kept in the backlog, in order after any backlog. sw.mu is held.
func (sw *streamWriter) addLines(lines []byte) {
	if sw.broken {
		return
	}
	if sw.flushing {
		sw.growBacklog()
		sw.backlog = append(sw.backlog, lines...)
		return
	}
	n, err := sw.raw.WriteNow(lines)
	if err != nil {
		sw.fail(err)
		return
	}
	if n < len(lines) {
		sw.growBacklog()
		sw.backlog = append(sw.backlog, lines[n:]...)
		sw.startFlusher()
	}
}

// startFlusher starts the goroutine that writes the backlog. sw.mu is
// held.
func (sw *streamWriter) startFlusher() {
	sw.flushing = true
	go sw.flush()
}

// largeFrame is the size past which a frame is written as it is, not
// copied to put its line ending after it (a large listing's page is
// hundreds of KiB).
const largeFrame = 32 << 10

var newline = []byte{'\n'}

// backlogBuffers are backlogs' buffers between backlogs: a listing's pages
// fill a backlog each (a pipe takes 64 KiB at once), and a new buffer for
// each made the collector run several times per listing. The collector
// empties the pool, so an idle session keeps none.
var backlogBuffers sync.Pool // of *[]byte

// growBacklog gives an empty backlog a buffer from the pool. sw.mu is held.
func (sw *streamWriter) growBacklog() {
	if sw.backlog == nil {
		if b, ok := backlogBuffers.Get().(*[]byte); ok {
			sw.backlog = (*b)[:0]
		}
	}
}

func releaseBacklog(b []byte) {
	if cap(b) > 0 {
		b = b[:0]
		backlogBuffers.Put(&b)
	}
}

// flush writes the backlog, waiting for the client to read, until none
// is left.
func (sw *streamWriter) flush() {
	var buf []byte
	for {
		sw.mu.Lock()
		if len(sw.backlog) == 0 || sw.broken {
			releaseBacklog(sw.backlog)
			releaseBacklog(buf)
			sw.backlog = nil
			sw.flushing = false
			sw.room.Broadcast()
			sw.mu.Unlock()
			return
		}
		buf, sw.backlog = sw.backlog, buf[:0]
		sw.room.Broadcast()
		sw.mu.Unlock()
		if _, err := sw.file.Write(buf); err != nil {
			sw.mu.Lock()
			sw.fail(err)
			sw.mu.Unlock()
		}
	}
}

// fail marks the stream broken. sw.mu is held.
func (sw *streamWriter) fail(err error) {
	if !sw.broken {
		sw.log.Error("writing to the client failed", "err", err)
		sw.broken = true
	}
	sw.room.Broadcast()
}

// finish waits until everything written has reached the stream, and
// puts back its blocking mode.
func (sw *streamWriter) finish() {
	sw.mu.Lock()
	if sw.raw == nil {
		_ = sw.w.Flush()
		sw.mu.Unlock()
		return
	}
	sw.writeHeld()
	for sw.flushing {
		sw.room.Wait()
	}
	sw.mu.Unlock()
	sw.restore()
}

// write writes one frame, and without raw flushes when asked to: the
// session's writer goroutine flushes once it has nothing more to write.
func (sw *streamWriter) write(frame []byte, flush bool) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.raw != nil {
		sw.add(frame)
		return
	}
	sw.writeBuffered(frame, flush)
}

// writeBuffered writes one frame through the bufio.Writer. sw.mu is held.
func (sw *streamWriter) writeBuffered(frame []byte, flush bool) {
	if sw.broken {
		return // drain, so that no writer ever blocks
	}
	_, _ = sw.w.Write(frame)
	err := sw.w.WriteByte('\n')
	if err == nil && flush {
		err = sw.w.Flush()
	}
	if err != nil {
		sw.fail(err)
	}
}
