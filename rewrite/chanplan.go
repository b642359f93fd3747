package rewrite

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"go/version"
	"path/filepath"
	"sort"
	"strings"
)

// Which channels are tracked.
//
// A tracked channel carries its values as _asyncinstrMsg[T] (the value and
// its CHANSEND resource) instead of T, so every channel type that a tracked
// value can flow through must change together, and none of them may reach
// code that is not rewritten. Channel types are grouped by their element
// type: values flow only between channel types with identical element
// types (direction aside), so a class of identical element types is closed
// under every flow the language allows, whether or not the rewriter models
// it. A class is tracked when none of its members escapes: reaches another
// package's declarations, an interface that code outside the package may
// inspect, an exported declaration, a type parameter, unsafe.Pointer, or
// code that asyncinstr is told to leave alone. The decision for a package
// depends on its own files only, so every compile of that package, in
// either mode, reaches the same one, and the build cache, which keys a
// compile by its inputs, stays correct.
//
// A class is named by its element type as types.TypeString writes it with
// package paths: the same name in every type-checking of the package (its
// test variant, another build configuration).

// chanRule is the name of the rule that tracks channels.
const chanRule = "chan"

// A chanPlan is the decision for one package: which classes of channel
// types are tracked, and why the others are not.
type chanPlan struct {
	seen      map[string]token.Position // every class with a literal, and its first
	what      map[string]string         // each class as -explain names it
	untracked map[string]chanReason
	done      map[string]bool // classes instrumented by an earlier run
}

// A chanReason says why a class is untracked: where it escapes, and how.
type chanReason struct {
	Pos token.Position
	Why string
}

func (r chanReason) String() string {
	if r.Pos.IsValid() {
		return fmt.Sprintf("%s (%s)", r.Why, r.Pos)
	}
	return r.Why
}

func newChanPlan() *chanPlan {
	return &chanPlan{seen: map[string]token.Position{}, what: map[string]string{}, untracked: map[string]chanReason{}, done: map[string]bool{}}
}

// chanKey names the class of a channel type.
func chanKey(c *types.Chan) string {
	return types.TypeString(c.Elem(), func(p *types.Package) string { return p.Path() })
}

// tracked reports whether the channel type t belongs to a tracked class.
func (p *chanPlan) tracked(t types.Type) bool {
	if p == nil || t == nil {
		return false
	}
	c, ok := t.Underlying().(*types.Chan)
	if !ok {
		return false
	}
	k := chanKey(c)
	_, bad := p.untracked[k]
	return !bad && !p.done[k]
}

// instrumented reports whether t is a channel type that an earlier run
// rewrote (its element is _asyncinstrMsg[T]).
func instrumentedChan(t types.Type) bool {
	c, ok := t.Underlying().(*types.Chan)
	if !ok {
		return false
	}
	n, ok := types.Unalias(c.Elem()).(*types.Named)
	return ok && n.Obj().Name() == msgType
}

// Untracked lists the untracked classes that have a literal in the
// package, for -explain.
func (p *chanPlan) list() []Site {
	var out []Site
	keys := make([]string, 0, len(p.seen))
	for k := range p.seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		r, ok := p.untracked[k]
		if !ok || p.done[k] {
			continue
		}
		if filepath.Dir(r.Pos.Filename) == filepath.Dir(p.seen[k].Filename) {
			r.Pos.Filename = filepath.Base(r.Pos.Filename)
		}
		out = append(out, Site{Pos: p.seen[k], Rule: chanRule, What: p.what[k],
			Reason: "untracked: " + r.String()})
	}
	return out
}

func (p *chanPlan) taint(key string, pos token.Position, why string) {
	if _, ok := p.untracked[key]; !ok {
		p.untracked[key] = chanReason{Pos: pos, Why: why}
	}
}

// A chanAnalysis adds one type-checked package's files to a plan.
type chanAnalysis struct {
	plan    *chanPlan
	fset    *token.FileSet
	pkg     *types.Package
	info    *types.Info
	ignored func(*ast.File) func(ast.Node) bool
	// exposed holds the interface types whose dynamic values code outside
	// the package may inspect (with reflection, fmt, a type switch of its
	// own); pending, per local interface not yet exposed, the types
	// converted to it, walked if it becomes exposed.
	exposed map[*types.Interface]bool
	pending map[*types.Interface][]pendingConv
	walked  map[walkKey]bool
	pos     token.Position // the escape being walked, for its reason
	why     string
}

type walkKey struct {
	t    types.Type
	full bool
}

// analyse adds files, type-checked as one package with info, to the plan.
func (p *chanPlan) analyse(fset *token.FileSet, pkg *types.Package, info *types.Info, files []*ast.File, ignored func(*ast.File) func(ast.Node) bool) {
	a := &chanAnalysis{plan: p, fset: fset, pkg: pkg, info: info, ignored: ignored,
		exposed: map[*types.Interface]bool{}, pending: map[*types.Interface][]pendingConv{}, walked: map[walkKey]bool{}}
	for _, f := range files {
		a.literals(f)
	}
	for _, f := range files {
		a.uses(f)
		a.forms(f)
	}
	if pkg.Name() != "main" {
		a.exported()
	}
	a.conversions(files)
}

// literals records every channel type literal of f, and the classes that
// no rewrite may touch: those written with a type parameter, and those
// used in code that asyncinstr leaves alone.
func (a *chanAnalysis) literals(f *ast.File) {
	a.literalsIn(f, a.ignored(f), false)
}

func (a *chanAnalysis) literalsIn(n ast.Node, skip func(ast.Node) bool, ign bool) {
	ast.Inspect(n, func(m ast.Node) bool {
		if m == nil {
			return false
		}
		if m != n && !ign && skip(m) {
			a.literalsIn(m, skip, true)
			return false
		}
		switch m := m.(type) {
		case *ast.ChanType:
			c, ok := a.info.Types[m].Type.(*types.Chan)
			if !ok {
				return true
			}
			if instrumentedChan(c) {
				a.plan.done[chanKey(c)] = true
				return true
			}
			k := chanKey(c)
			pos := a.fset.Position(m.Pos())
			if _, ok := a.plan.seen[k]; !ok {
				a.plan.seen[k] = pos
				a.plan.what[k] = "chan " + types.TypeString(c.Elem(), types.RelativeTo(a.pkg))
			}
			if mentionsTypeParam(c.Elem()) {
				a.plan.taint(k, pos, "its element type depends on a type parameter")
			}
			if ign {
				a.plan.taint(k, pos, "it is used in code that asyncinstr is told to leave alone")
			}
		case ast.Expr:
			if ign {
				if tv, ok := a.info.Types[m]; ok && tv.Type != nil {
					a.at(m.Pos(), "it is used in code that asyncinstr is told to leave alone")
					a.walk(tv.Type, true)
				}
			}
		}
		return true
	})
}

// uses walks the types of what f uses from other packages, the type
// arguments of every instantiation, and the operands of unsafe.Pointer
// conversions.
func (a *chanAnalysis) uses(f *ast.File) {
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident:
			if inst, ok := a.info.Instances[n]; ok && !strings.HasPrefix(n.Name, prefix) {
				a.at(n.Pos(), "it is in a type argument of "+n.Name)
				for t := range inst.TypeArgs.Types() {
					a.walk(t, true)
				}
				a.walk(inst.Type, true)
			}
			obj := a.info.Uses[n]
			if obj == nil || obj.Pkg() == nil || obj.Pkg() == a.pkg {
				return true
			}
			if _, ok := obj.(*types.PkgName); ok {
				return true
			}
			a.at(n.Pos(), "it reaches "+objString(obj))
			a.walk(obj.Type(), false)
		case *ast.CallExpr:
			if tv, ok := a.info.Types[n.Fun]; ok && tv.IsType() && len(n.Args) == 1 {
				to := tv.Type
				from := a.info.TypeOf(n.Args[0])
				if b, ok := to.Underlying().(*types.Basic); ok && b.Kind() == types.UnsafePointer && from != nil {
					a.at(n.Pos(), "it is converted to unsafe.Pointer")
					a.walk(from, true)
				}
				if from != nil && (foreign(to, a.pkg) || foreign(from, a.pkg)) {
					a.at(n.Pos(), "it is converted to or from "+types.TypeString(to, types.RelativeTo(a.pkg)))
					a.walk(from, true)
					a.walk(to, true)
				}
			}
		case *ast.FuncDecl:
			if n.Body == nil {
				if obj := a.info.Defs[n.Name]; obj != nil {
					a.at(n.Pos(), "it is in the signature of "+n.Name.Name+", which has no Go body")
					a.walk(obj.Type(), true)
				}
			}
		}
		return true
	})
}

// forms marks the classes used in forms that the rewrite cannot keep
// exactly as they are.
func (a *chanAnalysis) forms(f *ast.File) {
	old := false
	if v := a.info.FileVersions[f]; v != "" && version.Compare(v, "go1.22") < 0 {
		old = true
	}
	chanOf := func(e ast.Expr) (string, bool) {
		t := a.info.TypeOf(e)
		if t == nil {
			return "", false
		}
		c, ok := t.Underlying().(*types.Chan)
		if !ok || instrumentedChan(c) {
			return "", false
		}
		return chanKey(c), true
	}
	commaOK := func(lhs ast.Expr, tok token.Token, u *ast.UnaryExpr) {
		k, ok := chanOf(u.X)
		if !ok || isBlank(lhs) {
			return
		}
		if t := a.info.TypeOf(lhs); t != nil && !types.Identical(t, types.Typ[types.Bool]) {
			a.plan.taint(k, a.fset.Position(u.Pos()), "a comma-ok receive assigns its ok to a "+types.TypeString(t, types.RelativeTo(a.pkg))+", not a bool")
		}
	}
	recvOf := func(es []ast.Expr) *ast.UnaryExpr {
		if len(es) != 1 {
			return nil
		}
		u, ok := ast.Unparen(es[0]).(*ast.UnaryExpr)
		if !ok || u.Op != token.ARROW {
			return nil
		}
		return u
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SendStmt:
			if k, ok := chanOf(n.Chan); ok && !pureExpr(a.info, n.Chan) {
				a.plan.taint(k, a.fset.Position(n.Pos()), "a send names its channel with an expression that has effects")
			}
		case *ast.AssignStmt:
			if u := recvOf(n.Rhs); u != nil && len(n.Lhs) == 2 {
				commaOK(n.Lhs[1], n.Tok, u)
			}
		case *ast.ValueSpec:
			if u := recvOf(n.Values); u != nil && len(n.Names) == 2 && n.Type != nil {
				if k, ok := chanOf(u.X); ok {
					a.plan.taint(k, a.fset.Position(u.Pos()), "a comma-ok receive declares variables of a given type")
				}
			}
		case *ast.RangeStmt:
			k, ok := chanOf(n.X)
			id, isID := n.Key.(*ast.Ident)
			if !ok || !isID || n.Tok != token.DEFINE || id.Name == "_" {
				return true
			}
			if sc := a.info.Scopes[n.Body]; sc != nil && sc.Lookup(id.Name) != nil {
				a.plan.taint(k, a.fset.Position(id.Pos()), "the loop body declares "+id.Name+" again")
			}
			if old && capturedIn(a.info, a.info.Defs[id], n.Body) {
				a.plan.taint(k, a.fset.Position(id.Pos()), "the file's language version shares "+id.Name+" across iterations and the body captures it")
			}
		}
		return true
	})
}

// capturedIn reports whether body refers to v from a function literal,
// takes its address, or calls a pointer method on it.
func capturedIn(info *types.Info, v types.Object, body ast.Node) bool {
	if v == nil {
		return false
	}
	found := false
	var visit func(n ast.Node, inLit bool)
	visit = func(n ast.Node, inLit bool) {
		ast.Inspect(n, func(m ast.Node) bool {
			if found || m == nil {
				return false
			}
			switch m := m.(type) {
			case *ast.FuncLit:
				if !inLit {
					visit(m.Body, true)
					return false
				}
			case *ast.Ident:
				if inLit && info.Uses[m] == v {
					found = true
				}
			case *ast.UnaryExpr:
				if m.Op == token.AND && rootIs(info, m.X, v) {
					found = true
				}
			case *ast.SelectorExpr:
				if sel := info.Selections[m]; sel != nil && sel.Kind() == types.MethodVal && rootIs(info, m.X, v) {
					if sig, ok := sel.Obj().Type().(*types.Signature); ok && sig.Recv() != nil {
						if _, ptr := sig.Recv().Type().(*types.Pointer); ptr {
							if _, isPtr := v.Type().Underlying().(*types.Pointer); !isPtr {
								found = true
							}
						}
					}
				}
			}
			return true
		})
	}
	visit(body, false)
	return found
}

// rootIs reports whether e is v or a field or element path rooted at v.
func rootIs(info *types.Info, e ast.Expr, v types.Object) bool {
	for {
		switch x := ast.Unparen(e).(type) {
		case *ast.Ident:
			return info.Uses[x] == v
		case *ast.SelectorExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		default:
			return false
		}
	}
}

// foreign reports whether t is a named type declared in another package.
func foreign(t types.Type, pkg *types.Package) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg() != pkg
}

// exported walks the package's exported API: what code in other packages
// can reach without asyncinstr seeing it.
func (a *chanAnalysis) exported() {
	scope := a.pkg.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if obj.Exported() {
			a.pos = a.fset.Position(obj.Pos())
			a.why = "it is reachable from the exported " + name
			a.walk(obj.Type(), true)
		}
		tn, ok := obj.(*types.TypeName)
		if !ok {
			continue
		}
		if n, ok := types.Unalias(tn.Type()).(*types.Named); ok {
			for m := range n.Methods() {
				if m.Exported() {
					a.pos = a.fset.Position(m.Pos())
					a.why = "it is reachable from the exported method " + name + "." + m.Name()
					a.walk(m.Type(), true)
				}
			}
		}
	}
}

// conversions walks the types converted to interfaces that code outside
// the package may inspect: the empty interface, error, another package's
// interfaces, and the package's own interfaces once a value of one
// escapes.
func (a *chanAnalysis) conversions(files []*ast.File) {
	ifaceConversions(a.info, files, func(lhs, rhs types.Type, pos token.Pos) {
		it := lhs.Underlying().(*types.Interface)
		a.matchMethods(it, rhs, pos)
		if a.exposedIface(lhs, it) {
			a.at(pos, "a value holding it is converted to "+types.TypeString(lhs, types.RelativeTo(a.pkg)))
			a.walk(rhs, true)
			return
		}
		a.pending[it] = append(a.pending[it], pendingConv{rhs, a.fset.Position(pos),
			"a value holding it is converted to " + types.TypeString(lhs, types.RelativeTo(a.pkg)) + ", which escapes"})
	})
}

// matchMethods marks the channel classes in the methods by which rhs
// satisfies the interface it when either side's method is declared in
// another package: the two signatures must stay identical, and the other
// package's will not change.
func (a *chanAnalysis) matchMethods(it *types.Interface, rhs types.Type, pos token.Pos) {
	for m := range it.Methods() {
		obj, _, _ := types.LookupFieldOrMethod(rhs, true, m.Pkg(), m.Name())
		f, ok := obj.(*types.Func)
		if !ok || (m.Pkg() == a.pkg && f.Pkg() == a.pkg) {
			continue
		}
		a.at(pos, "a method "+m.Name()+" of another package must match "+types.TypeString(rhs, types.RelativeTo(a.pkg))+"'s")
		a.walk(m.Type(), true)
		a.walk(f.Type(), true)
	}
}

// A pendingConv is a conversion to one of the package's own interfaces,
// walked if that interface escapes.
type pendingConv struct {
	rhs types.Type
	pos token.Position
	why string
}

// exposedIface reports whether values of the interface t may be inspected
// outside the package.
func (a *chanAnalysis) exposedIface(t types.Type, it *types.Interface) bool {
	if a.exposed[it] || it.Empty() || foreign(t, a.pkg) {
		return true
	}
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() == nil // error, comparable
}

// at sets the escape that the next walks record.
func (a *chanAnalysis) at(pos token.Pos, why string) {
	a.pos, a.why = a.fset.Position(pos), why
}

// walk marks every channel class reachable from t as untracked. full
// walks into the underlying types of the package's own named types; the
// named types of other packages are walked only through their exported
// fields and type arguments (the rest is out of the package's reach).
func (a *chanAnalysis) walk(t types.Type, full bool) {
	if t == nil {
		return
	}
	k := walkKey{t, full}
	if a.walked[k] {
		return
	}
	a.walked[k] = true
	switch t := t.(type) {
	case *types.Alias:
		a.walk(types.Unalias(t), full)
	case *types.Chan:
		if !instrumentedChan(t) {
			a.plan.taint(chanKey(t), a.pos, a.why)
		}
		a.walk(t.Elem(), full)
	case *types.Named:
		for ta := range t.TypeArgs().Types() {
			a.walk(ta, full)
		}
		if t.Obj().Pkg() == a.pkg || t.Obj().Pkg() == nil {
			if full {
				a.walk(t.Underlying(), full)
				// Code that holds the value may call its exported
				// methods (through its own interfaces, or reflection).
				for m := range t.Methods() {
					if m.Exported() {
						a.walk(m.Type(), full)
					}
				}
			}
			return
		}
		if st, ok := t.Underlying().(*types.Struct); ok {
			for f := range st.Fields() {
				if f.Exported() {
					a.walk(f.Type(), false)
				}
			}
		} else if _, ok := t.Underlying().(*types.Interface); !ok {
			a.walk(t.Underlying(), false)
		}
	case *types.Pointer:
		a.walk(t.Elem(), full)
	case *types.Slice:
		a.walk(t.Elem(), full)
	case *types.Array:
		a.walk(t.Elem(), full)
	case *types.Map:
		a.walk(t.Key(), full)
		a.walk(t.Elem(), full)
	case *types.Struct:
		for f := range t.Fields() {
			a.walk(f.Type(), full)
		}
	case *types.Tuple:
		for v := range t.Variables() {
			a.walk(v.Type(), full)
		}
	case *types.Signature:
		a.walk(t.Params(), full)
		a.walk(t.Results(), full)
	case *types.Interface:
		if !a.exposed[t] {
			a.exposed[t] = true
			pending := a.pending[t]
			delete(a.pending, t)
			for _, p := range pending {
				pos, why := a.pos, a.why
				a.pos, a.why = p.pos, p.why
				a.walk(p.rhs, true)
				a.pos, a.why = pos, why
			}
		}
		for m := range t.Methods() {
			a.walk(m.Type(), full)
		}
	}
}

// mentionsTypeParam reports whether t is or contains a type parameter.
func mentionsTypeParam(t types.Type) bool {
	found := false
	var visit func(types.Type, int)
	visit = func(t types.Type, depth int) {
		if found || depth > 32 {
			return
		}
		switch t := types.Unalias(t).(type) {
		case *types.TypeParam:
			found = true
		case *types.Named:
			for ta := range t.TypeArgs().Types() {
				visit(ta, depth+1)
			}
		case *types.Pointer:
			visit(t.Elem(), depth+1)
		case *types.Slice:
			visit(t.Elem(), depth+1)
		case *types.Array:
			visit(t.Elem(), depth+1)
		case *types.Map:
			visit(t.Key(), depth+1)
			visit(t.Elem(), depth+1)
		case *types.Chan:
			visit(t.Elem(), depth+1)
		case *types.Struct:
			for f := range t.Fields() {
				visit(f.Type(), depth+1)
			}
		case *types.Signature:
			for v := range t.Params().Variables() {
				visit(v.Type(), depth+1)
			}
			for v := range t.Results().Variables() {
				visit(v.Type(), depth+1)
			}
		}
	}
	visit(t, 0)
	return found
}

// objString names an object of another package as -explain shows it.
func objString(obj types.Object) string {
	if f, ok := obj.(*types.Func); ok {
		return funcName(f)
	}
	return obj.Pkg().Path() + "." + obj.Name()
}

// ignoredNodes returns what a directive in f tells asyncinstr to leave
// alone, as the walk decides it: the whole file, a function, or the
// statements and declarations on its lines.
func ignoredNodes(fset *token.FileSet, f *ast.File) func(ast.Node) bool {
	if hasDirective(f.Doc) || ignoredFile(f) {
		return func(ast.Node) bool { return true }
	}
	lines := ignoredLines(fset, f)
	return func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			if hasDirective(n.Doc) {
				return true
			}
		case ast.Stmt, ast.Decl:
		default:
			return false
		}
		return lines[fset.Position(n.Pos()).Line]
	}
}
