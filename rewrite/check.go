package rewrite

import (
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"os"
)

// newInfo returns a types.Info with every map the rewriter reads.
func newInfo() *types.Info {
	return &types.Info{
		Types:        map[ast.Expr]types.TypeAndValue{},
		Defs:         map[*ast.Ident]types.Object{},
		Uses:         map[*ast.Ident]types.Object{},
		Implicits:    map[ast.Node]types.Object{},
		Selections:   map[*ast.SelectorExpr]*types.Selection{},
		Scopes:       map[ast.Node]*types.Scope{},
		Instances:    map[*ast.Ident]types.Instance{},
		FileVersions: map[*ast.File]string{},
	}
}

// parseError converts a parse error to Errors with positions.
func parseError(err error) Errors {
	if list, ok := err.(scanner.ErrorList); ok {
		var es Errors
		for _, e := range list {
			es = append(es, &Error{Pos: e.Pos.String(), Msg: e.Msg})
		}
		return es
	}
	return Errors{{Msg: err.Error()}}
}

// collectTypeErrors returns a types.Config.Error function that appends to
// errs.
func collectTypeErrors(errs *[]*Error) func(error) {
	return func(err error) {
		if te, ok := err.(types.Error); ok {
			*errs = append(*errs, &Error{Pos: te.Fset.Position(te.Pos).String(), Msg: te.Msg})
			return
		}
		*errs = append(*errs, &Error{Msg: err.Error()})
	}
}

// CheckPackage parses and type-checks the Go files of one package, as a
// compiler invocation names them, for RewritePackage. fset must be the one
// conf's importer records positions in. conf supplies the
// importer, the language version and the sizes; its Error field is
// replaced. The errors come back as Errors, positions adjusted by //line
// directives, as the compiler would report them.
func CheckPackage(fset *token.FileSet, path, dir string, filenames []string, conf types.Config) (*Package, error) {
	p := &Package{Fset: fset, Paths: filenames, Dir: dir, Info: newInfo()}
	var errs Errors
	for _, name := range filenames {
		src, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(p.Fset, name, src, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			errs = append(errs, parseError(err)...)
			continue
		}
		p.Files = append(p.Files, f)
		p.Srcs = append(p.Srcs, src)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	conf.Error = collectTypeErrors((*[]*Error)(&errs))
	p.Types, _ = conf.Check(path, p.Fset, p.Files, p.Info)
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}
