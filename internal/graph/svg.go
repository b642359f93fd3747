package graph

import (
	"bufio"
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// The header of the drawing: a title, the summary and the legend.
const (
	headerTitleY = 30.0
	headerSumY   = 50.0
	legendY      = 66.0 // top of the first legend row
	legendRowH   = 22.0
	swatch       = 14.0
	minWidth     = 760.0 // the header wraps its legend at this width at least
	fontFamily   = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', 'Liberation Mono', monospace"
)

// WriteSVG draws t's trigger tree as a standalone SVG image, laid out by
// layOut: boxes coloured by resource type and labelled with type, id,
// site and durations, trigger edges as curves from parent to child, the
// resources never destroyed in a red dashed border, merged nodes (see
// Merge) as a stack of boxes, and a legend. The output depends on t alone.
func WriteSVG(w io.Writer, t *Trace) error {
	s := t.Stats()
	legend := legendItems(t)
	// The legend's height depends on the width, which depends on the tree;
	// lay the tree out once for its width, then again below the header.
	width := max(layOut(t.Roots, 0).width, minWidth)
	rows := flowLegend(legend, width)
	top := legendY + float64(rows)*legendRowH + 12
	l := layOut(t.Roots, top)
	height := l.bottom

	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %[1]s %[2]s" font-family="%s" font-size="%s">`+"\n",
		px(width), px(height), esc(fontFamily), px(textSize))
	fmt.Fprintf(bw, "<title>%s</title>\n", esc("asyncinstr graph: "+summary(t, s)))
	fmt.Fprintf(bw, "<style>%s</style>\n", svgStyle)
	fmt.Fprintf(bw, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	writeHeader(bw, t, s, legend, width)
	bw.WriteString(`<g class="edges">` + "\n")
	for _, b := range l.boxes {
		if b.parent < 0 {
			continue
		}
		p := l.boxes[b.parent]
		x1, y1 := p.x+p.w, p.y+boxH/2
		x2, y2 := b.x, b.y+boxH/2
		mx := (x1 + x2) / 2
		fmt.Fprintf(bw, `<path d="M%s %s C%s %s %s %s %s %s"/>`+"\n",
			px(x1), px(y1), px(mx), px(y1), px(mx), px(y2), px(x2), px(y2))
	}
	bw.WriteString("</g>\n<g class=\"nodes\">\n")
	for _, b := range l.boxes {
		writeBox(bw, b)
	}
	bw.WriteString("</g>\n</svg>\n")
	return bw.Flush()
}

const svgStyle = `.edges path{fill:none;stroke:#9ca3af;stroke-width:1.3}` +
	`.box{stroke-width:1.3}.leak{stroke:#dc2626;stroke-width:2;stroke-dasharray:6 3}` +
	`.t{font-size:12px;font-weight:bold;fill:#111827}.s{fill:#374151}.d{fill:#6b7280}.ld{fill:#b91c1c}` +
	`.h1{font-size:15px;font-weight:bold;fill:#111827}.h2{font-size:12px;fill:#4b5563}.lg{font-size:11px;fill:#374151}`

// writeBox draws one node.
func writeBox(w *bufio.Writer, b box) {
	c := colourOf(b.n.Type)
	class, stroke := "box", c.Stroke
	if b.n.Leaked() {
		class, stroke = "box leak", leakColour
	}
	fmt.Fprintf(w, `<g id="n%d"><title>%s</title>`, b.n.ID, esc(strings.Join(label(b.n), "\n")))
	rect := func(dx float64) {
		fmt.Fprintf(w, `<rect class="%s" x="%s" y="%s" width="%s" height="%s" rx="6" fill="%s" stroke="%s"/>`,
			class, px(b.x+dx), px(b.y+dx), px(b.w), px(boxH), c.Fill, stroke)
	}
	if b.n.Members != nil {
		rect(5) // a stack of cards: this box stands for several
	}
	rect(0)
	tx := px(b.x + padX)
	classes := []string{"t", "s", "d"}
	if b.n.Leaked() {
		classes[2] = "ld"
	}
	for i, line := range b.lines {
		fmt.Fprintf(w, `<text class="%s" x="%s" y="%s">%s</text>`, classes[i], tx, px(b.y+18+float64(i)*15), esc(line))
	}
	w.WriteString("</g>\n")
}

// A legendItem is a type with its colour and count, or a marker.
type legendItem struct {
	text        string
	c           colour
	leak, stack bool
}

// legendItems lists the types drawn, most frequent first, then the leak
// marker and, when nodes were merged, the stack marker.
func legendItems(t *Trace) []legendItem {
	counts := map[string]int{}
	merged := false
	walk(t.Roots, func(n *Node) {
		if !n.Synthetic() {
			counts[n.Type] += n.Count()
		}
		merged = merged || n.Members != nil
	})
	types := make([]string, 0, len(counts))
	for typ := range counts {
		types = append(types, typ)
	}
	slices.SortFunc(types, func(a, b string) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	var items []legendItem
	for _, typ := range types {
		items = append(items, legendItem{text: fmt.Sprintf("%s %d", typ, counts[typ]), c: colourOf(typ)})
	}
	items = append(items, legendItem{text: "never destroyed", c: colour{"#ffffff", leakColour}, leak: true})
	if merged {
		items = append(items, legendItem{text: "×N: siblings of one type and site", c: grey, stack: true})
	}
	return items
}

// width is the room one legend item takes in its row.
func (it legendItem) width() float64 { return swatch + 9 + textWidth(it.text, 11) + 20 }

// flowLegend returns how many rows the legend takes at width.
func flowLegend(items []legendItem, width float64) int {
	rows, x := 1, margin
	for _, it := range items {
		if x+it.width() > width-margin && x > margin {
			rows++
			x = margin
		}
		x += it.width()
	}
	return rows
}

// writeHeader draws the title, the summary and the legend.
func writeHeader(w *bufio.Writer, t *Trace, s Stats, items []legendItem, width float64) {
	name := t.Name
	if t.Process != "" {
		name += " (" + t.Process + ")"
	}
	fmt.Fprintf(w, `<text class="h1" x="%s" y="%s">Trigger tree of %s</text>`+"\n", px(margin), px(headerTitleY), esc(name))
	sum := fmt.Sprintf("%s · %s · %d never destroyed", plural(s.Resources, "resource"), plural(s.Types, "type"), s.Leaked)
	if !t.Complete {
		sum += " · the trace is cut short (the program did not exit cleanly)"
	}
	fmt.Fprintf(w, `<text class="h2" x="%s" y="%s">%s</text>`+"\n", px(margin), px(headerSumY), esc(sum))
	w.WriteString(`<g class="legend">`)
	x, y := margin, legendY
	for _, it := range items {
		if x+it.width() > width-margin && x > margin {
			x, y = margin, y+legendRowH
		}
		class := "box"
		if it.leak {
			class = "box leak"
		}
		if it.stack {
			fmt.Fprintf(w, `<rect class="box" x="%s" y="%s" width="%s" height="%s" rx="3" fill="%s" stroke="%s"/>`,
				px(x+3), px(y+3), px(swatch), px(swatch), it.c.Fill, it.c.Stroke)
		}
		fmt.Fprintf(w, `<rect class="%s" x="%s" y="%s" width="%s" height="%s" rx="3" fill="%s" stroke="%s"/>`,
			class, px(x), px(y), px(swatch), px(swatch), it.c.Fill, it.c.Stroke)
		tx := x + swatch + 6
		if it.stack {
			tx += 3
		}
		fmt.Fprintf(w, `<text class="lg" x="%s" y="%s">%s</text>`, px(tx), px(y+11), esc(it.text))
		x += it.width()
	}
	w.WriteString("</g>\n")
}

// px formats a coordinate with at most one decimal.
func px(v float64) string {
	return strconv.FormatFloat(float64(int64(v*10+0.5))/10, 'f', -1, 64)
}

// esc escapes s for XML text and attribute values.
func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
