package transports

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// resumeRefused is a resumption the server will not serve (a 4xx status):
// trying again cannot help.
type resumeRefused struct{ err error }

func (e *resumeRefused) Error() string { return e.err.Error() }
func (e *resumeRefused) Unwrap() error { return e.err }

// resumable reports whether reading an event stream stopped with err in a
// way that resuming it may mend: the connection broke (a proxy or load
// balancer cut it, the server went away), rather than the call ending or
// an event being over the size limit.
func resumable(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() == nil && !errors.Is(err, ErrFrameTooLarge)
}

// resumeAnswer resumes the response stream of a call that ended or broke
// before the response came, with GETs carrying Last-Event-ID, each after
// the delay the stream last asked for (resumeDelay if none), doubling
// while tries fail. It returns once done reports the response came, or
// after resumeTries tries in a row that brought nothing new, with the last
// try's error (nil when the stream merely ended again); broke is the error
// that ended the first stream, if it broke.
func (c *streamableClient) resumeAnswer(ctx context.Context, what string, cursor *sseCursor, done func() bool, broke error) error {
	lastErr := broke
	for fruitless := 0; fruitless < c.resumeTries && !done(); {
		if lastErr != nil {
			slog.Default().Debug("streamable-http: resuming an answer", "what", what, "url", c.shown, "last_event_id_set", true, "err", lastErr)
		}
		if !sleepCtx(ctx, c.resumeWait(cursor, fruitless)) {
			return ctx.Err()
		}
		last := cursor.lastID
		_, err := c.resumeOnce(ctx, what, cursor, done)
		var refused *resumeRefused
		switch {
		case done():
			return nil
		case errors.As(err, &refused), err != nil && !resumable(ctx, err):
			return err
		}
		lastErr = err
		if cursor.lastID != last {
			fruitless = 0
		} else {
			fruitless++
		}
	}
	if lastErr != nil {
		return fmt.Errorf("resuming the answer to %s at %s, %d tries in a row brought nothing new: %w", what, c.shown, c.resumeTries, lastErr)
	}
	return nil
}

// resumeWait is how long to wait before the next try to resume a stream,
// after fruitless tries in a row: the delay the stream asked for, or
// resumeDelay, doubled for each fruitless try up to retryCap.
func (c *streamableClient) resumeWait(cursor *sseCursor, fruitless int) time.Duration {
	base := c.resumeDelay
	if cursor.retry > 0 {
		base = max(cursor.retry, streamableMinResume)
	}
	return retryDelay(base, max(base, c.retryCap), fruitless+1)
}

// resumeOnce re-opens a response stream with a GET carrying Last-Event-ID
// and reads it until it ends, breaks, or done reports true.
func (c *streamableClient) resumeOnce(ctx context.Context, what string, cursor *sseCursor, done func() bool) (bool, error) {
	h := http.Header{}
	h.Set(headerLastEventID, cursor.lastID)
	resp, err := c.get(ctx, h)
	if err != nil {
		return false, c.requestError(ctx, "the resumption of "+what, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("resuming the answer to %s at %s: %w", what, c.shown, sseStatusError(resp))
		if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
			return false, &resumeRefused{err: err}
		}
		return false, err
	}
	return c.readBody(ctx, resp, what, true, cursor, done)
}
