package transports

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// tooLarge stands for an ErrFrameTooLarge result in the expected sequences.
const tooLarge = "<too large>"

func TestLineReader(t *testing.T) {
	const kib = 1 << 10
	long := func(n int, c string) string { return strings.Repeat(c, n) }
	tests := []struct {
		name string
		in   string
		max  int
		want []string // lines in order, tooLarge for ErrFrameTooLarge; EOF follows
	}{
		{"empty stream", "", 10, nil},
		{"only newlines", "\n\r\n\n", 10, nil},
		{"lf", "a\nbb\nccc\n", 10, []string{"a", "bb", "ccc"}},
		{"crlf", "a\r\nbb\r\nccc\r\n", 10, []string{"a", "bb", "ccc"}},
		{"mixed endings", "a\r\nbb\nccc\r\n", 10, []string{"a", "bb", "ccc"}},
		{"blank lines skipped", "\n\na\n\n \t \n\r\nb\n\n", 10, []string{"a", "b"}},
		{"inner spaces kept", " a b \n", 10, []string{" a b "}},
		{"last line without newline", "a\nlast", 10, []string{"a", "last"}},
		{"only line without newline", `{"jsonrpc":"2.0"}`, 100, []string{`{"jsonrpc":"2.0"}`}},
		{"exactly max", "12345\n", 5, []string{"12345"}},
		{"exactly max with crlf", "12345\r\n", 5, []string{"12345"}},
		{"exactly max without newline", "12345", 5, []string{"12345"}},
		{"one over max", "123456\nok\n", 5, []string{tooLarge, "ok"}},
		{"one over max with crlf", "123456\r\nok\r\n", 5, []string{tooLarge, "ok"}},
		{"one over max without newline", "ok\n123456", 5, []string{"ok", tooLarge}},
		{"far over max", "a\n" + long(1000, "x") + "\nb\n", 5, []string{"a", tooLarge, "b"}},
		{"two too large in a row", long(6, "x") + "\n" + long(7, "y") + "\nz\n", 5, []string{tooLarge, tooLarge, "z"}},
		{"too large then blank lines", long(6, "x") + "\n\n\nz", 5, []string{tooLarge, "z"}},
		{
			"longer than the read buffer and than max",
			long(200*kib, "x") + "\nshort\n", 100 * kib,
			[]string{tooLarge, "short"},
		},
		{
			"longer than the read buffer, within max",
			"a\n" + long(150*kib, "y") + "\r\nb\n", 200 * kib,
			[]string{"a", long(150*kib, "y"), "b"},
		},
		{
			"exactly max over several buffers",
			long(100*kib, "z") + "\n" + long(100*kib+1, "w") + "\nend", 100 * kib,
			[]string{long(100*kib, "z"), tooLarge, "end"},
		},
		{
			"too large at the end of the stream",
			"ok\n" + long(200*kib, "x"), 100 * kib,
			[]string{"ok", tooLarge},
		},
		{
			"many lines",
			strings.Repeat("0123456789\n", 20000), 10,
			func() []string {
				l := make([]string, 20000)
				for i := range l {
					l[i] = "0123456789"
				}
				return l
			}(),
		},
	}
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"whole", func(r io.Reader) io.Reader { return r }},
		{"one byte at a time", iotest.OneByteReader},
		{"half reads", iotest.HalfReader},
		{"data with EOF", iotest.DataErrReader},
	}
	for _, tt := range tests {
		for _, rd := range readers {
			t.Run(tt.name+"/"+rd.name, func(t *testing.T) {
				if rd.name == "one byte at a time" && len(tt.in) > 64<<10 {
					t.Skip("too slow byte by byte; covered by the other readers")
				}
				lr := NewLineReader(rd.wrap(strings.NewReader(tt.in)), tt.max)
				for i, want := range tt.want {
					line, err := lr.Next()
					got := string(line)
					switch {
					case errors.Is(err, ErrFrameTooLarge):
						got = tooLarge
						if line != nil {
							t.Errorf("result %d: a line came with ErrFrameTooLarge", i)
						}
					case err != nil:
						t.Fatalf("result %d: unexpected error %v, want %s", i, err, abbreviate(want))
					}
					if got != want {
						t.Fatalf("result %d = %s, want %s", i, abbreviate(got), abbreviate(want))
					}
				}
				for range 2 {
					if line, err := lr.Next(); err != io.EOF {
						t.Fatalf("after the last line got %s, %v; want io.EOF", abbreviate(string(line)), err)
					}
				}
			})
		}
	}
}

func abbreviate(s string) string {
	if len(s) <= 40 {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q... (%d bytes)", s[:20], len(s))
}

func TestLineReaderPassesReadErrors(t *testing.T) {
	broken := errors.New("pipe broke")
	lr := NewLineReader(io.MultiReader(strings.NewReader("a\n"), iotest.ErrReader(broken)), 10)
	if line, err := lr.Next(); err != nil || string(line) != "a" {
		t.Fatalf("Next = %q, %v; want a", line, err)
	}
	if line, err := lr.Next(); !errors.Is(err, broken) {
		t.Errorf("Next = %q, %v; want %v", line, err, broken)
	}
}

func TestLimitedLines(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		max     int
		wantErr bool
		// wantPrefix must have been delivered before any error.
		wantPrefix string
	}{
		{"empty", "", 3, false, ""},
		{"short lines", "abc\nde\n\nf\n", 3, false, "abc\nde\n\nf\n"},
		{"last line without newline", "abc\nabc", 3, false, "abc\nabc"},
		{"line of exactly max with crlf", "abc\r\nabc\r\n", 3, false, "abc\r\nabc\r\n"},
		{"first line too long", "abcd\nok\n", 3, true, ""},
		{"last line too long", "ok\nabcd", 3, true, "ok\n"},
		{"lines before a long one reach the reader", "ok\nfine\n" + strings.Repeat("x", 200) + "\nafter\n", 100, true, "ok\nfine\n"},
		{"many short lines, then a long one", strings.Repeat("12345678\n", 1000) + strings.Repeat("x", 5000), 4096, true, strings.Repeat("12345678\n", 1000)},
	}
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"whole", func(r io.Reader) io.Reader { return r }},
		{"one byte at a time", iotest.OneByteReader},
		{"data with EOF", iotest.DataErrReader},
	}
	for _, tt := range tests {
		for _, rd := range readers {
			t.Run(tt.name+"/"+rd.name, func(t *testing.T) {
				l := &limitedLines{r: rd.wrap(strings.NewReader(tt.in)), max: tt.max}
				var got []byte
				buf := make([]byte, 4096)
				var err error
				for range 100000 {
					var n int
					n, err = l.Read(buf)
					got = append(got, buf[:n]...)
					if err != nil {
						break
					}
				}
				if !tt.wantErr {
					if err != io.EOF {
						t.Fatalf("read %s then %v; want io.EOF", abbreviate(string(got)), err)
					}
					if string(got) != tt.in {
						t.Errorf("passed %s, want %s", abbreviate(string(got)), abbreviate(tt.in))
					}
					return
				}
				if !errors.Is(err, ErrFrameTooLarge) {
					t.Fatalf("read %s then %v; want ErrFrameTooLarge", abbreviate(string(got)), err)
				}
				if !strings.HasPrefix(string(got), tt.wantPrefix) {
					t.Errorf("before the error the reader got %s, want it to start with %s", abbreviate(string(got)), abbreviate(tt.wantPrefix))
				}
				if len(got) > len(tt.wantPrefix)+tt.max {
					t.Errorf("%d bytes passed; the long line got through past the limit", len(got))
				}
				for range 2 {
					if n, again := l.Read(buf); n != 0 || !errors.Is(again, ErrFrameTooLarge) {
						t.Errorf("Read after the failure = %d, %v; want 0, ErrFrameTooLarge", n, again)
					}
				}
			})
		}
	}
}
