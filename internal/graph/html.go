package graph

import (
	_ "embed"
	"encoding/json"
	"html/template"
	"io"
	"strconv"
	"time"
)

var (
	//go:embed page.html
	pageHTML string
	//go:embed page.css
	pageCSS string
	//go:embed page.js
	pageJS string

	pageTemplate = template.Must(template.New("page").Parse(pageHTML))
)

// WriteHTML writes one self-contained page (inline style and script, no
// network) to explore t's trigger tree: collapse and expand subtrees,
// search by type, site or id, durations and leaks per node, a summary.
// The tree travels as JSON in a <script type="application/json"
// id="trace-data"> element, and the page builds only the rows that are
// expanded, so that it stays quick with a hundred thousand nodes.
func WriteHTML(w io.Writer, t *Trace) error {
	s := t.Stats()
	return pageTemplate.Execute(w, struct {
		Name, Process string
		Complete      bool
		Resources     string
		Types         string
		Leaked        string
		Summary       string
		CSS           template.CSS
		JS            template.JS
		Data          template.JS
	}{
		Name:      t.Name,
		Process:   t.Process,
		Complete:  t.Complete,
		Resources: thousands(s.Resources),
		Types:     thousands(s.Types),
		Leaked:    thousands(s.Leaked),
		Summary:   summary(t, s),
		CSS:       template.CSS(pageCSS),
		JS:        template.JS(pageJS),
		Data:      template.JS(pageData(t)),
	})
}

// Flags of a node in the page's data.
const (
	flagLeaked      = 1
	flagBeforeTrace = 2
	flagSynthetic   = 4
)

// pageData encodes the tree as compact JSON for the page:
//
//	{"end": µs, "types": [[name, fill, stroke], ...], "sites": [site, ...],
//	 "nodes": [[id, type, site, parent, flags, init, lifetime, run, runs], ...]}
//
// Types and sites are indexes into the lists (site -1: none), parent is the
// index of the parent node (-1 for a root), which comes first: nodes are
// in depth-first order. Times are in microseconds; lifetime -1 is unknown.
// Strings go through encoding/json, which escapes <, > and &, so that
// the data cannot close its script element.
func pageData(t *Trace) []byte {
	types, sites := map[string]int{}, map[string]int{}
	var typeList [][3]string
	var siteList []string
	index := map[uint64]int{} // of each node walked, by ID
	b := []byte(`{"end":`)
	b = appendMicros(b, t.End)
	b = append(b, `,"nodes":[`...)
	i := 0
	walk(t.Roots, func(n *Node) {
		ti, ok := types[n.Type]
		if !ok {
			ti = len(typeList)
			types[n.Type] = ti
			c := colourOf(n.Type)
			typeList = append(typeList, [3]string{n.Type, c.Fill, c.Stroke})
		}
		si := -1
		if n.Site != "" {
			var ok bool
			if si, ok = sites[n.Site]; !ok {
				si = len(siteList)
				sites[n.Site] = si
				siteList = append(siteList, n.Site)
			}
		}
		parent := -1
		if !n.Synthetic() {
			parent = index[n.Trigger]
		}
		index[n.ID] = i
		flags := 0
		if n.Leaked() {
			flags |= flagLeaked
		}
		if n.Kind == BeforeTrace {
			flags |= flagBeforeTrace
		}
		if n.Synthetic() {
			flags |= flagSynthetic
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendUint(b, n.ID, 10)
		for _, v := range []int{ti, si, parent, flags} {
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(v), 10)
		}
		b = append(b, ',')
		b = appendMicros(b, n.Init)
		b = append(b, ',')
		if d, ok := n.Lifetime(); ok {
			b = appendMicros(b, d)
		} else {
			b = append(b, "-1"...)
		}
		b = append(b, ',')
		b = appendMicros(b, n.Run)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(n.Runs), 10)
		b = append(b, ']')
		i++
	})
	b = append(b, `],"types":`...)
	tj, _ := json.Marshal(typeList)
	b = append(b, tj...)
	b = append(b, `,"sites":`...)
	sj, _ := json.Marshal(siteList)
	if siteList == nil {
		sj = []byte("[]")
	}
	b = append(b, sj...)
	return append(b, '}')
}

// appendMicros appends d in microseconds, to the nanosecond.
func appendMicros(b []byte, d time.Duration) []byte {
	return strconv.AppendFloat(b, float64(d)/1e3, 'f', -1, 64)
}

// thousands formats n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
