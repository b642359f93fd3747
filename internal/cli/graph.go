package cli

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"

	"github.com/asyncinstr/asyncinstr/internal/graph"
	"github.com/asyncinstr/asyncinstr/rewrite"
)

const graphSynopsis = "usage: asyncinstr graph [-format svg|dot|html] [-all] [-o file] tracefile\n"

const graphUsage = graphSynopsis + `
Graph reads the trace that an instrumented program run with
ASYNCINSTR_TRACE=tracefile wrote (docs/trace-format.md) and draws its
trigger tree: every resource under the one that caused it, with its type,
id, creation site, lifetime and run time; resources never destroyed are
marked. The trace of a program that crashed will do.

Formats:
  svg   a picture laid out by asyncinstr itself (the default)
  dot   a Graphviz digraph: dot -Tpng
  html  one self-contained page to explore large trees: collapse, expand,
        search by type, site or #id

In svg and dot, childless siblings of one type and site (and alike in
being destroyed or not) are drawn as one node "TYPE ×N", unless -all is
given. The output goes to standard output unless -o names a file.

Flags:
`

// writers are the output formats of graph.
var writers = map[string]func(io.Writer, *graph.Trace) error{
	"svg":  graph.WriteSVG,
	"dot":  graph.WriteDOT,
	"html": graph.WriteHTML,
}

// runGraph runs "asyncinstr graph".
func runGraph(args []string, stdout, stderr io.Writer) int {
	fs, parseOut := newFlagSet("asyncinstr graph")
	format := fs.String("format", "svg", "output `format`: svg, dot or html")
	out := fs.String("o", "", "write to `file` (atomically) instead of standard output")
	all := fs.Bool("all", false, "draw every resource: do not merge childless siblings of one type and site")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), graphUsage)
		fs.PrintDefaults()
	}
	if code, ok := parse(fs, parseOut, args, stdout, stderr); !ok {
		return code
	}
	write, ok := writers[*format]
	if !ok {
		fmt.Fprintf(stderr, "asyncinstr: graph: unknown -format %q (want svg, dot or html)\n", *format)
		return exitError
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "asyncinstr: graph: want one trace file, have %d arguments\n%s", fs.NArg(), graphSynopsis)
		return exitError
	}
	t, err := graph.ReadFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "asyncinstr: %v\n", err)
		return exitError
	}
	if !*all && *format != "html" {
		t = graph.Merge(t)
	}
	var buf bytes.Buffer
	if err := write(&buf, t); err != nil {
		fmt.Fprintf(stderr, "asyncinstr: graph: %v\n", err)
		return exitError
	}
	if *out == "" {
		if _, err := stdout.Write(buf.Bytes()); err != nil {
			fmt.Fprintf(stderr, "asyncinstr: graph: %v\n", err)
			return exitError
		}
		return exitOK
	}
	path, err := filepath.Abs(*out)
	if err == nil {
		err = writeAll([]rewrite.Change{{Path: path, New: buf.Bytes()}})
	}
	if err != nil {
		fmt.Fprintf(stderr, "asyncinstr: graph: writing %s: %v\n", *out, err)
		return exitError
	}
	return exitOK
}
