package rewrite

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"regexp"
	"sync"
	"testing"

	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/txtar"

	"github.com/asyncinstr/asyncinstr/rules"
)

// fuzzImports are the packages a fuzzed file may import; anything else is
// skipped, so that type-checking needs no go command per input.
var fuzzImports = []string{"context", "errors", "fmt", "runtime", "sync", "sync/atomic", "time", rules.RuntimePath}

var (
	stdOnce sync.Once
	stdPkgs map[string]*types.Package
	stdErr  error
)

// fuzzImporter returns an importer for fuzzImports, loaded once.
func fuzzImporter(t testing.TB) types.Importer {
	stdOnce.Do(func() {
		pkgs, err := packages.Load(&packages.Config{Mode: packages.NeedName | packages.NeedTypes | packages.NeedImports | packages.NeedDeps}, fuzzImports...)
		if err != nil {
			stdErr = err
			return
		}
		stdPkgs = map[string]*types.Package{}
		packages.Visit(pkgs, nil, func(p *packages.Package) {
			if p.Types != nil {
				stdPkgs[p.PkgPath] = p.Types
			}
		})
	})
	if stdErr != nil {
		t.Fatal(stdErr)
	}
	return importerFunc(func(path string) (*types.Package, error) {
		if p := stdPkgs[path]; p != nil {
			return p, nil
		}
		return nil, fmt.Errorf("%s is not importable here", path)
	})
}

// typeCheck parses and checks one package made of srcs (name -> source).
func typeCheck(imp types.Importer, srcs map[string][]byte) (*token.FileSet, map[string]*ast.File, *types.Info, error) {
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	var list []*ast.File
	for _, name := range []string{"main.go", companionName} {
		src, ok := srcs[name]
		if !ok {
			continue
		}
		f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
		if err != nil {
			return nil, nil, nil, err
		}
		files[name] = f
		list = append(list, f)
	}
	info := &types.Info{
		Types:      map[ast.Expr]types.TypeAndValue{},
		Defs:       map[*ast.Ident]types.Object{},
		Uses:       map[*ast.Ident]types.Object{},
		Selections: map[*ast.SelectorExpr]*types.Selection{},
		Instances:  map[*ast.Ident]types.Instance{},
	}
	conf := types.Config{Importer: imp, GoVersion: "go1.25"}
	_, err := conf.Check("example.com/fuzz", fset, list, info)
	return fset, files, info, err
}

// FuzzRoundTrip checks, for any gofmt-formatted file that type-checks: the
// instrumented file is gofmt-clean, the same whether rewritten function by
// function or whole, and, with its companion file, type-checks;
// instrumenting it again changes nothing; and -strip gives back the exact
// original bytes. The seeds are the golden cases' main.go files.
func FuzzRoundTrip(f *testing.F) {
	imp := fuzzImporter(f)
	paths, _ := filepath.Glob("../testdata/golden/*.txtar")
	for _, p := range paths {
		ar, err := txtar.ParseFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			if file.Name == "main.go" {
				f.Add(file.Data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		src, err := format.Source(src)
		if err != nil || bytes.Contains(src, []byte(prefix)) {
			return
		}
		if again, err := format.Source(src); err != nil || !bytes.Equal(again, src) {
			return // gofmt itself moves (a comment that becomes a doc comment, say)
		}
		fset, files, info, err := typeCheck(imp, map[string][]byte{"main.go": src})
		if err != nil {
			return // not a valid program: nothing to instrument
		}
		file := files["main.go"]
		plan := fuzzPlan(fset, info, file)
		fr, err := rewriteFile(fileInput{fset: fset, file: file, info: info, src: src, pkg: pkgOf(info), plan: plan}, rules.All)
		if err != nil {
			t.Fatalf("instrument: %v", err)
		}
		if fr.out == nil {
			return
		}
		// Rewriting only the functions that hold sites gives the same
		// bytes as rewriting and printing the whole file.
		whole, err := rewriteWhole(fileInput{fset: fset, file: file, info: info, src: src, pkg: pkgOf(info), plan: plan}, rules.All, ignoredLines(fset, file))
		if err != nil {
			t.Fatalf("whole-file rewrite: %v", err)
		}
		if !bytes.Equal(whole, fr.out) {
			t.Fatalf("function-by-function rewrite differs from whole-file rewrite:\n--- whole\n%s\n--- by function\n%s", whole, fr.out)
		}
		// The output is gofmt-clean, except where the channel rewrite
		// added statements on the lines of others (see chanrw.go); no
		// line moves.
		if formatted, err := format.Source(fr.out); err != nil || (!bytes.Equal(formatted, fr.out) && !addedStatements.Match(fr.out)) {
			t.Fatalf("instrumented file is not gofmt-clean (%v):\n%s", err, fr.out)
		}
		if bytes.Count(fr.out, []byte("\n")) != bytes.Count(src, []byte("\n")) {
			t.Fatalf("instrumenting moved lines:\n--- original\n%s\n--- instrumented\n%s", src, fr.out)
		}
		back, err := StripFile("main.go", fr.out)
		if err != nil {
			t.Fatalf("strip: %v", err)
		}
		if !bytes.Equal(back, src) {
			t.Fatalf("strip did not restore the original:\n--- original\n%s\n--- instrumented\n%s\n--- stripped\n%s", src, fr.out, back)
		}
		var sites []siteEntry
		for _, s := range fr.newSites {
			sites = append(sites, siteEntry{File: "main.go", Line: s.Pos.Line, Func: s.Func})
		}
		declares := false
		for id, obj := range info.Defs {
			if id.Name == "hooksrt" && obj != nil && obj.Parent() == obj.Pkg().Scope() {
				declares = true
			}
		}
		comp, err := companion(file.Name.Name, helpersUsed(fr.out), sites, map[string]bool{"hooksrt": declares})
		if err != nil {
			t.Fatal(err)
		}
		fset2, files2, info2, err := typeCheck(imp, map[string][]byte{"main.go": fr.out, companionName: comp})
		if err != nil {
			t.Fatalf("instrumented file does not type-check: %v\n%s\n%s", err, fr.out, comp)
		}
		fr2, err := rewriteFile(fileInput{fset: fset2, file: files2["main.go"], info: info2, src: fr.out, firstSite: len(sites),
			pkg: pkgOf(info2), plan: fuzzPlan(fset2, info2, files2["main.go"], files2[companionName])}, rules.All)
		if err != nil {
			t.Fatalf("instrument again: %v", err)
		}
		if fr2.out != nil && !bytes.Equal(fr2.out, fr.out) {
			t.Fatalf("instrumenting twice changed the file:\n%s\n---\n%s", fr.out, fr2.out)
		}
	})
}

// addedStatements matches the statements that the channel rewrite adds on
// the lines of others.
var addedStatements = regexp.MustCompile(`_asyncinstr(Sc|P|T)[0-9]|_asyncinstrM(, _asyncinstrOK)? :=|_asyncinstrTV :=|defer _asyncinstrFinish\(\);`)

// pkgOf returns the package that info describes.
func pkgOf(info *types.Info) *types.Package {
	for _, obj := range info.Defs {
		if obj != nil && obj.Pkg() != nil {
			return obj.Pkg()
		}
	}
	return nil
}

// fuzzPlan decides the channels of a fuzzed package.
func fuzzPlan(fset *token.FileSet, info *types.Info, files ...*ast.File) *chanPlan {
	plan := newChanPlan()
	if pkg := pkgOf(info); pkg != nil {
		plan.analyse(fset, pkg, info, files, func(f *ast.File) func(ast.Node) bool { return ignoredNodes(fset, f) })
	}
	return plan
}

// One-line function bodies, which gofmt keeps only when short, stay on one
// line when a rewrite makes them longer or opens scopes in them (input
// that is not gofmt-formatted may hold a loop on one line): no line moves,
// and the result parses and type-checks.
func TestOneLineBodies(t *testing.T) {
	src := []byte(`package p

import "fmt"

func drain(ch chan string) { for v := range ch { fmt.Println(v) } }
func pick(a, b chan int) int { select { case v := <-a: return v; case v := <-b: return v } }
func spawn(ch chan string) { go func() { ch <- "a long enough string to push the line past the printer's limit" }() }

func main() {
	ch := make(chan string, 1)
	spawn(ch)
	drain(ch)
	fmt.Println(pick(make(chan int), make(chan int)))
}
`)
	imp := fuzzImporter(t)
	fset, files, info, err := typeCheck(imp, map[string][]byte{"main.go": src})
	if err != nil {
		t.Fatal(err)
	}
	file := files["main.go"]
	fr, err := rewriteFile(fileInput{fset: fset, file: file, info: info, src: src, pkg: pkgOf(info), plan: fuzzPlan(fset, info, file)}, rules.All)
	if err != nil {
		t.Fatal(err)
	}
	if fr.out == nil || !bytes.Contains(fr.out, []byte(scopeVar+"0")) {
		t.Fatalf("no scope was opened:\n%s", fr.out)
	}
	if bytes.Count(fr.out, []byte("\n")) != bytes.Count(src, []byte("\n")) {
		t.Fatalf("lines moved:\n%s", fr.out)
	}
	var sites []siteEntry
	for _, s := range fr.newSites {
		sites = append(sites, siteEntry{File: "main.go", Line: s.Pos.Line, Func: s.Func})
	}
	comp, err := companion(file.Name.Name, helpersUsed(fr.out), sites, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := typeCheck(imp, map[string][]byte{"main.go": fr.out, companionName: comp}); err != nil {
		t.Fatalf("the rewritten file does not type-check: %v\n%s", err, fr.out)
	}
}
