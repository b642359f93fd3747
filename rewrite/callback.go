package rewrite

import (
	"errors"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dave/dst"
	"golang.org/x/tools/go/types/typeutil"

	"github.com/asyncinstr/asyncinstr/rules"
)

// The callback rule: async APIs that the program declares (see
// rules.Callback). A directive on a declaration is applied where the
// function is declared: its body starts by wrapping the parameter, on the
// line of its opening brace,
//
//	func (p *Pool) Submit(task func()) error { task = _asyncinstrCb0(task, "POOLTASK", false, &_asyncinstrSites[0]);
//
// so that every call, from rewritten code or not, in this package or
// another, passes a resource; and the declaration is all the rewriter needs
// to see, in either mode. An API of the rules file, in code that is not
// rewritten, is applied at each call in rewritten code instead:
//
//	p.Submit(task)  =>  p.Submit(_asyncinstrCb0(task, "POOLTASK", false, &_asyncinstrSites[0]))

// fail records a problem with the input at pos.
func (w *walker) fail(pos token.Position, format string, args ...any) {
	w.res.errs = append(w.res.errs, &Error{Pos: pos.String(), Msg: fmt.Sprintf(format, args...)})
}

// callbackRule returns the enabled rule that wraps declared callbacks.
func (w *walker) callbackRule() *rules.Rule {
	return w.rule(func(r *rules.Rule) bool { return r.Callbacks })
}

// callbackPrologue returns the statements that a function declared as an
// async API by directives starts with, one per directive, and reports the
// directives' problems.
func (w *walker) callbackPrologue(fd *ast.FuncDecl) []string {
	r := w.callbackRule()
	if r == nil || fd.Doc == nil {
		return nil
	}
	var out []string
	for _, c := range fd.Doc.List {
		pos := w.in.fset.Position(c.Pos())
		cb, ok, err := rules.ParseDirective(c.Text, pos)
		if !ok {
			continue
		}
		if err != nil {
			pe := err.(*rules.PosError)
			w.fail(pe.Pos, "%s", pe.Msg)
			continue
		}
		fn, _ := w.in.info.Defs[fd.Name].(*types.Func)
		if fn == nil {
			continue
		}
		if fd.Body == nil {
			w.fail(pos, "%s: %s has no body to instrument", rules.DirectivePrefix, fd.Name.Name)
			continue
		}
		sig := fn.Signature()
		i, ok := w.callbackParam(cb, sig, pos, fn.Name())
		if !ok {
			continue
		}
		p := sig.Params().At(i)
		if p.Name() == "" || p.Name() == "_" {
			w.fail(pos, "%s: parameter %d of %s has no name; name it to declare it a callback", rules.DirectivePrefix, i, fn.Name())
			continue
		}
		shape, _ := cbShapeOf(under(p.Type()).(*types.Signature))
		what := fmt.Sprintf("callback %s of %s", p.Name(), funcName(fn))
		if wrapsParam(fd.Body, p.Name()) {
			w.record(fd.Body.Lbrace, r.Name, what, funcName(fn), alreadyInstrumented)
			continue
		}
		n := w.instrument(fd.Body.Lbrace, r.Name, what, funcName(fn))
		out = append(out, fmt.Sprintf("%s = %s(%s, %s, %t, &%s[%d])", p.Name(), shape.name(), p.Name(), strconv.Quote(cb.Type), cb.Many, sitesVar, n))
	}
	return out
}

// callbackParam returns the index of cb's parameter in sig, reporting at
// pos (of a directive, or of a rules file line) why it cannot be one.
func (w *walker) callbackParam(cb rules.Callback, sig *types.Signature, pos token.Position, fn string) (int, bool) {
	names := make([]string, sig.Params().Len())
	for i := range names {
		names[i] = sig.Params().At(i).Name()
	}
	i := cb.Index(names)
	if i < 0 {
		w.fail(pos, "arg=%s: %s has no such parameter (parameters: %s)", cb.Arg, fn, strings.Join(names, ", "))
		return 0, false
	}
	p := sig.Params().At(i)
	if sig.Variadic() && i == sig.Params().Len()-1 {
		w.fail(pos, "arg=%s: parameter %s of %s is variadic; a callback must be a single function", cb.Arg, p.Name(), fn)
		return 0, false
	}
	s, ok := under(p.Type()).(*types.Signature)
	if !ok {
		w.fail(pos, "arg=%s: parameter %s of %s is not a function (%s)", cb.Arg, p.Name(), fn, p.Type())
		return 0, false
	}
	if _, ok := cbShapeOf(s); !ok {
		w.fail(pos, "arg=%s: callback type %s has more than %d parameters or %d results", cb.Arg, p.Type(), maxParams, maxResults)
		return 0, false
	}
	return i, true
}

// wrapsParam reports whether body already starts with the statement that
// wraps parameter name: an earlier run's.
func wrapsParam(body *ast.BlockStmt, name string) bool {
	for _, s := range body.List {
		a, ok := s.(*ast.AssignStmt)
		if !ok || len(a.Lhs) != 1 || len(a.Rhs) != 1 {
			return false
		}
		if lhs, ok := a.Lhs[0].(*ast.Ident); ok && lhs.Name == name && isCbCall(a.Rhs[0]) {
			return true
		}
	}
	return false
}

// isCbCall reports whether e is a call of a callback wrapper.
func isCbCall(e ast.Expr) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	id, ok := call.Fun.(*ast.Ident)
	if !ok {
		return false
	}
	_, ok = parseCbShape(id.Name)
	return ok
}

// declaredCall wraps the callback argument of a call of a function that
// the rules file declares, and reports whether call is one.
func (w *walker) declaredCall(call *ast.CallExpr) bool {
	r := w.callbackRule()
	if r == nil || len(r.Declared) == 0 {
		return false
	}
	f, _ := typeutil.Callee(w.in.info, call).(*types.Func)
	if f == nil || f.Pkg() == nil {
		return false
	}
	for _, cb := range r.Declared {
		if !matches(f, &cb.Func) {
			continue
		}
		i, ok := w.callbackParam(cb, f.Signature(), cb.Pos, f.Name())
		if !ok {
			return false
		}
		what := "callback of " + cb.Func.String()
		if call.Ellipsis.IsValid() || i >= len(call.Args) {
			w.record(call.Pos(), r.Name, what, cb.Type, "called with a spread argument list")
			return false
		}
		arg := call.Args[i]
		desc := w.describeFunc(arg)
		if tv, ok := w.in.info.Types[arg]; ok && tv.IsNil() {
			w.record(call.Pos(), r.Name, what, desc, "nil callback: nothing to run")
			return false
		}
		if isCbCall(ast.Unparen(arg)) {
			w.record(call.Pos(), r.Name, what, desc, alreadyInstrumented)
			return false
		}
		shape, _ := cbShapeOf(under(f.Signature().Params().At(i).Type()).(*types.Signature))
		n := w.instrument(call.Pos(), r.Name, what, desc)
		if w.dec == nil {
			return true
		}
		dcall := w.dstOf(call).(*dst.CallExpr)
		dcall.Args[i] = w.wrapArg(dcall.Args[i], dst.NewIdent(shape.name()),
			&dst.BasicLit{Kind: token.STRING, Value: strconv.Quote(cb.Type)},
			dst.NewIdent(strconv.FormatBool(cb.Many)),
			siteRef(n))
		return true
	}
	return false
}

// WithRulesFiles returns rs with the async APIs that the rules files
// (rules.FileName) in dirs declare, the roots of the main modules. A
// directory without one adds nothing; a file with a problem is an Errors
// naming its line and column.
func WithRulesFiles(rs []*rules.Rule, dirs ...string) ([]*rules.Rule, error) {
	var decls []rules.Callback
	for _, d := range dirs {
		path := filepath.Join(d, rules.FileName)
		src, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, Errors{{Msg: err.Error()}}
		}
		ds, err := rules.ParseFile(path, src)
		if err != nil {
			var pe *rules.PosError
			if errors.As(err, &pe) {
				return nil, Errors{{Pos: pe.Pos.String(), Msg: pe.Msg}}
			}
			return nil, Errors{{Msg: err.Error()}}
		}
		decls = append(decls, ds...)
	}
	if len(decls) == 0 {
		return rs, nil
	}
	return rules.WithDeclared(rs, decls), nil
}
