//go:build go1.25

package hooksrt

import (
	"runtime"
	"sync/atomic"
)

// A Callback is the resource of a callback passed to an async API that the
// program declared itself (a //asyncinstr:callback directive, or a line of
// asyncinstr.rules): a worker pool's task, an event handler. It is created
// when the API is called, on the calling goroutine, so its trigger is the
// caller's context and it captures the caller's AsyncLocalStorage stores.
// Each run of the callback is one before/after pair, on whatever goroutine
// runs it. A callback that runs once is destroyed after its run; one
// declared runs=many, or a once callback that never runs, is destroyed when
// the wrapped callback is garbage collected (if a destroy hook was enabled
// when it was created). A nil *Callback (tracking off) does nothing.
//
// The rewriter wraps the argument with a generic function of the companion
// file that keeps the callback's type: in a function that carries the
// directive, the parameter on entry,
//
//	func (p *Pool) Submit(task func()) error { task = _asyncinstrCb0(task, "POOLTASK", false, &site); ...
//
// and, for a function of asyncinstr.rules, the argument at each call:
//
//	p.Submit(task)  =>  p.Submit(_asyncinstrCb0(task, "POOLTASK", false, &site))
//
// _asyncinstrCb0 returns a nil callback as it is; otherwise it calls
// NewCallback and returns a function that runs the callback between Begin
// and a deferred End.
//
// Called by instrumented code.
type Callback struct {
	Resource
	many    bool
	started atomic.Bool  // a once callback has begun its run
	done    *atomic.Bool // shared with the garbage-collection cleanup, if any
}

// NewCallback creates the resource of a callback and emits init. It returns
// nil while tracking is off.
//
// Called by instrumented code.
func NewCallback(typ string, many bool, site *Site) *Callback {
	if !tracking.Load() {
		return nil
	}
	c := &Callback{many: many}
	c.done = &c.destroyed
	c.Site = site
	initCore(&c.core, typ, 0, c)
	if hasDestroyHooks() {
		done := new(atomic.Bool)
		c.done = done
		runtime.AddCleanup(c, gcDestroy, gcArg{id: c.id, done: done})
	}
	return c
}

// Begin opens the scope of one run of the callback: before, on the calling
// goroutine. It reports whether it did: a callback declared to run once
// opens its scope only the first time; later runs (a misdeclared API) run
// outside it.
//
// Called by instrumented code.
func (c *Callback) Begin() bool {
	if c == nil || !c.many && !c.started.CompareAndSwap(false, true) {
		return false
	}
	before(&c.core)
	return true
}

// End closes the scope that Begin opened, if it did (entered): after, and
// for a callback that runs once, destroy. It must be deferred right after
// Begin, so that it also runs when the callback panics.
//
// Called by instrumented code.
func (c *Callback) End(entered bool) {
	if entered {
		endScope(nil, c.id, !c.many && c.done.CompareAndSwap(false, true))
	}
}
