package graph

import (
	"bytes"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata from the current output")

// TestGolden draws each testdata/draw/*.json as DOT and SVG, merged and
// with every resource (-all), and compares the output with the golden
// files beside it: NAME.dot, NAME.svg, NAME-all.dot, NAME-all.svg.
func TestGolden(t *testing.T) {
	traces, _ := filepath.Glob("testdata/draw/*.json")
	if len(traces) == 0 {
		t.Fatal("no traces in testdata/draw")
	}
	for _, file := range traces {
		tr, err := ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		tr.Name = filepath.Base(file)
		for _, all := range []bool{false, true} {
			drawn, suffix := Merge(tr), ""
			if all {
				drawn, suffix = tr, "-all"
			}
			for _, f := range []struct {
				ext   string
				write func(io.Writer, *Trace) error
				check func(*testing.T, []byte, *Trace)
			}{{".dot", WriteDOT, checkDOT}, {".svg", WriteSVG, checkSVG}} {
				golden := strings.TrimSuffix(file, ".json") + suffix + f.ext
				t.Run(filepath.Base(golden), func(t *testing.T) {
					var b bytes.Buffer
					if err := f.write(&b, drawn); err != nil {
						t.Fatal(err)
					}
					f.check(t, b.Bytes(), drawn)
					var again bytes.Buffer
					f.write(&again, drawn)
					if !bytes.Equal(b.Bytes(), again.Bytes()) {
						t.Error("two writes of one tree differ")
					}
					if *update {
						if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
							t.Fatal(err)
						}
						return
					}
					want, err := os.ReadFile(golden)
					if err != nil {
						t.Fatalf("%v (run go test -update to write it)", err)
					}
					if !bytes.Equal(b.Bytes(), want) {
						t.Errorf("output differs from %s (go test -update rewrites it):\n%s", golden, b.Bytes())
					}
				})
			}
		}
	}
}

// TestMerge checks that the fan-out of one request, 40 goroutines from
// one site of which 2 leaked, becomes two nodes, and that nothing with
// children is merged.
func TestMerge(t *testing.T) {
	tr, err := ReadFile("testdata/draw/fanout.json")
	if err != nil {
		t.Fatal(err)
	}
	m := Merge(tr)
	if m.Stats() != tr.Stats() {
		t.Errorf("merging changed the counts: %+v, was %+v", m.Stats(), tr.Stats())
	}
	var groups []string
	walk(m.Roots, func(n *Node) {
		if n.Members != nil {
			if len(n.Children) > 0 {
				t.Errorf("%s has children and was merged", title(n))
			}
			groups = append(groups, title(n)+" "+timesLine(n))
		}
	})
	want := []string{
		"GOROUTINE ×12 lived 45.0µs–56.0µs · ran 426µs in 12 runs",
		"GOROUTINE ×38 lived 45.0µs–84.0µs · ran 1.89ms in 38 runs",
		"GOROUTINE ×2 never destroyed · ran 87.0µs in 2 runs",
		"GOROUTINE ×5 lived 45.0µs–49.0µs · ran 160µs in 5 runs",
	}
	if strings.Join(groups, "\n") != strings.Join(want, "\n") {
		t.Errorf("merged nodes:\n%s\nwant:\n%s", strings.Join(groups, "\n"), strings.Join(want, "\n"))
	}
}

// checkSVG checks that svg is well-formed XML with one box per node.
func checkSVG(t *testing.T, svg []byte, tr *Trace) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(svg))
	boxes := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "g" && len(se.Attr) > 0 && se.Attr[0].Name.Local == "id" {
			boxes++
		}
	}
	if n := countNodes(tr); boxes != n {
		t.Errorf("the SVG draws %d nodes, want %d", boxes, n)
	}
}

var (
	dotNode = regexp.MustCompile(`(?m)^\tn(\d+) \[label=`)
	dotEdge = regexp.MustCompile(`(?m)^\tn(\d+) -> n(\d+);$`)
	dotStr  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
)

// checkDOT checks that dot has balanced braces outside its strings, one
// node statement per node, and edges between declared nodes only.
func checkDOT(t *testing.T, dot []byte, tr *Trace) {
	t.Helper()
	bare := dotStr.ReplaceAll(dot, []byte(`""`))
	if bytes.Count(bare, []byte("{")) != 1 || bytes.Count(bare, []byte("}")) != 1 || !bytes.HasSuffix(bare, []byte("}\n")) {
		t.Errorf("the DOT's braces do not balance:\n%s", bare)
	}
	if bytes.Count(bare, []byte(`"`))%2 != 0 {
		t.Errorf("the DOT has an unterminated string")
	}
	declared := map[string]bool{}
	for _, m := range dotNode.FindAllSubmatch(dot, -1) {
		if declared[string(m[1])] {
			t.Errorf("node n%s is declared twice", m[1])
		}
		declared[string(m[1])] = true
	}
	if n := countNodes(tr); len(declared) != n {
		t.Errorf("the DOT declares %d nodes, want %d", len(declared), n)
	}
	edges := dotEdge.FindAllSubmatch(dot, -1)
	for _, m := range edges {
		if !declared[string(m[1])] || !declared[string(m[2])] {
			t.Errorf("edge n%s -> n%s joins an undeclared node", m[1], m[2])
		}
	}
	if n := countNodes(tr) - len(tr.Roots); len(edges) != n {
		t.Errorf("the DOT has %d edges, want %d", len(edges), n)
	}
}

func countNodes(tr *Trace) int {
	n := 0
	walk(tr.Roots, func(*Node) { n++ })
	return n
}

// TestEscaping checks that text from the trace cannot break out of its
// place in any format.
func TestEscaping(t *testing.T) {
	const evil = `a"b\c<d>&e</script><!--` + "\n"
	tr := &Trace{Name: evil, Process: evil, Complete: true, Roots: []*Node{{ID: 1, Kind: Root, Type: "ROOT"}}}
	tr.Roots[0].Children = []*Node{{ID: 2, Trigger: 1, Type: evil, Site: evil}}
	var svg, dot, page bytes.Buffer
	if err := WriteSVG(&svg, tr); err != nil {
		t.Fatal(err)
	}
	checkSVG(t, svg.Bytes(), tr)
	if err := WriteDOT(&dot, tr); err != nil {
		t.Fatal(err)
	}
	checkDOT(t, dot.Bytes(), tr)
	if err := WriteHTML(&page, tr); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(page.String(), "</script>"); n != 2 {
		t.Errorf("the page has %d </script>, want 2: the data closed its element", n)
	}
	if strings.Contains(page.String(), "<!--") {
		t.Errorf("the page holds an unescaped <!--")
	}
}
