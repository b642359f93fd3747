package rewrite

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strconv"
	"strings"

	"github.com/dave/dst"
	"github.com/dave/dst/dstutil"
)

// The rewrite of tracked channels (see chanplan.go for which ones are).
//
// A channel type literal gets _asyncinstrMsg around its element type; a
// send wraps its value with the send's CHANSEND resource; a receive hands
// the resource to the receiving goroutine's handling scope, which
// SEMANTICS.md fixes by the receive's place:
//
//	for v := range ch { body }     =>  for _asyncinstrM := range ch { v := _asyncinstrEnter(&_asyncinstrSc0, _asyncinstrM)
//	                                       body; _asyncinstrSc0.Exit() }
//	case v := <-ch: body           =>  case _asyncinstrM := <-ch: v := _asyncinstrEnter(&_asyncinstrSc0, _asyncinstrM)
//	                                       body; _asyncinstrSc0.Exit()
//	for { ...; v := <-ch; rest }   =>  for { ...; v := _asyncinstrEnter(&_asyncinstrSc0, <-ch); rest; _asyncinstrSc0.Exit() }
//	anywhere else: v := <-ch       =>  v := _asyncinstrRecv(<-ch)
//
// A scope also ends where a break, continue or goto leaves it (the exit
// goes in front of the branch), and at a return or a panic through the
// function's deferred Exit: each function that opens scopes declares them
// at its top, one per nesting level. A select's send case creates its
// resource when the select evaluates its cases, and every other clause
// cancels it.
//
// New statements are written on the lines of the code around them, so no
// line moves: the printer would put each on a line of its own, so they go
// in as placeholder comments, replaced by their text once printed.

// A chanFn is the channel rewrite of one function body.
type chanFn struct {
	name                 string // the function, as a site records it
	depth, scopes, pends int
	temps                int // timer channel temporaries
	regions              []chanRegion
	targets              []branchTarget
	labels               map[string]*ast.LabeledStmt
}

// A chanRegion is an open handling scope: a level's Scope covers the
// statements from from to to.
type chanRegion struct {
	scope    int
	from, to token.Pos
}

// A branchTarget is a statement that break or continue may name.
type branchTarget struct {
	label string
	stmt  ast.Stmt
}

func (fn *chanFn) open(from, to token.Pos) int {
	sc := fn.depth
	fn.depth++
	fn.scopes = max(fn.scopes, fn.depth)
	fn.regions = append(fn.regions, chanRegion{sc, from, to})
	return sc
}

func (fn *chanFn) close(n int) {
	fn.regions = fn.regions[:len(fn.regions)-n]
	fn.depth -= n
}

func scopeName(n int) string { return scopeVar + strconv.Itoa(n) }

func tempName(n int) string { return tempVar + strconv.Itoa(n) }

func pendName(n int) string { return pendVar + strconv.Itoa(n) }

// isTimeChan reports whether t is an untracked channel of time.Time, whose
// receives the timer rule follows to the TIMER or TICKER that sent.
func (w *walker) isTimeChan(t types.Type) bool {
	if !w.timers || t == nil || w.in.plan.tracked(t) {
		return false
	}
	c, ok := t.Underlying().(*types.Chan)
	if !ok {
		return false
	}
	n, ok := types.Unalias(c.Elem()).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "time" && n.Obj().Name() == "Time"
}

// followed reports whether a receive from x is rewritten: x is a tracked
// channel, or, inside a function, a timer's.
func (w *walker) followed(x ast.Expr) bool {
	t := w.in.info.TypeOf(x)
	return w.in.plan.tracked(t) || (w.cfn != nil && w.isTimeChan(t) && !kept(x))
}

// kept reports whether x is the channel of a timer receive that an
// earlier run rewrote: _asyncinstrKeep(&tmp, c).
func kept(x ast.Expr) bool {
	call, ok := ast.Unparen(x).(*ast.CallExpr)
	if !ok {
		return false
	}
	id, ok := ast.Unparen(call.Fun).(*ast.Ident)
	return ok && id.Name == keepHelper
}

func exitText(sc int) string { return scopeName(sc) + ".Exit()" }

// chanBody rewrites the channel operations of a function body, leaving
// the function literals inside it to their own call, and puts the
// statements it needs, after prologue, on the line of the body's opening
// brace.
func (w *walker) chanBody(ft *ast.FuncType, body *ast.BlockStmt, lit bool, prologue []string) {
	if (w.in.plan == nil && !w.timers && !w.scoped && w.handlers == nil && prologue == nil) || body == nil {
		return
	}
	fn := &chanFn{name: w.fn[len(w.fn)-1], labels: map[string]*ast.LabeledStmt{}}
	if lit {
		fn.name = "func literal in " + fn.name
	}
	inspectFunc(body, func(n ast.Node) {
		if l, ok := n.(*ast.LabeledStmt); ok {
			fn.labels[l.Label.Name] = l
		}
	})
	w.cfn = fn
	w.cStmts(fn, body.List)
	w.cfn = nil
	handler := w.handler(ft, body, fn.name)
	if fn.scopes == 0 && fn.pends == 0 && fn.temps == 0 && handler == "" && prologue == nil {
		return
	}
	w.markChanged()
	// A declared callback parameter is wrapped before anything can use it.
	parts := prologue
	if handler != "" {
		// First, so that its Done runs after the scopes' Exits.
		parts = append(parts, handler)
	}
	if fn.scopes > 0 {
		parts = append(parts, varDecl(scopeVar, fn.scopes, scopeType))
		for i := range fn.scopes {
			parts = append(parts, "defer "+exitText(i))
		}
	}
	if fn.pends > 0 {
		parts = append(parts, varDecl(pendVar, fn.pends, "*"+handoffType))
	}
	if fn.temps > 0 {
		parts = append(parts, varDecl(tempVar, fn.temps, timeChanType))
	}
	if w.dec != nil {
		b := w.dstOf(body).(*dst.BlockStmt)
		// The final ";" ends the last declaration also where the body is
		// put back on one line (see keepOneLine).
		b.Decs.Lbrace.Prepend(w.insert(strings.Join(parts, "; ") + ";"))
	}
}

// varDecl returns "var p0, p1, ... typ" for n variables named with the
// prefix p.
func varDecl(p string, n int, typ string) string {
	names := make([]string, n)
	for i := range names {
		names[i] = p + strconv.Itoa(i)
	}
	return "var " + strings.Join(names, ", ") + " " + typ
}

// inspectFunc calls f for every node of n outside nested function literals.
func inspectFunc(n ast.Node, f func(ast.Node)) {
	ast.Inspect(n, func(m ast.Node) bool {
		if _, ok := m.(*ast.FuncLit); ok {
			return false
		}
		if m != nil {
			f(m)
		}
		return true
	})
}

// insert returns the placeholder of text, which fill puts in its place.
func (w *walker) insert(text string) string {
	w.inserts = append(w.inserts, text)
	return insertMark + strconv.Itoa(len(w.inserts)-1) + "*/"
}

// keepOneLine marks a function body that is on one line in the source,
// so that fill puts it back on one line if the printer spread it over
// several: go/printer keeps a function body on one line only while it is
// short, and a rewrite can make it longer.
func (w *walker) keepOneLine(body *ast.BlockStmt) {
	if !w.keepLines || w.dec == nil || body == nil || len(body.List) == 0 ||
		w.in.fset.Position(body.Lbrace).Line != w.in.fset.Position(body.Rbrace).Line {
		return
	}
	b := w.dstOf(body).(*dst.BlockStmt)
	n := len(w.oneLine)
	w.oneLine = append(w.oneLine, n)
	b.Decs.Lbrace.Append(oneLineOpen + strconv.Itoa(n) + "*/")
	b.List[len(b.List)-1].Decorations().End.Append(oneLineClose + strconv.Itoa(n) + "*/")
}

const (
	oneLineOpen  = "/*" + prefix + "Open"
	oneLineClose = "/*" + prefix + "Close"
)

// collapse puts the body between the marks of keepOneLine number n back
// on one line: its statements joined by "; ", between the braces.
func collapse(out []byte, n int) []byte {
	open, close := []byte(oneLineOpen+strconv.Itoa(n)+"*/"), []byte(oneLineClose+strconv.Itoa(n)+"*/")
	i, j := bytes.Index(out, open), bytes.Index(out, close)
	if i < 0 || j < i {
		return out
	}
	k := j + len(close)
	for k < len(out) && (out[k] == ' ' || out[k] == '\t' || out[k] == '\n') {
		k++
	}
	var parts []string
	for _, l := range strings.Split(string(out[i+len(open):j]), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	var b strings.Builder
	for x, p := range parts {
		if x > 0 {
			if strings.HasSuffix(parts[x-1], "{") || strings.HasPrefix(p, "}") {
				b.WriteString(" ")
			} else {
				b.WriteString("; ")
			}
		}
		b.WriteString(p)
	}
	head := bytes.TrimRight(out[:i], " ")
	res := append(append([]byte(nil), head...), ' ')
	res = append(res, b.String()...)
	res = append(res, ' ')
	return append(res, out[k:]...)
}

// fill replaces the placeholders in printed source with their text, and
// puts back on one line the function bodies that keepOneLine marked. A
// text that starts with ";" follows a statement on its line.
func (w *walker) fill(out []byte) []byte {
	for i := len(w.oneLine) - 1; i >= 0; i-- {
		out = collapse(out, w.oneLine[i])
	}
	if len(w.inserts) == 0 {
		return out
	}
	for i := len(w.inserts) - 1; i >= 0; i-- {
		ph := []byte(insertMark + strconv.Itoa(i) + "*/")
		text := []byte(w.inserts[i])
		if bytes.HasPrefix(text, []byte(";")) {
			out = bytes.ReplaceAll(out, append([]byte(" "), ph...), text)
		}
		out = bytes.ReplaceAll(out, ph, text)
	}
	return out
}

// applyRecvs replaces the receives that the walk wrapped.
func (w *walker) applyRecvs(n dst.Node) {
	if len(w.recvs) == 0 {
		return
	}
	dstutil.Apply(n, nil, func(c *dstutil.Cursor) bool {
		if f := w.recvs[c.Node()]; f != nil {
			c.Replace(f(c.Node().(dst.Expr)))
		}
		return true
	})
}

func (w *walker) cStmts(fn *chanFn, list []ast.Stmt) {
	for _, s := range list {
		w.cStmt(fn, s, "")
	}
}

func (w *walker) cStmt(fn *chanFn, s ast.Stmt, label string) {
	if s == nil || w.isIgnored(s) {
		return
	}
	switch s := s.(type) {
	case *ast.BlockStmt:
		w.cStmts(fn, s.List)
	case *ast.LabeledStmt:
		w.cStmt(fn, s.Stmt, s.Label.Name)
	case *ast.IfStmt:
		w.cStmt(fn, s.Init, "")
		w.cExpr(s.Cond)
		w.cStmts(fn, s.Body.List)
		w.cStmt(fn, s.Else, "")
	case *ast.ForStmt:
		w.cStmt(fn, s.Init, "")
		w.cExpr(s.Cond)
		w.cStmt(fn, s.Post, "")
		fn.targets = append(fn.targets, branchTarget{label, s})
		w.forBody(fn, s.Body)
		fn.targets = fn.targets[:len(fn.targets)-1]
	case *ast.RangeStmt:
		w.cExpr(s.Key)
		w.cExpr(s.Value)
		w.cExpr(s.X)
		fn.targets = append(fn.targets, branchTarget{label, s})
		if w.followed(s.X) {
			w.rangeChan(fn, s, !w.in.plan.tracked(w.in.info.TypeOf(s.X)))
		} else {
			w.forBody(fn, s.Body)
		}
		fn.targets = fn.targets[:len(fn.targets)-1]
	case *ast.SwitchStmt:
		w.cStmt(fn, s.Init, "")
		w.cExpr(s.Tag)
		fn.targets = append(fn.targets, branchTarget{label, s})
		for _, c := range s.Body.List {
			cc := c.(*ast.CaseClause)
			for _, e := range cc.List {
				w.cExpr(e)
			}
			w.cStmts(fn, cc.Body)
		}
		fn.targets = fn.targets[:len(fn.targets)-1]
	case *ast.TypeSwitchStmt:
		w.cStmt(fn, s.Init, "")
		w.cStmt(fn, s.Assign, "")
		fn.targets = append(fn.targets, branchTarget{label, s})
		for _, c := range s.Body.List {
			w.cStmts(fn, c.(*ast.CaseClause).Body)
		}
		fn.targets = fn.targets[:len(fn.targets)-1]
	case *ast.SelectStmt:
		fn.targets = append(fn.targets, branchTarget{label, s})
		w.selectChan(fn, s)
		fn.targets = fn.targets[:len(fn.targets)-1]
	case *ast.BranchStmt:
		w.branch(fn, s)
	case *ast.SendStmt:
		w.cExpr(s.Chan)
		w.cExpr(s.Value)
		w.send(fn, s)
	case *ast.AssignStmt:
		if u := w.trackedRecv(s.Rhs); u != nil && len(s.Lhs) == 2 {
			for _, e := range s.Lhs {
				w.cExpr(e)
			}
			w.cExpr(u.X)
			w.wrapRecv(u, recvOKHelper)
			return
		}
		w.cNode(s)
	case *ast.DeclStmt:
		gd, ok := s.Decl.(*ast.GenDecl)
		if !ok {
			return
		}
		for _, spec := range gd.Specs {
			vs, ok := spec.(*ast.ValueSpec)
			if !ok {
				continue
			}
			if u := w.trackedRecv(vs.Values); u != nil && len(vs.Names) == 2 {
				w.cExpr(u.X)
				w.wrapRecv(u, recvOKHelper)
				continue
			}
			w.cNode(vs)
		}
	default:
		w.cNode(s)
	}
}

// cNode wraps the receives in n (outside function literals) with an empty
// handling scope.
func (w *walker) cNode(n ast.Node) {
	if n == nil {
		return
	}
	inspectFunc(n, func(m ast.Node) {
		if u, ok := m.(*ast.UnaryExpr); ok && u.Op == token.ARROW && w.followed(u.X) {
			if _, done := w.recvDone[u]; !done {
				w.wrapRecv(u, recvHelper)
			}
		}
	})
}

func (w *walker) cExpr(e ast.Expr) {
	if e != nil {
		w.cNode(e)
	}
}

// trackedRecv returns the receive that is the only expression of es, if
// its channel is tracked.
func (w *walker) trackedRecv(es []ast.Expr) *ast.UnaryExpr {
	if len(es) != 1 {
		return nil
	}
	u, ok := ast.Unparen(es[0]).(*ast.UnaryExpr)
	if !ok || u.Op != token.ARROW || !w.followed(u.X) {
		return nil
	}
	return u
}

// recvStmt returns the receive of a receive statement on a tracked
// channel, and whether it is a comma-ok one.
func (w *walker) recvStmt(s ast.Stmt) (*ast.UnaryExpr, bool) {
	switch s := s.(type) {
	case *ast.ExprStmt:
		return w.trackedRecv([]ast.Expr{s.X}), false
	case *ast.AssignStmt:
		if s.Tok == token.DEFINE || s.Tok == token.ASSIGN {
			if u := w.trackedRecv(s.Rhs); u != nil && len(s.Lhs) <= 2 {
				if len(s.Lhs) == 2 && w.isTimeChan(w.in.info.TypeOf(u.X)) {
					return nil, false // timers are never closed: left alone
				}
				return u, len(s.Lhs) == 2
			}
		}
	}
	return nil, false
}

// wrapRecv makes helper(<-ch) of a receive, or helper(&scope, <-ch) with
// a scope. A receive from a timer's channel keeps the channel in a
// temporary for the runtime to find its resource:
//
//	_asyncinstrTimeRecv(&_asyncinstrT0, <-_asyncinstrKeep(&_asyncinstrT0, c))
//	_asyncinstrSc0.EnterTime(&_asyncinstrT0, <-_asyncinstrKeep(&_asyncinstrT0, c))
//
// (a comma-ok receive from a timer's channel is left alone).
func (w *walker) wrapRecv(u *ast.UnaryExpr, helper string, scope ...int) {
	w.recvDone[u] = true
	timer := w.isTimeChan(w.in.info.TypeOf(u.X))
	if timer && (helper == recvOKHelper || helper == enterOKHelper) {
		return
	}
	w.markChanged()
	tmp := -1
	if timer {
		tmp = w.cfn.temps
		w.cfn.temps++
	}
	if w.dec == nil {
		return
	}
	w.recvs[w.dstOf(u)] = func(x dst.Expr) dst.Expr {
		if timer {
			ux := x.(*dst.UnaryExpr)
			ux.X = keepCall(tmp, ux.X)
			if len(scope) > 0 {
				return &dst.CallExpr{Fun: &dst.SelectorExpr{X: dst.NewIdent(scopeName(scope[0])), Sel: dst.NewIdent("EnterTime")},
					Args: []dst.Expr{tempRef(tmp), x}}
			}
			return &dst.CallExpr{Fun: dst.NewIdent(timeRecvHelper), Args: []dst.Expr{tempRef(tmp), x}}
		}
		var args []dst.Expr
		for _, sc := range scope {
			args = append(args, &dst.UnaryExpr{Op: token.AND, X: dst.NewIdent(scopeName(sc))})
		}
		return &dst.CallExpr{Fun: dst.NewIdent(helper), Args: append(args, x)}
	}
}

// tempRef returns &_asyncinstrTn.
func tempRef(n int) dst.Expr {
	return &dst.UnaryExpr{Op: token.AND, X: dst.NewIdent(tempName(n))}
}

// keepCall returns _asyncinstrKeep(&_asyncinstrTn, c).
func keepCall(n int, c dst.Expr) dst.Expr {
	return &dst.CallExpr{Fun: dst.NewIdent(keepHelper), Args: []dst.Expr{tempRef(n), c}}
}

// forBody rewrites a for loop's body: a receive statement directly in it
// opens a handling scope that lasts for the rest of the iteration.
func (w *walker) forBody(fn *chanFn, body *ast.BlockStmt) {
	opened := 0
	for i, s := range body.List {
		if call, lhs := w.scopedStmt(s); call != nil && i < len(body.List)-1 && !w.isIgnored(s) {
			for _, e := range lhs {
				w.cExpr(e)
			}
			w.cExpr(call)
			w.scopedCalls[call] = fn.open(body.List[i+1].Pos(), body.Rbrace)
			opened++
			continue
		}
		if u, ok := w.recvStmt(s); u != nil && i < len(body.List)-1 && !w.isIgnored(s) {
			if a, isAssign := s.(*ast.AssignStmt); isAssign {
				for _, e := range a.Lhs {
					w.cExpr(e)
				}
			}
			w.cExpr(u.X)
			sc := fn.open(body.List[i+1].Pos(), body.Rbrace)
			helper := enterHelper
			if ok {
				helper = enterOKHelper
			}
			w.wrapRecv(u, helper, sc)
			opened++
			continue
		}
		w.cStmt(fn, s, "")
	}
	if opened > 0 {
		w.closeRegions(fn, body.List[len(body.List)-1], opened)
	}
}

// scopedStmt returns the call of a statement that is a call of a Scoped
// function (c, err := l.Accept()), and the expressions it assigns to.
func (w *walker) scopedStmt(s ast.Stmt) (*ast.CallExpr, []ast.Expr) {
	if !w.scoped {
		return nil, nil
	}
	var x ast.Expr
	var lhs []ast.Expr
	switch s := s.(type) {
	case *ast.ExprStmt:
		x = s.X
	case *ast.AssignStmt:
		if len(s.Rhs) != 1 || (s.Tok != token.DEFINE && s.Tok != token.ASSIGN) {
			return nil, nil
		}
		x, lhs = s.Rhs[0], s.Lhs
	default:
		return nil, nil
	}
	call, ok := ast.Unparen(x).(*ast.CallExpr)
	if !ok {
		return nil, nil
	}
	if _, f := w.matchCall(call); f == nil || !f.Scoped {
		return nil, nil
	}
	return call, lhs
}

// closeRegions ends the innermost n regions after last, their last
// statement, unless control cannot reach its end.
func (w *walker) closeRegions(fn *chanFn, last ast.Stmt, n int) {
	// A last break, continue or goto closes what it leaves itself.
	if _, branch := last.(*ast.BranchStmt); !branch && !w.terminating(last, "") {
		var exits []string
		for i := len(fn.regions) - 1; i >= len(fn.regions)-n; i-- {
			exits = append(exits, exitText(fn.regions[i].scope))
		}
		w.markChanged()
		if w.dec != nil {
			w.dstOf(last).(dst.Stmt).Decorations().End.Prepend(w.insert("; " + strings.Join(exits, "; ")))
		}
	}
	fn.close(n)
}

// rangeChan rewrites a range loop over a tracked channel: each iteration's
// body is the handling scope of the value it received.
func (w *walker) rangeChan(fn *chanFn, s *ast.RangeStmt, timer bool) {
	assign := ""
	if s.Key != nil && !isBlank(s.Key) {
		assign = w.text(s.Key) + " " + s.Tok.String() + " "
	}
	v, tmp := msgVar, -1
	if timer {
		v, tmp = timeVar, fn.temps
		fn.temps++
	}
	var text string
	if len(s.Body.List) == 0 {
		text = assign + takeText(timer, tmp, -1, v)
	} else {
		sc := fn.open(s.Body.Lbrace+1, s.Body.Rbrace)
		text = assign + takeText(timer, tmp, sc, v)
		w.forBody(fn, s.Body)
		w.closeRegions(fn, s.Body.List[len(s.Body.List)-1], 1)
	}
	w.markChanged()
	if w.dec == nil {
		return
	}
	rs := w.dstOf(s).(*dst.RangeStmt)
	rs.Key, rs.Value, rs.Tok = dst.NewIdent(v), nil, token.DEFINE
	if timer {
		rs.X = keepCall(tmp, rs.X)
	}
	rs.Body.Decs.Lbrace.Prepend(w.insert(text))
}

// takeText returns the call that takes the value v received by a range
// loop or a select case: into scope sc, or into an empty scope for sc < 0;
// from a tracked channel, or from a timer's, kept in temporary tmp.
func takeText(timer bool, tmp, sc int, v string) string {
	switch {
	case timer && sc >= 0:
		return fmt.Sprintf("%s.EnterTime(&%s, %s)", scopeName(sc), tempName(tmp), v)
	case timer:
		return fmt.Sprintf("%s(&%s, %s)", timeRecvHelper, tempName(tmp), v)
	case sc >= 0:
		return fmt.Sprintf("%s(&%s, %s)", enterHelper, scopeName(sc), v)
	}
	return fmt.Sprintf("%s(%s)", recvHelper, v)
}

func isBlank(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "_"
}

// text returns the source of n.
func (w *walker) text(n ast.Node) string {
	tf := w.in.fset.File(n.Pos())
	return string(w.in.src[tf.Offset(n.Pos()):tf.Offset(n.End())])
}

// selectChan rewrites a select's tracked cases: a receive's clause is its
// handling scope; a send's resource is created as the select evaluates
// its cases and destroyed by every other clause.
func (w *walker) selectChan(fn *chanFn, s *ast.SelectStmt) {
	// The send cases on tracked channels, in source order, and their
	// pending variables.
	pend := map[*ast.CommClause]int{}
	var sends []*ast.CommClause
	for _, c := range s.Body.List {
		cc := c.(*ast.CommClause)
		if ss, ok := cc.Comm.(*ast.SendStmt); ok && w.in.plan.tracked(w.in.info.TypeOf(ss.Chan)) {
			w.cExpr(ss.Chan)
			w.cExpr(ss.Value)
			pend[cc] = fn.pends
			fn.pends++
			sends = append(sends, cc)
			w.sendSite(fn, ss, "Pend", &dst.UnaryExpr{Op: token.AND, X: dst.NewIdent(pendName(pend[cc]))})
		}
	}
	for _, c := range s.Body.List {
		cc := c.(*ast.CommClause)
		var texts []string
		for _, other := range sends {
			if other != cc {
				texts = append(texts, pendName(pend[other])+".Cancel()")
			}
		}
		regions := 0
		switch comm := cc.Comm.(type) {
		case *ast.ExprStmt, *ast.AssignStmt:
			u, ok := w.recvStmt(comm)
			if u == nil {
				w.cNode(comm)
				break
			}
			w.cExpr(u.X)
			lhs, tok := "", ""
			if a, isAssign := comm.(*ast.AssignStmt); isAssign {
				var names []string
				for _, e := range a.Lhs {
					w.cExpr(e)
					names = append(names, w.text(e))
				}
				lhs, tok = strings.Join(names, ", "), a.Tok.String()
			}
			timer := w.isTimeChan(w.in.info.TypeOf(u.X))
			v, tmp, sc := msgVar, -1, -1
			if timer {
				v, tmp = timeVar, fn.temps
				fn.temps++
			}
			if len(cc.Body) > 0 {
				sc = fn.open(cc.Colon+1, cc.End())
				regions = 1
			}
			call := takeText(timer, tmp, sc, v)
			if ok {
				call += ", " + okVar
			}
			if lhs != "" {
				call = lhs + " " + tok + " " + call
			}
			texts = append(texts, call)
			w.recvDone[u] = true
			w.markChanged()
			if w.dec != nil {
				recv := w.dstOf(u).(*dst.UnaryExpr)
				if timer {
					recv.X = keepCall(tmp, recv.X)
				}
				lhsIDs := []dst.Expr{dst.NewIdent(v)}
				if ok {
					lhsIDs = append(lhsIDs, dst.NewIdent(okVar))
				}
				w.dstOf(cc).(*dst.CommClause).Comm = &dst.AssignStmt{Lhs: lhsIDs, Tok: token.DEFINE, Rhs: []dst.Expr{recv}}
			}
		case *ast.SendStmt:
			if _, tracked := pend[cc]; !tracked {
				w.cNode(comm)
			}
		}
		w.cStmts(fn, cc.Body)
		if regions > 0 {
			w.closeRegions(fn, cc.Body[len(cc.Body)-1], regions)
		}
		if len(texts) > 0 {
			w.markChanged()
			if w.dec != nil {
				w.dstOf(cc).(*dst.CommClause).Decs.Colon.Prepend(w.insert(strings.Join(texts, "; ")))
			}
		}
	}
}

// send wraps the value of a send on a tracked channel with its resource.
func (w *walker) send(fn *chanFn, s *ast.SendStmt) {
	if w.in.plan.tracked(w.in.info.TypeOf(s.Chan)) {
		w.sendSite(fn, s, "Send")
	}
}

// sendSite records the site of a send on a tracked channel and wraps its
// value: ch <- _asyncinstrOn(ch).method(lead..., v, &site).
func (w *walker) sendSite(fn *chanFn, s *ast.SendStmt, method string, lead ...dst.Expr) {
	n := w.instrument(s.Pos(), chanRule, "send on "+types.TypeString(w.in.info.TypeOf(s.Chan), types.RelativeTo(w.in.pkg)), fn.name)
	if w.dec == nil {
		return
	}
	d := w.dstOf(s).(*dst.SendStmt)
	d.Value = &dst.CallExpr{Fun: sender(d.Chan, method), Args: append(lead, d.Value, siteRef(n))}
}

// sender returns _asyncinstrOn(ch).method, for a copy of ch (a send's
// channel, which has no effects to repeat).
func sender(ch dst.Expr, method string) dst.Expr {
	on := &dst.CallExpr{Fun: dst.NewIdent(onHelper), Args: []dst.Expr{clearDecs(dst.Clone(ch).(dst.Expr))}}
	return &dst.SelectorExpr{X: on, Sel: dst.NewIdent(method)}
}

// branch ends the scopes that a break, continue or goto leaves.
func (w *walker) branch(fn *chanFn, s *ast.BranchStmt) {
	if len(fn.regions) == 0 {
		return
	}
	var stays func(r chanRegion) bool
	switch s.Tok {
	case token.BREAK, token.CONTINUE:
		t := fn.target(s)
		if t == nil {
			return
		}
		stays = func(r chanRegion) bool { return r.from <= t.Pos() && t.End() <= r.to }
	case token.GOTO:
		l := fn.labels[s.Label.Name]
		if l == nil {
			return
		}
		stays = func(r chanRegion) bool { return r.from <= l.Pos() && l.Pos() < r.to }
	default:
		return
	}
	var exits []string
	for i := len(fn.regions) - 1; i >= 0; i-- {
		if !stays(fn.regions[i]) {
			exits = append(exits, exitText(fn.regions[i].scope))
		}
	}
	if len(exits) == 0 {
		return
	}
	w.markChanged()
	if w.dec != nil {
		w.dstOf(s).(dst.Stmt).Decorations().Start.Append(w.insert(strings.Join(exits, "; ") + ";"))
	}
}

// target returns the statement a break or continue leaves.
func (fn *chanFn) target(s *ast.BranchStmt) ast.Stmt {
	for i := len(fn.targets) - 1; i >= 0; i-- {
		t := fn.targets[i]
		if s.Label != nil {
			if t.label == s.Label.Name {
				return t.stmt
			}
			continue
		}
		switch t.stmt.(type) {
		case *ast.ForStmt, *ast.RangeStmt:
			return t.stmt
		case *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt:
			if s.Tok == token.BREAK {
				return t.stmt
			}
		}
	}
	return nil
}

// terminating reports whether s is a terminating statement (the Go
// spec's definition): control never reaches its end.
func (w *walker) terminating(s ast.Stmt, label string) bool {
	switch s := s.(type) {
	case *ast.ReturnStmt:
		return true
	case *ast.BranchStmt:
		return s.Tok == token.GOTO
	case *ast.ExprStmt:
		call, ok := ast.Unparen(s.X).(*ast.CallExpr)
		if !ok {
			return false
		}
		id, ok := ast.Unparen(call.Fun).(*ast.Ident)
		if !ok {
			return false
		}
		_, builtin := w.in.info.Uses[id].(*types.Builtin)
		return builtin && id.Name == "panic"
	case *ast.BlockStmt:
		return len(s.List) > 0 && w.terminating(s.List[len(s.List)-1], "")
	case *ast.LabeledStmt:
		return w.terminating(s.Stmt, s.Label.Name)
	case *ast.IfStmt:
		return s.Else != nil && w.terminating(s.Body, "") && w.terminating(s.Else, "")
	case *ast.ForStmt:
		return s.Cond == nil && !hasBreak(s.Body, label, true)
	case *ast.SwitchStmt:
		return w.clausesTerminate(s.Body, label)
	case *ast.TypeSwitchStmt:
		return w.clausesTerminate(s.Body, label)
	case *ast.SelectStmt:
		if hasBreak(s.Body, label, true) {
			return false
		}
		for _, c := range s.Body.List {
			body := c.(*ast.CommClause).Body
			if len(body) == 0 || !w.terminating(body[len(body)-1], "") {
				return false
			}
		}
		return true
	}
	return false
}

func (w *walker) clausesTerminate(body *ast.BlockStmt, label string) bool {
	if hasBreak(body, label, true) {
		return false
	}
	hasDefault := false
	for _, c := range body.List {
		cc := c.(*ast.CaseClause)
		if cc.List == nil {
			hasDefault = true
		}
		if len(cc.Body) == 0 {
			return false
		}
		last := cc.Body[len(cc.Body)-1]
		if b, ok := last.(*ast.BranchStmt); ok && b.Tok == token.FALLTHROUGH {
			continue
		}
		if !w.terminating(last, "") {
			return false
		}
	}
	return hasDefault
}

// hasBreak reports whether n holds a break that leaves the statement
// whose body it is: an unlabelled one outside nested breakable
// statements (when top), or one naming label.
func hasBreak(n ast.Node, label string, top bool) bool {
	found := false
	var visit func(n ast.Node, top bool)
	visit = func(n ast.Node, top bool) {
		ast.Inspect(n, func(m ast.Node) bool {
			if found {
				return false
			}
			switch m := m.(type) {
			case *ast.FuncLit:
				return false
			case *ast.BranchStmt:
				if m.Tok == token.BREAK && ((m.Label == nil && top) || (m.Label != nil && m.Label.Name == label && label != "")) {
					found = true
				}
			case *ast.ForStmt, *ast.RangeStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt:
				if m != n {
					visit(m, false)
					return false
				}
			}
			return true
		})
	}
	// The statements of n's own clauses are at its top level.
	visit(n, top)
	return found
}

// pureExpr reports whether evaluating e can have no effect: it neither
// calls (conversions aside) nor receives. Evaluating it twice is then the
// same as once.
func pureExpr(info *types.Info, e ast.Expr) bool {
	ok := true
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false // a literal is a value; its body does not run
		case *ast.CallExpr:
			if !info.Types[n.Fun].IsType() {
				ok = false
			}
		case *ast.UnaryExpr:
			if n.Op == token.ARROW {
				ok = false
			}
		}
		return ok
	})
	return ok
}

// chanType rewrites the literal of a tracked channel type: chan T becomes
// chan _asyncinstrMsg[T].
func (w *walker) chanType(n *ast.ChanType) {
	c, ok := w.in.info.Types[n].Type.(*types.Chan)
	if !ok || !w.in.plan.tracked(c) {
		return
	}
	w.markChanged()
	if w.dec != nil {
		d := w.dstOf(n).(*dst.ChanType)
		d.Value = &dst.IndexExpr{X: dst.NewIdent(msgType), Index: d.Value}
	}
}

// handler returns the statement that a function of type
// func(http.ResponseWriter, *http.Request) starts with, when the http rule
// is on, and names its request parameter if it has no usable name:
//
//	defer _asyncinstrServeHTTP(r, &_asyncinstrSites[n]).Done()
func (w *walker) handler(ft *ast.FuncType, body *ast.BlockStmt, name string) string {
	if w.handlers == nil || ft == nil || ft.Results != nil && len(ft.Results.List) > 0 || ft.Params == nil {
		return ""
	}
	var ts []types.Type
	for _, f := range ft.Params.List {
		t := w.in.info.TypeOf(f.Type)
		for range max(1, len(f.Names)) {
			ts = append(ts, t)
		}
	}
	if len(ts) != 2 || !isHTTPType(ts[0], "ResponseWriter") {
		return ""
	}
	p, ok := ts[1].(*types.Pointer)
	if !ok || !isHTTPType(p.Elem(), "Request") {
		return ""
	}
	if len(body.List) > 0 && servesHTTP(body.List[0]) {
		w.record(body.Lbrace, w.handlers.Name, "net/http handler", name, alreadyInstrumented)
		return ""
	}
	last := ft.Params.List[len(ft.Params.List)-1]
	param := reqParamUnnamed
	if len(last.Names) > 0 {
		param = last.Names[len(last.Names)-1].Name
	}
	rename := param == "_" || param == reqParamUnnamed
	if param == "_" {
		param = reqParam
	}
	n := w.instrument(body.Lbrace, w.handlers.Name, "net/http handler", name)
	if w.dec != nil && rename {
		for _, f := range ft.Params.List {
			if df := w.dstOf(f).(*dst.Field); len(df.Names) == 0 {
				df.Names = []*dst.Ident{dst.NewIdent("_")}
			}
		}
		dl := w.dstOf(last).(*dst.Field)
		dl.Names[len(dl.Names)-1] = dst.NewIdent(param)
	}
	return fmt.Sprintf("defer %s(%s, &%s[%d]).Done()", serveHTTPHelper, param, sitesVar, n)
}

// servesHTTP reports whether s is the statement that handler adds.
func servesHTTP(s ast.Stmt) bool {
	d, ok := s.(*ast.DeferStmt)
	if !ok {
		return false
	}
	sel, ok := d.Call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Done" {
		return false
	}
	inner, ok := sel.X.(*ast.CallExpr)
	if !ok {
		return false
	}
	id, ok := inner.Fun.(*ast.Ident)
	return ok && id.Name == serveHTTPHelper
}

// isHTTPType reports whether t is the named type net/http.name.
func isHTTPType(t types.Type, name string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "net/http" && n.Obj().Name() == name
}
