package rewrite

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/build"
	"go/build/constraint"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// go/packages loads one build configuration, but a package's files often
// cover several: foo_windows.go beside foo_linux.go, or a test file for
// builds with -race beside one for builds without. A site in a file that
// the configuration leaves out must not be left out silently, or the
// program would be instrumented on one platform and not on another. So
// Instrument looks at every file of each package's directory that was not
// loaded, and where one holds what may be a site, finds a configuration
// that includes it and loads the package again in that configuration.

// A variant is a build configuration other than the one asked for.
type variant struct {
	goos, goarch string
	tags         string // comma-separated, as for -tags
}

func (v variant) String() string {
	s := v.goos + "/" + v.goarch
	if v.tags != "" {
		s += " -tags " + v.tags
	}
	return s
}

// goEnv is the go command's view of the configuration cfg asks for.
type goEnv struct {
	GOOS, GOARCH, CGO_ENABLED string
}

func readGoEnv(cfg Config) (goEnv, error) {
	cmd := exec.Command("go", "env", "-json", "GOOS", "GOARCH", "CGO_ENABLED")
	cmd.Dir, cmd.Env = cfg.Dir, cfg.Env
	out, err := cmd.Output()
	if err != nil {
		return goEnv{}, fmt.Errorf("go env: %w", err)
	}
	var e goEnv
	if err := json.Unmarshal(out, &e); err != nil {
		return goEnv{}, fmt.Errorf("go env: %w", err)
	}
	return e, nil
}

var (
	platformsOnce sync.Once
	platformOS    map[string]bool
	platformArch  map[string]bool
)

// platforms returns the operating systems and architectures that the go
// command knows (go tool dist list).
func platforms() (oses, arches map[string]bool) {
	platformsOnce.Do(func() {
		platformOS, platformArch = map[string]bool{}, map[string]bool{}
		out, err := exec.Command("go", "tool", "dist", "list").Output()
		if err != nil {
			return
		}
		for _, line := range strings.Fields(string(out)) {
			if os, arch, ok := strings.Cut(line, "/"); ok {
				platformOS[os], platformArch[arch] = true, true
			}
		}
	})
	return platformOS, platformArch
}

// mayHaveSites reports whether a file that was not type-checked has a go
// statement or a call of a name that a rule matches. It is syntactic and
// generous: a match only means that the file is worth loading.
func mayHaveSites(f *ast.File, fset *token.FileSet) (token.Pos, bool) {
	ignored := ignoredLines(fset, f)
	var at token.Pos
	ast.Inspect(f, func(n ast.Node) bool {
		if at.IsValid() {
			return false
		}
		switch n := n.(type) {
		case *ast.FuncDecl:
			return !hasDirective(n.Doc)
		case ast.Stmt:
			if ignored[fset.Position(n.Pos()).Line] {
				return false
			}
			if g, ok := n.(*ast.GoStmt); ok {
				if id := calleeIdent(g.Call.Fun); id != nil && strings.HasPrefix(id.Name, prefix) {
					return false // instrumented by an earlier run
				}
				if inner, ok := ast.Unparen(g.Call.Fun).(*ast.CallExpr); ok {
					if id := calleeIdent(inner.Fun); id != nil && strings.HasPrefix(id.Name, prefix) {
						return false
					}
				}
				at = g.Pos()
				return false
			}
		case *ast.CallExpr:
			if sel, ok := ast.Unparen(n.Fun).(*ast.SelectorExpr); ok {
				switch sel.Sel.Name {
				case "AfterFunc", "Go", "TryGo", "Stop", "Reset":
					at = n.Pos()
					return false
				}
			}
		}
		return true
	})
	return at, at.IsValid()
}

// findVariant returns a configuration that includes the file dir/name, the
// one asked for changed as little as possible: other build tags first,
// then another architecture, then another operating system.
func findVariant(base goEnv, tags []string, dir, name string, f *ast.File) (variant, bool) {
	oses, arches := platforms()
	// The candidates come from the file's name and build constraint.
	var words []string
	for _, cg := range f.Comments {
		if cg.Pos() > f.Package {
			break
		}
		for _, c := range cg.List {
			if !constraint.IsGoBuild(c.Text) {
				continue
			}
			if expr, err := constraint.Parse(c.Text); err == nil {
				collectTags(expr, &words)
			}
		}
	}
	for _, part := range strings.Split(strings.TrimSuffix(strings.TrimSuffix(name, ".go"), "_test"), "_")[1:] {
		words = append(words, part)
	}
	goosList, goarchList, extra := []string{base.GOOS}, []string{base.GOARCH}, []string{}
	seen := map[string]bool{}
	for _, w := range words {
		if seen[w] {
			continue
		}
		seen[w] = true
		switch {
		case oses[w] && w != base.GOOS:
			goosList = append(goosList, w)
		case arches[w] && w != base.GOARCH:
			goarchList = append(goarchList, w)
		case !oses[w] && !arches[w] && !strings.HasPrefix(w, "go1.") && w != "cgo" && w != "unix" && w != "gc" && w != "gccgo":
			extra = append(extra, w)
		}
	}
	sort.Strings(extra)
	if len(extra) > 6 {
		extra = extra[:6] // 64 subsets at most
	}
	var subsets [][]string
	for mask := 0; mask < 1<<len(extra); mask++ {
		var s []string
		for i, t := range extra {
			if mask&(1<<i) != 0 {
				s = append(s, t)
			}
		}
		subsets = append(subsets, s)
	}
	sort.SliceStable(subsets, func(i, j int) bool { return len(subsets[i]) < len(subsets[j]) })
	for _, goos := range goosList {
		for _, goarch := range goarchList {
			for _, sub := range subsets {
				ctxt := build.Default
				ctxt.GOOS, ctxt.GOARCH = goos, goarch
				ctxt.CgoEnabled = base.CGO_ENABLED == "1" && goos == base.GOOS && goarch == base.GOARCH
				ctxt.BuildTags = append(append([]string(nil), tags...), sub...)
				ctxt.ReleaseTags = build.Default.ReleaseTags
				if ok, err := ctxt.MatchFile(dir, name); err == nil && ok {
					return variant{goos: goos, goarch: goarch, tags: strings.Join(ctxt.BuildTags, ",")}, true
				}
			}
		}
	}
	return variant{}, false
}

func collectTags(e constraint.Expr, out *[]string) {
	switch e := e.(type) {
	case *constraint.TagExpr:
		*out = append(*out, e.Tag)
	case *constraint.NotExpr:
		collectTags(e.X, out)
	case *constraint.AndExpr:
		collectTags(e.X, out)
		collectTags(e.Y, out)
	case *constraint.OrExpr:
		collectTags(e.X, out)
		collectTags(e.Y, out)
	}
}

// unloadedFiles looks at the files of each group's directory that were not
// loaded and returns, per configuration, the directories to load again and
// the files wanted from them. A file that no configuration includes, or a
// cgo file (which source mode cannot rewrite), is an error where it holds a
// go statement.
func unloadedFiles(cfg Config, gs []*group) (map[variant]map[string]bool, Errors, error) {
	var tags []string
	if cfg.Tags != "" {
		tags = strings.Split(cfg.Tags, ",")
	}
	var base *goEnv
	want := map[variant]map[string]bool{}
	var errs Errors
	fset := token.NewFileSet()
	for _, g := range gs {
		for _, path := range otherGoFiles(g.dir, g.files) {
			src, err := os.ReadFile(path)
			if err != nil {
				errs = append(errs, &Error{Msg: err.Error()})
				continue
			}
			f, err := parser.ParseFile(fset, path, src, parser.ParseComments|parser.SkipObjectResolution)
			if err != nil || f.Name.Name != g.name || ignoredFile(f) || buildIgnore(f) {
				continue
			}
			at, ok := mayHaveSites(f, fset)
			if !ok {
				continue
			}
			if importsC(f) {
				if g, ok := firstGo(f, fset); ok {
					errs = append(errs, &Error{Pos: fset.Position(g).String(),
						Msg: "cannot instrument this go statement: the file uses cgo, which source mode cannot rewrite (or mark it " + ignoreDirective + ")"})
				}
				continue
			}
			if base == nil {
				e, err := readGoEnv(cfg)
				if err != nil {
					return nil, nil, err
				}
				base = &e
			}
			v, ok := findVariant(*base, tags, g.dir, filepath.Base(path), f)
			if !ok {
				errs = append(errs, &Error{Pos: fset.Position(at).String(),
					Msg: "cannot instrument this file: no build configuration includes it (mark it " + ignoreDirective + ")"})
				continue
			}
			if want[v] == nil {
				want[v] = map[string]bool{}
			}
			want[v][path] = true
		}
	}
	return want, errs, nil
}

// firstGo returns the position of the first go statement of f.
func firstGo(f *ast.File, fset *token.FileSet) (token.Pos, bool) {
	ignored := ignoredLines(fset, f)
	var at token.Pos
	ast.Inspect(f, func(n ast.Node) bool {
		if g, ok := n.(*ast.GoStmt); ok && !at.IsValid() && !ignored[fset.Position(g.Pos()).Line] {
			at = g.Pos()
		}
		return !at.IsValid()
	})
	return at, at.IsValid()
}

// loadVariants loads, for each configuration, the directories of the files
// wanted in it, and adds those files to their groups.
func loadVariants(cfg Config, gs []*group, want map[variant]map[string]bool) error {
	byDir := map[string][]*group{}
	for _, g := range gs {
		byDir[g.dir] = append(byDir[g.dir], g)
	}
	vs := make([]variant, 0, len(want))
	for v := range want {
		vs = append(vs, v)
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].String() < vs[j].String() })
	var errs Errors
	for _, v := range vs {
		files := want[v]
		dirs := map[string]bool{}
		for p := range files {
			dirs[filepath.Dir(p)] = true
		}
		var patterns []string
		for d := range dirs {
			patterns = append(patterns, d)
		}
		sort.Strings(patterns)
		vcfg := cfg
		vcfg.Tags = v.tags
		env := cfg.Env
		if env == nil {
			env = os.Environ()
		}
		vcfg.Env = append(append([]string(nil), env...), "GOOS="+v.goos, "GOARCH="+v.goarch)
		pkgs, err := load(vcfg, patterns)
		if err != nil {
			if es, ok := err.(Errors); ok {
				for _, e := range es {
					e.Msg += " (building for " + v.String() + ")"
				}
				errs = append(errs, es...)
				continue
			}
			return err
		}
		for _, p := range pkgs {
			if skipPackage(p) != "" {
				continue
			}
			dir := packageDir(p)
			for _, g := range byDir[dir] {
				if g.name != p.Name {
					continue
				}
				for i, path := range p.CompiledGoFiles {
					if files[path] && i < len(p.Syntax) {
						if old, ok := g.files[path]; !ok || old.pkg.ForTest == "" {
							g.files[path] = &groupFile{pkg: p, file: p.Syntax[i]}
						}
					}
				}
			}
		}
		for p := range files {
			found := false
			for _, g := range byDir[filepath.Dir(p)] {
				if g.files[p] != nil {
					found = true
				}
			}
			if !found {
				errs = append(errs, &Error{Pos: p + ":1:1", Msg: "cannot instrument this file: building for " + v.String() + " did not include it"})
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}
