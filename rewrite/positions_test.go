package rewrite_test

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestPositions instruments testdata/positions.txtar and checks that what
// reports positions reports the original ones: runtime.Caller in a
// goroutine and a timer, the traceback of a panic in a goroutine (the
// panicking line and the go statement that created it), a compiler error
// put on a known line, a vet report, and a coverage profile.
func TestPositions(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs programs")
	}
	ar := readArchive(t, "testdata/positions.txtar")
	orig := t.TempDir()
	writeInputs(t, ar, orig)
	inst := t.TempDir()
	writeInputs(t, ar, inst)
	if res := instrumentDir(t, inst); len(res.Changes) == 0 {
		t.Fatal("nothing was instrumented")
	}
	var mainSrc []byte
	for _, f := range ar.Files {
		if f.Name == "main.go" {
			mainSrc = f.Data
		}
	}
	at := markers(mainSrc)
	mainPath := filepath.Join(inst, "main.go")

	t.Run("runtime.Caller", func(t *testing.T) {
		out := run(t, inst, false, "go", "run", ".")
		for _, name := range []string{"worker", "literal", "timer"} {
			want := fmt.Sprintf("%s %d\n", name, at[name])
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("panic", func(t *testing.T) {
		out := run(t, inst, true, "go", "run", ".", "panic")
		for _, want := range []string{
			fmt.Sprintf("%s:%d", mainPath, at["panic"]),
			fmt.Sprintf("created by main.main in goroutine 1\n\t%s:%d", mainPath, at["go-crash"]),
		} {
			if !strings.Contains(out, want) {
				t.Errorf("traceback lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("compiler error", func(t *testing.T) {
		// The same error on the same line of the original and of the
		// instrumented file must be reported at the same line and column.
		errAt := func(dir string) string {
			path := filepath.Join(dir, "main.go")
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			bad := bytes.Replace(src, []byte("var broken = 0"), []byte("var broken int = \"x\""), 1)
			writeFile(t, path, bad)
			defer writeFile(t, path, src)
			out := run(t, dir, true, "go", "build", "-o", os.DevNull, ".")
			m := regexp.MustCompile(`main\.go:(\d+:\d+): `).FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no error position in:\n%s", out)
			}
			return m[1]
		}
		want := fmt.Sprintf("%d:", at["break"])
		o, i := errAt(orig), errAt(inst)
		if o != i || !strings.HasPrefix(i, want) {
			t.Errorf("compiler error at %s in the instrumented file, %s in the original (marked line %d)", i, o, at["break"])
		}
	})

	t.Run("vet", func(t *testing.T) {
		re := regexp.MustCompile(`main\.go:(\d+:\d+): (.*)`)
		o := re.FindStringSubmatch(run(t, orig, true, "go", "vet", "."))
		i := re.FindStringSubmatch(run(t, inst, true, "go", "vet", "."))
		if o == nil || i == nil {
			t.Fatalf("vet reported nothing: %v %v", o, i)
		}
		if o[1] != i[1] || o[2] != i[2] || !strings.HasPrefix(i[1], fmt.Sprintf("%d:", at["vet"])) {
			t.Errorf("vet: instrumented %q, original %q", i[0], o[0])
		}
	})

	t.Run("coverage", func(t *testing.T) {
		// Every block of the original profile is in the instrumented
		// one, on the same lines with the same hit count; blocks may
		// start or end at other columns only on a rewritten line. The
		// statement count is the same too, except in a block where the
		// channel rewrite added statements (see docs/decisions.md), where
		// it is the original count plus those.
		profile := func(dir string) [][]string {
			p := filepath.Join(dir, "cover.out")
			run(t, dir, false, "go", "test", "-vet=off", "-coverprofile="+p, ".")
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var blocks [][]string
			re := regexp.MustCompile(`^.*/main\.go:(\d+)\.(\d+),(\d+)\.(\d+) (\d+) (\d+)$`)
			sc := bufio.NewScanner(bytes.NewReader(data))
			for sc.Scan() {
				if m := re.FindStringSubmatch(sc.Text()); m != nil {
					// start line, end line, statements, count, start and end column
					blocks = append(blocks, []string{m[1], m[3], m[5], m[6], m[2], m[4]})
				}
			}
			sort.Slice(blocks, func(i, j int) bool { return strings.Join(blocks[i], " ") < strings.Join(blocks[j], " ") })
			return blocks
		}
		instSrc, err := os.ReadFile(mainPath)
		if err != nil {
			t.Fatal(err)
		}
		// added counts the statements the channel rewrite put on lines
		// from to to: the declarations and defers of scopes, their exits,
		// cancels, and the statement that takes a range or select's
		// message.
		type lineCol struct{ line, col int }
		var addedAt []lineCol
		fset := token.NewFileSet()
		af, err := parser.ParseFile(fset, mainPath, instSrc, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			st, ok := n.(ast.Stmt)
			if !ok {
				return true
			}
			text := string(instSrc[fset.Position(st.Pos()).Offset:fset.Position(st.End()).Offset])
			for _, p := range []string{"var _asyncinstr", "defer _asyncinstr", "_asyncinstrSc", "_asyncinstrP"} {
				if strings.HasPrefix(text, p) {
					p := fset.Position(st.Pos())
					addedAt = append(addedAt, lineCol{p.Line, p.Column})
					return true
				}
			}
			if _, isBlock := st.(*ast.BlockStmt); !isBlock && strings.Contains(text, "_asyncinstrM)") && !strings.Contains(text, "\n") {
				p := fset.Position(st.Pos())
				addedAt = append(addedAt, lineCol{p.Line, p.Column})
			}
			return true
		})
		added := func(b []string) int {
			atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
			from, to := lineCol{atoi(b[0]), atoi(b[4])}, lineCol{atoi(b[1]), atoi(b[5])}
			before := func(a, b lineCol) bool { return a.line < b.line || a.line == b.line && a.col < b.col }
			n := 0
			for _, p := range addedAt {
				if !before(p, from) && before(p, to) {
					n++
				}
			}
			return n
		}
		o, i := profile(orig), profile(inst)
		ok := len(o) > 0 && len(o) == len(i)
		sawAdded := false
		for k := 0; ok && k < len(o); k++ {
			ob, ib := o[k], i[k]
			on, _ := strconv.Atoi(ob[2])
			in, _ := strconv.Atoi(ib[2])
			extra := added(ib)
			sawAdded = sawAdded || extra > 0
			ok = ob[0] == ib[0] && ob[1] == ib[1] && ob[3] == ib[3] && in-on == extra
		}
		if !ok {
			t.Errorf("coverage blocks (start end statements count) differ:\noriginal:\n%v\ninstrumented:\n%v", o, i)
		}
		if !sawAdded {
			t.Errorf("the program has no block where the channel rewrite adds statements")
		}
	})
}

// markers maps each "// at:NAME" comment to its line.
func markers(src []byte) map[string]int {
	at := map[string]int{}
	for i, line := range strings.Split(string(src), "\n") {
		if _, name, ok := strings.Cut(line, "// at:"); ok {
			at[strings.TrimSpace(name)] = i + 1
		}
	}
	return at
}

// run runs a command in dir and returns its combined output; fail says
// whether the command is expected to fail.
func run(t *testing.T, dir string, fail bool, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = goEnv()
	out, err := cmd.CombinedOutput()
	if (err != nil) != fail {
		t.Fatalf("%s %s: err = %v, want failure %v\n%s", name, strings.Join(args, " "), err, fail, out)
	}
	return string(out)
}

// TestUnrecoveredPanic checks that a goroutine that dies of a panic still
// reports after and destroy, before the program exits.
func TestUnrecoveredPanic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs programs")
	}
	dir := t.TempDir()
	writeInputs(t, readArchive(t, "testdata/panic.txtar"), dir)
	instrumentDir(t, dir)
	out := run(t, dir, true, "go", "run", ".")
	want := "init GOROUTINE\nbefore\nafter\ndestroy\npanic: unrecovered"
	if !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
}
