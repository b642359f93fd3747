package rewrite

import (
	"errors"
	"fmt"
	"go/ast"
	"go/build/constraint"
	"go/token"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/tools/go/packages"

	"github.com/asyncinstr/asyncinstr/rules"
)

// Config says where and how to load packages, and which rules apply.
type Config struct {
	Dir   string        // directory to run in; "" means the current one
	Tags  string        // build tags, as for go build -tags
	Env   []string      // environment for the go command; nil means os.Environ()
	Rules []*rules.Rule // nil means rules.All
}

// A Change is one file that a run writes or removes.
type Change struct {
	Path string // absolute
	Old  []byte // nil for a new file
	New  []byte // nil for a file to remove
}

// A Result is what Instrument or Strip would change, and what it found.
type Result struct {
	Changes []Change
	Sites   []Site   // every matched construct, by file and position
	Skipped []string // packages left alone, and why
	Module  *packages.Module

	// Load is the time spent loading and type-checking packages (the go
	// command and go/packages), Rewrite the time spent rewriting them.
	Load, Rewrite time.Duration
}

// An Error is a problem with the input. Its text is "file:line:col: message"
// where there is a position.
type Error struct {
	Pos string // "file:line:col", or ""
	Msg string
}

func (e *Error) Error() string {
	if e.Pos == "" {
		return e.Msg
	}
	return e.Pos + ": " + e.Msg
}

// Errors is a list of input problems, one per line.
type Errors []*Error

func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// load loads the packages that patterns name, with their test variants,
// parsed and type-checked.
func load(cfg Config, patterns []string) ([]*packages.Package, error) {
	return loadTyped(cfg, patterns)
}

// loadPackages runs go/packages and turns every problem it reports into an
// Errors.
func loadPackages(cfg Config, mode packages.LoadMode, tests bool, patterns []string) ([]*packages.Package, error) {
	if len(patterns) == 0 {
		patterns = []string{"."}
	}
	pcfg := &packages.Config{
		Mode:  mode,
		Dir:   cfg.Dir,
		Env:   cfg.Env,
		Tests: tests,
		Fset:  token.NewFileSet(),
	}
	if cfg.Tags != "" {
		pcfg.BuildFlags = []string{"-tags=" + cfg.Tags}
	}
	pkgs, err := packages.Load(pcfg, patterns...)
	if err != nil {
		return nil, Errors{{Msg: loadError(err)}}
	}
	var errs Errors
	seen := map[string]bool{}
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range usefulErrors(p.Errors) {
			if k := e.Pos + e.Msg; !seen[k] {
				seen[k] = true
				errs = append(errs, &Error{Pos: e.Pos, Msg: e.Msg})
			}
		}
	})
	if len(errs) > 0 {
		return nil, errs
	}
	if len(pkgs) == 0 {
		return nil, noPackages(cfg, patterns)
	}
	return pkgs, nil
}

// noPackages explains why patterns matched nothing. go/packages does not
// pass on the go command's complaint about a missing go.mod, so ask it.
func noPackages(cfg Config, patterns []string) error {
	cmd := exec.Command("go", "env", "GOMOD")
	cmd.Dir, cmd.Env = cfg.Dir, cfg.Env
	if out, err := cmd.Output(); err == nil {
		if gomod := strings.TrimSpace(string(out)); gomod == "" || gomod == os.DevNull {
			return Errors{{Msg: loadError(errors.New("go.mod file not found"))}}
		}
	}
	return Errors{{Msg: fmt.Sprintf("no packages match %s", strings.Join(patterns, " "))}}
}

// usefulErrors drops the echoes among a package's errors: the go
// command's own report of the compile errors ("# pkg" followed by the
// compiler's messages) when the parser or type checker reports them too,
// and type errors that follow from syntax errors.
func usefulErrors(errs []packages.Error) []packages.Error {
	kinds := map[packages.ErrorKind]bool{}
	for _, e := range errs {
		kinds[e.Kind] = true
	}
	var out []packages.Error
	for _, e := range errs {
		switch {
		case e.Kind == packages.ListError && strings.HasPrefix(e.Msg, "# ") && (kinds[packages.ParseError] || kinds[packages.TypeError]):
		case e.Kind == packages.TypeError && kinds[packages.ParseError]:
		default:
			out = append(out, e)
		}
	}
	return out
}

// loadError rewords the go command's failures that users meet most.
func loadError(err error) string {
	msg := strings.TrimSpace(err.Error())
	if strings.Contains(msg, "go.mod file not found") || strings.Contains(msg, "cannot find main module") {
		return "not in a Go module: run asyncinstr inside a module (a directory tree with a go.mod file)"
	}
	return msg
}

// A group is the files of one package as the rewriter sees it: a package
// and its internal test files together (they share the companion file), or
// an external test package on its own.
type group struct {
	dir, name  string
	xtest      bool
	module     *packages.Module
	files      map[string]*groupFile // by absolute path
	hasNonTest bool
}

// declared returns the runtime package names that the package declares
// at package level.
func (g *group) declared() map[string]bool {
	names := map[string]bool{}
	for _, gf := range g.files {
		if gf.pkg.Types != nil {
			maps.Copy(names, declaredRuntimeNames(gf.pkg.Types.Scope()))
		}
	}
	return names
}

type groupFile struct {
	pkg  *packages.Package
	file *ast.File
}

// groups sorts loaded packages into groups, leaving out what must never be
// rewritten.
func groups(pkgs []*packages.Package, res *Result) []*group {
	byKey := map[string]*group{}
	var order []string
	for _, p := range pkgs {
		if reason := skipPackage(p); reason != "" {
			if !strings.HasSuffix(p.PkgPath, ".test") && !slices.Contains(res.Skipped, p.PkgPath+": "+reason) {
				res.Skipped = append(res.Skipped, p.PkgPath+": "+reason)
			}
			continue
		}
		if res.Module == nil || p.Module.Main {
			res.Module = p.Module
		}
		dir := packageDir(p)
		key := dir + "\x00" + p.Name
		g := byKey[key]
		if g == nil {
			g = &group{dir: dir, name: p.Name, xtest: strings.HasSuffix(p.Name, "_test"),
				module: p.Module, files: map[string]*groupFile{}}
			byKey[key] = g
			order = append(order, key)
		}
		for i, path := range p.CompiledGoFiles {
			if filepath.Dir(path) != dir || i >= len(p.Syntax) {
				continue // generated by cgo or go test
			}
			if !strings.HasSuffix(path, "_test.go") {
				g.hasNonTest = true
			}
			// A package's files also appear in its test variant; either
			// type-checking serves, the test variant knows more.
			if old, ok := g.files[path]; !ok || old.pkg.ForTest == "" {
				g.files[path] = &groupFile{pkg: p, file: p.Syntax[i]}
			}
		}
	}
	sort.Strings(order)
	var gs []*group
	for _, k := range order {
		gs = append(gs, byKey[k])
	}
	return gs
}

// skipPackage says why a package must not be rewritten, or "".
func skipPackage(p *packages.Package) string {
	switch {
	case p.Module == nil:
		return "standard library"
	case p.Module.Path == rules.RuntimeModule || strings.HasPrefix(p.PkgPath, rules.RuntimeModule+"/"):
		return "the asyncinstr runtime"
	case p.Name == "main" && strings.HasSuffix(p.PkgPath, ".test"):
		return "generated test main"
	case len(p.GoFiles) == 0 && len(p.CompiledGoFiles) == 0:
		return "no Go files"
	}
	for _, f := range p.GoFiles {
		if strings.Contains(filepath.ToSlash(f), "/vendor/") {
			return "vendored"
		}
	}
	return ""
}

func packageDir(p *packages.Package) string {
	if len(p.GoFiles) > 0 {
		return filepath.Dir(p.GoFiles[0])
	}
	return filepath.Dir(p.CompiledGoFiles[0])
}

// Instrument loads the packages that patterns name and rewrites them. It
// changes no file: the caller writes Result.Changes.
func Instrument(cfg Config, patterns ...string) (*Result, error) {
	rs := cfg.Rules
	if rs == nil {
		rs = rules.All
	}
	start := time.Now()
	pkgs, err := load(cfg, patterns)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	gs := groups(pkgs, res)
	if res.Module != nil && res.Module.Dir != "" {
		if rs, err = WithRulesFiles(rs, res.Module.Dir); err != nil {
			return nil, err
		}
	}
	want, errs, err := unloadedFiles(cfg, gs)
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if err := loadVariants(cfg, gs, want); err != nil {
		return nil, err
	}
	res.Load = time.Since(start)
	start = time.Now()
	defer func() { res.Rewrite = time.Since(start) }()
	for _, g := range gs {
		if err := instrumentGroup(g, rs, res); err != nil {
			var es Errors
			if errors.As(err, &es) {
				errs = append(errs, es...)
				continue
			}
			return nil, err
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	sortChanges(res)
	return res, nil
}

func instrumentGroup(g *group, rs []*rules.Rule, res *Result) error {
	u := &unit{name: g.name, compPath: filepath.Join(g.dir, companionFor(g.name, g.hasNonTest)),
		declares: g.declared(),
		siteName: func(path string) string { return siteFileName(g.module, path) }}
	var err error
	u.oldComp, err = os.ReadFile(u.compPath)
	switch {
	case err == nil:
		if u.sites, err = readSites(u.compPath, u.oldComp); err != nil {
			return Errors{{Msg: err.Error()}}
		}
	case errors.Is(err, os.ErrNotExist):
		u.oldComp = nil
	default:
		return Errors{{Msg: err.Error()}}
	}
	for p := range g.files {
		if !isCompanion(filepath.Base(p)) {
			u.paths = append(u.paths, p)
		}
	}
	sort.Strings(u.paths)
	for _, path := range u.paths {
		gf := g.files[path]
		src, err := os.ReadFile(path)
		if err != nil {
			return Errors{{Msg: err.Error()}}
		}
		u.files = append(u.files, fileInput{fset: gf.pkg.Fset, file: gf.file, info: gf.pkg.TypesInfo, src: src, pkg: gf.pkg.Types})
	}
	// Files of other build configurations may use helpers too.
	for _, path := range otherGoFiles(g.dir, g.files) {
		if src, err := os.ReadFile(path); err == nil {
			u.other = append(u.other, src)
		}
	}
	changes, sites, err := u.rewrite(rs)
	if err != nil {
		return err
	}
	res.Changes = append(res.Changes, changes...)
	res.Sites = append(res.Sites, sites...)
	return nil
}

// siteFileName is the name recorded for a file in hooksrt.Site: its path
// in its module, with the module path in front for a dependency's file.
func siteFileName(m *packages.Module, path string) string {
	if m == nil || m.Dir == "" {
		return filepath.Base(path)
	}
	rel, err := filepath.Rel(m.Dir, path)
	if err != nil {
		return filepath.Base(path)
	}
	rel = filepath.ToSlash(rel)
	if !m.Main {
		rel = m.Path + "/" + rel
	}
	return rel
}

// otherGoFiles returns the .go files of dir that are not in files: those of
// other build configurations, other packages or the companions.
func otherGoFiles(dir string, files map[string]*groupFile) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if strings.HasSuffix(e.Name(), ".go") && !e.IsDir() && files[p] == nil && !isCompanion(e.Name()) {
			out = append(out, p)
		}
	}
	return out
}

func importsC(f *ast.File) bool {
	for _, imp := range f.Imports {
		if imp.Path.Value == `"C"` {
			return true
		}
	}
	return false
}

// buildIgnore reports whether a file is excluded from every build by a
// "//go:build ignore" line, as generators and scratch programs are.
func buildIgnore(f *ast.File) bool {
	_, expr := GoBuildLine(f)
	return expr != nil && !expr.Eval(func(tag string) bool { return tag != "ignore" }) &&
		expr.Eval(func(string) bool { return true })
}

// GoBuildLine returns a file's //go:build comment and its expression, or
// nils if it has none that parses.
func GoBuildLine(f *ast.File) (*ast.Comment, constraint.Expr) {
	if f == nil {
		return nil, nil
	}
	for _, cg := range f.Comments {
		if cg.Pos() > f.Package {
			break
		}
		for _, c := range cg.List {
			if constraint.IsGoBuild(c.Text) {
				expr, err := constraint.Parse(c.Text)
				if err != nil {
					return nil, nil
				}
				return c, expr
			}
		}
	}
	return nil, nil
}

func sortChanges(res *Result) {
	sort.Slice(res.Changes, func(i, j int) bool { return res.Changes[i].Path < res.Changes[j].Path })
	sort.SliceStable(res.Sites, func(i, j int) bool {
		a, b := res.Sites[i].Pos, res.Sites[j].Pos
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		return a.Offset < b.Offset
	})
}
