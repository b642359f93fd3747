package rewrite

import (
	"go/scanner"
	"go/token"
	"path/filepath"

	"github.com/asyncinstr/asyncinstr/rules"
)

// MayRewrite reports, from tokens alone, whether rs could match anything
// in the files whose sources are srcs: a go statement, a name that a
// matched function has, a companion file to renumber, a channel type
// (the chan rule tracks only channels whose type the package writes), or,
// for the timer rule, a receive or a timer's field C. It is
// conservative (a name in an unrelated call counts) and much cheaper than
// type-checking, which compile-time mode skips for a package where it
// reports false.
func MayRewrite(paths []string, srcs [][]byte, rs []*rules.Rule) bool {
	goStmt, chans, timers := false, false, false
	names := map[string]bool{}
	for _, r := range rs {
		goStmt = goStmt || r.GoStmt
		chans = chans || r.Chans
		timers = timers || r.TimerChans
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
			switch {
			case tok == token.GO && goStmt,
				tok == token.IDENT && names[lit],
				tok == token.CHAN && (chans || timers),
				timers && (tok == token.ARROW || tok == token.IDENT && lit == "C"):
				return true
			}
		}
	}
	return false
}
