// Package examples_test instruments each example with asyncinstr and runs
// it, checking the events it prints.
package examples_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/asyncinstr/asyncinstr/rewrite"
)

func TestExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs programs")
	}
	for _, tc := range []struct{ name, want string }{
		{"hooktree", `GOROUTINE(2): trigger: 1 execution: 1
before:  2
  Timeout(3): trigger: 2 execution: 2
after:   2
destroy: 2
before:  3
>>> 3
after:   3
destroy: 3
`},
		{"triggerid", `GOROUTINE(2): trigger: 1 execution: 1
GOROUTINE(3): trigger: 2 execution: 2
GOROUTINE(4): trigger: 2 execution: 2
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := instrumentAndRun(t, tc.name); got != tc.want {
				t.Errorf("instrumented %s printed:\n%s\nwant:\n%s", tc.name, got, tc.want)
			}
		})
	}
}

// instrumentAndRun copies an example into a module of its own that requires
// the runtime from this checkout, instruments it, and runs it.
func instrumentAndRun(t *testing.T, name string) string {
	dir := t.TempDir()
	srcs, err := filepath.Glob(filepath.Join(name, "*.go"))
	if err != nil || len(srcs) == 0 {
		t.Fatalf("no sources for %s: %v", name, err)
	}
	for _, src := range srcs {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, filepath.Base(src)), data)
	}
	rt, err := filepath.Abs("../runtime")
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "go.mod"), []byte("module example.com/"+name+
		"\n\ngo 1.25\n\nrequire github.com/asyncinstr/asyncinstr/runtime v0.0.0\n\nreplace github.com/asyncinstr/asyncinstr/runtime => "+rt+"\n"))
	res, err := rewrite.Instrument(rewrite.Config{Dir: dir}, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) == 0 {
		t.Fatal("nothing was instrumented")
	}
	for _, c := range res.Changes {
		write(t, c.Path, c.New)
	}
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, out)
	}
	return string(out)
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o666); err != nil {
		t.Fatal(err)
	}
}
