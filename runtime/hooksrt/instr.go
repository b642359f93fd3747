//go:build go1.25

package hooksrt

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt/internal/goid"
)

// This file holds the entry points that instrumented code calls. They are
// exported because rewritten packages must reach them, but they are meant to
// be called only by code that asyncinstr rewrote, in the shapes its doc
// comments give. Each one costs one atomic load and allocates nothing while
// tracking is off (see Track).

// Resource types created by instrumented code.
const (
	typeGoroutine        = "GOROUTINE"
	typeTimeout          = "Timeout"
	typeContextAfterFunc = "CONTEXTAFTERFUNC"
	typeChanSend         = "CHANSEND"
)

// A Task is a resource whose callback runs as the whole body of a goroutine
// of its own: a go statement, a function passed to sync.WaitGroup.Go or
// errgroup, a time.AfterFunc or context.AfterFunc callback. A Task holds
// only the resource's ids and what its goroutine needs to enter its
// context; the resource object is created only if an Init hook is enabled
// when the task is created, or when ExecutionAsyncResource asks for it
// inside the goroutine. A nil *Task (tracking off) is valid and does
// nothing, and the checks that decide so are inlined at the call site. A
// Task is valid until its End returns: the task of a go statement (Go) is
// recycled then.
//
// Called by instrumented code.
type Task struct {
	id, trigger uint64
	als         *alsFrame
	typ         string
	site        *Site
	res         *core // the resource object's core, once it exists
	// gs is the state of the goroutine that runs the task, when that
	// goroutine has none of its own: a new goroutine (the usual case)
	// takes it rather than one from gsPool, so entering and leaving the
	// task's scope costs one table update each way and no shared pool.
	gs     gstate
	pooled bool // from taskPool: End puts it back
	// lent says that gs became the state of the goroutine that created
	// the task (see emitInit): the task's goroutine must not use it.
	lent bool
}

func newTask(typ string, site *Site) *Task {
	if !tracking.Load() {
		return nil
	}
	return newTrackedTask(typ, site)
}

func newTrackedTask(typ string, site *Site) *Task {
	return initTask(&Task{}, typ, site)
}

// initTask makes t, a zero Task, the resource typ created at site by the
// calling goroutine.
func initTask(t *Task, typ string, site *Site) *Task {
	id := goid.Get()
	gs := lookup(id)
	cur := &unknownFrame
	switch {
	case gs != nil:
		cur = &gs.cur
	case id == 1:
		cur = &rootFrame
	}
	t.trigger, t.id, t.als, t.typ, t.site = cur.id, newID(), cur.als, typ, site
	if fns := active.Load().init; len(fns) > 0 {
		t.emitInit(fns, gs, id)
	}
	return t
}

// emitInit emits init for t, created by goroutine id whose state is gs (nil
// if it has none). A creator that has no state needs one only to count
// its dispatch depth; t's own state, unused until t's goroutine begins,
// serves, rather than one taken from gsPool and given back. If the
// callbacks leave the creator needing a state of its own (EnterWith, a
// WithScope not yet restored), t's state stays the creator's, an
// ordinary state from then on, and t's goroutine takes another (lent).
func (t *Task) emitInit(fns []func(uint64, string, uint64, any), gs *gstate, id uint64) {
	c := t.object()
	if gs != nil || id == 1 {
		dispatchInit(gs, fns, c)
		return
	}
	gs = &t.gs
	gs.goid.Store(id) // atomic: a recycled task's state may still be probed
	gs.cur.clear()
	publish(id, gs)
	if !dispatchInitOn(gs, fns, c) {
		return
	}
	if !gs.idle() {
		t.lent = true
		return
	}
	unpublish(gs)
	gs.goid.Store(0)
	gs.cur.clear()
	gs.stack, gs.pending = nil, nil
}

// dispatchInitOn is dispatchInit on gs, the state of a task that its
// creator uses for the dispatch. It reports whether the callbacks
// returned. If one of them called runtime.Goexit instead, the creator's
// goroutine is ending and will not start the task: gs is released as the
// state a dispatch acquired would be, and the task is garbage.
func dispatchInitOn(gs *gstate, fns []func(uint64, string, uint64, any), c *core) (returned bool) {
	gs.depth++
	defer func() {
		if r := recover(); r != nil {
			fatalHookPanic(evInit, r)
		}
		if leaveDispatch(gs) && !returned {
			releaseIfIdle(gs)
		}
	}()
	for _, f := range fns {
		f(c.id, c.typ, c.trigger, c.obj)
	}
	return true
}

// taskPool recycles the tasks of go statements: nothing refers to such a
// task once its End has returned (its resource object, if any, is a
// separate allocation), so End puts it back, and a spawn costs no
// allocation.
var taskPool = sync.Pool{New: func() any { return new(Task) }}

// object returns the core of t's resource object, creating it the first
// time. Only the goroutine that creates t (before starting it) or the one
// that runs it calls this, never both at once.
func (t *Task) object() *core {
	if t.res == nil {
		r := &Resource{Site: t.site}
		r.core = core{id: t.id, trigger: t.trigger, typ: t.typ, obj: r, als: t.als}
		t.res = &r.core
	}
	return t.res
}

// frame returns the context t's goroutine runs in.
func (t *Task) frame() frame {
	return frame{id: t.id, trigger: t.trigger, res: t.res, als: t.als, task: t}
}

// Go creates the GOROUTINE resource of a go statement and emits init. The
// rewriter turns
//
//	go f(x, y)
//
// into
//
//	go _asyncinstrRun2(f, x, y, _asyncinstrGo(&_asyncinstrSites[3]))
//
// where _asyncinstrGo is Go, _asyncinstrSites[3] the statement's Site, and
// _asyncinstrRun2 a generic function that calls f(x, y) between Begin and
// a deferred End, all declared by the rewriter in a companion file of the
// same package. The go statement still
// evaluates f, x and y where it did, and Go after them.
//
// Called by instrumented code.
func Go(site *Site) *Task {
	if !tracking.Load() {
		return nil
	}
	t := initTask(taskPool.Get().(*Task), typeGoroutine, site)
	t.pooled = true
	return t
}

// Begin makes t's context current on the calling goroutine and emits
// before. It must be the first thing t's goroutine does.
//
// Called by instrumented code.
func (t *Task) Begin() {
	if t != nil {
		t.begin()
	}
}

func (t *Task) begin() {
	id := goid.Get()
	gs := lookup(id)
	switch {
	case gs != nil:
		// Inside another scope on this goroutine.
		gs.push(t.frame())
	case !t.lent && !t.gs.owned && id != 1:
		// A goroutine in no scope, the task's own as a rule: its state
		// is t.gs, in t's frame from the start; End unregisters it,
		// which restores the goroutine's base context (unknown).
		gs = &t.gs
		gs.owned = true
		gs.goid.Store(id) // atomic: a recycled task's state may still be probed
		f := t.frame()
		gs.cur.set(&f)
		publish(id, gs)
	default:
		gs = gsPool.Get().(*gstate)
		gs.cur.set(baseRef(id))
		register(id, gs)
		gs.push(t.frame())
	}
	emitBefore(gs, t.id)
}

// End emits after and destroy for t and restores the goroutine's previous
// context. It must be deferred right after Begin, so that it also runs when
// the goroutine panics or calls runtime.Goexit.
//
// Called by instrumented code.
func (t *Task) End() {
	if t != nil {
		t.end()
	}
}

func (t *Task) end() {
	gs := &t.gs
	if t.lent || !gs.live || gs.goid.Load() != goid.Get() {
		endScope(nil, t.id, true)
		return
	}
	// t's own goroutine state: after, destroy, and the state leaves the
	// table. A scope left open inside the task (only code that misuses
	// the entry points can leave one) is a corrupted stack while hooks
	// check it, and otherwise ends with the goroutine.
	if active.Load().total == 0 {
		t.leave()
		emitDestroy(gs, t.id) // the hook set is read again, as after an after dispatch
	} else {
		t.afterDestroy()
	}
	unregister(gs)
	if t.pooled {
		t.recycle()
	}
}

// leave restores the base context of t's goroutine, whose state is t's own,
// once t's after has been emitted.
func (t *Task) leave() {
	gs := &t.gs
	if (gs.cur.id != t.id || len(gs.stack) != 0) && checking() {
		fatalCorrupted(gs.cur.id, t.id)
	}
	gs.cur.clear() // after restores the goroutine's base context
	gs.stack = nil
}

// afterDestroy emits after, restores the goroutine's base context and
// emits destroy for t on its own state: two dispatches in one batch.
func (t *Task) afterDestroy() {
	b := batch{gs: &t.gs}
	defer b.end()
	if fns := active.Load().after; len(fns) > 0 {
		b.call(batchAfter, fns, t.id)
	}
	t.leave()
	if fns := active.Load().destroy; len(fns) > 0 {
		b.call(batchDestroy, fns, t.id)
	}
}

// recycle zeroes t, which nothing refers to any more, and puts it back in
// taskPool. Its state's goid is written atomically, not zeroed with the
// rest: a goroutine probing the table may still read it (and find that it
// is not its own).
func (t *Task) recycle() {
	t.gs.goid.Store(0)
	t.id, t.trigger, t.als, t.typ, t.site, t.res, t.pooled, t.lent = 0, 0, nil, "", nil, nil, false, false
	t.gs.cur.clear()
	t.gs.stack0[0].clear()
	t.gs.stack0[1].clear()
	t.gs.stack = nil
	t.gs.depth, t.gs.pins, t.gs.pending, t.gs.live, t.gs.owned = 0, 0, nil, false, false
	taskPool.Put(t)
}

// AsyncID returns t's async id, or 0 for a nil Task (tracking off).
func (t *Task) AsyncID() uint64 {
	if t == nil {
		return 0
	}
	return t.id
}

// TriggerAsyncID returns the id of the context that created t.
func (t *Task) TriggerAsyncID() uint64 {
	if t == nil {
		return 0
	}
	return t.trigger
}

// cancel destroys t, which will never run, without before or after.
func (t *Task) cancel() {
	if t != nil {
		emitDestroy(nil, t.id)
	}
}

// wrap returns f, run between t's Begin and End.
func (t *Task) wrap(f func()) func() {
	return func() {
		t.Begin()
		defer t.End()
		f()
	}
}

// GoFunc creates the GOROUTINE resource for f, which its caller will run
// in a new goroutine, and returns f wrapped to run in that resource. It is
// how instrumented code reports sync.WaitGroup.Go and errgroup.Group.Go:
//
//	wg.Go(f)  =>  wg.Go(hooksrt.GoFunc(f, &site))
//
// With tracking off it returns f itself.
//
// Called by instrumented code.
func GoFunc(f func(), site *Site) func() {
	t := newTask(typeGoroutine, site)
	if t == nil {
		return f
	}
	return t.wrap(f)
}

// GoFuncErr is GoFunc for functions that return an error (errgroup.Group.Go):
//
//	g.Go(f)  =>  g.Go(hooksrt.GoFuncErr(f, &site))
//
// Called by instrumented code.
func GoFuncErr(f func() error, site *Site) func() error {
	t := newTask(typeGoroutine, site)
	if t == nil {
		return f
	}
	return t.wrapErr(f)
}

func (t *Task) wrapErr(f func() error) func() error {
	return func() error {
		t.Begin()
		defer t.End()
		return f()
	}
}

// TryGo reports errgroup.Group.TryGo: the resource is created at the call
// and, if tryGo does not start f, destroyed without before or after.
//
//	g.TryGo(f)  =>  hooksrt.TryGo(g.TryGo, f, &site)
//
// Called by instrumented code.
func TryGo(tryGo func(func() error) bool, f func() error, site *Site) bool {
	t := newTask(typeGoroutine, site)
	if t == nil {
		return tryGo(f)
	}
	if tryGo(t.wrapErr(f)) {
		return true
	}
	t.cancel()
	return false
}

// ContextAfterFunc reports context.AfterFunc: a CONTEXTAFTERFUNC resource
// is created at the call; f runs in its scope; destroy follows f, or comes
// from the returned stop function when it returns true.
//
//	context.AfterFunc(ctx, f)  =>  hooksrt.ContextAfterFunc(context.AfterFunc, ctx, f, &site)
//
// afterFunc is context.AfterFunc itself, passed through so that the
// rewritten file keeps its reference to package context.
//
// Called by instrumented code.
func ContextAfterFunc(afterFunc func(context.Context, func()) func() bool, ctx context.Context, f func(), site *Site) (stop func() bool) {
	t := newTask(typeContextAfterFunc, site)
	if t == nil {
		return afterFunc(ctx, f)
	}
	s := afterFunc(ctx, t.wrap(f))
	return func() bool {
		if s() {
			t.cancel()
			return true
		}
		return false
	}
}

// A timerState links an AfterFunc timer to the Timeout resources of its
// runs. Every arming (AfterFunc, or a Reset of a timer that fired or was
// stopped) appends a resource, and every run takes the oldest: a run that
// has fired but not yet started when a Reset re-arms the timer still gets
// its own resource. The last entry belongs to the pending arming, if any,
// which is what a successful Stop cancels.
type timerState struct {
	mu    sync.Mutex
	queue []*Task
	site  *Site
}

// timers maps each AfterFunc timer created while tracking (weakly, so that
// the map never keeps a timer alive) to its state. An entry is removed when
// its timer is garbage collected.
var (
	timers  sync.Map // weak.Pointer[time.Timer] -> *timerState
	timersN atomic.Int64
)

// AfterFunc reports time.AfterFunc: a Timeout resource is created at the
// call, f runs in its scope, and destroy follows f.
//
//	time.AfterFunc(d, f)  =>  hooksrt.AfterFunc(time.AfterFunc, d, f, &site)
//
// afterFunc is time.AfterFunc itself, passed through so that the rewritten
// file keeps its reference to package time. Stop and Reset calls on the
// timer are rewritten to StopTimer and ResetTimer.
//
// Called by instrumented code.
func AfterFunc(afterFunc func(time.Duration, func()) *time.Timer, d time.Duration, f func(), site *Site) *time.Timer {
	task := newTask(typeTimeout, site)
	if task == nil {
		return afterFunc(d, f)
	}
	ts := &timerState{queue: []*Task{task}, site: site}
	t := afterFunc(d, func() { ts.fire(f) })
	key := weak.Make(t)
	timers.Store(key, ts)
	timersN.Add(1)
	runtime.AddCleanup(t, forgetTimer, key)
	return t
}

func forgetTimer(key weak.Pointer[time.Timer]) {
	timers.Delete(key)
	timersN.Add(-1)
}

func lookupTimer(t *time.Timer) *timerState {
	if t == nil || timersN.Load() == 0 {
		return nil
	}
	if v, ok := timers.Load(weak.Make(t)); ok {
		return v.(*timerState)
	}
	return nil
}

func (ts *timerState) fire(f func()) {
	ts.mu.Lock()
	var task *Task // nil if armed by code that was not rewritten
	if len(ts.queue) > 0 {
		task = ts.queue[0]
		ts.queue[0] = nil
		ts.queue = ts.queue[1:]
	}
	ts.mu.Unlock()
	task.Begin()
	defer task.End()
	f()
}

// StopTimer reports (*time.Timer).Stop: when Stop returns true on an
// AfterFunc timer, the pending run's Timeout resource is destroyed without
// before or after, and on a timer of NewTimer or After, its TIMER. On any
// other timer it is t.Stop().
//
//	t.Stop()  =>  hooksrt.StopTimer(t)
//
// Called by instrumented code.
func StopTimer(t *time.Timer) bool {
	if t != nil && t.C != nil {
		if ct := lookupChanTimer(t.C); ct != nil {
			return stopChanTimer(t, ct)
		}
	}
	ts := lookupTimer(t)
	if ts == nil {
		return t.Stop()
	}
	ts.mu.Lock()
	stopped := t.Stop()
	var task *Task
	if n := len(ts.queue); stopped && n > 0 {
		task = ts.queue[n-1]
		ts.queue[n-1] = nil
		ts.queue = ts.queue[:n-1]
	}
	ts.mu.Unlock()
	task.cancel()
	return stopped
}

// ResetTimer reports (*time.Timer).Reset. On an AfterFunc timer that is
// still pending the run keeps its resource; on one that already fired or was
// stopped, a new Timeout resource is created, triggered by the caller (a
// run that fired earlier but has not started yet keeps its own); on a
// timer of NewTimer that fired or was stopped, a new TIMER. Its
// init is emitted before the timer can fire; a hook must not stop or reset
// the timer whose init it is handling. On any other timer it is t.Reset(d).
//
//	t.Reset(d)  =>  hooksrt.ResetTimer(t, d)
//
// Called by instrumented code.
func ResetTimer(t *time.Timer, d time.Duration) bool {
	if t != nil && t.C != nil {
		if ct := lookupChanTimer(t.C); ct != nil {
			return resetChanTimer(t, ct, d)
		}
	}
	ts := lookupTimer(t)
	if ts == nil {
		return t.Reset(d)
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	pending := t.Reset(d)
	if !pending {
		if task := newTask(typeTimeout, ts.site); task != nil {
			ts.queue = append(ts.queue, task)
		}
	}
	return pending
}

// A Handoff is the CHANSEND resource of a value sent on a tracked channel:
// the value carries it to whichever goroutine receives it, so attribution
// is exact. Every value sent by instrumented code carries a non-nil
// Handoff, also while tracking is off (a shared one that emits nothing);
// the zero value that a closed channel yields carries nil. That is how a
// receive tells the two apart without a comma-ok form of its own.
//
// Called by instrumented code.
type Handoff struct {
	Resource
	on *gstate
}

// untracked is the Handoff of a value sent while tracking was off. Its id
// is 0, which no tracked resource has.
var untracked Handoff

// live reports whether h is a tracked handoff.
func (h *Handoff) live() bool { return h != nil && h.id != 0 }

// Send creates the CHANSEND resource of a send that is starting and emits
// init on the sending goroutine. The sender's AsyncLocalStorage stores are
// captured. With tracking off it returns a shared Handoff that emits
// nothing.
//
// Called by instrumented code.
func Send(site *Site) *Handoff {
	if !tracking.Load() {
		return &untracked
	}
	return newHandoff(site)
}

// Kept out of line, so that the check in front of it inlines at the
// instrumented site.
//
//go:noinline
func newHandoff(site *Site) *Handoff {
	// initCore, inlined: one call less per send.
	cur := currentFrame()
	trigger, als, id := cur.id, cur.als, newID()
	h := &Handoff{}
	h.Site, h.trigger, h.id, h.typ, h.als = site, trigger, id, typeChanSend, als
	h.obj = &h.Resource
	emitInit(&h.core)
	return h
}

// Begin opens the receiver's handling scope: promiseResolve, then before,
// on the receiving goroutine.
//
// Called by instrumented code.
func (h *Handoff) Begin() {
	if h.live() {
		h.begin()
	}
}

// Kept out of line, so that the check in front of it inlines at the
// instrumented site.
//
//go:noinline
func (h *Handoff) begin() {
	h.on = resolveBefore(&h.core)
}

// End closes the scope opened by Begin: after, then destroy.
//
// Called by instrumented code.
func (h *Handoff) End() {
	if h.live() {
		h.end()
	}
}

// Kept out of line, so that the check in front of it inlines at the
// instrumented site.
//
//go:noinline
func (h *Handoff) end() {
	endScope(h.on, h.id, h.destroyed.CompareAndSwap(false, true))
}

// Received reports a receive whose handling scope is empty: promiseResolve,
// before, after and destroy at once. The receiver keeps its own context, as
// code after an await does in Node.
//
// Called by instrumented code.
func (h *Handoff) Received() {
	if h.live() {
		h.received()
	}
}

// Kept out of line, so that the check in front of it inlines at the
// instrumented site.
//
//go:noinline
func (h *Handoff) received() {
	h.begin()
	h.end()
}

// Cancel destroys a handoff whose value was never received (a send case
// that lost its select), without before or after.
//
// Called by instrumented code.
func (h *Handoff) Cancel() {
	if h.live() {
		destroy(&h.core)
	}
}

// A Scope holds the handling scope of at most one received value on one
// goroutine (a handoff's, or a timer's), for scopes that end where the
// next one starts or where control leaves them: the iteration of a loop
// that receives, the clause of a select. The zero Scope is empty. The
// rewriter declares one per nesting level at the top of the function and
// defers its Exit, so that a return or a panic inside the scope closes it
// too:
//
//	var sc hooksrt.Scope
//	defer sc.Exit()
//	for m := range ch {
//		v := enter(&sc, m) // sc.Enter(m.H), then m's value
//		...
//		sc.Exit()
//	}
//
// Called by instrumented code.
type Scope struct {
	c       *core
	on      *gstate
	destroy bool // whether the scope's end destroys c
	shared  bool // whether c was held (see core.hold) for the scope
}

// Enter closes the open scope, if any, and opens h's: promiseResolve,
// then before. With nothing to close or open (tracking off), it is two
// comparisons, inlined at the call site.
func (s *Scope) Enter(h *Handoff) {
	if s.c != nil || h.live() {
		s.enter(h)
	}
}

//go:noinline
func (s *Scope) enter(h *Handoff) {
	s.Exit()
	if h.live() {
		s.c, s.on, s.destroy, s.shared = &h.core, resolveBefore(&h.core), true, false
	}
}

func (s *Scope) open(c *core, destroy bool) {
	s.c, s.on, s.destroy, s.shared = c, before(c), destroy, false
}

// Exit closes the open scope, if any: after, and destroy if the scope's
// end is the resource's.
func (s *Scope) Exit() {
	if s.c != nil {
		s.exit()
	}
}

//go:noinline
func (s *Scope) exit() {
	c := s.c
	s.c = nil
	endScope(s.on, c.id, s.destroy && c.destroyed.CompareAndSwap(false, true))
	if s.shared {
		c.release()
	}
}
