package rewrite

import (
	"go/token"
	"strings"

	"github.com/dave/dst"
	"github.com/dave/dst/dstutil"
)

// unChans undoes the rewrite of tracked channels in a file (see
// chanrw.go): the statements it added go, and the channel types, sends,
// receives, range loops and select cases get their original forms back.
// It reports whether it changed anything.
func unChans(f *dst.File) bool {
	changed := false
	dstutil.Apply(f, func(c *dstutil.Cursor) bool {
		switch n := c.Node().(type) {
		case *dst.RangeStmt:
			changed = unRange(n) || changed
		case *dst.CommClause:
			changed = unCommClause(n) || changed
		}
		return true
	}, func(c *dstutil.Cursor) bool {
		switch n := c.Node().(type) {
		case *dst.BlockStmt:
			if l := keepStmts(n.List); len(l) != len(n.List) {
				n.List, changed = l, true
			}
		case *dst.CaseClause:
			if l := keepStmts(n.Body); len(l) != len(n.Body) {
				n.Body, changed = l, true
			}
		case *dst.CommClause:
			if l := keepStmts(n.Body); len(l) != len(n.Body) {
				n.Body, changed = l, true
			}
		case *dst.FuncType:
			changed = unNameRequest(n) || changed
		case *dst.ChanType:
			if ix, ok := n.Value.(*dst.IndexExpr); ok && isIdent(ix.X, msgType) {
				n.Value, changed = ix.Index, true
			}
		case *dst.CallExpr:
			if r := unChanCall(n); r != nil {
				c.Replace(r)
				changed = true
			}
		}
		return true
	})
	return changed
}

func isIdent(e dst.Expr, name string) bool {
	id, ok := e.(*dst.Ident)
	return ok && id.Name == name
}

// unChanCall returns the original of a wrapped send value or receive.
func unChanCall(call *dst.CallExpr) dst.Expr {
	var name string
	switch f := call.Fun.(type) {
	case *dst.Ident:
		name = f.Name
	case *dst.SelectorExpr:
		if id, ok := f.X.(*dst.Ident); ok && isNumbered(id.Name, scopeVar) && f.Sel.Name == "EnterTime" {
			name = "EnterTime"
		}
		if on, ok := f.X.(*dst.CallExpr); ok && isIdent(on.Fun, onHelper) && len(on.Args) == 1 {
			name = "On." + f.Sel.Name
		}
	}
	id := &dst.Ident{Name: name}
	var arg dst.Expr
	switch n := len(call.Args); {
	case (name == keepHelper || name == timeRecvHelper || name == "EnterTime") && n == 2:
		arg = call.Args[1]
	case (name == "On.Send" && n == 2) || (name == "On.Pend" && n == 3):
		arg = call.Args[n-2]
	case (id.Name == recvHelper || id.Name == recvOKHelper) && n == 1:
		arg = call.Args[0]
	case (id.Name == enterHelper || id.Name == enterOKHelper) && n == 2:
		arg = call.Args[1]
	default:
		return nil
	}
	if isIdent(arg, msgVar) || isIdent(arg, timeVar) {
		return nil // a range or select form: unRange and unCommClause undo it
	}
	*arg.Decorations() = call.Decs.NodeDecs
	return arg
}

// keepStmts drops the statements the rewrite added: a function's scope
// and pending declarations and their defers, Exit and Cancel calls.
func keepStmts(list []dst.Stmt) []dst.Stmt {
	var out []dst.Stmt
	for _, s := range list {
		if addedStmt(s) {
			continue
		}
		out = append(out, s)
	}
	return out
}

func addedStmt(s dst.Stmt) bool {
	switch s := s.(type) {
	case *dst.DeclStmt:
		gd, ok := s.Decl.(*dst.GenDecl)
		if !ok || gd.Tok != token.VAR || len(gd.Specs) != 1 {
			return false
		}
		vs := gd.Specs[0].(*dst.ValueSpec)
		if len(vs.Names) == 0 {
			return false
		}
		n := vs.Names[0].Name
		return isNumbered(n, scopeVar) || isNumbered(n, pendVar) || isNumbered(n, tempVar)
	case *dst.DeferStmt:
		return addedCall(s.Call, "Exit", scopeVar) || servesHTTPDst(s.Call) || finishesDst(s.Call)
	case *dst.AssignStmt:
		// A declared callback's parameter wrapped on entry:
		// task = _asyncinstrCb0(task, "TYPE", many, &site).
		if len(s.Lhs) != 1 || len(s.Rhs) != 1 || s.Tok != token.ASSIGN {
			return false
		}
		call, ok := s.Rhs[0].(*dst.CallExpr)
		if !ok || len(call.Args) != 4 {
			return false
		}
		fun, ok := call.Fun.(*dst.Ident)
		if !ok {
			return false
		}
		_, isCb := parseCbShape(fun.Name)
		lhs, ok1 := s.Lhs[0].(*dst.Ident)
		arg, ok2 := call.Args[0].(*dst.Ident)
		return isCb && ok1 && ok2 && lhs.Name == arg.Name
	case *dst.ExprStmt:
		call, ok := s.X.(*dst.CallExpr)
		return ok && (addedCall(call, "Exit", scopeVar) || addedCall(call, "Cancel", pendVar))
	}
	return false
}

// addedCall reports whether call is v.method() for a variable v named
// with the numbered prefix.
func addedCall(call *dst.CallExpr, method, numbered string) bool {
	sel, ok := call.Fun.(*dst.SelectorExpr)
	if !ok || sel.Sel.Name != method || len(call.Args) != 0 {
		return false
	}
	id, ok := sel.X.(*dst.Ident)
	return ok && isNumbered(id.Name, numbered)
}

func isNumbered(name, p string) bool {
	rest, ok := strings.CutPrefix(name, p)
	if !ok || rest == "" {
		return false
	}
	for _, r := range rest {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// unRange undoes for _asyncinstrM := range ch { v := _asyncinstrEnter(&sc, _asyncinstrM) ...
func unRange(r *dst.RangeStmt) bool {
	if !isIdent(r.Key, msgVar) && !isIdent(r.Key, timeVar) || len(r.Body.List) == 0 {
		return false
	}
	lhs, tok, ok := takesMsg(r.Body.List[0])
	if !ok {
		return false
	}
	r.Body.List = r.Body.List[1:]
	switch len(lhs) {
	case 0:
		r.Key, r.Tok = nil, token.ILLEGAL
	default:
		r.Key, r.Tok = lhs[0], tok
	}
	return true
}

// takesMsg reports whether s is the statement that takes a received
// message in a range or select form: [lhs tok] helper(..., _asyncinstrM)
// [, _asyncinstrOK], and returns its left-hand side without the ok.
func takesMsg(s dst.Stmt) (lhs []dst.Expr, tok token.Token, ok bool) {
	var rhs []dst.Expr
	switch s := s.(type) {
	case *dst.ExprStmt:
		rhs = []dst.Expr{s.X}
	case *dst.AssignStmt:
		lhs, tok, rhs = s.Lhs, s.Tok, s.Rhs
	default:
		return nil, 0, false
	}
	if len(rhs) == 0 || len(rhs) > 2 {
		return nil, 0, false
	}
	call, isCall := rhs[0].(*dst.CallExpr)
	if !isCall || len(call.Args) == 0 {
		return nil, 0, false
	}
	switch last := call.Args[len(call.Args)-1]; {
	case isIdent(last, msgVar):
		if id, isID := call.Fun.(*dst.Ident); !isID || (id.Name != enterHelper && id.Name != recvHelper) {
			return nil, 0, false
		}
	case isIdent(last, timeVar):
		if !isIdent(call.Fun, timeRecvHelper) {
			sel, isSel := call.Fun.(*dst.SelectorExpr)
			if !isSel || sel.Sel.Name != "EnterTime" {
				return nil, 0, false
			}
		}
	default:
		return nil, 0, false
	}
	if len(rhs) == 2 && !isIdent(rhs[1], okVar) {
		return nil, 0, false
	}
	for _, e := range lhs {
		*e.Decorations() = dst.NodeDecs{}
	}
	return lhs, tok, true
}

// unCommClause undoes case _asyncinstrM[, _asyncinstrOK] := <-ch: [lhs tok] _asyncinstrEnter(&sc, _asyncinstrM)[, _asyncinstrOK]
func unCommClause(cc *dst.CommClause) bool {
	a, ok := cc.Comm.(*dst.AssignStmt)
	if !ok || len(a.Lhs) == 0 || !isIdent(a.Lhs[0], msgVar) && !isIdent(a.Lhs[0], timeVar) || len(a.Rhs) != 1 {
		return false
	}
	for i, s := range cc.Body {
		if addedStmt(s) {
			continue
		}
		lhs, tok, ok := takesMsg(s)
		if !ok {
			return false
		}
		cc.Body = append(cc.Body[:i:i], cc.Body[i+1:]...)
		if len(lhs) == 0 {
			cc.Comm = &dst.ExprStmt{X: a.Rhs[0]}
		} else {
			cc.Comm = &dst.AssignStmt{Lhs: lhs, Tok: tok, Rhs: a.Rhs}
		}
		return true
	}
	return false
}

// servesHTTPDst reports whether call is the one of the statement that a
// handler starts with: _asyncinstrServeHTTP(r, &site).Done().
func servesHTTPDst(call *dst.CallExpr) bool {
	sel, ok := call.Fun.(*dst.SelectorExpr)
	if !ok || sel.Sel.Name != "Done" || len(call.Args) != 0 {
		return false
	}
	inner, ok := sel.X.(*dst.CallExpr)
	return ok && isIdent(inner.Fun, serveHTTPHelper)
}

// unNameRequest gives a handler's request parameter back the name it had:
// "_", or none.
func unNameRequest(ft *dst.FuncType) bool {
	if ft.Params == nil || len(ft.Params.List) == 0 {
		return false
	}
	last := ft.Params.List[len(ft.Params.List)-1]
	if len(last.Names) == 0 {
		return false
	}
	switch last.Names[len(last.Names)-1].Name {
	case reqParam:
		last.Names[len(last.Names)-1].Name = "_"
	case reqParamUnnamed:
		for _, f := range ft.Params.List {
			f.Names = nil
		}
	default:
		return false
	}
	return true
}
