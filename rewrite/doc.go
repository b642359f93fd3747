// Package rewrite applies asyncinstr's rules to Go packages: it loads them,
// with their test files, through golang.org/x/tools/go/packages, rewrites
// the constructs that the rules select with github.com/dave/dst, and
// returns the changes as data. It writes nothing itself; the command
// decides where the changes go.
//
// Instrument rewrites and Strip undoes. A rewritten file gains no import and
// no line: everything it calls is declared, under names that start with
// _asyncinstr, in a companion file generated for its package
// (zz_asyncinstr.go, or zz_asyncinstr_x_test.go for an external test
// package), so every position in the file stays where it was. Strip works
// on syntax alone, so it also serves files that no longer type-check, and
// files of every build configuration.
//
// A go statement becomes a call of a generic function declared in the
// companion, chosen by the shape of the called function (parameters,
// variadic form, results):
//
//	go f(x, y)  =>  go _asyncinstrRun2(f, x, y, _asyncinstrGo(&_asyncinstrSites[0]))
//
// When an argument is converted implicitly (a value passed as an
// interface, say), type inference cannot see through the conversion, and
// the Wrap form takes its types from f alone:
//
//	go f(x, y)  =>  go _asyncinstrWrap2(f)(x, y, _asyncinstrGo(&_asyncinstrSites[0]))
//
// The variadic arguments of a call that passes them separately and whose
// evaluation has effects are packed first (_asyncinstrPack2(f)(x, y)), so
// that the task is created after every argument.
//
// Calls matched by a rule go through the runtime function it names
// (rules.Func): see package rules for the table.
//
// Channels are decided per package (chanplan.go): the channel types with
// the same element type form a class, tracked unless one of them escapes
// the package or the rewrite (another package's declarations, its exported
// API, an interface others may inspect, a type parameter, ...). A tracked
// class's element T becomes _asyncinstrMsg[T], which carries the send's
// CHANSEND resource with the value, and its receives open handling scopes
// (chanrw.go):
//
//	ch <- v                  =>  ch <- _asyncinstrOn(ch).Send(v, &_asyncinstrSites[0])
//	for v := range ch {      =>  for _asyncinstrM := range ch { v := _asyncinstrEnter(&_asyncinstrSc0, _asyncinstrM)
//	x := <-ch                =>  x := _asyncinstrRecv(<-ch)
//
// Statements that scopes need are written on the lines of the code around
// them, so that no line moves; receives from timers' channels are followed
// to their TIMER or TICKER resources the same way, and so is an Accept
// statement directly in a for body (the listener's scope). A function of
// type func(http.ResponseWriter, *http.Request) starts with
// defer _asyncinstrServeHTTP(r, &site).Done() (chanrw.go's handler), which
// opens the request's scope when net/http called it. func main of package
// main starts with defer _asyncinstrFinish() (exit.go), and os.Exit(code)
// becomes _asyncinstrExit(os.Exit, code, &site), so that a program's end
// completes its trace and leak report.
//
// Async APIs that the program declares (callback.go) wrap their callback
// with a generic function of the companion per callback shape, which
// keeps its type: at the declaration for a //asyncinstr:callback
// directive, as the first statement of the body, and at each call in
// rewritten code for a function that asyncinstr.rules at the main
// module's root names (WithRulesFiles reads it):
//
//	//asyncinstr:callback arg=task type=POOLTASK
//	func (p *Pool) Submit(task func()) {   =>  ... { task = _asyncinstrCb0(task, "POOLTASK", false, &_asyncinstrSites[0]);
//	p.Submit(task)                         =>  p.Submit(_asyncinstrCb0(task, "POOLTASK", false, &_asyncinstrSites[1]))
//
// Instrument and Strip serve source mode. Compile-time mode
// (internal/toolexec) rewrites one compiler invocation at a time:
// CheckPackage type-checks the files it names against export data, and
// RewritePackage rewrites them, through the same per-package code as
// Instrument, so both modes number sites and write companions alike.
// MayRewrite tells, from tokens alone, that a package has nothing to
// rewrite.
//
// A run asks go list for the package graph, type-checks from source the
// packages it rewrites (and the test variants that depend on them), with
// export data for the rest, finds the sites of every file on the go/ast
// tree, numbering them in the order of the walk (file by file; a
// function's sends when the walk enters it), and only then builds dst
// trees, for the function declarations that change (each parsed again from
// its own bytes, so that dst's cost follows the size of the function, not
// of the file), concurrently. Files of other build configurations that
// hold sites are loaded again in a configuration that includes them.
package rewrite
