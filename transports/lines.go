package transports

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
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

// NewLineReader reads frames of at most max bytes from r.
func NewLineReader(r io.Reader, max int) *LineReader {
	return &LineReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// Next returns the next non-empty line without its line ending. The slice
// is valid until the next call.
func (l *LineReader) Next() ([]byte, error) {
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
