package transports

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"
)

// sseCursor is what resuming an event stream needs: the id of the last
// event and the reconnection delay the server asked for.
type sseCursor struct {
	lastID string
	retry  time.Duration
}

// readBody reads the messages of an answer, JSON or an event stream,
// whatever its Content-Type says, and delivers them; done, when not nil,
// stops the reading once it reports true (the response has come). ended
// reports that the body ended, rather than being cut short by done. The
// first non-blank byte decides: a JSON message starts with '{' or '['.
func (c *streamableClient) readBody(ctx context.Context, resp *http.Response, what string, wantStream bool, cursor *sseCursor, done func() bool) (ended bool, err error) {
	br := bufio.NewReaderSize(resp.Body, 32<<10)
	first, err := firstByte(br)
	if errors.Is(err, io.EOF) {
		return true, nil // an empty body
	}
	if err != nil {
		return false, fmt.Errorf("reading the answer to %s: %w", what, err)
	}
	isJSON := first == '{' || first == '['
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case isJSON && mt == "text/event-stream":
		c.quirks.note("answers with JSON labelled text/event-stream")
	case isJSON && wantStream:
		c.quirks.note("answers a GET for its event stream with JSON")
	case !isJSON && mt == "application/json":
		c.quirks.note("answers with an event stream labelled application/json")
	case mt != "application/json" && mt != "text/event-stream":
		c.quirks.note(fmt.Sprintf("answers with Content-Type %q", mt))
	}
	if isJSON {
		return c.readJSON(br, what, mt == "application/json", done)
	}
	return c.readEvents(ctx, br, what, cursor, done)
}

// firstByte returns the first byte of r that is not JSON whitespace, left
// unread.
func firstByte(r *bufio.Reader) (byte, error) {
	for {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		if !isSpace(b) {
			return b, r.UnreadByte()
		}
	}
}

// readJSON reads JSON-RPC messages (or batches of them) one after the
// other, newline-delimited or not, each at most maxFrame bytes; labelled
// says the body was announced as JSON.
func (c *streamableClient) readJSON(r io.Reader, what string, labelled bool, done func() bool) (bool, error) {
	lim := &offsetLimit{r: r}
	dec := json.NewDecoder(lim)
	for n := 1; ; n++ {
		lim.limit = dec.InputOffset() + int64(c.maxFrame) + 4096
		var msg json.RawMessage
		if err := dec.Decode(&msg); err != nil {
			if errors.Is(err, io.EOF) {
				return true, nil
			}
			if errors.Is(err, ErrFrameTooLarge) {
				return false, fmt.Errorf("%w: the answer to %s holds a message over the %d-byte limit", ErrFrameTooLarge, what, c.maxFrame)
			}
			return false, fmt.Errorf("reading the answer to %s: %w", what, err)
		}
		if n == 2 && labelled { // else the label's breach was noted
			c.quirks.note("puts several JSON-RPC messages in one application/json body")
		}
		if msg[0] == '[' {
			var batch []json.RawMessage
			if json.Unmarshal(msg, &batch) == nil {
				for _, m := range batch {
					c.dispatch(m)
				}
			}
		} else {
			c.dispatch(msg)
		}
		if done != nil && done() {
			return false, nil
		}
	}
}

// offsetLimit fails a read past limit with ErrFrameTooLarge.
type offsetLimit struct {
	r     io.Reader
	read  int64
	limit int64
}

func (l *offsetLimit) Read(p []byte) (int, error) {
	if l.read >= l.limit {
		return 0, ErrFrameTooLarge
	}
	if rest := l.limit - l.read; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := l.r.Read(p)
	l.read += int64(n)
	return n, err
}

// readEvents reads an event stream, delivering each message event, until
// it ends or done reports true.
func (c *streamableClient) readEvents(ctx context.Context, r io.Reader, what string, cursor *sseCursor, done func() bool) (bool, error) {
	events := newSSEEventReader(r, c.maxFrame)
	defer func() {
		// The reconnection delay holds until a stream asks for another.
		if cursor != nil && events.lastID != "" {
			cursor.lastID = events.lastID
		}
		if cursor != nil && events.retry > 0 {
			cursor.retry = events.retry
		}
	}()
	for {
		ev, err := events.Next()
		switch {
		case errors.Is(err, io.EOF):
			return true, nil
		case err != nil && ctx.Err() != nil:
			return false, ctx.Err()
		case errors.Is(err, ErrFrameTooLarge):
			return false, fmt.Errorf("%w: the answer to %s holds an event over the %d-byte limit", ErrFrameTooLarge, what, c.maxFrame)
		case err != nil:
			return false, fmt.Errorf("reading the answer to %s: %w", what, err)
		}
		if ev.Name != "message" {
			slog.Default().Debug("streamable-http: dropping an event of unknown type", "event", ev.Name)
			continue
		}
		c.dispatch(ev.Data)
		if done != nil && done() {
			return false, nil
		}
	}
}
