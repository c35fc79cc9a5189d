package main

import (
	"bufio"
	"errors"
	"io"
)

// lineReader reads lines without copying those that fit its buffer.
type lineReader struct {
	r    *bufio.Reader
	long []byte // a line longer than the buffer, assembled
}

func newLineReader(r io.Reader, size int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, size)}
}

// reset makes the reader read from r, keeping its buffers.
func (l *lineReader) reset(r io.Reader) {
	l.r.Reset(r)
}

// next returns the next line without its LF or CRLF ending, valid until
// the next call, and the read error if the stream ended; a last line
// without an ending comes with that error.
func (l *lineReader) next() ([]byte, error) {
	line, err := l.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		l.long = append(l.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = l.r.ReadSlice('\n')
			l.long = append(l.long, line...)
		}
		line = l.long
	}
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
		if n > 1 && line[n-2] == '\r' {
			line = line[:n-2]
		}
	}
	return line, err
}
