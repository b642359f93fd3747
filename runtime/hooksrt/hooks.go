//go:build go1.25

package hooksrt

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt/internal/goid"
)

// Callbacks are the functions of an AsyncHook. Any of them may be nil.
//
// Init is called when a resource is created, on the creating goroutine,
// before the resource can run; resource is the resource object (for an
// AsyncResource, the *AsyncResource itself). Before and After bracket each
// run of the resource's callback or scope, on the goroutine that runs it,
// with the resource's context current. Destroy is called once, after the
// last After. PromiseResolve is called when a handed-off value is taken by
// its receiver, just before that scope's Before.
//
// Callbacks run concurrently on many goroutines and must be safe for
// concurrent use. A callback that panics ends the process.
type Callbacks struct {
	Init           func(asyncID uint64, typ string, triggerAsyncID uint64, resource any)
	Before         func(asyncID uint64)
	After          func(asyncID uint64)
	Destroy        func(asyncID uint64)
	PromiseResolve func(asyncID uint64)
}

// An AsyncHook delivers the lifecycle events of asynchronous resources to
// its Callbacks while it is enabled. Create one with CreateHook.
type AsyncHook struct {
	cb Callbacks
}

// CreateHook returns a disabled hook that will call cb's callbacks.
func CreateHook(cb Callbacks) *AsyncHook {
	return &AsyncHook{cb: cb}
}

// Enable starts delivering events to h and returns h. Enabling an enabled
// hook does nothing. Hooks are called in the order they were enabled.
//
// Called from ordinary code, Enable takes effect at once for every
// goroutine's next event. Called from inside a hook callback, it takes effect
// when the outermost hook dispatch on that goroutine returns, as in Node: the
// event being delivered, and any event emitted from inside the callback, use
// the hooks that were enabled when the dispatch began.
func (h *AsyncHook) Enable() *AsyncHook {
	change(h, true)
	return h
}

// Disable stops delivering events to h and returns h. Disabling a disabled
// hook does nothing. Inside a hook callback it takes effect as Enable does.
func (h *AsyncHook) Disable() *AsyncHook {
	change(h, false)
	return h
}

func (h *AsyncHook) hasCallbacks() bool {
	c := &h.cb
	return c.Init != nil || c.Before != nil || c.After != nil || c.Destroy != nil || c.PromiseResolve != nil
}

// A hookSet is an immutable snapshot of the enabled hooks, with each
// event's callbacks listed in enable order.
type hookSet struct {
	hooks   []*AsyncHook
	init    []func(uint64, string, uint64, any)
	before  []func(uint64)
	after   []func(uint64)
	destroy []func(uint64)
	resolve []func(uint64)
	total   int // number of callbacks; 0 disables the stack check
}

var (
	hooksMu sync.Mutex // serialises changes to active
	active  atomic.Pointer[hookSet]
)

func init() { active.Store(&hookSet{}) }

type pendingOp struct {
	h      *AsyncHook
	enable bool
}

func change(h *AsyncHook, enable bool) {
	if gs := lookup(goid.Get()); gs != nil && gs.depth > 0 {
		gs.pending = append(gs.pending, pendingOp{h, enable})
		return
	}
	apply([]pendingOp{{h, enable}})
}

// apply carries out ops in order and publishes the resulting hook set.
func apply(ops []pendingOp) {
	hooksMu.Lock()
	defer hooksMu.Unlock()
	hooks := active.Load().hooks
	changed := false
	for _, op := range ops {
		i := slices.Index(hooks, op.h)
		switch {
		case op.enable && i < 0:
			hooks = append(slices.Clip(hooks), op.h)
			changed = true
			if op.h.hasCallbacks() {
				track()
			}
		case !op.enable && i >= 0:
			hooks = slices.Delete(slices.Clone(hooks), i, i+1)
			changed = true
		}
	}
	if changed {
		active.Store(newHookSet(hooks))
	}
}

func newHookSet(hooks []*AsyncHook) *hookSet {
	s := &hookSet{hooks: hooks}
	for _, h := range hooks {
		c := &h.cb
		if c.Init != nil {
			s.init = append(s.init, c.Init)
		}
		if c.Before != nil {
			s.before = append(s.before, c.Before)
		}
		if c.After != nil {
			s.after = append(s.after, c.After)
		}
		if c.Destroy != nil {
			s.destroy = append(s.destroy, c.Destroy)
		}
		if c.PromiseResolve != nil {
			s.resolve = append(s.resolve, c.PromiseResolve)
		}
	}
	s.total = len(s.init) + len(s.before) + len(s.after) + len(s.destroy) + len(s.resolve)
	return s
}

// checking reports whether the before/after stack is checked: only while a
// hook with a callback is enabled, as in Node.
func checking() bool { return active.Load().total > 0 }

// hasDestroyHooks reports whether an enabled hook has a Destroy callback.
func hasDestroyHooks() bool { return len(active.Load().destroy) > 0 }

// Event names, used in fatal error messages.
const (
	evInit    = "init"
	evBefore  = "before"
	evAfter   = "after"
	evDestroy = "destroy"
	evResolve = "promiseResolve"
)

// beginDispatch marks gs's goroutine as running hook callbacks. A nil gs
// means the calling goroutine's state, looked up or created; the returned
// acquired then says that endDispatch must release it.
func beginDispatch(gs *gstate) (_ *gstate, acquired bool) {
	if gs == nil {
		gs, acquired = acquire(), true
	}
	gs.depth++
	return gs, acquired
}

// endDispatch must be deferred by every dispatch. It turns a panicking
// callback into a fatal error, and when the outermost dispatch returns it
// applies the Enable and Disable calls made by the callbacks, and releases
// the goroutine's state if the dispatch acquired it.
func endDispatch(gs *gstate, event string, acquired bool) {
	if r := recover(); r != nil {
		fatalHookPanic(event, r)
	}
	if leaveDispatch(gs) && acquired {
		releaseIfIdle(gs)
	}
}

// leaveDispatch ends a dispatch on gs, the part every way of dispatching
// shares: when it was the outermost, it applies the Enable and Disable
// calls that the callbacks made, and reports that gs's goroutine is in no
// dispatch any more.
func leaveDispatch(gs *gstate) (outermost bool) {
	gs.depth--
	if gs.depth != 0 {
		return false
	}
	if gs.pending != nil {
		applyPending(gs)
	}
	return true
}

// applyPending applies the Enable and Disable calls queued on gs.
func applyPending(gs *gstate) {
	ops := gs.pending
	gs.pending = nil
	apply(ops)
}

func emitInit(c *core) {
	if fns := active.Load().init; len(fns) > 0 {
		dispatchInit(nil, fns, c)
	}
}

// dispatchInit calls fns, the Init callbacks, for c as one hook dispatch
// on gs (nil: the calling goroutine's state, found or created).
func dispatchInit(gs *gstate, fns []func(uint64, string, uint64, any), c *core) {
	gs, acquired := beginDispatch(gs)
	defer endDispatch(gs, evInit, acquired)
	for _, f := range fns {
		f(c.id, c.typ, c.trigger, c.obj)
	}
}

// dispatch calls fns with id, as one hook dispatch for event on gs (nil:
// the calling goroutine's state, found or created).
func dispatch(gs *gstate, fns []func(uint64), id uint64, event string) {
	gs, acquired := beginDispatch(gs)
	defer endDispatch(gs, event, acquired)
	for _, f := range fns {
		f(id)
	}
}

func emitBefore(gs *gstate, id uint64) {
	if fns := active.Load().before; len(fns) > 0 {
		dispatch(gs, fns, id, evBefore)
	}
}

func emitAfter(gs *gstate, id uint64) {
	if fns := active.Load().after; len(fns) > 0 {
		dispatch(gs, fns, id, evAfter)
	}
}

// emitDestroy emits destroy for id on gs (nil: the calling goroutine's).
func emitDestroy(gs *gstate, id uint64) {
	if fns := active.Load().destroy; len(fns) > 0 {
		dispatch(gs, fns, id, evDestroy)
	}
}

// A batch delivers events that always come in a row on one goroutine (a
// scope's after and destroy, a handoff's promiseResolve and before) under
// a single deferred recover. Each event is still a dispatch of its own:
// open and close bracket its callbacks, the hook set is read afresh for
// each event, and Enable or Disable calls made by one event's callbacks
// take effect, as after a lone dispatch, before the next event is read
// (when its dispatch was the outermost). Only the deferred frame is
// shared.
//
// Usage: var b batch; b.gs = gs; defer b.end(); then open, the callbacks,
// close for each event. Between events (noEvent) end does not recover,
// so a panic in the runtime's own code between them propagates as it did.
type batch struct {
	gs    *gstate
	event batchEvent // the event whose callbacks are running, or noEvent
}

// A batchEvent names an event in a batch. It is a number, not the event's
// name: b.event is written twice per event, and a string (a pointer) would
// cost a write barrier each time while the garbage collector marks.
type batchEvent uint8

const (
	noEvent batchEvent = iota
	batchAfter
	batchDestroy
	batchResolve
	batchBefore
)

var batchEventNames = [...]string{
	batchAfter:   evAfter,
	batchDestroy: evDestroy,
	batchResolve: evResolve,
	batchBefore:  evBefore,
}

// open begins the dispatch of event on b's goroutine.
func (b *batch) open(event batchEvent) {
	b.gs.depth++
	b.event = event
}

// close ends the dispatch that open began, as endDispatch does.
func (b *batch) close() {
	b.event = noEvent
	leaveDispatch(b.gs)
}

// end must be deferred by every batch. During a dispatch it turns a
// panicking callback into a fatal error, and on runtime.Goexit it ends the
// dispatch as endDispatch would.
func (b *batch) end() {
	if b.event == noEvent {
		return
	}
	if r := recover(); r != nil {
		fatalHookPanic(batchEventNames[b.event], r)
	}
	b.close()
}

// call delivers event to fns as one dispatch of b.
func (b *batch) call(event batchEvent, fns []func(uint64), id uint64) {
	b.open(event)
	for _, f := range fns {
		f(id)
	}
	b.close()
}
