package rewrite

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/dave/dst"
	"github.com/dave/dst/decorator"
	"golang.org/x/tools/go/types/typeutil"

	"github.com/asyncinstr/asyncinstr/rules"
)

// A Site is one construct that a rule matched, instrumented or not.
type Site struct {
	Pos          token.Position
	Rule         string // the rule's name
	What         string // the construct, as -explain shows it
	Func         string // what the resource runs, recorded in hooksrt.Site
	Instrumented bool   // rewritten by this run or an earlier one
	Reason       string // why it was left alone, or "already instrumented"
}

func (s Site) String() string {
	state := "instrumented"
	if !s.Instrumented {
		state = "not instrumented"
	}
	if s.Reason != "" {
		state += ": " + s.Reason
	}
	return fmt.Sprintf("%s: %s: %s (%s)", s.Pos, s.Rule, s.What, state)
}

// A fileInput is one parsed and type-checked file to rewrite.
type fileInput struct {
	fset *token.FileSet
	file *ast.File
	info *types.Info
	src  []byte // the file's bytes, which fset and file describe
	pkg  *types.Package
	plan *chanPlan // the package's tracked channels; nil without the chan rule
	// firstSite is the number of the file's first new site: sites are
	// numbered across the package, in the companion file's table.
	firstSite int
}

// A fileResult is what rewriting one file produced.
type fileResult struct {
	out      []byte       // nil if the file is unchanged
	sites    []Site       // every matched construct, in source order
	newSites []Site       // the sites this run instrumented, numbered from firstSite
	changed  map[int]bool // indexes of the declarations to rewrite; nil if none
	errs     Errors       // problems with the input: bad directives, say
}

// rewriteFile applies rules to one file: findSites, then render.
func rewriteFile(in fileInput, rs []*rules.Rule) (*fileResult, error) {
	res := findSites(in, rs)
	if res.changed == nil {
		return res, nil
	}
	out, err := render(in, rs, res.changed)
	if err != nil {
		return nil, err
	}
	res.out = out
	return res, nil
}

// findSites walks a file's go/ast tree and records its sites, numbering
// those to rewrite from in.firstSite. Only a file with something to
// rewrite pays for render, which builds dst trees, most of the cost of a
// run.
func findSites(in fileInput, rs []*rules.Rule) *fileResult {
	res := &fileResult{}
	if hasDirective(in.file.Doc) || ignoredFile(in.file) {
		return res
	}
	dry := newWalker(in, rs, nil, ignoredLines(in.fset, in.file))
	dry.res, dry.changedDecls = res, map[int]bool{}
	dry.walk()
	if dry.changed {
		res.changed = dry.changedDecls
	}
	return res
}

// render rewrites the declarations of a file that findSites marked, and
// returns the file's new bytes. It only reads in, so files can be rendered
// concurrently.
func render(in fileInput, rs []*rules.Rule, changed map[int]bool) ([]byte, error) {
	ignored := ignoredLines(in.fset, in.file)
	if out, ok, err := rewriteFuncs(in, rs, ignored, changed); err != nil || ok {
		return out, err
	}
	return rewriteWhole(in, rs, ignored)
}

// rewriteWhole rewrites a file as one dst tree and prints it whole.
func rewriteWhole(in fileInput, rs []*rules.Rule, ignored map[int]bool) ([]byte, error) {
	out, err := rewriteWhole1(in, rs, ignored, false)
	if err == nil && movedLines(in.src, out) {
		return rewriteWhole1(in, rs, ignored, true)
	}
	return out, err
}

// movedLines reports whether the printer spread a one-line function body
// over several lines: the rewritten file has more lines. It is then
// rendered again with keepOneLine marks, which cost the alignment that
// gofmt gives a run of one-line functions, so they are used only then.
func movedLines(src, out []byte) bool {
	return out != nil && bytes.Count(out, []byte("\n")) != bytes.Count(src, []byte("\n"))
}

func rewriteWhole1(in fileInput, rs []*rules.Rule, ignored map[int]bool, oneLine bool) ([]byte, error) {
	dec := decorator.NewDecorator(in.fset)
	df, err := dec.DecorateFile(in.file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.fset.Position(in.file.Pos()), err)
	}
	w := newWalker(in, rs, dec, ignored)
	w.keepLines = oneLine
	w.walk()
	w.applyRecvs(df)
	var buf bytes.Buffer
	if err := decorator.Fprint(&buf, df); err != nil {
		return nil, fmt.Errorf("%s: printing rewritten file: %w", in.fset.Position(in.file.Pos()).Filename, err)
	}
	return w.fill(buf.Bytes()), nil
}

// rewriteFuncs rewrites only the function declarations that hold sites:
// each one becomes a dst tree of its own (a file holding that declaration
// and its comments), is printed, and replaces the declaration's bytes in
// the source. Decorating and printing whole files is most of the cost of a
// run, and a large file usually has a site in few of its functions. A
// function declaration is formatted the same alone as in its file: the
// printer separates multi-line functions from their neighbours, and a
// function always ends with a line that holds only "}". Where a site lies
// outside a function declaration, it reports false, and the caller
// rewrites the whole file.
func rewriteFuncs(in fileInput, rs []*rules.Rule, ignored map[int]bool, changed map[int]bool) ([]byte, bool, error) {
	out, ok, err := rewriteFuncs1(in, rs, ignored, changed, false)
	if err == nil && ok && movedLines(in.src, out) {
		return rewriteFuncs1(in, rs, ignored, changed, true)
	}
	return out, ok, err
}

func rewriteFuncs1(in fileInput, rs []*rules.Rule, ignored map[int]bool, changed map[int]bool, oneLine bool) ([]byte, bool, error) {
	var idx []int
	for i := range changed {
		fd, ok := in.file.Decls[i].(*ast.FuncDecl)
		if !ok || in.fset.Position(fd.Pos()).Line == in.fset.Position(fd.End()).Line {
			return nil, false, nil
		}
		idx = append(idx, i)
	}
	sort.Ints(idx)
	tf := in.fset.File(in.file.Pos())
	w := newWalker(in, rs, nil, ignored)
	w.only, w.keepLines = changed, oneLine
	out := in.src
	texts := make([][]byte, len(idx))
	for k, i := range idx {
		fd := in.file.Decls[i].(*ast.FuncDecl)
		from, to := funcSpan(tf, fd)
		// The declaration is parsed again on its own, so that dst
		// decorates only its bytes (it walks the whole file of the nodes
		// it is given, byte by byte); the two trees have the same shape,
		// which maps the type-checked nodes onto the decorated ones.
		head := "package " + in.file.Name.Name + "\n\n"
		sfset := token.NewFileSet()
		sf, err := parser.ParseFile(sfset, tf.Name(), head+string(in.src[from:to]), parser.ParseComments)
		if err != nil || len(sf.Decls) != 1 {
			return nil, false, nil
		}
		if w.alias = sameShape(fd, sf.Decls[0]); w.alias == nil {
			return nil, false, nil
		}
		w.dec = decorator.NewDecorator(sfset)
		df, err := w.dec.DecorateFile(sf)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", in.fset.Position(fd.Pos()), err)
		}
		w.walkDecl(i, fd)
		w.applyRecvs(df)
		var buf bytes.Buffer
		if err := decorator.Fprint(&buf, df); err != nil {
			return nil, false, fmt.Errorf("%s: printing rewritten function: %w", in.fset.Position(fd.Pos()), err)
		}
		// The printed file is the package clause, a blank line, and the
		// declaration with its doc comment.
		text, ok := bytes.CutPrefix(buf.Bytes(), []byte(head))
		if !ok {
			return nil, false, nil
		}
		texts[k] = bytes.TrimSuffix(text, []byte("\n"))
	}
	// From the last declaration to the first, so that offsets stay valid.
	for k := len(idx) - 1; k >= 0; k-- {
		from, to := funcSpan(tf, in.file.Decls[idx[k]].(*ast.FuncDecl))
		out = append(append(append([]byte(nil), out[:from]...), texts[k]...), out[to:]...)
	}
	return w.fill(out), true, nil
}

// funcSpan returns the byte offsets of a function declaration, with its
// doc comment.
func funcSpan(tf *token.File, fd *ast.FuncDecl) (from, to int) {
	start := fd.Pos()
	if fd.Doc != nil {
		start = fd.Doc.Pos()
	}
	return tf.Offset(start), tf.Offset(fd.End())
}

// sameShape maps the nodes of a onto those of b, two trees parsed from the
// same text, or returns nil if their shapes differ.
func sameShape(a, b ast.Node) map[ast.Node]ast.Node {
	var as, bs []ast.Node
	ast.Inspect(a, func(n ast.Node) bool {
		if n != nil {
			as = append(as, n)
		}
		return true
	})
	ast.Inspect(b, func(n ast.Node) bool {
		if n != nil {
			bs = append(bs, n)
		}
		return true
	})
	if len(as) != len(bs) {
		return nil
	}
	m := make(map[ast.Node]ast.Node, len(as))
	for i, n := range as {
		if reflect.TypeOf(n) != reflect.TypeOf(bs[i]) {
			return nil
		}
		m[n] = bs[i]
	}
	return m
}

// walker finds the sites of one file and rewrites them in its dst tree.
type walker struct {
	in    fileInput
	rules []*rules.Rule
	dec   *decorator.Decorator // nil for a walk that only finds the sites
	res   *fileResult
	// decl is the index of the declaration being walked; changedDecls,
	// when not nil, collects those that hold a rewrite, and only, when
	// not nil, limits the walk to some.
	decl         int
	changedDecls map[int]bool
	only         map[int]bool
	// alias maps the file's ast nodes to those that dec decorated, when
	// they are not the same (see rewriteFuncs).
	alias   map[ast.Node]ast.Node
	ignored map[int]bool // lines whose statement or declaration is ignored
	changed bool
	fn      []string // enclosing function names, innermost last
	// inserts are the texts of the placeholders in the dst tree (see
	// chanrw.go); recvs, the receives to wrap, by dst node; recvDone, the
	// receives that the walk has rewritten.
	inserts   []string
	recvs     map[dst.Node]func(dst.Expr) dst.Expr
	recvDone  map[*ast.UnaryExpr]bool
	cfn       *chanFn // the function whose channel operations are being rewritten
	oneLine   []int   // the function bodies to keep on one line (see keepOneLine)
	keepLines bool    // mark one-line function bodies
	timers    bool    // the timer rule is on: receives from timers' channels are followed
	// scopedCalls are the calls that open a handling scope for the rest
	// of a loop's iteration (an Accept), with their scope's level.
	scopedCalls map[*ast.CallExpr]int
	scoped      bool        // a rule has Scoped functions
	handlers    *rules.Rule // the rule that makes handlers open their requests' scopes
}

func newWalker(in fileInput, rs []*rules.Rule, dec *decorator.Decorator, ignored map[int]bool) *walker {
	w := &walker{in: in, rules: rs, dec: dec, res: &fileResult{}, ignored: ignored,
		recvs: map[dst.Node]func(dst.Expr) dst.Expr{}, recvDone: map[*ast.UnaryExpr]bool{},
		scopedCalls: map[*ast.CallExpr]int{}}
	for _, r := range rs {
		w.timers = w.timers || r.TimerChans
		if r.Handlers && w.handlers == nil {
			w.handlers = r
		}
		for _, f := range r.Funcs {
			w.scoped = w.scoped || f.Scoped
		}
	}
	return w
}

func (w *walker) walk() {
	for i, d := range w.in.file.Decls {
		if w.only == nil || w.only[i] {
			w.walkDecl(i, d)
		}
	}
}

func (w *walker) walkDecl(i int, d ast.Decl) {
	if w.isIgnored(d) {
		return
	}
	name := "init"
	if fd, ok := d.(*ast.FuncDecl); ok {
		if hasDirective(fd.Doc) {
			return
		}
		if obj, ok := w.in.info.Defs[fd.Name].(*types.Func); ok {
			name = funcName(obj)
		}
	}
	w.decl = i
	w.fn = append(w.fn[:0], name)
	ast.Inspect(d, w.visit)
}

func (w *walker) isIgnored(n ast.Node) bool {
	return w.ignored[w.in.fset.Position(n.Pos()).Line]
}

func (w *walker) visit(n ast.Node) bool {
	switch n := n.(type) {
	case ast.Stmt:
		if w.isIgnored(n) {
			return false
		}
		if g, ok := n.(*ast.GoStmt); ok {
			w.goStmt(g)
			// The statement's own call is now an argument list, not a
			// call: only what it contains is left to visit.
			ast.Inspect(g.Call.Fun, w.visit)
			for _, a := range g.Call.Args {
				ast.Inspect(a, w.visit)
			}
			return false
		}
	case *ast.CallExpr:
		w.call(n)
	case *ast.FuncDecl:
		w.keepOneLine(n.Body)
		w.chanBody(n.Type, n.Body, false, append(w.mainPrologue(n), w.callbackPrologue(n)...))
	case *ast.FuncLit:
		w.keepOneLine(n.Body)
		w.chanBody(n.Type, n.Body, true, nil)
	case *ast.ChanType:
		w.chanType(n)
	case *ast.UnaryExpr:
		// A receive outside any function: a package variable's value.
		if n.Op == token.ARROW && w.in.plan.tracked(w.in.info.TypeOf(n.X)) && !w.recvDone[n] {
			w.wrapRecv(n, recvHelper)
		}
	}
	return true
}

func (w *walker) enabled(r *rules.Rule) bool {
	for _, x := range w.rules {
		if x == r {
			return true
		}
	}
	return false
}

func (w *walker) rule(match func(*rules.Rule) bool) *rules.Rule {
	for _, r := range w.rules {
		if match(r) {
			return r
		}
	}
	return nil
}

// dstOf returns the dst node that stands for n, an ast node of the file.
func (w *walker) dstOf(n ast.Node) dst.Node {
	if w.alias != nil {
		n = w.alias[n]
	}
	return w.dec.Dst.Nodes[n]
}

func (w *walker) markChanged() {
	w.changed = true
	if w.changedDecls != nil {
		w.changedDecls[w.decl] = true
	}
}

// record notes a construct that is not instrumented by this run: reason
// says why, or is alreadyInstrumented.
func (w *walker) record(pos token.Pos, rule, what, fn, reason string) {
	w.res.sites = append(w.res.sites, Site{
		Pos:          w.in.fset.Position(pos),
		Rule:         rule,
		What:         what,
		Func:         fn,
		Instrumented: reason == alreadyInstrumented,
		Reason:       reason,
	})
}

// instrument notes a construct that this run rewrites and returns its site
// number. Every rewrite marks the file changed.
func (w *walker) instrument(pos token.Pos, rule, what, fn string) int {
	w.markChanged()
	s := Site{Pos: w.in.fset.Position(pos), Rule: rule, What: what, Func: fn, Instrumented: true}
	w.res.sites = append(w.res.sites, s)
	w.res.newSites = append(w.res.newSites, s)
	return w.in.firstSite + len(w.res.newSites) - 1
}

const alreadyInstrumented = "already instrumented"

// goStmt rewrites go f(args) into go _asyncinstrRunN(f, args, _asyncinstrGo(&site)).
func (w *walker) goStmt(g *ast.GoStmt) {
	r := w.rule(func(r *rules.Rule) bool { return r.GoStmt })
	if r == nil {
		return
	}
	call := g.Call
	if inner, ok := ast.Unparen(call.Fun).(*ast.CallExpr); ok {
		if id := calleeIdent(inner.Fun); id != nil && strings.HasPrefix(id.Name, prefix) && len(inner.Args) == 1 {
			w.record(g.Pos(), r.Name, "go "+types.ExprString(inner.Args[0])+"(...)", "", alreadyInstrumented)
			return
		}
	}
	if id := calleeIdent(call.Fun); id != nil && strings.HasPrefix(id.Name, prefix) {
		what := "go " + id.Name + "(...)"
		if b, ok := builtinHelpers[id.Name]; ok {
			what = "go " + b.builtin + "(...)"
		} else if _, ok := parseShape(id.Name); ok && len(call.Args) > 0 {
			what = "go " + types.ExprString(call.Args[0]) + "(...)"
		}
		w.record(g.Pos(), r.Name, what, "", alreadyInstrumented)
		return
	}
	what := "go " + types.ExprString(call.Fun) + "(...)"
	fn := w.describeFunc(call.Fun)
	skip := func(reason string) { w.record(g.Pos(), r.Name, what, fn, reason) }

	if b, ok := w.in.info.Uses[calleeIdent(call.Fun)].(*types.Builtin); ok {
		helper, reason := w.builtinHelper(b.Name(), call)
		if reason != "" {
			skip(reason)
			return
		}
		n := w.instrument(g.Pos(), r.Name, what, b.Name())
		if w.dec == nil {
			return
		}
		dcall := w.dstOf(call).(*dst.CallExpr)
		dcall.Fun = dst.NewIdent(helper)
		w.appendArg(dcall, w.goTask(n))
		return
	}
	sig, ok := w.in.info.TypeOf(call.Fun).Underlying().(*types.Signature)
	if !ok {
		skip("the called function's type is a type parameter")
		return
	}
	if _, match := w.matchCall(call); match != nil && (match.Form == rules.Method || match.Form == rules.CallThrough) {
		// A call that a rule reports (go srv.Serve(l)): its rewritten
		// form runs in the goroutine, through Wrap, which takes the
		// runtime function's own parameter types.
		if w.call(call) {
			n := w.instrument(g.Pos(), r.Name, what, fn)
			if w.dec == nil {
				return
			}
			dcall := w.dstOf(call).(*dst.CallExpr)
			shape := goShape{params: len(dcall.Args), results: sig.Results().Len(), wrap: true}
			dcall.Fun = &dst.CallExpr{Fun: dst.NewIdent(shape.name()), Args: []dst.Expr{dcall.Fun}}
			w.appendArg(dcall, w.goTask(n))
			return
		}
	}
	if len(call.Args) == 1 {
		if _, multi := w.in.info.TypeOf(call.Args[0]).(*types.Tuple); multi {
			skip("its arguments come from a call with several results")
			return
		}
	}
	shape := goShape{params: sig.Params().Len(), results: sig.Results().Len()}
	if sig.Variadic() {
		shape.kind = "V"
		if call.Ellipsis.IsValid() {
			shape.kind = "S"
		}
	}
	if shape.params > maxParams || shape.results > maxResults {
		skip(fmt.Sprintf("the function has more than %d parameters or %d results", maxParams, maxResults))
		return
	}
	if shape.kind == "V" && w.pure(call.Fun) && !w.allPure(call.Args[shape.params-1:]) {
		shape.kind = "P"
	}
	shape.wrap = w.convertsArgs(call, sig, shape.kind == "P")
	n := w.instrument(g.Pos(), r.Name, what, fn)
	if w.dec == nil {
		return
	}
	dcall := w.dstOf(call).(*dst.CallExpr)
	task := w.goTask(n)
	if shape.kind == "P" {
		pack := goShape{params: shape.params, results: shape.results, pack: true}
		i := shape.params - 1
		packed := &dst.CallExpr{
			Fun:  &dst.CallExpr{Fun: dst.NewIdent(pack.name()), Args: []dst.Expr{clearDecs(dst.Clone(dcall.Fun).(dst.Expr))}},
			Args: dcall.Args[i:],
		}
		dcall.Args = append(dcall.Args[:i:i], packed)
	}
	if shape.wrap {
		dcall.Fun = &dst.CallExpr{Fun: dst.NewIdent(shape.name()), Args: []dst.Expr{dcall.Fun}}
	} else {
		dcall.Args = append([]dst.Expr{dcall.Fun}, dcall.Args...)
		dcall.Fun = dst.NewIdent(shape.name())
	}
	switch shape.kind {
	case "V":
		// Before the variadic arguments, which follow the fixed ones (and
		// f, for Run).
		i := shape.params - 1
		if !shape.wrap {
			i++
		}
		dcall.Args = append(dcall.Args[:i], append([]dst.Expr{task}, dcall.Args[i:]...)...)
	case "P":
		w.appendArg(dcall, task)
	case "S":
		dcall.Ellipsis = false
		w.appendArg(dcall, task)
		// The layout after "..." (a line break before the closing
		// parenthesis, say) now follows the task.
		for _, d := range dcall.Decs.Ellipsis {
			if d == "\n" {
				task.Decorations().After = dst.NewLine
			} else {
				task.Decorations().End = append(task.Decorations().End, d)
			}
		}
		dcall.Decs.Ellipsis = nil
	default:
		w.appendArg(dcall, task)
	}
}

// pure reports whether evaluating e can have no effect (see pureExpr).
func (w *walker) pure(e ast.Expr) bool { return pureExpr(w.in.info, e) }

func (w *walker) allPure(es []ast.Expr) bool {
	for _, e := range es {
		if !w.pure(e) {
			return false
		}
	}
	return true
}

// clearDecs removes the layout and comments of a copied expression.
func clearDecs(e dst.Expr) dst.Expr {
	dst.Inspect(e, func(n dst.Node) bool {
		if n != nil {
			d := n.Decorations()
			d.Before, d.After, d.Start, d.End = dst.None, dst.None, nil, nil
		}
		return true
	})
	return e
}

// convertsArgs reports whether the go statement converts an argument
// implicitly: one whose type is not exactly its parameter's, such as a
// value passed as an interface. Untyped constants and nil take their type
// from the parameter either way. With packed, the variadic arguments do not
// count: the Pack function types them from the called function.
func (w *walker) convertsArgs(call *ast.CallExpr, sig *types.Signature, packed bool) bool {
	params := sig.Params()
	for i, arg := range call.Args {
		if packed && i >= params.Len()-1 {
			break // the Pack function converts the variadic arguments
		}
		tv := w.in.info.Types[arg]
		if tv.Type == nil || tv.IsNil() {
			continue
		}
		if b, ok := tv.Type.(*types.Basic); ok && b.Info()&types.IsUntyped != 0 {
			continue
		}
		var pt types.Type
		switch last := params.Len() - 1; {
		case i < last || !sig.Variadic():
			pt = params.At(i).Type()
		case call.Ellipsis.IsValid():
			pt = params.At(last).Type()
		default:
			pt = params.At(last).Type().(*types.Slice).Elem()
		}
		if !types.Identical(tv.Type, pt) && !sameChanElem(tv.Type, pt) {
			return true
		}
	}
	return false
}

// sameChanElem reports whether a and b are channel types that differ at most
// in direction: inference unifies them, and assignment converts.
func sameChanElem(a, b types.Type) bool {
	ca, ok1 := a.(*types.Chan)
	cb, ok2 := b.(*types.Chan)
	return ok1 && ok2 && ca.Dir() == types.SendRecv && types.Identical(ca.Elem(), cb.Elem())
}

// builtinHelper returns the helper that runs a go statement's builtin call,
// or why there is none.
func (w *walker) builtinHelper(name string, call *ast.CallExpr) (helper, reason string) {
	switch name {
	case "close":
		if ch, ok := w.in.info.TypeOf(call.Args[0]).Underlying().(*types.Chan); ok && ch.Dir() == types.SendOnly {
			return prefix + "RunCloseSend", ""
		}
		return prefix + "RunClose", ""
	case "delete":
		return prefix + "RunDelete", ""
	case "panic":
		return prefix + "RunPanic", ""
	}
	return "", "go " + name + "(...) calls a builtin that cannot be wrapped without changing it"
}

// goTask returns _asyncinstrGo(&_asyncinstrSites[n]).
func (w *walker) goTask(n int) dst.Expr {
	return &dst.CallExpr{Fun: dst.NewIdent(goHelper), Args: []dst.Expr{siteRef(n)}}
}

// siteRef returns &_asyncinstrSites[n].
func siteRef(n int) dst.Expr {
	return &dst.UnaryExpr{Op: token.AND, X: &dst.IndexExpr{
		X:     dst.NewIdent(sitesVar),
		Index: &dst.BasicLit{Kind: token.INT, Value: strconv.Itoa(n)},
	}}
}

// appendArg adds an argument after the last one. When the call's closing
// parenthesis is on a line of its own, the new argument goes at the end of
// the last argument's line, so that no line moves.
func (w *walker) appendArg(call *dst.CallExpr, arg dst.Expr) {
	if n := len(call.Args); n > 0 {
		last := call.Args[n-1].Decorations()
		a := arg.Decorations()
		a.After, last.After = last.After, dst.None
		a.End, last.End = last.End, nil
	}
	call.Args = append(call.Args, arg)
}

// wrapArg returns fun(arg, extra...), which takes over arg's place in the
// layout.
func (w *walker) wrapArg(arg dst.Expr, fun *dst.Ident, extra ...dst.Expr) dst.Expr {
	wrapped := &dst.CallExpr{Fun: fun, Args: []dst.Expr{arg}}
	wrapped.Decs.NodeDecs, arg.Decorations().Before, arg.Decorations().After = *arg.Decorations(), dst.None, dst.None
	arg.Decorations().Start, arg.Decorations().End = nil, nil
	for _, e := range extra {
		w.appendArg(wrapped, e)
	}
	return wrapped
}

// call rewrites the calls that rules match by their resolved function,
// and reports whether it rewrites call.
func (w *walker) call(call *ast.CallExpr) bool {
	if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok && strings.HasPrefix(id.Name, prefix) {
		if r, f := rules.ByRuntime(strings.TrimPrefix(id.Name, prefix)); f != nil && w.enabled(r) {
			w.record(call.Pos(), r.Name, f.String(), "", alreadyInstrumented)
		}
		return false
	}
	if w.declaredCall(call) {
		return true
	}
	rule, match := w.matchCall(call)
	if rule == nil {
		return false
	}
	what := match.String()
	var dcall *dst.CallExpr
	if w.dec != nil {
		dcall = w.dstOf(call).(*dst.CallExpr)
	}
	helper := dst.NewIdent(helperFor(match.Runtime))
	switch match.Form {
	case rules.WrapArg:
		if len(call.Args) != 1 {
			return false
		}
		desc := w.describeFunc(call.Args[0])
		if c, ok := ast.Unparen(call.Args[0]).(*ast.CallExpr); ok {
			if id, ok := ast.Unparen(c.Fun).(*ast.Ident); ok && strings.HasPrefix(id.Name, prefix) {
				w.record(call.Pos(), rule.Name, what, desc, alreadyInstrumented)
				return false
			}
		}
		n := w.instrument(call.Pos(), rule.Name, what, desc)
		if dcall == nil {
			return true
		}
		dcall.Args[0] = w.wrapArg(dcall.Args[0], helper, siteRef(n))
	case rules.CallThrough:
		// The site names the function the resource runs, or, for a
		// timer that runs none, the one that creates it.
		desc := w.fn[len(w.fn)-1]
		if n := len(call.Args); n > 0 {
			if _, isFunc := under(w.in.info.TypeOf(call.Args[n-1])).(*types.Signature); isFunc {
				desc = w.describeFunc(call.Args[n-1])
			}
		}
		if call.Ellipsis.IsValid() {
			w.record(call.Pos(), rule.Name, what, desc, "called with a spread argument list")
			return false
		}
		n := w.instrument(call.Pos(), rule.Name, what, desc)
		if dcall == nil {
			return true
		}
		dcall.Args = append([]dst.Expr{dcall.Fun}, dcall.Args...)
		dcall.Fun = helper
		w.appendArg(dcall, siteRef(n))
	case rules.Method:
		sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
		if !ok {
			return false
		}
		selection := w.in.info.Selections[sel]
		if selection == nil || selection.Kind() != types.MethodVal {
			return false
		}
		recvT := w.in.info.TypeOf(sel.X)
		asIs := types.IsInterface(recvT)
		if _, isPtr := recvT.Underlying().(*types.Pointer); isPtr {
			asIs = true
		}
		if match.Iface {
			// The runtime takes an interface: the callee's, or, for a
			// method of a concrete type, one of that method alone
			// (io.Closer for Close). The receiver goes as it is if it
			// implements it; its address, if the method needs one (the
			// call took it already); otherwise the call stays.
			callee := selection.Obj().(*types.Func)
			iface, ok := callee.Signature().Recv().Type().Underlying().(*types.Interface)
			if !ok {
				iface = types.NewInterfaceType([]*types.Func{types.NewFunc(token.NoPos, callee.Pkg(), callee.Name(), callee.Signature())}, nil).Complete()
			}
			switch {
			case types.Implements(recvT, iface):
				asIs = true
			case !asIs && types.NewMethodSet(recvT).Lookup(callee.Pkg(), callee.Name()) == nil && types.Implements(types.NewPointer(recvT), iface):
			default:
				w.record(call.Pos(), rule.Name, what, "", "the receiver does not implement the method's interface")
				return false
			}
		} else if len(selection.Index()) > 1 {
			w.record(call.Pos(), rule.Name, what, "", "the method is promoted from an embedded field")
			return false
		}
		var n int
		if match.Site {
			n = w.instrument(call.Pos(), rule.Name, what, w.fn[len(w.fn)-1])
		} else {
			w.markChanged()
			w.res.sites = append(w.res.sites, Site{Pos: w.in.fset.Position(call.Pos()), Rule: rule.Name, What: what, Instrumented: true})
		}
		if dcall == nil {
			return true
		}
		dsel := w.dstOf(sel).(*dst.SelectorExpr)
		recv := dsel.X
		if !asIs {
			recv = &dst.UnaryExpr{Op: token.AND, X: recv}
		}
		dcall.Fun = helper
		dcall.Args = append([]dst.Expr{recv}, dcall.Args...)
		if sc, ok := w.scopedCalls[call]; ok {
			dcall.Fun = dst.NewIdent(helperFor(match.Runtime + "In"))
			dcall.Args = append([]dst.Expr{&dst.UnaryExpr{Op: token.AND, X: dst.NewIdent(scopeName(sc))}}, dcall.Args...)
		}
		if match.Site {
			w.appendArg(dcall, siteRef(n))
		}
	}
	return true
}

// matchCall returns the rule and the function of it that call calls, if
// an enabled rule reports that function.
func (w *walker) matchCall(call *ast.CallExpr) (*rules.Rule, *rules.Func) {
	f, _ := typeutil.Callee(w.in.info, call).(*types.Func)
	if f == nil || f.Pkg() == nil {
		return nil, nil
	}
	for _, r := range w.rules {
		for i := range r.Funcs {
			if matches(f, &r.Funcs[i]) {
				return r, &r.Funcs[i]
			}
		}
	}
	return nil, nil
}

// matches reports whether f is the function or method that m names.
func matches(f *types.Func, m *rules.Func) bool {
	if f.Name() != m.Name || f.Pkg().Path() != m.Pkg {
		return false
	}
	recv := f.Signature().Recv()
	if recv == nil {
		return m.Recv == ""
	}
	t, star := recv.Type(), ""
	if p, ok := t.(*types.Pointer); ok {
		t, star = p.Elem(), "*"
	}
	named, ok := t.(*types.Named)
	return ok && star+named.Obj().Name() == m.Recv
}

// calleeIdent returns the identifier a call's function expression names, or
// nil.
func calleeIdent(fun ast.Expr) *ast.Ident {
	id, _ := ast.Unparen(fun).(*ast.Ident)
	return id
}

// describeFunc says what a function expression runs, for hooksrt.Site.Func:
// the full name of a declared function or method, "func literal in F" for a
// literal, or the expression itself.
func (w *walker) describeFunc(e ast.Expr) string {
	e = ast.Unparen(e)
	if ix, ok := e.(*ast.IndexExpr); ok {
		e = ix.X
	} else if ix, ok := e.(*ast.IndexListExpr); ok {
		e = ix.X
	}
	switch e := e.(type) {
	case *ast.FuncLit:
		return "func literal in " + w.fn[len(w.fn)-1]
	case *ast.Ident:
		if f, ok := w.in.info.Uses[e].(*types.Func); ok {
			return funcName(f)
		}
	case *ast.SelectorExpr:
		if f, ok := w.in.info.Uses[e.Sel].(*types.Func); ok {
			return funcName(f)
		}
	}
	return types.ExprString(e)
}

// funcName names a function as the runtime's tracebacks do: by import path,
// except in package main.
func funcName(f *types.Func) string {
	name := f.FullName()
	if p := f.Pkg(); p != nil && p.Name() == "main" {
		name = strings.Replace(name, p.Path()+".", "main.", 1)
	}
	return name
}

// The directive that leaves a file, a function or a statement alone.
const ignoreDirective = "//asyncinstr:ignore"

func hasDirective(cg *ast.CommentGroup) bool {
	if cg == nil {
		return false
	}
	for _, c := range cg.List {
		if isIgnoreComment(c.Text) {
			return true
		}
	}
	return false
}

func isIgnoreComment(text string) bool {
	rest, ok := strings.CutPrefix(text, ignoreDirective)
	return ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t')
}

// ignoredFile reports whether a directive precedes the package clause.
func ignoredFile(f *ast.File) bool {
	for _, cg := range f.Comments {
		if cg.Pos() > f.Package {
			break
		}
		if hasDirective(cg) {
			return true
		}
	}
	return false
}

// ignoredLines returns the lines whose statement or declaration a directive
// covers: the directive's own line (a trailing comment) and the next one (a
// comment on the line above).
func ignoredLines(fset *token.FileSet, f *ast.File) map[int]bool {
	lines := map[int]bool{}
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			if isIgnoreComment(c.Text) {
				l := fset.Position(c.Pos()).Line
				lines[l], lines[l+1] = true, true
			}
		}
	}
	return lines
}
