package rewrite

import (
	"bytes"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dave/dst"
	"github.com/dave/dst/decorator"
	"github.com/dave/dst/dstutil"
	"golang.org/x/tools/go/packages"

	"github.com/asyncinstr/asyncinstr/rules"
)

// Strip undoes Instrument for the packages that patterns name: every
// rewritten construct goes back to its original form and the companion
// files are removed. It works on syntax alone, so it also serves code that
// no longer type-checks, and files of every build configuration. Like
// Instrument, it changes no file itself.
func Strip(cfg Config, patterns ...string) (*Result, error) {
	if len(patterns) == 0 {
		patterns = []string{"."}
	}
	pkgs, err := packages.Load(&packages.Config{
		Mode:  packages.NeedName | packages.NeedFiles | packages.NeedModule,
		Dir:   cfg.Dir,
		Env:   cfg.Env,
		Tests: true,
	}, patterns...)
	if err != nil {
		return nil, Errors{{Msg: loadError(err)}}
	}
	res := &Result{}
	dirs := map[string]bool{}
	for _, p := range pkgs {
		if reason := skipPackage(p); reason != "" {
			continue
		}
		if res.Module == nil || p.Module.Main {
			res.Module = p.Module
		}
		dirs[packageDir(p)] = true
	}
	if len(dirs) == 0 {
		return nil, noPackages(cfg, patterns)
	}
	var sorted []string
	for d := range dirs {
		sorted = append(sorted, d)
	}
	sort.Strings(sorted)
	var errs Errors
	for _, dir := range sorted {
		for _, path := range otherGoFiles(dir, nil) {
			src, err := os.ReadFile(path)
			if err != nil {
				errs = append(errs, &Error{Msg: err.Error()})
				continue
			}
			out, err := StripFile(path, src)
			if err != nil {
				errs = append(errs, asErrors(err)...)
				continue
			}
			if out != nil {
				res.Changes = append(res.Changes, Change{Path: path, Old: src, New: out})
			}
		}
		for _, name := range []string{companionName, companionTestName, companionXTestName} {
			path := filepath.Join(dir, name)
			src, err := os.ReadFile(path)
			if err != nil {
				continue
			}
			if !bytes.HasPrefix(src, []byte(companionHeader)) {
				errs = append(errs, &Error{Pos: path + ":1:1", Msg: "not written by asyncinstr (no generated-code header); left alone"})
				continue
			}
			res.Changes = append(res.Changes, Change{Path: path, Old: src})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	sortChanges(res)
	return res, nil
}

func asErrors(err error) Errors {
	if es, ok := err.(Errors); ok {
		return es
	}
	return Errors{{Msg: err.Error()}}
}

// StripFile returns src with every construct that Instrument rewrote back in
// its original form, or nil if there is none.
func StripFile(filename string, src []byte) ([]byte, error) {
	if !bytes.Contains(src, []byte(prefix)) {
		return nil, nil
	}
	fset := token.NewFileSet()
	dec := decorator.NewDecorator(fset)
	f, err := dec.ParseFile(filename, src, parser.ParseComments)
	if err != nil {
		return nil, syntaxErrors(err)
	}
	changed := unChans(f)
	dstutil.Apply(f, nil, func(c *dstutil.Cursor) bool {
		switch n := c.Node().(type) {
		case *dst.GoStmt:
			if unGo(n.Call) {
				// The call that the go statement ran may be a rewritten
				// one too (go srv.Serve(l)); it was visited as an argument.
				unCall(n.Call)
				changed = true
			}
		case *dst.CallExpr:
			if r := unCall(n); r != nil {
				c.Replace(r)
				changed = true
			}
		}
		return true
	})
	if !changed {
		return nil, nil
	}
	var buf bytes.Buffer
	if err := decorator.Fprint(&buf, f); err != nil {
		return nil, fmt.Errorf("%s: printing stripped file: %w", filename, err)
	}
	return buf.Bytes(), nil
}

// syntaxErrors turns a parser error list into Errors.
func syntaxErrors(err error) error {
	if list, ok := err.(interface{ Unwrap() []error }); ok {
		var es Errors
		for _, e := range list.Unwrap() {
			es = append(es, &Error{Msg: e.Error()})
		}
		return es
	}
	return Errors{{Msg: err.Error()}}
}

// unGo turns a rewritten go statement's call back into the original call.
func unGo(call *dst.CallExpr) bool {
	if inner, ok := call.Fun.(*dst.CallExpr); ok {
		return unWrap(call, inner)
	}
	id, ok := call.Fun.(*dst.Ident)
	if !ok {
		return false
	}
	if b, ok := builtinHelpers[id.Name]; ok && len(call.Args) > 0 {
		id.Name = b.builtin
		removeLastArg(call)
		return true
	}
	shape, ok := parseShape(id.Name)
	// f, the fixed arguments and the task; a V shape may have no variadic
	// arguments, the others have all their parameters.
	min := shape.params + 2
	if shape.kind == "V" {
		min = shape.params + 1
	}
	if !ok || shape.wrap || shape.pack || len(call.Args) < min {
		return false
	}
	removeTask(call, shape, 1)
	call.Fun, call.Args = call.Args[0], call.Args[1:]
	return true
}

// removeTask takes the task argument out of a rewritten go statement's
// call, whose argument list holds lead arguments (f, for Run) before the
// original ones, and gives the original ones back their form: spread for
// S, unpacked for P.
func removeTask(call *dst.CallExpr, shape goShape, lead int) {
	if shape.kind == "V" {
		i := lead + shape.params - 1 // the task follows the fixed arguments
		call.Args = append(call.Args[:i:i], call.Args[i+1:]...)
		return
	}
	removeLastArg(call)
	switch shape.kind {
	case "S":
		restoreEllipsis(call)
	case "P":
		unpack(call)
	}
}

// unpack replaces the last argument, _asyncinstrPackN(f)(x, y), by x, y.
func unpack(call *dst.CallExpr) {
	n := len(call.Args)
	if packed, ok := call.Args[n-1].(*dst.CallExpr); ok {
		call.Args = append(call.Args[:n-1:n-1], packed.Args...)
	}
}

// restoreEllipsis puts back the "..." of a spread call, with the layout
// that followed it, which the rewrite had given to the task argument.
func restoreEllipsis(call *dst.CallExpr) {
	call.Ellipsis = true
	last := call.Args[len(call.Args)-1].Decorations()
	call.Decs.Ellipsis = append(call.Decs.Ellipsis, last.End...)
	if last.After == dst.NewLine {
		call.Decs.Ellipsis = append(call.Decs.Ellipsis, "\n")
	}
	last.After, last.End = dst.None, nil
}

// unWrap undoes go _asyncinstrWrapN(f)(args..., task).
func unWrap(call, inner *dst.CallExpr) bool {
	id, ok := inner.Fun.(*dst.Ident)
	if !ok || len(inner.Args) != 1 {
		return false
	}
	shape, ok := parseShape(id.Name)
	if !ok || !shape.wrap || len(call.Args) < shape.params {
		return false
	}
	removeTask(call, shape, 0)
	call.Fun = inner.Args[0]
	return true
}

// removeLastArg drops the argument that appendArg added, giving its layout
// back to the argument before it.
func removeLastArg(call *dst.CallExpr) {
	n := len(call.Args)
	last := call.Args[n-1].Decorations()
	if n > 1 {
		prev := call.Args[n-2].Decorations()
		prev.After, prev.End = last.After, last.End
	}
	call.Args = call.Args[:n-1]
}

// unCall returns the original of a rewritten call: the node to put in its
// place for a wrapped argument, or the call itself, changed in place.
func unCall(call *dst.CallExpr) dst.Expr {
	id, ok := call.Fun.(*dst.Ident)
	if !ok || !strings.HasPrefix(id.Name, prefix) {
		return nil
	}
	if _, ok := parseCbShape(id.Name); ok && len(call.Args) == 4 {
		// A declared callback, wrapped where it is passed.
		return unwrapArg(call)
	}
	name := strings.TrimPrefix(id.Name, prefix)
	_, f := rules.ByRuntime(name)
	if base, ok := strings.CutSuffix(name, "In"); f == nil && ok {
		// A scoped call: its scope goes first.
		if _, g := rules.ByRuntime(base); g != nil && g.Scoped && len(call.Args) > 1 {
			f = g
			call.Args = call.Args[1:]
		}
	}
	if f == nil || len(call.Args) == 0 {
		return nil
	}
	switch f.Form {
	case rules.WrapArg:
		if len(call.Args) != 2 {
			return nil
		}
		return unwrapArg(call)
	case rules.CallThrough:
		removeLastArg(call)
		call.Fun, call.Args = call.Args[0], call.Args[1:]
		return call
	case rules.Method:
		if f.Site {
			removeLastArg(call)
		}
		recv := call.Args[0]
		if u, ok := recv.(*dst.UnaryExpr); ok && u.Op == token.AND {
			recv = u.X
		}
		sel := &dst.SelectorExpr{X: recv, Sel: dst.NewIdent(f.Name)}
		// A line break after the receiver argument belongs after the
		// method's opening parenthesis again.
		r := recv.Decorations()
		sel.Decs.After, sel.Decs.End, r.After, r.End = r.After, r.End, dst.None, nil
		call.Fun = sel
		call.Args = call.Args[1:]
		return call
	}
	return nil
}

// unwrapArg returns the argument that call wraps, its first, in the
// call's place in the layout.
func unwrapArg(call *dst.CallExpr) dst.Expr {
	arg := call.Args[0]
	*arg.Decorations() = call.Decs.NodeDecs
	return arg
}
