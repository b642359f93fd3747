package graph

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// TestRead reads the trace of each testdata/read/*.txtar and compares
// the tree it builds, dumped, with the archive's "tree" file, or the
// error with its "error" file.
func TestRead(t *testing.T) {
	files, _ := filepath.Glob("testdata/read/*.txtar")
	if len(files) == 0 {
		t.Fatal("no test cases in testdata/read")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			a, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			fs := map[string]string{}
			for _, f := range a.Files {
				fs[f.Name] = string(f.Data)
			}
			trace := fs["trace.json"]
			if strings.HasPrefix(filepath.Base(file), "cut") {
				// A txtar file ends with a newline; the trace of a
				// program that died while writing does not.
				trace = strings.TrimSuffix(trace, "\n")
			}
			tr, err := Read(strings.NewReader(trace), "trace.json")
			if want, ok := fs["error"]; ok {
				if err == nil {
					t.Fatalf("Read succeeded, want error %q", want)
				}
				if got := err.Error() + "\n"; got != want {
					t.Fatalf("Read error:\n%s\nwant:\n%s", got, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := dump(tr), fs["tree"]; got != want {
				t.Errorf("tree:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// dump prints a tree one node a line, children indented under parents.
func dump(t *Trace) string {
	var b strings.Builder
	state := "cut"
	if t.Complete {
		state = "complete"
	}
	fmt.Fprintf(&b, "%s process=%s end=%v\n", state, t.Process, t.End)
	var node func(n *Node, depth int)
	node = func(n *Node, depth int) {
		fmt.Fprintf(&b, "%s%s #%d", strings.Repeat("  ", depth), n.Type, n.ID)
		if !n.Synthetic() {
			fmt.Fprintf(&b, " %q", n.Site)
		}
		if n.Kind == Resource {
			fmt.Fprintf(&b, " init=%v", n.Init)
		}
		if n.Destroyed {
			fmt.Fprintf(&b, " destroy=%v", n.Destroy)
		}
		if n.Runs > 0 {
			fmt.Fprintf(&b, " run=%v/%d", n.Run, n.Runs)
		}
		if n.Kind == BeforeTrace {
			b.WriteString(" before-trace")
		}
		if n.Leaked() {
			b.WriteString(" leaked")
		}
		b.WriteByte('\n')
		for _, c := range n.Children {
			node(c, depth+1)
		}
	}
	for _, r := range t.Roots {
		node(r, 0)
	}
	return b.String()
}

// TestReadFileError checks that ReadFile names the file in its errors.
func TestReadFileError(t *testing.T) {
	_, err := ReadFile(filepath.Join(t.TempDir(), "missing.json"))
	if err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("ReadFile of a missing file: %v", err)
	}
}

// TestReadGenerated checks the tree of a generated trace against what the
// generator meant.
func TestReadGenerated(t *testing.T) {
	data, res := genTrace(50, 7)
	tr, err := Read(bytes.NewReader(data), "gen.json")
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint64]*Node{}
	walk(tr.Roots, func(n *Node) { got[n.ID] = n })
	if len(got) != len(res)+1 {
		t.Errorf("the tree has %d nodes, want %d resources and the root", len(got), len(res))
	}
	for _, r := range res {
		n := got[r.id]
		if n == nil || n.Trigger != r.trigger || n.Type != r.typ || n.Site != r.site || n.Leaked() != r.leaked {
			t.Fatalf("resource %d = %+v, want %+v", r.id, n, r)
		}
	}
	if s := tr.Stats(); s.Resources != len(res) {
		t.Errorf("Stats().Resources = %d, want %d", s.Resources, len(res))
	}
}

// TestReadStreams checks that reading keeps memory for the resources, not
// the events: a trace of one resource that runs 50,000 times, produced
// as it is read, leaves the heap about where it was.
func TestReadStreams(t *testing.T) {
	const runs = 50_000
	pr, pw := io.Pipe()
	go func() {
		fmt.Fprintf(pw, `[{"name":"process_name","ph":"M","pid":1,"tid":0,"args":{"name":"busy"}}`+"\n")
		fmt.Fprintf(pw, `,{"name":"TICKER","cat":"init","ph":"X","ts":1,"dur":0,"pid":1,"tid":1,"args":{"async_id":2,"trigger_async_id":1}}`+"\n")
		for i := range runs {
			fmt.Fprintf(pw, `,{"name":"TICKER","cat":"run","ph":"B","ts":%d,"pid":1,"tid":3,"args":{"async_id":2}}`+"\n", 2+2*i)
			fmt.Fprintf(pw, `,{"ph":"E","ts":%d,"pid":1,"tid":3}`+"\n", 3+2*i)
		}
		pw.Close()
	}()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tr, err := Read(pr, "busy.json")
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if n := tr.Roots[0].Children[0]; n.Runs != runs {
		t.Errorf("the ticker ran %d times, want %d", n.Runs, runs)
	}
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 1<<20 {
		t.Errorf("reading 100,000 events grew the heap by %d bytes", grew)
	}
	runtime.KeepAlive(tr)
}
