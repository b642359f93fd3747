// Package rules says which Go constructs become asynchronous resources and
// what the rewriter emits for each: go statements, sync.WaitGroup.Go and
// errgroup, time.AfterFunc and timers, context.AfterFunc, channel handoffs,
// net and net/http calls, and user-declared async APIs. The contract is
// section 4 of SEMANTICS.md; the runtime entry points each rule targets are
// documented in package hooksrt.
//
// The rule table is being built; this package currently holds only its
// documentation.
package rules
