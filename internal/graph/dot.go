package graph

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// leakColour marks the resources never destroyed, in every format.
const leakColour = "#dc2626"

// WriteDOT writes t's trigger tree as a Graphviz digraph, left to right:
// one node statement per node (named n<ID>), then one edge per trigger.
// Each label gives type, id, site and durations; resources never
// destroyed have a red dashed border. The output depends on t alone.
func WriteDOT(w io.Writer, t *Trace) error {
	bw := bufio.NewWriter(w)
	s := t.Stats()
	fmt.Fprintf(bw, "digraph asyncinstr {\n")
	fmt.Fprintf(bw, "\tgraph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, labelloc=t, label=%s];\n",
		dotString([]string{summary(t, s)}))
	fmt.Fprintf(bw, "\tnode [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n")
	fmt.Fprintf(bw, "\tedge [color=\"#9ca3af\", arrowsize=0.6];\n")
	walk(t.Roots, func(n *Node) {
		c := colourOf(n.Type)
		attrs := fmt.Sprintf("fillcolor=%q, color=%q", c.Fill, c.Stroke)
		if n.Leaked() {
			attrs = fmt.Sprintf("fillcolor=%q, color=%q, style=\"rounded,filled,dashed\", penwidth=2", c.Fill, leakColour)
		}
		if n.Members != nil {
			attrs += ", peripheries=2"
		}
		fmt.Fprintf(bw, "\tn%d [label=%s, %s];\n", n.ID, dotString(label(n)), attrs)
	})
	walk(t.Roots, func(n *Node) {
		for _, c := range n.Children {
			fmt.Fprintf(bw, "\tn%d -> n%d;\n", n.ID, c.ID)
		}
	})
	fmt.Fprintf(bw, "}\n")
	return bw.Flush()
}

// dotString quotes lines as one DOT string, each line centred.
func dotString(lines []string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i, l := range lines {
		if i > 0 {
			b.WriteString(`\n`)
		}
		for _, r := range l {
			switch r {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteRune(r)
			case '\n', '\r':
				b.WriteByte(' ')
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// summary is the one-line description of a trace that every format
// shows.
func summary(t *Trace, s Stats) string {
	var b strings.Builder
	b.WriteString(t.Name)
	if t.Process != "" {
		fmt.Fprintf(&b, " (%s)", t.Process)
	}
	fmt.Fprintf(&b, ": %s, %s, %d never destroyed", plural(s.Resources, "resource"), plural(s.Types, "type"), s.Leaked)
	if !t.Complete {
		b.WriteString("; the trace is cut short")
	}
	return b.String()
}
