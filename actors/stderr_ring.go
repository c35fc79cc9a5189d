package actors

// How much of each server's standard error the fleet keeps, across its
// restarts: the last stderrKeepLines lines, and no more than
// stderrKeepBytes of them.
const (
	stderrKeepLines = 1000
	stderrKeepBytes = 256 << 10
	stderrTailLines = 5 // what status shows of a server that is down
)

// stderrRing keeps the last lines a server wrote to its standard error,
// numbered from 0 in the order written, so that a follower can ask for
// the lines after the last it saw.
type stderrRing struct {
	lines    []string
	first    uint64 // the number of lines[0]
	bytes    int
	maxLines int
	maxBytes int
}

func newStderrRing(maxLines, maxBytes int) *stderrRing {
	return &stderrRing{maxLines: maxLines, maxBytes: maxBytes}
}

// add keeps line, dropping the oldest lines past the limits. A line
// longer than the byte limit is kept cut to it.
func (r *stderrRing) add(line string) {
	if len(line) > r.maxBytes {
		line = line[:r.maxBytes]
	}
	r.lines = append(r.lines, line)
	r.bytes += len(line)
	drop := 0
	for len(r.lines)-drop > r.maxLines || r.bytes > r.maxBytes {
		r.bytes -= len(r.lines[drop])
		drop++
	}
	if drop > 0 {
		// Copy rather than reslice, so that the dropped lines are freed.
		r.lines = append([]string(nil), r.lines[drop:]...)
		r.first += uint64(drop)
	}
}

// since returns a copy of the kept lines numbered after or from n (all
// kept ones if n is older), and the number of the next line to come.
func (r *stderrRing) since(n uint64) ([]string, uint64) {
	next := r.first + uint64(len(r.lines))
	if n < r.first {
		n = r.first
	}
	if n >= next {
		return nil, next
	}
	return append([]string(nil), r.lines[n-r.first:]...), next
}

// tail returns a copy of the last n lines kept.
func (r *stderrRing) tail(n int) []string {
	if n > len(r.lines) {
		n = len(r.lines)
	}
	return append([]string(nil), r.lines[len(r.lines)-n:]...)
}
