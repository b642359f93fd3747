package rewrite

import (
	"fmt"
	"go/parser"
	"go/token"
	"go/types"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
	"golang.org/x/tools/go/packages"
)

// loadTyped loads the packages that patterns name, with their test
// variants, parsed and type-checked: the same result as packages.Load with
// loadMode, at a lower cost. Asked for types without dependencies,
// go/packages runs go list -export, which compiles the listed packages
// themselves, and then type-checks them again from source: after an edit,
// the module's packages are compiled twice, and that was most of a run.
// Here go list only describes the packages (no compiling), the packages
// that the rewriter needs from source are type-checked from source, and
// the types of everything else come from export data, which go list
// compiles for those packages only (the build cache usually has them).
func loadTyped(cfg Config, patterns []string) ([]*packages.Package, error) {
	const graphMode = packages.NeedName | packages.NeedFiles | packages.NeedCompiledGoFiles |
		packages.NeedImports | packages.NeedDeps | packages.NeedModule | packages.NeedTypesSizes
	roots, err := loadPackages(cfg, graphMode, true, patterns)
	if err != nil {
		return nil, err
	}

	// The packages checked from source: the roots the rewriter reads, and
	// the test variants (packages compiled again for a test), which only
	// exist in this graph.
	source := map[*packages.Package]bool{}
	for _, p := range roots {
		if skipPackage(p) == "" || p.ForTest != "" {
			source[p] = true
		}
	}
	packages.Visit(roots, nil, func(p *packages.Package) {
		if p.ForTest != "" && !(p.Name == "main" && strings.HasSuffix(p.PkgPath, ".test")) {
			source[p] = true
		}
	})
	// The packages they import that are not checked from source come from
	// export data.
	exported := map[string]bool{}
	for p := range source {
		for _, imp := range p.Imports {
			if !source[imp] && imp.PkgPath != "unsafe" && imp.PkgPath != "C" {
				exported[imp.PkgPath] = true
			}
		}
	}
	byPath := map[string]*types.Package{}
	if len(exported) > 0 {
		paths := make([]string, 0, len(exported))
		for p := range exported {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		deps, err := loadPackages(cfg, packages.NeedName|packages.NeedTypes, false, paths)
		if err != nil {
			return nil, err
		}
		for _, d := range deps {
			if d.Types != nil {
				byPath[d.PkgPath] = d.Types
			}
		}
	}

	fset := token.NewFileSet()
	done := map[*packages.Package]chan struct{}{}
	for p := range source {
		done[p] = make(chan struct{})
	}
	var (
		mu   sync.Mutex
		errs Errors
	)
	report := func(es ...*Error) {
		mu.Lock()
		errs = append(errs, es...)
		mu.Unlock()
	}
	var eg errgroup.Group
	for p := range source {
		eg.Go(func() error {
			defer close(done[p])
			for _, imp := range p.Imports {
				if source[imp] {
					<-done[imp]
				}
			}
			report(checkPackage(fset, p, source, byPath)...)
			return nil
		})
	}
	eg.Wait()
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Pos < errs[j].Pos })
		return nil, dedupErrors(errs)
	}
	return roots, nil
}

// checkPackage parses and type-checks one package from source, filling in
// the fields that packages.Load would.
func checkPackage(fset *token.FileSet, p *packages.Package, source map[*packages.Package]bool, byPath map[string]*types.Package) []*Error {
	p.Fset = fset
	var errs []*Error
	for _, name := range p.CompiledGoFiles {
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			errs = append(errs, parseError(err)...)
		}
		if f != nil {
			p.Syntax = append(p.Syntax, f)
		}
	}
	if len(errs) > 0 {
		return errs // type errors would follow from the syntax errors
	}
	p.TypesInfo = newInfo()
	conf := types.Config{
		Importer: importerFunc(func(path string) (*types.Package, error) {
			if path == "unsafe" {
				return types.Unsafe, nil
			}
			imp := p.Imports[path]
			if imp == nil {
				return nil, fmt.Errorf("no package for import %q", path)
			}
			if source[imp] {
				if imp.Types == nil {
					return nil, fmt.Errorf("package %s could not be type-checked", imp.PkgPath)
				}
				return imp.Types, nil
			}
			if t := byPath[imp.PkgPath]; t != nil {
				return t, nil
			}
			return nil, fmt.Errorf("no export data for %s", imp.PkgPath)
		}),
		Error: collectTypeErrors(&errs),
	}
	if p.Module != nil && p.Module.GoVersion != "" {
		conf.GoVersion = "go" + p.Module.GoVersion
	}
	conf.Sizes = p.TypesSizes
	p.Types, _ = conf.Check(p.PkgPath, fset, p.Syntax, p.TypesInfo)
	return errs
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }

func dedupErrors(es Errors) Errors {
	seen := map[string]bool{}
	var out Errors
	for _, e := range es {
		if k := e.Error(); !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}
