package rewrite_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/diff"
	"golang.org/x/tools/txtar"

	"github.com/asyncinstr/asyncinstr/rewrite"
)

var update = flag.Bool("update", false, "rewrite the want/ files and events of testdata/golden with the current output")

// A golden case is a txtar archive in testdata/golden:
//
//   - its files, except those under want/ and the "events" file, are the
//     input module (a go.mod requiring the runtime is added when there is
//     none);
//   - want/<path> is what asyncinstr writes for <path>, for every file it
//     changes or creates;
//   - events is the trigger tree (hookstest.Collector.Tree) that the
//     instrumented program reports when its main runs, if it has one.
//
// The archive's comment says what the case covers. Every instrumented
// output is compiled and its tests run; -update rewrites want/ and events.
func TestGolden(t *testing.T) {
	paths, err := filepath.Glob("../testdata/golden/*.txtar")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".txtar")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runGolden(t, path)
		})
	}
}

func runGolden(t *testing.T, path string) {
	ar := readArchive(t, path)
	dir := t.TempDir()
	want := map[string][]byte{}
	var wantEvents []byte
	hasEvents := false
	for _, f := range ar.Files {
		switch {
		case strings.HasPrefix(f.Name, "want/"):
			want[strings.TrimPrefix(f.Name, "want/")] = f.Data
		case f.Name == "events":
			wantEvents, hasEvents = f.Data, true
		}
	}
	writeInputs(t, ar, dir)
	res := instrumentDir(t, dir)
	got := map[string][]byte{}
	for _, c := range res.Changes {
		rel, _ := filepath.Rel(dir, c.Path)
		got[filepath.ToSlash(rel)] = c.New
		// No line moves: every rewrite keeps the file's lines.
		if c.Old != nil && !strings.HasPrefix(filepath.Base(c.Path), "zz_asyncinstr") && bytes.Count(c.Old, []byte("\n")) != bytes.Count(c.New, []byte("\n")) {
			t.Errorf("%s: %d lines, rewritten to %d", rel, bytes.Count(c.Old, []byte("\n")), bytes.Count(c.New, []byte("\n")))
		}
	}
	if !*update {
		for name, w := range want {
			if g, ok := got[name]; !ok {
				t.Errorf("want/%s: asyncinstr left the file unchanged", name)
			} else if !bytes.Equal(g, w) {
				t.Errorf("want/%s differs (go test ./rewrite -run TestGolden -update to accept):\n%s", name, lineDiff(w, g))
			}
		}
		for name := range got {
			if _, ok := want[name]; !ok {
				t.Errorf("%s: changed, but the case has no want/%s", name, name)
			}
		}
	}

	if !*update {
		checkIdempotentAndStrip(t, dir, ar)
	}

	// Every output compiles, and the case's own tests pass on it. A main
	// package also runs its main under a hookstest.Collector.
	events := ""
	if isMain(t, dir) {
		writeFile(t, filepath.Join(dir, "zz_golden_events_test.go"), []byte(eventsTest))
	}
	out := goTest(t, dir)
	if i := strings.Index(out, eventsBegin); i >= 0 {
		rest := out[i+len(eventsBegin):]
		if j := strings.Index(rest, eventsEnd); j >= 0 {
			events = rest[:j]
		}
	}
	if !*update && hasEvents && events != string(wantEvents) {
		t.Errorf("events differ:\n%s", lineDiff(wantEvents, []byte(events)))
	}

	if *update {
		var files []txtar.File
		for _, f := range ar.Files {
			if !strings.HasPrefix(f.Name, "want/") && f.Name != "events" {
				files = append(files, f)
			}
		}
		for _, c := range res.Changes {
			rel, _ := filepath.Rel(dir, c.Path)
			files = append(files, txtar.File{Name: "want/" + filepath.ToSlash(rel), Data: c.New})
		}
		if events != "" {
			files = append(files, txtar.File{Name: "events", Data: []byte(events)})
		}
		ar.Files = files
		if err := os.WriteFile(path, txtar.Format(ar), 0o666); err != nil {
			t.Fatal(err)
		}
	}
}

// checkIdempotentAndStrip instruments the instrumented module at dir again,
// which must change nothing, then strips it, which must give back the
// case's input files byte for byte and remove the companion files.
func checkIdempotentAndStrip(t *testing.T, dir string, ar *txtar.Archive) {
	t.Helper()
	again, err := rewrite.Instrument(rewrite.Config{Dir: dir, Env: goEnv()}, "./...")
	if err != nil {
		t.Fatalf("instrumenting the output: %v", err)
	}
	for _, c := range again.Changes {
		t.Errorf("instrumenting twice changed %s:\n%s", c.Path, lineDiff(c.Old, c.New))
	}
	for _, f := range ar.Files {
		if bytes.Contains(f.Data, []byte("_asyncinstr")) && !strings.HasPrefix(f.Name, "want/") {
			return // the input was instrumented already: strip goes further back
		}
	}
	stripped, err := rewrite.Strip(rewrite.Config{Dir: dir, Env: goEnv()}, "./...")
	if err != nil {
		t.Fatalf("strip: %v", err)
	}
	orig := map[string][]byte{}
	for _, f := range ar.Files {
		if !strings.HasPrefix(f.Name, "want/") && f.Name != "events" {
			orig[f.Name] = f.Data
		}
	}
	for _, c := range stripped.Changes {
		rel, _ := filepath.Rel(dir, c.Path)
		rel = filepath.ToSlash(rel)
		o, inInput := orig[rel]
		switch {
		case c.New == nil && inInput:
			t.Errorf("strip removed %s, which was in the input", rel)
		case c.New == nil:
		case !bytes.Equal(c.New, o):
			t.Errorf("strip did not restore %s:\n%s", rel, lineDiff(o, c.New))
		}
	}
}

const (
	eventsBegin = "--- asyncinstr events ---\n"
	eventsEnd   = "--- end of events ---\n"
)

// eventsTest runs the case's main under a collector, waits for every
// resource to be destroyed, checks the invariants and prints the tree.
const eventsTest = `package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt/hookstest"
)

func TestGoldenEvents(t *testing.T) {
	c := hookstest.NewCollector(hookstest.Options{}).Enable()
	main()
	if !c.Settle(20 * time.Second) {
		t.Errorf("resources never destroyed:\n%s", c)
	}
	c.Disable()
	c.Check(t)
	fmt.Print("` + `--- asyncinstr events ---\n` + `" + c.Tree() + "` + `--- end of events ---\n` + `")
}
`

func isMain(t *testing.T, dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go") {
			data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			if bytes.Contains(data, []byte("\npackage main\n")) || bytes.HasPrefix(data, []byte("package main\n")) {
				return true
			}
		}
	}
	return false
}

// goTest vets and tests every package of the module at dir and returns the
// output of the tests.
func goTest(t *testing.T, dir string) string {
	t.Helper()
	for _, args := range [][]string{{"vet", "./..."}, {"test", "-count=1", "-v", "./..."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = goEnv()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s on the instrumented module: %v\n%s", strings.Join(args, " "), err, out)
		}
		if args[0] == "test" {
			return string(out)
		}
	}
	return ""
}

// goEnv lets the go command add go.sum lines for modules already in the
// module cache, without asking the checksum database.
func goEnv() []string {
	return append(os.Environ(), "GOFLAGS=-mod=mod", "GONOSUMDB=*", "GONOSUMCHECK=1", "GOSUMDB=off")
}

func readArchive(t *testing.T, path string) *txtar.Archive {
	t.Helper()
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return ar
}

// writeInputs writes an archive's input files (all but want/ and events)
// to dir, and a go.mod that requires the runtime if the archive has none.
func writeInputs(t *testing.T, ar *txtar.Archive, dir string) {
	t.Helper()
	for _, f := range ar.Files {
		if !strings.HasPrefix(f.Name, "want/") && f.Name != "events" {
			writeFile(t, filepath.Join(dir, f.Name), f.Data)
		}
	}
	writeModule(t, dir)
}

// instrumentDir instruments every package of the module at dir and writes
// the changes, as asyncinstr -w does (go.mod aside).
func instrumentDir(t *testing.T, dir string) *rewrite.Result {
	t.Helper()
	res, err := rewrite.Instrument(rewrite.Config{Dir: dir, Env: goEnv()}, "./...")
	if err != nil {
		t.Fatalf("instrument: %v", err)
	}
	for _, c := range res.Changes {
		if c.New == nil {
			t.Fatalf("%s: removed; instrumenting never removes files", c.Path)
		}
		writeFile(t, c.Path, c.New)
	}
	return res
}

// writeModule adds a go.mod that requires the runtime from this checkout,
// unless the case brings its own.
func writeModule(t *testing.T, dir string) {
	t.Helper()
	rt, err := filepath.Abs("../runtime")
	if err != nil {
		t.Fatal(err)
	}
	gomod := filepath.Join(dir, "go.mod")
	data, err := os.ReadFile(gomod)
	if os.IsNotExist(err) {
		data = []byte("module example.com/golden\n\ngo 1.25\n")
	}
	if !bytes.Contains(data, []byte("asyncinstr/runtime")) {
		data = fmt.Appendf(data, "\nrequire github.com/asyncinstr/asyncinstr/runtime v0.0.0\n\nreplace github.com/asyncinstr/asyncinstr/runtime => %s\n", rt)
	}
	writeFile(t, gomod, data)
	sum, err := os.ReadFile("../go.sum")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "go.sum"), sum)
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o666); err != nil {
		t.Fatal(err)
	}
}

// lineDiff is a unified diff from want to got.
func lineDiff(want, got []byte) string {
	return string(diff.Diff("want", want, "got", got))
}
