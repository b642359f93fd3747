package rewrite

import (
	"go/ast"
	"go/token"
	"go/types"
)

// ifaceConversions calls f for every place in files where a value of
// type rhs becomes a value of the interface type lhs, explicitly or by
// assignability: assignments and declarations, arguments, results,
// composite literal elements, sends, map keys, comparisons with an
// interface, switch cases, range assignments, panics and type assertions
// (see assertion).
// It is the channel analysis's view of where a value's dynamic type
// becomes visible to code that may inspect it. (x/tools' refactor/satisfy
// finds the same places, but only between types that both have methods,
// which leaves out the empty interface and every channel.)
func ifaceConversions(info *types.Info, files []*ast.File, f func(lhs, rhs types.Type, pos token.Pos)) {
	c := &convFinder{info: info, f: f}
	for _, file := range files {
		for _, d := range file.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Body != nil {
					var sig *types.Signature
					if obj := info.Defs[d.Name]; obj != nil {
						sig, _ = obj.Type().(*types.Signature)
					}
					c.body(d.Body, sig)
				}
			default:
				c.node(d)
			}
		}
	}
}

type convFinder struct {
	info *types.Info
	f    func(lhs, rhs types.Type, pos token.Pos)
	sigs []*types.Signature // enclosing functions, innermost last
}

func (c *convFinder) body(b *ast.BlockStmt, sig *types.Signature) {
	c.sigs = append(c.sigs, sig)
	c.node(b)
	c.sigs = c.sigs[:len(c.sigs)-1]
}

func (c *convFinder) assign(lhs, rhs types.Type, pos token.Pos) {
	if lhs == nil || rhs == nil || !types.IsInterface(lhs) || types.Identical(lhs, rhs) {
		return
	}
	if b, ok := rhs.(*types.Basic); ok && b.Kind() == types.UntypedNil {
		return
	}
	c.f(lhs, rhs, pos)
}

// assertion relates the interface x to the type t asserted from it: the
// values of x flow into t, and t's values are those of x. To an interface
// type, each one receives the other's (a value that reached one may be
// found in the other); to a concrete type, t's values come from x, which
// is reported as a conversion of t to x.
func (c *convFinder) assertion(x, t types.Type, pos token.Pos) {
	if x == nil || t == nil || !types.IsInterface(x) {
		return
	}
	if types.IsInterface(t) {
		c.assign(t, x, pos)
		c.assign(x, t, pos)
		return
	}
	c.assign(x, t, pos)
}

func (c *convFinder) typeOf(e ast.Expr) types.Type {
	if e == nil {
		return nil
	}
	if id, ok := e.(*ast.Ident); ok && id.Name == "_" {
		return nil
	}
	return c.info.TypeOf(e)
}

// assignAll relates a list of targets to values, which may be one call
// returning a tuple.
func (c *convFinder) assignAll(lhs []types.Type, rhs []ast.Expr) {
	if len(rhs) == 1 && len(lhs) > 1 {
		if t, ok := c.typeOf(rhs[0]).(*types.Tuple); ok {
			for i := 0; i < t.Len() && i < len(lhs); i++ {
				c.assign(lhs[i], t.At(i).Type(), rhs[0].Pos())
			}
		}
		return
	}
	for i := 0; i < len(rhs) && i < len(lhs); i++ {
		c.assign(lhs[i], c.typeOf(rhs[i]), rhs[i].Pos())
	}
}

func (c *convFinder) node(n ast.Node) {
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			sig, _ := c.typeOf(n).(*types.Signature)
			c.body(n.Body, sig)
			return false
		case *ast.AssignStmt:
			if n.Tok == token.ASSIGN || n.Tok == token.DEFINE {
				var lhs []types.Type
				for _, e := range n.Lhs {
					lhs = append(lhs, c.typeOf(e))
				}
				c.assignAll(lhs, n.Rhs)
			}
		case *ast.ValueSpec:
			if n.Type != nil {
				t := c.typeOf(n.Type)
				lhs := make([]types.Type, len(n.Names))
				for i := range lhs {
					lhs[i] = t
				}
				c.assignAll(lhs, n.Values)
			}
		case *ast.ReturnStmt:
			if len(c.sigs) > 0 && c.sigs[len(c.sigs)-1] != nil {
				res := c.sigs[len(c.sigs)-1].Results()
				var lhs []types.Type
				for v := range res.Variables() {
					lhs = append(lhs, v.Type())
				}
				c.assignAll(lhs, n.Results)
			}
		case *ast.CallExpr:
			c.call(n)
		case *ast.CompositeLit:
			c.composite(n)
		case *ast.SendStmt:
			if ch, ok := under(c.typeOf(n.Chan)).(*types.Chan); ok {
				c.assign(ch.Elem(), c.typeOf(n.Value), n.Value.Pos())
			}
		case *ast.IndexExpr:
			if m, ok := under(c.typeOf(n.X)).(*types.Map); ok {
				c.assign(m.Key(), c.typeOf(n.Index), n.Index.Pos())
			}
		case *ast.BinaryExpr:
			if n.Op == token.EQL || n.Op == token.NEQ {
				x, y := c.typeOf(n.X), c.typeOf(n.Y)
				c.assign(x, y, n.Y.Pos())
				c.assign(y, x, n.X.Pos())
			}
		case *ast.SwitchStmt:
			if n.Tag != nil {
				tag := c.typeOf(n.Tag)
				for _, s := range n.Body.List {
					for _, e := range s.(*ast.CaseClause).List {
						c.assign(tag, c.typeOf(e), e.Pos())
						c.assign(c.typeOf(e), tag, e.Pos())
					}
				}
			}
		case *ast.TypeAssertExpr:
			if n.Type != nil {
				c.assertion(c.typeOf(n.X), c.typeOf(n.Type), n.Pos())
			}
		case *ast.TypeSwitchStmt:
			var x ast.Expr
			switch a := n.Assign.(type) {
			case *ast.AssignStmt:
				x = a.Rhs[0].(*ast.TypeAssertExpr).X
			case *ast.ExprStmt:
				x = a.X.(*ast.TypeAssertExpr).X
			}
			for _, s := range n.Body.List {
				for _, e := range s.(*ast.CaseClause).List {
					c.assertion(c.typeOf(x), c.typeOf(e), e.Pos())
				}
			}
		case *ast.RangeStmt:
			if n.Tok == token.ASSIGN {
				k, v := rangeTypes(c.typeOf(n.X))
				c.assign(c.typeOf(n.Key), k, n.Pos())
				c.assign(c.typeOf(n.Value), v, n.Pos())
			}
		}
		return true
	})
}

func under(t types.Type) types.Type {
	if t == nil {
		return nil
	}
	return t.Underlying()
}

// rangeTypes returns the types of a range loop's iteration values.
func rangeTypes(t types.Type) (key, val types.Type) {
	switch t := under(t).(type) {
	case *types.Slice:
		return types.Typ[types.Int], t.Elem()
	case *types.Array:
		return types.Typ[types.Int], t.Elem()
	case *types.Pointer:
		if a, ok := under(t.Elem()).(*types.Array); ok {
			return types.Typ[types.Int], a.Elem()
		}
	case *types.Map:
		return t.Key(), t.Elem()
	case *types.Chan:
		return t.Elem(), nil
	case *types.Basic:
		if t.Info()&types.IsString != 0 {
			return types.Typ[types.Int], types.Typ[types.Rune]
		}
	}
	return nil, nil
}

func (c *convFinder) call(n *ast.CallExpr) {
	tv, ok := c.info.Types[n.Fun]
	if !ok {
		return
	}
	if tv.IsType() {
		if len(n.Args) == 1 {
			c.assign(tv.Type, c.typeOf(n.Args[0]), n.Args[0].Pos())
		}
		return
	}
	if tv.IsBuiltin() {
		id, _ := ast.Unparen(n.Fun).(*ast.Ident)
		if id == nil {
			return
		}
		switch id.Name {
		case "append":
			if len(n.Args) > 1 && !n.Ellipsis.IsValid() {
				if s, ok := under(c.typeOf(n.Args[0])).(*types.Slice); ok {
					for _, a := range n.Args[1:] {
						c.assign(s.Elem(), c.typeOf(a), a.Pos())
					}
				}
			}
		case "panic":
			if len(n.Args) == 1 {
				c.assign(types.Universe.Lookup("any").Type(), c.typeOf(n.Args[0]), n.Args[0].Pos())
			}
		case "delete":
			if len(n.Args) == 2 {
				if m, ok := under(c.typeOf(n.Args[0])).(*types.Map); ok {
					c.assign(m.Key(), c.typeOf(n.Args[1]), n.Args[1].Pos())
				}
			}
		}
		return
	}
	sig, ok := under(tv.Type).(*types.Signature)
	if !ok {
		return
	}
	params := sig.Params()
	var lhs []types.Type
	for i := 0; i < params.Len(); i++ {
		t := params.At(i).Type()
		if sig.Variadic() && i == params.Len()-1 && !n.Ellipsis.IsValid() {
			elem := t.(*types.Slice).Elem()
			for len(lhs) < max(len(n.Args), params.Len()) {
				lhs = append(lhs, elem)
			}
			break
		}
		lhs = append(lhs, t)
	}
	if len(n.Args) == 1 && params.Len() > 1 {
		// f(g()) with g returning several values.
		if t, ok := c.typeOf(n.Args[0]).(*types.Tuple); ok {
			for i := 0; i < t.Len() && i < len(lhs); i++ {
				c.assign(lhs[i], t.At(i).Type(), n.Args[0].Pos())
			}
			return
		}
	}
	c.assignAll(lhs, n.Args)
}

func (c *convFinder) composite(n *ast.CompositeLit) {
	t := under(c.typeOf(n))
	if p, ok := t.(*types.Pointer); ok {
		t = under(p.Elem())
	}
	for i, e := range n.Elts {
		kv, keyed := e.(*ast.KeyValueExpr)
		val := e
		if keyed {
			val = kv.Value
		}
		switch t := t.(type) {
		case *types.Struct:
			if keyed {
				if id, ok := kv.Key.(*ast.Ident); ok {
					if f, ok := c.info.Uses[id].(*types.Var); ok {
						c.assign(f.Type(), c.typeOf(val), val.Pos())
					}
				}
			} else if i < t.NumFields() {
				c.assign(t.Field(i).Type(), c.typeOf(val), val.Pos())
			}
		case *types.Slice:
			c.assign(t.Elem(), c.typeOf(val), val.Pos())
		case *types.Array:
			c.assign(t.Elem(), c.typeOf(val), val.Pos())
		case *types.Map:
			if keyed {
				c.assign(t.Key(), c.typeOf(kv.Key), kv.Key.Pos())
			}
			c.assign(t.Elem(), c.typeOf(val), val.Pos())
		}
	}
}
