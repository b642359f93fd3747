package rewrite

import (
	"bytes"
	"go/scanner"
	"go/token"
	"path/filepath"
	"strconv"

	"github.com/asyncinstr/asyncinstr/rules"
)

// MayRewrite reports, from tokens alone, whether rs could match anything
// in the files whose sources are srcs: a go statement, a name that a
// matched method has, or a matched function's name in a file that imports
// its package, a handler's http.ResponseWriter, a companion file to
// renumber, a //asyncinstr:callback directive, package main (for func
// main), a channel type
// (the chan rule tracks only channels whose type the package writes), or,
// for the timer rule, a receive or a timer's field C. It is
// conservative (a name in an unrelated call counts) and much cheaper than
// type-checking, which compile-time mode skips for a package where it
// reports false.
func MayRewrite(paths []string, srcs [][]byte, rs []*rules.Rule) bool {
	goStmt, chans, timers, directives := false, false, false, false
	// names maps each function or method name to the import paths one of
	// which a file must hold for a call of it to be one the rules report:
	// a package's function is called through an import of it; a method
	// needs none (its receiver may come from anywhere).
	names := map[string][]string{}
	for _, r := range rs {
		goStmt = goStmt || r.GoStmt
		chans = chans || r.Chans
		timers = timers || r.TimerChans
		for _, f := range r.Funcs {
			if f.Recv == "" {
				names[f.Name] = append(names[f.Name], strconv.Quote(f.Pkg))
			} else {
				names[f.Name] = append(names[f.Name], "")
			}
		}
		if r.Handlers {
			// A handler's type names http.ResponseWriter.
			names["ResponseWriter"] = append(names["ResponseWriter"], "")
		}
		for _, c := range r.Declared {
			f := c.Func
			if f.Recv == "" {
				names[f.Name] = append(names[f.Name], strconv.Quote(f.Pkg))
			} else {
				names[f.Name] = append(names[f.Name], "")
			}
		}
		directives = directives || r.Callbacks
		if r.Main {
			// The package clause of package main.
			names["main"] = append(names["main"], "")
		}
	}
	called := func(src []byte, name string) bool {
		for _, imp := range names[name] {
			if imp == "" || bytes.Contains(src, []byte(imp)) {
				return true
			}
		}
		return false
	}
	for i, src := range srcs {
		if isCompanion(filepath.Base(paths[i])) || directives && bytes.Contains(src, []byte(rules.DirectivePrefix)) {
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
				tok == token.IDENT && called(src, lit),
				tok == token.CHAN && (chans || timers),
				timers && (tok == token.ARROW || tok == token.IDENT && lit == "C"):
				return true
			}
		}
	}
	return false
}
