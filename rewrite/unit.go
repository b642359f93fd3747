package rewrite

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/asyncinstr/asyncinstr/rules"
)

// A unit is one package's files as one compilation sees them, with what is
// needed to write its companion: the shared core of source mode (a group)
// and compile-time mode (a Package).
type unit struct {
	name     string // package name
	compPath string // where the companion goes
	oldComp  []byte // the companion already there, or nil
	sites    []siteEntry
	files    []fileInput // in path order
	paths    []string
	other    [][]byte        // sources not rewritten here that may call helpers
	declares map[string]bool // runtime package names the package declares at package level
	siteName func(filename string) string
}

// rewrite finds the sites of every file in order (they are numbered across
// the package), renders the changed files concurrently, and returns the
// changed files followed by the companion when it changes.
func (u *unit) rewrite(rs []*rules.Rule) ([]Change, []Site, error) {
	sites := u.sites
	var found []Site
	if slices.ContainsFunc(rs, func(r *rules.Rule) bool { return r.Chans }) {
		plan := u.chanPlan()
		for i := range u.files {
			u.files[i].plan = plan
		}
		found = append(found, plan.list()...)
	}
	frs := make([]*fileResult, len(u.files))
	for i := range u.files {
		u.files[i].firstSite = len(sites)
		frs[i] = findSites(u.files[i], rs)
		found = append(found, frs[i].sites...)
		for _, s := range frs[i].newSites {
			sites = append(sites, siteEntry{File: u.siteName(s.Pos.Filename), Line: s.Pos.Line, Func: s.Func})
		}
	}
	var errs Errors
	for _, fr := range frs {
		errs = append(errs, fr.errs...)
	}
	// A bad line of the rules file is found at every call of its function.
	if errs = dedupErrors(append(errs, u.checkDeclared(rs)...)); len(errs) > 0 {
		return nil, nil, errs
	}
	var eg errgroup.Group
	eg.SetLimit(runtime.GOMAXPROCS(0))
	for i := range u.files {
		if frs[i].changed == nil {
			continue
		}
		eg.Go(func() error {
			out, err := render(u.files[i], rs, frs[i].changed)
			frs[i].out = out
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, nil, Errors{{Msg: err.Error()}}
	}
	var changes []Change
	outputs := u.other
	for i, path := range u.paths {
		out, src := frs[i].out, u.files[i].src
		if out != nil && !bytes.Equal(out, src) {
			changes = append(changes, Change{Path: path, Old: src, New: out})
		} else {
			out = src
		}
		outputs = append(outputs, out)
	}
	helpers := helpersUsed(outputs...)
	if len(changes) == 0 && (u.oldComp != nil || len(helpers) == 0) {
		return nil, found, nil
	}
	comp, err := companion(u.name, helpers, sites, u.declares)
	if err != nil {
		return nil, nil, err
	}
	if !bytes.Equal(comp, u.oldComp) {
		changes = append(changes, Change{Path: u.compPath, Old: u.oldComp, New: comp})
	}
	return changes, found, nil
}

// chanPlan decides which channels of the package are tracked, from all
// its files, as each type-checking of them saw them.
func (u *unit) chanPlan() *chanPlan {
	plan := newChanPlan()
	var infos []*types.Info
	byInfo := map[*types.Info][]*ast.File{}
	first := map[*types.Info]fileInput{}
	for _, in := range u.files {
		if _, ok := byInfo[in.info]; !ok {
			infos = append(infos, in.info)
			first[in.info] = in
		}
		byInfo[in.info] = append(byInfo[in.info], in.file)
	}
	for _, info := range infos {
		in := first[info]
		plan.analyse(in.fset, in.pkg, info, byInfo[info], func(f *ast.File) func(ast.Node) bool {
			return ignoredNodes(in.fset, f)
		})
	}
	return plan
}

// companionFor names the companion of a package: one for an external test
// package, one for a package made only of test files, one otherwise.
func companionFor(pkgName string, hasNonTest bool) string {
	switch {
	case len(pkgName) > 5 && pkgName[len(pkgName)-5:] == "_test":
		return companionXTestName
	case !hasNonTest:
		return companionTestName
	}
	return companionName
}

// A Package is one package as a compiler invocation sees it, parsed and
// type-checked by the caller: compile-time mode rewrites each compilation
// this way, one package at a time.
type Package struct {
	Fset  *token.FileSet
	Types *types.Package
	Info  *types.Info
	// Files are the package's Go files in the compiler's order, with their
	// paths and bytes. A companion file among them (the package was
	// instrumented in source mode) is renumbered, not rewritten.
	Files []*ast.File
	Paths []string
	Srcs  [][]byte
	// Dir is the package's source directory: the companion's path is in
	// it, so that the compiler reports its positions there.
	Dir string
	// SiteName is the file name recorded for a site in the companion's
	// table, given the site's position's file name.
	SiteName func(filename string) string
}

// RewritePackage applies rs to one type-checked package. The changes come
// back by original path; the companion's path is in p.Dir, with Old set
// when the package already had one.
func RewritePackage(p *Package, rs []*rules.Rule) (*Result, error) {
	u := &unit{name: p.Types.Name(), siteName: p.SiteName,
		declares: declaredRuntimeNames(p.Types.Scope())}
	hasNonTest := false
	for i, path := range p.Paths {
		base := filepath.Base(path)
		if isCompanion(base) {
			sites, err := readSites(path, p.Srcs[i])
			if err != nil {
				return nil, Errors{{Msg: err.Error()}}
			}
			u.oldComp, u.sites, u.compPath = p.Srcs[i], sites, path
			continue
		}
		if len(base) < 8 || base[len(base)-8:] != "_test.go" {
			hasNonTest = true
		}
		u.paths = append(u.paths, path)
		u.files = append(u.files, fileInput{fset: p.Fset, file: p.Files[i], info: p.Info, src: p.Srcs[i], pkg: p.Types})
	}
	if u.compPath == "" {
		u.compPath = filepath.Join(p.Dir, companionFor(u.name, hasNonTest))
	}
	changes, sites, err := u.rewrite(rs)
	if err != nil {
		return nil, err
	}
	return &Result{Changes: changes, Sites: sites}, nil
}

// declaredRuntimeNames returns the names of runtime packages that scope
// declares, which the companion must then import under other names.
func declaredRuntimeNames(scope *types.Scope) map[string]bool {
	names := map[string]bool{}
	for name := range rules.RuntimePackages {
		if scope.Lookup(name) != nil {
			names[name] = true
		}
	}
	return names
}

// checkDeclared reports the async APIs of the rules file that name a
// package this one imports but nothing in it: a misspelt function, a
// method of the wrong receiver.
func (u *unit) checkDeclared(rs []*rules.Rule) Errors {
	imported := map[string]*types.Package{}
	for _, f := range u.files {
		if f.pkg != nil {
			for _, p := range f.pkg.Imports() {
				imported[p.Path()] = p
			}
		}
	}
	var errs Errors
	for _, r := range rs {
		for _, c := range r.Declared {
			p := imported[c.Func.Pkg]
			if p == nil || declares(p, c.Func) {
				continue
			}
			errs = append(errs, &Error{Pos: c.Pos.String(), Msg: fmt.Sprintf("%s: package %s has no such function or method", c.Func, p.Path())})
		}
	}
	return errs
}

// declares reports whether p declares the function or method f.
func declares(p *types.Package, f rules.Func) bool {
	if f.Recv == "" {
		_, ok := p.Scope().Lookup(f.Name).(*types.Func)
		return ok
	}
	name, ptr := strings.CutPrefix(f.Recv, "*")
	tn, ok := p.Scope().Lookup(name).(*types.TypeName)
	if !ok {
		return false
	}
	obj, _, _ := types.LookupFieldOrMethod(tn.Type(), ptr, p, f.Name)
	_, ok = obj.(*types.Func)
	return ok
}
