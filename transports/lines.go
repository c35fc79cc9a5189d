package transports

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/plugboard/plugboard/messages"
)

// ErrFrameTooLarge reports a line longer than the frame limit.
var ErrFrameTooLarge = errors.New("frame too large")

// LineReader reads newline-delimited frames with a size limit. A line over
// the limit is skipped whole and reported as ErrFrameTooLarge, after which
// reading can go on.
type LineReader struct {
	r   *bufio.Reader
	max int
	buf []byte
}

// lineReadBuffer is how much a LineReader reads at once. Every stdio
// server and client has one, resident once a long line has passed; 16 KiB
// still holds a hundred small frames arriving together, and a longer line
// is read in more pieces into the line's own buffer.
const lineReadBuffer = 16 << 10

// LineReady says whether a whole line is buffered already: the next Next
// returns it without reading.
func (r *LineReader) LineReady() bool {
	n := r.r.Buffered()
	if n == 0 {
		return false
	}
	buffered, _ := r.r.Peek(n)
	return bytes.IndexByte(buffered, '\n') >= 0
}

// NewLineReader reads frames of at most max bytes from r.
func NewLineReader(r io.Reader, max int) *LineReader {
	return &LineReader{r: bufio.NewReaderSize(r, lineReadBuffer), max: max}
}

// Next returns the next non-empty line without its line ending. The slice
// is valid until the next call.
func (l *LineReader) Next() ([]byte, error) {
	if cap(l.buf) > lineReadBuffer {
		// A long line (a list) is rare: its room is not kept for the
		// small frames that follow, but made again for the next one.
		l.buf = nil
	}
	for {
		l.buf = l.buf[:0]
		tooLarge := false
		for {
			chunk, err := l.r.ReadSlice('\n')
			if !tooLarge {
				if len(l.buf)+len(chunk) > l.max+2 { // +2: the line ending
					tooLarge = true
					l.buf = l.buf[:0]
				} else {
					l.buf = append(l.buf, chunk...)
				}
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if err != nil && !tooLarge && len(l.buf) == 0 {
				return nil, err
			}
			break // a whole line, or the last one before the stream ended
		}
		if tooLarge {
			return nil, fmt.Errorf("%w: over %d bytes", ErrFrameTooLarge, l.max)
		}
		line := bytes.TrimRight(l.buf, "\r\n")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if len(line) > l.max {
			return nil, fmt.Errorf("%w: over %d bytes", ErrFrameTooLarge, l.max)
		}
		return line, nil
	}
}

// limitedLines passes a stream through while no line exceeds max bytes
// (plus a '\r' before its '\n'); past that it fails with ErrFrameTooLarge,
// after handing over the complete lines read before the long one. It
// guards readers that have no limit of their own.
type limitedLines struct {
	r       io.Reader
	max     int
	current int
	err     error
}

func (l *limitedLines) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	lastLineEnd := 0
	for i, b := range p[:n] {
		if b == '\n' {
			l.current = 0
			lastLineEnd = i + 1
			continue
		}
		l.current++
		if l.current > l.max+1 || (l.current == l.max+1 && b != '\r') {
			l.err = fmt.Errorf("%w: a line over %d bytes", ErrFrameTooLarge, l.max)
			return lastLineEnd, l.err
		}
	}
	if err != nil {
		l.err = err
	}
	return n, err
}

// lineConn is plugboard's JSON-RPC client over newline-delimited frames: a
// server's stdin and stdout. Params go down and results, errors, server
// notifications and requests come up as raw JSON: each frame from the
// server is checked (json.Valid) and scanned for its envelope, once,
// never decoded whole.
type lineConn struct {
	w     io.WriteCloser
	lines *LineReader

	// raw is w's descriptor when w is a pipe or socket in non-blocking
	// mode (a process's stdin is): a started call's frame is written to
	// it at once without ever blocking, and only what the pipe has no
	// room for waits for a flusher goroutine. nil: every started call's
	// frame goes through a flusher goroutine.
	raw *NonBlockingWriter

	writeMu  sync.Mutex
	batch    *writeBatch // frames waiting for the writer, if one is writing
	flushing bool        // a caller or the flusher goroutine is writing batches to w
	// held are started calls' frames kept for a client's read
	// (messages.WriteBatch), written all at once when it is flushed or
	// before any other frame; heldIDs are their calls.
	held    []byte
	heldIDs []int64
	h       Handlers

	ctx    context.Context // for the server's requests; ends with the connection
	cancel context.CancelFunc

	mu      sync.Mutex
	pending map[int64]lineWaiter // by request id
	ended   bool                 // set with mu held once the connection ended: nothing more is started

	done    chan struct{}
	endOnce sync.Once
}

// lineWaiter is who waits for the answer to one request: a call
// blocked in call (ch), or a started call's waiter (done).
type lineWaiter struct {
	ch   chan lineAnswer
	done CallWaiter
}

// lineAnswer is the server's response to one request.
type lineAnswer struct {
	result json.RawMessage
	rpcErr *messages.RPCError
}

// newLineConn speaks to a server that reads w and writes r, whose frames
// are at most maxFrame bytes. It reads nothing until start.
func newLineConn(r io.Reader, w io.WriteCloser, maxFrame int, h Handlers) *lineConn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &lineConn{w: w, lines: NewLineReader(r, maxFrame), h: h, ctx: ctx, cancel: cancel,
		pending: map[int64]lineWaiter{}, done: make(chan struct{})}
	c.raw = NewNonBlockingWriter(w)
	return c
}

// start reads the server's frames until its output ends or fails.
func (c *lineConn) start() { go c.read() }

// close ends the connection: calls waiting fail, and the server's stdin is
// closed.
func (c *lineConn) close() error {
	c.end()
	return c.w.Close()
}

func (c *lineConn) end() {
	c.endOnce.Do(func() {
		c.mu.Lock()
		c.ended = true
		var started []CallWaiter
		for id, w := range c.pending {
			if w.done != nil {
				started = append(started, w.done)
				delete(c.pending, id)
			}
		}
		c.mu.Unlock()
		close(c.done)
		c.cancel()
		for _, w := range started {
			w.CallDone(nil, nil, transport.ErrTransportClosed, nil)
		}
	})
}

// call sends a request and waits for its response, the end of ctx or the
// end of the connection (transport.ErrTransportClosed).
func (c *lineConn) call(ctx context.Context, id int64, method string, params json.RawMessage, _ http.Header) (json.RawMessage, *messages.RPCError, error) {
	select {
	case <-c.done:
		return nil, nil, transport.ErrTransportClosed
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	default:
	}
	ch := make(chan lineAnswer, 1)
	c.mu.Lock()
	c.pending[id] = lineWaiter{ch: ch}
	c.mu.Unlock()
	var idBuf [20]byte
	if err := c.write(RequestFrame(strconv.AppendInt(idBuf[:0], id, 10), method, params)); err != nil {
		c.forget(id)
		return nil, nil, fmt.Errorf("writing request %s: %w", method, err)
	}
	select {
	case a := <-ch:
		return a.result, a.rpcErr, nil
	case <-ctx.Done():
		c.forget(id)
		return nil, nil, ctx.Err()
	case <-c.done:
		select { // the response may have come just before the end
		case a := <-ch:
			return a.result, a.rpcErr, nil
		default:
		}
		c.forget(id)
		return nil, nil, transport.ErrTransportClosed
	}
}

func (c *lineConn) forget(id int64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// startCall sends a request without waiting for its answer, which goes
// to done on the reader goroutine (see CallStarter). The frame is written
// by the calling goroutine when the pipe has room, which it almost always
// has, and never blocks it: what does not fit is left to a flusher
// goroutine.
func (c *lineConn) startCall(id int64, method string, params json.RawMessage, done CallWaiter, batch messages.WriteBatch) error {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return transport.ErrTransportClosed
	}
	c.pending[id] = lineWaiter{done: done}
	c.mu.Unlock()
	var idBuf [20]byte
	c.post(RequestFrame(strconv.AppendInt(idBuf[:0], id, 10), method, params), id, batch)
	return nil
}

// abandonCall forgets a started call; it reports whether the call was
// still waiting (so that done will never be called).
func (c *lineConn) abandonCall(id int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	w, ok := c.pending[id]
	if !ok || w.done == nil {
		return false
	}
	delete(c.pending, id)
	return true
}

// failStarted answers a started call with err, unless it was answered or
// abandoned already.
func (c *lineConn) failStarted(id int64, err error) {
	c.mu.Lock()
	w, ok := c.pending[id]
	if ok && w.done != nil {
		delete(c.pending, id)
	}
	c.mu.Unlock()
	if ok && w.done != nil {
		w.done.CallDone(nil, nil, fmt.Errorf("writing request: %w", err), nil)
	}
}

// notify sends a notification.
func (c *lineConn) notify(ctx context.Context, method string, params json.RawMessage) error {
	select {
	case <-c.done:
		return transport.ErrTransportClosed
	case <-ctx.Done():
		return ctx.Err()
	default:
	}
	if err := c.write(NotificationFrame(method, params)); err != nil {
		return fmt.Errorf("writing notification %s: %w", method, err)
	}
	return nil
}

// writeBatch is frames written to the server in one write.
type writeBatch struct {
	buf     []byte
	done    chan struct{} // closed once buf is written
	err     error
	started []int64 // the started calls whose frames it holds: failed if the write fails
}

// post sends a started call's frame and its line ending without waiting
// for it to be written. With an open batch it is held, and written with
// the others held when the batch is flushed. Otherwise it is written with
// whatever is held: at once, with a non-blocking write, when nobody else
// is writing and the pipe has room; else in the batch that a writer (or a
// flusher goroutine started for it) writes next. A write that fails fails
// the started calls whose frames it held, through their waiters.
func (c *lineConn) post(frame []byte, id int64, batch messages.WriteBatch) {
	c.writeMu.Lock()
	c.held = append(append(c.held, frame...), '\n')
	if id != 0 {
		c.heldIDs = append(c.heldIDs, id)
	}
	if batch != nil && batch.Hold(c) {
		c.writeMu.Unlock()
		return
	}
	failed, err := c.sendHeld()
	c.writeMu.Unlock()
	c.failAll(failed, err)
}

// FlushHeld implements messages.HeldWriter: it writes the frames held.
func (c *lineConn) FlushHeld() {
	c.writeMu.Lock()
	failed, err := c.sendHeld()
	c.writeMu.Unlock()
	c.failAll(failed, err)
}

// sendHeld writes the held frames without waiting, as post describes; it
// returns the calls to fail when the write failed at once. c.writeMu is
// held.
func (c *lineConn) sendHeld() ([]int64, error) {
	buf, ids := c.held, c.heldIDs
	if len(buf) == 0 {
		return nil, nil
	}
	c.held, c.heldIDs = buf[:0], ids[:0] // reused: buf is copied before it is
	if !c.flushing && c.raw != nil {
		n, err := c.raw.WriteNow(buf)
		if err != nil {
			return slices.Clone(ids), err
		}
		if n == len(buf) {
			return nil, nil
		}
		buf = buf[n:] // the pipe is full: the rest waits for a flusher
	}
	if c.batch == nil {
		c.batch = &writeBatch{done: make(chan struct{})}
	}
	c.batch.buf = append(c.batch.buf, buf...)
	c.batch.started = append(c.batch.started, ids...)
	if !c.flushing {
		c.flushing = true
		go c.flushBatches()
	}
	return nil, nil
}

// failAll fails the started calls ids with err (writing their request);
// it is called with no lock held, since a waiter may run its actor.
func (c *lineConn) failAll(ids []int64, err error) {
	for _, id := range ids {
		c.failStarted(id, err)
	}
}

// flushBatches writes batches until none is left. c.flushing is set.
func (c *lineConn) flushBatches() {
	for {
		c.writeMu.Lock()
		b := c.batch
		c.batch = nil
		if b == nil {
			c.flushing = false
			c.writeMu.Unlock()
			return
		}
		c.writeMu.Unlock()
		_, b.err = c.w.Write(b.buf)
		close(b.done)
		if b.err != nil {
			for _, id := range b.started {
				c.failStarted(id, b.err)
			}
		}
	}
}

// write sends one frame and its line ending. Frames that arrive while
// another caller is writing join one batch, which that caller writes next
// with one system call: under load the server is woken once per batch,
// not once per frame. It returns once its frame is written.
func (c *lineConn) write(frame []byte) error {
	c.writeMu.Lock()
	if len(c.held) > 0 {
		// Frames held for a client's read go first, in the order they
		// came.
		failed, err := c.sendHeld()
		if err != nil {
			c.writeMu.Unlock()
			c.failAll(failed, err)
			return err
		}
	}
	if c.flushing {
		if c.batch == nil {
			c.batch = &writeBatch{done: make(chan struct{})}
		}
		b := c.batch
		b.buf = append(append(b.buf, frame...), '\n')
		c.writeMu.Unlock()
		<-b.done
		return b.err
	}
	c.flushing = true
	c.writeMu.Unlock()
	_, err := c.w.Write(append(frame, '\n'))
	c.flushBatches()
	return err
}

func (c *lineConn) read() {
	defer c.end()
	// The answers of one read of the server's stream go to a client in one
	// write where its stream holds them (messages.WriteBatch): the batch is
	// flushed before the reader may wait for the server.
	batch := NewWriteBatch()
	defer func() { batch.Flush() }()
	for {
		if !c.lines.LineReady() {
			batch.Flush()
			batch = NewWriteBatch()
		}
		line, err := c.lines.Next()
		if err != nil {
			return
		}
		c.dispatch(line, batch)
	}
}

// emptyParams stands for absent params in a server's notification, as
// mcp-go's stdio transport gave them.
var emptyParams = json.RawMessage(`{}`)

// dispatch routes one frame from the server: a response to the call
// waiting for it, a notification to its handler, a request to be answered
// on a goroutine of its own. What is not JSON-RPC is dropped.
func (c *lineConn) dispatch(line []byte, batch *WriteBatch) {
	line = bytes.TrimSpace(line)
	if !ValidJSON(line) || line[0] != '{' {
		return
	}
	e := scanEnvelope(bytes.Clone(line)) // line is the reader's buffer
	hasID := e.id != nil && string(e.id) != "null"
	switch {
	case e.method != nil && !hasID:
		method, ok := jsonString(e.method)
		if !ok || c.h.Notification == nil {
			return
		}
		params := e.params
		if params == nil || string(params) == "null" {
			params = emptyParams
		}
		c.h.Notification(method, params)
	case e.method != nil:
		method, ok := jsonString(e.method)
		if ok {
			c.answer(e.id, method, e.params)
		}
	default:
		c.respond(e, batch)
	}
}

// answerOf reads a response: the id it answers, and the result or error.
func answerOf(e envelope) (int64, lineAnswer, bool) {
	id, ok := parseID(e.id)
	if !ok {
		return 0, lineAnswer{}, false
	}
	var a lineAnswer
	switch {
	case e.error != nil:
		a.rpcErr = &messages.RPCError{}
		if json.Unmarshal(e.error, a.rpcErr) != nil {
			a.rpcErr = &messages.RPCError{Code: messages.CodeInternalError, Message: "the server answered with a malformed error: " + string(e.error)}
		}
	case e.result != nil:
		a.result = e.result
	default:
		a.rpcErr = &messages.RPCError{Code: messages.CodeInternalError, Message: "the server answered with neither a result nor an error"}
	}
	return id, a, true
}

// respond hands a response to the call waiting for it; batch is the read
// it came in.
func (c *lineConn) respond(e envelope, batch *WriteBatch) {
	id, a, ok := answerOf(e)
	if !ok {
		return
	}
	c.mu.Lock()
	w, ok := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	switch {
	case !ok:
	case w.done != nil:
		w.done.CallDone(a.result, a.rpcErr, nil, batch)
	default:
		w.ch <- a // buffered, and the only send: the entry is gone
	}
}

// answer runs the request handler on a request from the server, on a
// goroutine of its own, and sends its answer.
func (c *lineConn) answer(id json.RawMessage, method string, params json.RawMessage) {
	if c.h.Request == nil {
		_ = c.write(ErrorFrame(id, &messages.RPCError{Code: messages.CodeMethodNotFound, Message: "no request handler configured for " + method}))
		return
	}
	go func() {
		result, rpcErr := c.h.Request(c.ctx, id, method, params)
		switch {
		case rpcErr != nil:
			_ = c.write(ErrorFrame(id, rpcErr))
		case result == nil:
			_ = c.write(ResultFrame(id, json.RawMessage("null")))
		default:
			_ = c.write(ResultFrame(id, result))
		}
	}()
}

// parseID reads a request id of plugboard's: a JSON integer.
func parseID(raw json.RawMessage) (int64, bool) {
	if len(raw) == 0 || len(raw) > 19 {
		return 0, false
	}
	neg := raw[0] == '-'
	digits := raw
	if neg {
		digits = raw[1:]
	}
	if len(digits) == 0 {
		return 0, false
	}
	var n int64
	for _, d := range digits {
		if d < '0' || d > '9' {
			return 0, false
		}
		n = n*10 + int64(d-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
