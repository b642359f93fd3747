package rewrite

import (
	"go/scanner"
	"go/token"
	"path/filepath"

	"github.com/asyncinstr/asyncinstr/rules"
)

// MayRewrite reports, from tokens alone, whether rs could match anything
// in the files whose sources are srcs: a go statement, or a name that a
// matched function has, or a companion file to renumber. It is
// conservative (a name in an unrelated call counts) and much cheaper than
// type-checking, which compile-time mode skips for a package where it
// reports false.
func MayRewrite(paths []string, srcs [][]byte, rs []*rules.Rule) bool {
	goStmt := false
	names := map[string]bool{}
	for _, r := range rs {
		goStmt = goStmt || r.GoStmt
		for _, f := range r.Funcs {
			names[f.Name] = true
		}
	}
	for i, src := range srcs {
		if isCompanion(filepath.Base(paths[i])) {
			return true
		}
		var s scanner.Scanner
		fset := token.NewFileSet()
		s.Init(fset.AddFile(paths[i], -1, len(src)), src, nil, 0)
		for {
			_, tok, lit := s.Scan()
			if tok == token.EOF {
				break
			}
			if tok == token.GO && goStmt || tok == token.IDENT && names[lit] {
				return true
			}
		}
	}
	return false
}
