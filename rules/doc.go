// Package rules says which Go constructs become asynchronous resources and
// what the rewriter emits for each. A Rule is a value: a name, a sentence of
// documentation, what it matches (go statements, or calls of functions and
// methods identified by their resolved object, never by the name they are
// written with) and the form of the rewritten call. All is the ordered
// table; asyncinstr -rules selects from it, and -strip undoes each form
// from the same table.
//
// The rules cover SEMANTICS.md section 4: go statements, channel
// handoffs, sync.WaitGroup.Go, errgroup's Go and TryGo, time.AfterFunc
// with (*time.Timer).Stop and Reset, timer and ticker channels,
// context.AfterFunc, package net and net/http. The callback rule adds the
// async APIs that a program declares itself (Callback): a
// //asyncinstr:callback directive on a declaration, or a line of the
// rules file asyncinstr.rules (ParseFile), which WithDeclared gives the
// rule. The exit rule creates no resource: it makes a program's ways out
// (main returning, os.Exit) complete the trace and the leak report that
// the runtime's environment variables ask for. The runtime entry points
// each rule targets are documented in package hooksrt.
package rules
