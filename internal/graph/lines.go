package graph

import (
	"bytes"
	"io"
)

// A lineReader passes its input through and remembers where the newlines
// are, until the decoder has gone past them: it turns a decoder offset
// into a line number without keeping the input, which the decoder reads
// ahead of by at most its buffer.
type lineReader struct {
	r    io.Reader
	off  int64   // bytes read so far
	nl   []int64 // offsets of the newlines not yet passed
	line int     // line of the last offset asked for
}

func newLineReader(r io.Reader) *lineReader { return &lineReader{r: r, line: 1} }

func (l *lineReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i := 0; i < n; {
		j := bytes.IndexByte(p[i:n], '\n')
		if j < 0 {
			break
		}
		l.nl = append(l.nl, l.off+int64(i+j))
		i += j + 1
	}
	l.off += int64(n)
	return n, err
}

// lineAt returns the line of offset off. Offsets must be asked for in
// increasing order.
func (l *lineReader) lineAt(off int64) int {
	i := 0
	for i < len(l.nl) && l.nl[i] < off {
		i++
	}
	l.line += i
	l.nl = l.nl[i:]
	return l.line
}
