package rewrite

import (
	"go/ast"

	"github.com/dave/dst"

	"github.com/asyncinstr/asyncinstr/rules"
)

// The exit rule: a program completes its trace and prints its leak report
// when it ends, through hooksrt.Finish, which main defers, and hooksrt.Exit,
// which os.Exit calls go through (an ordinary CallThrough Func of the
// rule). Go has no exit hook for programs, so these are the two ways out
// of a program that rewritten code can see.

// mainPrologue returns the statement that func main of package main
// starts with when the exit rule is on, defer _asyncinstrFinish(), which
// completes the trace and prints the leak report when main returns (or
// panics). It is the first deferred call, so the last to run: after the
// program's own.
func (w *walker) mainPrologue(fd *ast.FuncDecl) []string {
	r := w.rule(func(r *rules.Rule) bool { return r.Main })
	if r == nil || fd.Recv != nil || fd.Name.Name != "main" || fd.Body == nil || w.in.pkg.Name() != "main" {
		return nil
	}
	const what = "the end of main"
	if len(fd.Body.List) > 0 && finishes(fd.Body.List[0]) {
		w.record(fd.Body.Lbrace, r.Name, what, "main", alreadyInstrumented)
		return nil
	}
	w.markChanged()
	w.res.sites = append(w.res.sites, Site{Pos: w.in.fset.Position(fd.Body.Lbrace), Rule: r.Name, What: what, Func: "main", Instrumented: true})
	return []string{"defer " + finishHelper + "()"}
}

// finishes reports whether s is the statement that mainPrologue adds.
func finishes(s ast.Stmt) bool {
	d, ok := s.(*ast.DeferStmt)
	if !ok || len(d.Call.Args) != 0 {
		return false
	}
	id, ok := d.Call.Fun.(*ast.Ident)
	return ok && id.Name == finishHelper
}

// finishesDst is finishes for -strip, which works on dst.
func finishesDst(call *dst.CallExpr) bool {
	return len(call.Args) == 0 && isIdent(call.Fun, finishHelper)
}
