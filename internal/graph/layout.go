package graph

import "unicode/utf8"

// The geometry of the SVG drawing, in pixels. Its text is monospaced, so
// that the width of a label is known without measuring fonts: every
// monospaced font advances about 0.6em per character.
const (
	titleSize = 12.0 // font size of a box's first line
	textSize  = 11.0 // and of the others
	charW     = 0.6  // advance of a character, in em
	padX      = 10.0 // space left and right of a box's text
	boxH      = 56.0 // height of every box (three lines)
	hGap      = 56.0 // space between columns, where the edges run
	vGap      = 12.0 // space between rows
	rootGap   = 28.0 // extra space between separate trees
	margin    = 20.0 // around the drawing
	maxRunes  = 60   // longer label lines are cut with "…"
)

// A box is a node placed in the drawing: (x, y) is its top left corner.
type box struct {
	n      *Node
	lines  []string
	x, y   float64
	w      float64
	depth  int
	parent int // index of the parent's box, -1 for a root
}

// A layout is a tree drawn left to right: a node's depth gives its column,
// each leaf gets a row of its own, and a parent sits midway between its
// first and last child, so that no two subtrees overlap.
type layout struct {
	boxes         []box // parents before children
	width, bottom float64
}

// layOut places the trees of roots below y = top.
func layOut(roots []*Node, top float64) *layout {
	l := &layout{}
	var colW []float64
	y := top
	var place func(n *Node, depth, parent int) float64
	place = func(n *Node, depth, parent int) float64 {
		lines := label(n)
		for i, s := range lines {
			lines[i] = cut(s)
		}
		w := boxWidth(lines)
		if depth == len(colW) {
			colW = append(colW, 0)
		}
		colW[depth] = max(colW[depth], w)
		i := len(l.boxes)
		l.boxes = append(l.boxes, box{n: n, lines: lines, w: w, depth: depth, parent: parent})
		if len(n.Children) == 0 {
			l.boxes[i].y = y
			y += boxH + vGap
			return l.boxes[i].y
		}
		first := place(n.Children[0], depth+1, i)
		last := first
		for _, c := range n.Children[1:] {
			last = place(c, depth+1, i)
		}
		l.boxes[i].y = (first + last) / 2
		return l.boxes[i].y
	}
	for k, r := range roots {
		if k > 0 {
			y += rootGap
		}
		place(r, 0, -1)
	}
	xs := make([]float64, len(colW))
	x := margin
	for d, w := range colW {
		xs[d] = x
		x += w + hGap
	}
	for i := range l.boxes {
		l.boxes[i].x = xs[l.boxes[i].depth]
	}
	l.width = x - hGap + margin
	l.bottom = y - vGap + margin
	return l
}

// boxWidth returns the width of a box that holds lines.
func boxWidth(lines []string) float64 {
	w := 0.0
	for i, s := range lines {
		size := textSize
		if i == 0 {
			size = titleSize
		}
		w = max(w, textWidth(s, size))
	}
	return w + 2*padX
}

// textWidth returns the width of s in the monospaced font at size.
func textWidth(s string, size float64) float64 {
	return float64(utf8.RuneCountInString(s)) * charW * size
}

// cut shortens s to maxRunes runes.
func cut(s string) string {
	if utf8.RuneCountInString(s) <= maxRunes {
		return s
	}
	return string([]rune(s)[:maxRunes-1]) + "…"
}
