//go:build go1.25

package hooksrt_test

// Conformance tests for Node's async_hooks rules about ids, execution
// contexts, executionAsyncResource, destroy, AsyncResource and the provider
// list: rules 14-19, 22-33 and 37 of
// /work/shared/research/node-conformance.md, section 2, translated to Go as
// SEMANTICS.md says. Rules 34-36 (promises) do not apply to Go (SEMANTICS
// section 6) and have no tests.
//
// Hooks are process-global, so no test here is parallel, every hook a test
// enables is disabled before it returns, and assertions are made about the
// ids each test created itself (other tests' resources may still deliver
// events, such as destroys after garbage collection).
//
// Helpers and child scenarios in this file are prefixed "cr" and
// "resources/" so as not to collide with other test files of the package.

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
	"github.com/asyncinstr/asyncinstr/runtime/hooksrt/hookstest"
)

// crWait bounds every wait for an event that must come.
const crWait = 10 * time.Second

// crEvent is one event seen by a crRecorder, or a mark the test added.
type crEvent struct {
	kind    string // "init", "before", "after", "destroy", or a mark
	id      uint64
	typ     string // init only
	trigger uint64 // init only
	mark    bool
}

// crRecorder is a hook that logs every event in the order it was delivered
// and lets a test wait for the destroy of an id. It never keeps a resource
// object, so it does not delay garbage collection.
type crRecorder struct {
	hook *hooksrt.AsyncHook

	mu        sync.Mutex
	evs       []crEvent
	destroyed map[uint64]chan struct{}
}

func newCrRecorder() *crRecorder {
	r := &crRecorder{destroyed: map[uint64]chan struct{}{}}
	r.hook = hooksrt.CreateHook(hooksrt.Callbacks{
		Init: func(id uint64, typ string, trigger uint64, _ any) {
			r.add(crEvent{kind: "init", id: id, typ: typ, trigger: trigger})
		},
		Before: func(id uint64) { r.add(crEvent{kind: "before", id: id}) },
		After:  func(id uint64) { r.add(crEvent{kind: "after", id: id}) },
		Destroy: func(id uint64) {
			r.add(crEvent{kind: "destroy", id: id})
			r.mu.Lock()
			ch := r.chanLocked(id)
			select {
			case <-ch:
			default:
				close(ch)
			}
			r.mu.Unlock()
		},
	})
	return r
}

func (r *crRecorder) enable() *crRecorder  { r.hook.Enable(); return r }
func (r *crRecorder) disable() *crRecorder { r.hook.Disable(); return r }

func (r *crRecorder) add(e crEvent) {
	r.mu.Lock()
	r.evs = append(r.evs, e)
	r.mu.Unlock()
}

// mark adds a test's own step to the log.
func (r *crRecorder) mark(s string) { r.add(crEvent{kind: s, mark: true}) }

func (r *crRecorder) chanLocked(id uint64) chan struct{} {
	ch, ok := r.destroyed[id]
	if !ok {
		ch = make(chan struct{})
		r.destroyed[id] = ch
	}
	return ch
}

// destroyedChan is closed when destroy for id is delivered to r.
func (r *crRecorder) destroyedChan(id uint64) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.chanLocked(id)
}

// waitDestroy waits until r has seen destroy for id.
func (r *crRecorder) waitDestroy(t *testing.T, id uint64) {
	t.Helper()
	select {
	case <-r.destroyedChan(id):
	case <-time.After(crWait):
		t.Fatalf("no destroy for %d within %v", id, crWait)
	}
}

// waitDestroyGC waits until r has seen destroy for id, running the garbage
// collector meanwhile.
func (r *crRecorder) waitDestroyGC(t *testing.T, id uint64) {
	t.Helper()
	if !crPollGC(r.destroyedChan(id)) {
		t.Fatalf("no destroy for %d within %v of garbage collection", id, crWait)
	}
}

// crPollGC runs the garbage collector until ch is closed, for at most
// crWait, and reports whether it was.
func crPollGC(ch <-chan struct{}) bool {
	deadline := time.Now().Add(crWait)
	for time.Now().Before(deadline) {
		runtime.GC()
		select {
		case <-ch:
			return true
		case <-time.After(5 * time.Millisecond):
		}
	}
	return false
}

// crGCGrace gives cleanups queued by earlier collections time to run, for
// the tests that check that a destroy does NOT come.
func crGCGrace() {
	for range 10 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// count returns how many events of kind r saw for id.
func (r *crRecorder) count(kind string, id uint64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.evs {
		if !e.mark && e.kind == kind && e.id == id {
			n++
		}
	}
	return n
}

// initOf returns the init event of id.
func (r *crRecorder) initOf(id uint64) (crEvent, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.evs {
		if !e.mark && e.kind == "init" && e.id == id {
			return e, true
		}
	}
	return crEvent{}, false
}

// log renders the events of the named ids, and all marks, in order, as
// "kind name" (marks as themselves).
func (r *crRecorder) log(names map[uint64]string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.evs {
		switch {
		case e.mark:
			out = append(out, e.kind)
		case names[e.id] != "":
			out = append(out, e.kind+" "+names[e.id])
		}
	}
	return out
}

// crTask is what crGo tells of the goroutine's resource: its ids, read
// before the goroutine starts (a *hooksrt.Task is valid until its End).
type crTask struct{ id, trigger uint64 }

func (t crTask) AsyncID() uint64        { return t.id }
func (t crTask) TriggerAsyncID() uint64 { return t.trigger }

// crGo starts f the way rewritten code starts a go statement (see the doc
// comment of hooksrt.Go) and returns the goroutine's resource.
func crGo(site *hooksrt.Site, f func()) crTask {
	t := hooksrt.Go(site)
	ids := crTask{t.AsyncID(), t.TriggerAsyncID()}
	go func(f func(), t *hooksrt.Task) {
		t.Begin()
		defer t.End()
		f()
	}(f, t)
	return ids
}

// crBySite returns the activities c recorded for resources that
// instrumented code created at site, in init order.
func crBySite(c *hookstest.Collector, site *hooksrt.Site) []hookstest.Activity {
	var out []hookstest.Activity
	for _, a := range c.Activities() {
		if a.Site == site {
			out = append(out, a)
		}
	}
	return out
}

func crSite(name string) *hooksrt.Site {
	return &hooksrt.Site{File: "conformance_resources_test.go", Func: name}
}

// crRecv receives from ch or fails the test.
func crRecv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(crWait):
		t.Fatalf("timed out after %v", crWait)
		panic("unreachable")
	}
}

// crPanics reports whether f panics, and with what.
func crPanics(f func()) (v any, panicked bool) {
	defer func() {
		if panicked {
			v = recover()
		}
	}()
	panicked = true
	f()
	panicked = false
	return nil, false
}

// ---------------------------------------------------------------------
// Rule 14: top level.

var crSite14Go = crSite("rule14.go")
var crSite14Timer = crSite("rule14.timer")

func init() {
	child("resources/rule14-top-level", func() {
		var mu sync.Mutex
		inits := map[uint64]string{}
		hook := hooksrt.CreateHook(hooksrt.Callbacks{
			Init: func(id uint64, typ string, trigger uint64, _ any) {
				s := fmt.Sprintf("%s trigger=%d exec=%d", typ, trigger, hooksrt.ExecutionAsyncID())
				mu.Lock()
				inits[id] = s
				mu.Unlock()
			},
		}).Enable()
		defer hook.Disable()
		initOf := func(id uint64) string {
			mu.Lock()
			defer mu.Unlock()
			return inits[id]
		}

		fmt.Printf("top: exec=%d trigger=%d\n", hooksrt.ExecutionAsyncID(), hooksrt.TriggerAsyncID())

		r := hooksrt.NewAsyncResource("TOPLEVEL", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
		fmt.Printf("resource: trigger=%d id>1=%v init=%s\n", r.TriggerAsyncID(), r.AsyncID() > 1, initOf(r.AsyncID()))
		r.EmitDestroy()

		// A go statement at top level, in exactly the shape the rewriter
		// emits.
		type ids struct{ exec, trigger uint64 }
		fromGo := make(chan ids, 1)
		f := func() { fromGo <- ids{hooksrt.ExecutionAsyncID(), hooksrt.TriggerAsyncID()} }
		go func(f func(), t *hooksrt.Task) {
			t.Begin()
			defer t.End()
			f()
		}(f, hooksrt.Go(crSite14Go))
		g := <-fromGo
		fmt.Printf("goroutine: init=%s inside: trigger=%d\n", initOf(g.exec), g.trigger)

		fromTimer := make(chan ids, 1)
		hooksrt.AfterFunc(time.AfterFunc, time.Millisecond, func() {
			fromTimer <- ids{hooksrt.ExecutionAsyncID(), hooksrt.TriggerAsyncID()}
		}, crSite14Timer)
		tm := <-fromTimer
		fmt.Printf("timer: init=%s inside: trigger=%d\n", initOf(tm.exec), tm.trigger)

		fmt.Printf("end: exec=%d trigger=%d\n", hooksrt.ExecutionAsyncID(), hooksrt.TriggerAsyncID())
	})
}

// Rule 14 (test/parallel/test-async-hooks-top-level-clearimmediate.js,
// test/async-hooks/test-promise.js,
// test/parallel/test-async-hooks-promise-triggerid.js): at top level
// executionAsyncId() is 1 and triggerAsyncId() is 0, and a resource created
// there has trigger 1. Go's top level is the main goroutine (and package
// initialisation), so the scenario runs in a child process on its main
// goroutine; the resources are an AsyncResource, a go statement and a
// time.AfterFunc timer (Go's counterparts of the Immediate and Promise the
// Node tests create). A goroutine that no instrumented code started (a test
// function's goroutine) is in the unknown context, 0, and what it creates
// has trigger 0.
func TestRule14TopLevelContext(t *testing.T) {
	checkChild(t, "resources/rule14-top-level", "top: exec=1 trigger=0\n"+
		"resource: trigger=1 id>1=true init=TOPLEVEL trigger=1 exec=1\n"+
		"goroutine: init=GOROUTINE trigger=1 exec=1 inside: trigger=1\n"+
		"timer: init=Timeout trigger=1 exec=1 inside: trigger=1\n"+
		"end: exec=1 trigger=0\n")

	// On a test goroutine: the unknown context.
	hooksrt.Track()
	if got := hooksrt.ExecutionAsyncID(); got != 0 {
		t.Errorf("ExecutionAsyncID() on a test goroutine = %d, want 0", got)
	}
	if got := hooksrt.TriggerAsyncID(); got != 0 {
		t.Errorf("TriggerAsyncID() on a test goroutine = %d, want 0", got)
	}
	r := hooksrt.NewAsyncResource("conformance.rule14", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	defer r.EmitDestroy()
	if r.TriggerAsyncID() != 0 {
		t.Errorf("AsyncResource created on a test goroutine has trigger %d, want 0", r.TriggerAsyncID())
	}
	done := make(chan uint64, 1)
	task := crGo(crSite("rule14.test-goroutine"), func() { done <- hooksrt.TriggerAsyncID() })
	if got := crRecv(t, done); got != 0 {
		t.Errorf("goroutine started on a test goroutine: TriggerAsyncID() inside = %d, want 0", got)
	}
	if task.TriggerAsyncID() != 0 {
		t.Errorf("goroutine started on a test goroutine has trigger %d, want 0", task.TriggerAsyncID())
	}
}

// ---------------------------------------------------------------------
// Rule 15: default trigger.

// Rule 15 (test/async-hooks/test-embedder.api.async-resource.js,
// test/async-hooks/test-nexttick-default-trigger.js,
// test/parallel/test-async-wrap-trigger-id.js,
// test/async-hooks/test-emit-init.js): a resource's default trigger is the
// current execution id. An AsyncResource created in a scope has that scope's
// id as trigger, and so has a goroutine (Go's counterpart of nextTick: inside
// it, TriggerAsyncID() is the id that started it). Siblings share a trigger;
// resources with different ancestry have different triggers. A zero
// TriggerAsyncID option (Node's null) means the default.
func TestRule15DefaultTrigger(t *testing.T) {
	hooksrt.Track()
	rec := newCrRecorder().enable()
	defer rec.disable()

	p := hooksrt.NewAsyncResource("conformance.rule15.parent", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	defer p.EmitDestroy()
	if got, want := p.TriggerAsyncID(), hooksrt.ExecutionAsyncID(); got != want {
		t.Errorf("resource created outside any scope: trigger %d, want ExecutionAsyncID() %d", got, want)
	}

	type pair struct{ exec, trigger uint64 }
	var a, b, explicitZero *hooksrt.AsyncResource
	var g0 crTask
	var g0Trigger, g1, g2 pair
	p.RunInAsyncScope(func() {
		a = hooksrt.NewAsyncResource("conformance.rule15.a", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
		b = hooksrt.NewAsyncResource("conformance.rule15.b", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
		explicitZero = hooksrt.NewAsyncResource("conformance.rule15.zero", hooksrt.AsyncResourceOptions{TriggerAsyncID: 0, RequireManualDestroy: true})

		// Node's test-async-wrap-trigger-id.js with goroutines for
		// nextTicks: two goroutines started by the same goroutine share its
		// id as trigger, which differs from the trigger seen one level up.
		done := make(chan struct{})
		g0 = crGo(crSite("rule15.g0"), func() {
			defer close(done)
			g0Trigger = pair{hooksrt.ExecutionAsyncID(), hooksrt.TriggerAsyncID()}
			c1, c2 := make(chan pair, 1), make(chan pair, 1)
			crGo(crSite("rule15.g1"), func() { c1 <- pair{hooksrt.ExecutionAsyncID(), hooksrt.TriggerAsyncID()} })
			crGo(crSite("rule15.g2"), func() { c2 <- pair{hooksrt.ExecutionAsyncID(), hooksrt.TriggerAsyncID()} })
			g1, g2 = <-c1, <-c2
		})
		crRecv(t, done)
	})
	defer a.EmitDestroy()
	defer b.EmitDestroy()
	defer explicitZero.EmitDestroy()

	for _, r := range []*hooksrt.AsyncResource{a, b, explicitZero} {
		if r.TriggerAsyncID() != p.AsyncID() {
			t.Errorf("%s created in the parent's scope: trigger %d, want %d", r.Type(), r.TriggerAsyncID(), p.AsyncID())
		}
		if e, ok := rec.initOf(r.AsyncID()); !ok || e.trigger != p.AsyncID() {
			t.Errorf("%s: init trigger = %d (init seen: %v), want %d", r.Type(), e.trigger, ok, p.AsyncID())
		}
	}
	if a.TriggerAsyncID() != b.TriggerAsyncID() {
		t.Errorf("siblings a and b: triggers %d and %d differ", a.TriggerAsyncID(), b.TriggerAsyncID())
	}
	if g0.TriggerAsyncID() != p.AsyncID() {
		t.Errorf("goroutine started in the parent's scope: trigger %d, want %d", g0.TriggerAsyncID(), p.AsyncID())
	}
	if g0Trigger != (pair{g0.AsyncID(), p.AsyncID()}) {
		t.Errorf("inside g0: exec, trigger = %v, want %v", g0Trigger, pair{g0.AsyncID(), p.AsyncID()})
	}
	if g1.trigger != g0.AsyncID() || g2.trigger != g0.AsyncID() {
		t.Errorf("goroutines started by g0 (%d): triggers %d and %d, want both %d", g0.AsyncID(), g1.trigger, g2.trigger, g0.AsyncID())
	}
	if g1.trigger == g0Trigger.trigger {
		t.Errorf("g1's trigger %d equals g0's trigger: different ancestry must differ", g1.trigger)
	}
	if g1.exec == g2.exec || g1.exec == 0 || g2.exec == 0 {
		t.Errorf("sibling goroutines have ids %d and %d, want distinct non-zero", g1.exec, g2.exec)
	}
}

// ---------------------------------------------------------------------
// Rule 16: RunInAsyncScope sets and restores the context.

// Rule 16 (test/parallel/test-async-hooks-recursive-stack-runInAsyncScope.js):
// inside RunInAsyncScope, ExecutionAsyncID() and TriggerAsyncID() are the
// resource's AsyncID() and TriggerAsyncID(), and they are restored after
// nested scopes return; 1000 nested scopes work. (The promise-reaction half
// of the rule does not apply to Go, SEMANTICS section 6.)
func TestRule16RunInAsyncScopeRecursiveStack(t *testing.T) {
	c := hookstest.NewCollector(hookstest.Options{Types: []string{"conformance.rule16"}}).Enable()
	defer c.Disable()

	const depth = 1000
	var ids []uint64
	var recurse func(n int, parent uint64)
	recurse = func(n int, parent uint64) {
		a := hooksrt.NewAsyncResource("conformance.rule16", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
		defer a.EmitDestroy()
		ids = append(ids, a.AsyncID())
		if a.TriggerAsyncID() != parent {
			t.Errorf("depth %d: trigger %d, want the enclosing scope %d", n, a.TriggerAsyncID(), parent)
		}
		a.RunInAsyncScope(func() {
			if e, tr := hooksrt.ExecutionAsyncID(), hooksrt.TriggerAsyncID(); e != a.AsyncID() || tr != a.TriggerAsyncID() {
				t.Errorf("depth %d, entering: exec %d trigger %d, want %d %d", n, e, tr, a.AsyncID(), a.TriggerAsyncID())
			}
			if n > 0 {
				recurse(n-1, a.AsyncID())
			}
			if e, tr := hooksrt.ExecutionAsyncID(), hooksrt.TriggerAsyncID(); e != a.AsyncID() || tr != a.TriggerAsyncID() {
				t.Errorf("depth %d, after nested scopes: exec %d trigger %d, want %d %d", n, e, tr, a.AsyncID(), a.TriggerAsyncID())
			}
		})
	}
	recurse(depth-1, 0)

	if e, tr := hooksrt.ExecutionAsyncID(), hooksrt.TriggerAsyncID(); e != 0 || tr != 0 {
		t.Errorf("after the outermost scope: exec %d trigger %d, want 0 0", e, tr)
	}
	acts := c.Activities("conformance.rule16")
	if len(acts) != depth || len(ids) != depth {
		t.Fatalf("got %d activities for %d resources, want %d", len(acts), len(ids), depth)
	}
	for i, a := range acts {
		if a.ID != ids[i] {
			t.Fatalf("activity %d has id %d, want %d", i, a.ID, ids[i])
		}
		hookstest.CheckInvocations(t, a, hookstest.Counts{"init": 1, "before": 1, "after": 1, "destroy": 1}, "after recursion")
		// Scopes nest: the i-th before comes after the (i-1)-th and its
		// after comes before the (i-1)-th after.
		if i > 0 {
			p := acts[i-1]
			if a.Before[0] < p.Before[0] || a.After[0] > p.After[0] {
				t.Errorf("scope %d is not nested inside scope %d", a.ID, p.ID)
			}
		}
	}
	c.Check(t)
}

// ---------------------------------------------------------------------
// Rule 17: trigger graphs.

var (
	crSite17T1 = crSite("rule17.timeout1")
	crSite17T2 = crSite("rule17.timeout2")
	crSite17T3 = crSite("rule17.timeout3")
	crSite17G  = crSite("rule17.goroutine")
)

// Rule 17 (test/async-hooks/test-graph.timeouts.js,
// test/async-hooks/test-graph.intervals.js): a timer created inside a timer's
// callback has that timer as its trigger. The timers are time.AfterFunc
// timers as rewritten code creates them (hooksrt.AfterFunc); a goroutine
// started in a timer callback is triggered by the timer too. The TCP half of
// the rule (test-graph.tcp.js) belongs to the net instrumentation, not to
// this package.
func TestRule17TimerGraph(t *testing.T) {
	hooksrt.Track()
	c := hookstest.NewCollector(hookstest.Options{Types: []string{"conformance.rule17", "Timeout", "GOROUTINE"}}).Enable()
	defer c.Disable()
	rec := newCrRecorder().enable()
	defer rec.disable()

	root := hooksrt.NewAsyncResource("conformance.rule17", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	lastTimer := make(chan uint64, 1)
	goroutine := make(chan uint64, 1)
	root.RunInAsyncScope(func() {
		hooksrt.AfterFunc(time.AfterFunc, time.Millisecond, func() {
			crGo(crSite17G, func() { goroutine <- hooksrt.ExecutionAsyncID() })
			hooksrt.AfterFunc(time.AfterFunc, 2*time.Millisecond, func() {
				hooksrt.AfterFunc(time.AfterFunc, 3*time.Millisecond, func() {
					lastTimer <- hooksrt.ExecutionAsyncID()
				}, crSite17T3)
			}, crSite17T2)
		}, crSite17T1)
	})
	root.EmitDestroy()
	rec.waitDestroy(t, crRecv(t, goroutine))
	rec.waitDestroy(t, crRecv(t, lastTimer))

	hookstest.VerifyGraph(t, c, []hookstest.Node{
		{Type: "conformance.rule17", ID: "root"},
		{Type: "Timeout", ID: "timeout:1", Trigger: "root"},
		{Type: "GOROUTINE", ID: "goroutine", Trigger: "timeout:1"},
		{Type: "Timeout", ID: "timeout:2", Trigger: "timeout:1"},
		{Type: "Timeout", ID: "timeout:3", Trigger: "timeout:2"},
	})
	// The same graph, checked by site so that no other resource can be
	// mistaken for one of ours.
	var got []string
	ids := map[uint64]string{root.AsyncID(): "root"}
	for _, s := range []*hooksrt.Site{crSite17T1, crSite17G, crSite17T2, crSite17T3} {
		acts := crBySite(c, s)
		if len(acts) != 1 {
			t.Fatalf("%s: %d activities, want 1", s.Func, len(acts))
		}
		a := acts[0]
		ids[a.ID] = s.Func
		got = append(got, fmt.Sprintf("%s<-%s", s.Func, ids[a.Trigger]))
		hookstest.CheckInvocations(t, a, hookstest.Counts{"init": 1, "before": 1, "after": 1, "destroy": 1}, "after the chain ran")
	}
	want := []string{"rule17.timeout1<-root", "rule17.goroutine<-rule17.timeout1", "rule17.timeout2<-rule17.timeout1", "rule17.timeout3<-rule17.timeout2"}
	if !slices.Equal(got, want) {
		t.Errorf("trigger graph %v, want %v", got, want)
	}
	c.Check(t)
}

// ---------------------------------------------------------------------
// Rule 18: ids.

// Rule 18 (test/async-hooks/test-async-exec-resource-match.js; trackPromise
// in lib/internal/async_hooks.js): ids are never reused and increase, and a
// resource's trigger is allocated before its own id. Go adds concurrency:
// many goroutines creating resources at once still get distinct ids, each
// goroutine sees its ids increase, and every runtime-chosen trigger is
// smaller than the id it triggers.
func TestRule18IdsNeverReused(t *testing.T) {
	hooksrt.Track()
	c := hookstest.NewCollector(hookstest.Options{Types: []string{"conformance.rule18", "GOROUTINE"}}).Enable()
	defer c.Disable()

	// A chain: each resource created in the previous one's scope.
	var chain []*hooksrt.AsyncResource
	var build func(n int)
	build = func(n int) {
		r := hooksrt.NewAsyncResource("conformance.rule18", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
		chain = append(chain, r)
		if n > 0 {
			r.RunInAsyncScope(func() { build(n - 1) })
		}
	}
	build(20)
	for i, r := range chain {
		if i > 0 {
			if r.AsyncID() <= chain[i-1].AsyncID() {
				t.Errorf("chain[%d] has id %d, not above chain[%d]'s %d", i, r.AsyncID(), i-1, chain[i-1].AsyncID())
			}
			if r.TriggerAsyncID() != chain[i-1].AsyncID() {
				t.Errorf("chain[%d] has trigger %d, want %d", i, r.TriggerAsyncID(), chain[i-1].AsyncID())
			}
		}
		if i > 0 && r.TriggerAsyncID() >= r.AsyncID() {
			t.Errorf("chain[%d]: trigger %d not allocated before id %d", i, r.TriggerAsyncID(), r.AsyncID())
		}
		r.EmitDestroy()
	}

	// Concurrently: workers each create resources and goroutines in a scope
	// of their own.
	const workers, perWorker = 16, 200
	var wg sync.WaitGroup
	results := make([][]uint64, workers)
	errs := make(chan string, workers*perWorker*2)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parent := hooksrt.NewAsyncResource("conformance.rule18", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
			defer parent.EmitDestroy()
			mine := []uint64{parent.AsyncID()}
			parent.RunInAsyncScope(func() {
				var inner sync.WaitGroup
				for i := range perWorker {
					var id, trigger uint64
					if i%4 == 0 {
						inner.Add(1)
						task := crGo(crSite("rule18.worker"), inner.Done)
						id, trigger = task.AsyncID(), task.TriggerAsyncID()
					} else {
						r := hooksrt.NewAsyncResource("conformance.rule18", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
						id, trigger = r.AsyncID(), r.TriggerAsyncID()
						r.EmitDestroy()
					}
					if trigger != parent.AsyncID() || trigger >= id {
						errs <- fmt.Sprintf("worker %d: resource %d has trigger %d, want %d (< id)", w, id, trigger, parent.AsyncID())
					}
					if id <= mine[len(mine)-1] {
						errs <- fmt.Sprintf("worker %d: id %d after %d: not increasing", w, id, mine[len(mine)-1])
					}
					mine = append(mine, id)
				}
				inner.Wait()
			})
			results[w] = mine
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	seen := map[uint64]int{}
	for _, r := range chain {
		seen[r.AsyncID()]++
	}
	for _, ids := range results {
		for _, id := range ids {
			seen[id]++
		}
	}
	if want := len(chain) + workers*(perWorker+1); len(seen) != want {
		t.Errorf("%d distinct ids, want %d", len(seen), want)
	}
	for id, n := range seen {
		if n != 1 || id <= 1 {
			t.Errorf("id %d handed out %d times", id, n)
		}
	}
	// The collector saw one init per id (it reports an init delivered twice
	// for one id as a violation).
	n := 0
	for _, a := range c.Activities() {
		if seen[a.ID] == 1 {
			n++
		}
	}
	if n != len(seen) {
		t.Errorf("collector saw %d of our %d inits", n, len(seen))
	}
	c.Check(t)
}

// ---------------------------------------------------------------------
// Rule 19: a reused handle gets a fresh id.

var (
	crSite19Fired   = crSite("rule19.fired")
	crSite19Stopped = crSite("rule19.stopped")
	crSite19Pending = crSite("rule19.pending")
)

// Rule 19 (test/parallel/test-async-hooks-http-agent.js,
// test/parallel/test-async-hooks-http-agent-destroy.js,
// test/parallel/test-async-hooks-http-parser-destroy.js): a reused handle
// gets a fresh id, and destroy(old) comes before init(new). Go's reusable
// handle is a time.AfterFunc timer: Reset on a timer that fired (or was
// stopped) creates a new Timeout resource, triggered by the caller of Reset;
// Reset on a pending timer keeps the resource. (Pooled HTTP connections are
// the net/http instrumentation's.)
func TestRule19ResetTimerGetsFreshID(t *testing.T) {
	hooksrt.Track()
	c := hookstest.NewCollector(hookstest.Options{Types: []string{"Timeout", "conformance.rule19"}}).Enable()
	defer c.Disable()
	rec := newCrRecorder().enable()
	defer rec.disable()

	caller := hooksrt.NewAsyncResource("conformance.rule19", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	defer caller.EmitDestroy()

	t.Run("fired", func(t *testing.T) {
		fired := make(chan uint64, 2)
		tm := hooksrt.AfterFunc(time.AfterFunc, time.Millisecond, func() { fired <- hooksrt.ExecutionAsyncID() }, crSite19Fired)
		old := crRecv(t, fired)
		rec.waitDestroy(t, old)
		var pending bool
		caller.RunInAsyncScope(func() { pending = hooksrt.ResetTimer(tm, time.Millisecond) })
		if pending {
			t.Errorf("ResetTimer on a fired timer returned true")
		}
		fresh := crRecv(t, fired)
		rec.waitDestroy(t, fresh)
		crCheckReused(t, c, crSite19Fired, old, fresh, caller.AsyncID(), hookstest.Counts{"init": 1, "before": 1, "after": 1, "destroy": 1})
	})

	t.Run("stopped", func(t *testing.T) {
		fired := make(chan uint64, 1)
		tm := hooksrt.AfterFunc(time.AfterFunc, time.Hour, func() { fired <- hooksrt.ExecutionAsyncID() }, crSite19Stopped)
		if !hooksrt.StopTimer(tm) {
			t.Fatalf("StopTimer on a pending timer returned false")
		}
		acts := crBySite(c, crSite19Stopped)
		if len(acts) != 1 {
			t.Fatalf("%d activities, want 1", len(acts))
		}
		old := acts[0].ID
		var pending bool
		caller.RunInAsyncScope(func() { pending = hooksrt.ResetTimer(tm, time.Millisecond) })
		if pending {
			t.Errorf("ResetTimer on a stopped timer returned true")
		}
		fresh := crRecv(t, fired)
		rec.waitDestroy(t, fresh)
		crCheckReused(t, c, crSite19Stopped, old, fresh, caller.AsyncID(), hookstest.Counts{"init": 1, "destroy": 1})
	})

	t.Run("pending", func(t *testing.T) {
		fired := make(chan uint64, 1)
		tm := hooksrt.AfterFunc(time.AfterFunc, time.Hour, func() { fired <- hooksrt.ExecutionAsyncID() }, crSite19Pending)
		var pending bool
		caller.RunInAsyncScope(func() { pending = hooksrt.ResetTimer(tm, time.Millisecond) })
		if !pending {
			t.Errorf("ResetTimer on a pending timer returned false")
		}
		id := crRecv(t, fired)
		rec.waitDestroy(t, id)
		acts := crBySite(c, crSite19Pending)
		if len(acts) != 1 || acts[0].ID != id {
			t.Fatalf("a reset of a pending timer: activities %v, want one, the run's %d", acts, id)
		}
		if acts[0].Trigger != 0 {
			t.Errorf("trigger %d, want 0 (the test goroutine that armed it)", acts[0].Trigger)
		}
		hookstest.CheckInvocations(t, acts[0], hookstest.Counts{"init": 1, "before": 1, "after": 1, "destroy": 1}, "reset while pending")
	})
	c.Check(t)
}

// crCheckReused checks the two Timeout resources of a timer that was reset
// after its first resource ended.
func crCheckReused(t *testing.T, c *hookstest.Collector, site *hooksrt.Site, old, fresh, caller uint64, oldCounts hookstest.Counts) {
	t.Helper()
	acts := crBySite(c, site)
	if len(acts) != 2 {
		t.Fatalf("%d activities, want 2:\n%s", len(acts), c)
	}
	a, b := acts[0], acts[1]
	if a.ID != old || b.ID != fresh {
		t.Fatalf("activities %d, %d; want the first run's %d and the second run's %d", a.ID, b.ID, old, fresh)
	}
	if fresh <= old {
		t.Errorf("new id %d not above the old id %d", fresh, old)
	}
	if b.Trigger != caller {
		t.Errorf("new resource's trigger %d, want the caller of Reset %d", b.Trigger, caller)
	}
	if len(a.Destroy) != 1 || len(b.Init) != 1 || a.Destroy[0] > b.Init[0] {
		t.Errorf("destroy(old) at %v, init(new) at %v: want destroy(old) first", a.Destroy, b.Init)
	}
	hookstest.CheckInvocations(t, a, oldCounts, "old resource")
	hookstest.CheckInvocations(t, b, hookstest.Counts{"init": 1, "before": 1, "after": 1, "destroy": 1}, "new resource")
}

// ---------------------------------------------------------------------
// Rule 22: ExecutionAsyncResource at top level and state propagation.

type crStateKey struct{}

var crSite22Go = crSite("rule22.go")

func init() {
	child("resources/rule22-top-level-resource", func() {
		a := hooksrt.ExecutionAsyncResource()
		b := hooksrt.ExecutionAsyncResource()
		_, isRoot := a.(*hooksrt.Root)
		fmt.Printf("top: nil=%v same=%v root=%v\n", a == nil, a == b, isRoot)

		a.(hooksrt.Object).Set(crStateKey{}, "top-state")
		r := hooksrt.NewAsyncResource("TOPLEVEL", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
		var inside any
		r.RunInAsyncScope(func() { inside = hooksrt.ExecutionAsyncResource() })
		r.EmitDestroy()
		fmt.Printf("scope: resource=%v\n", inside == any(r))

		got := make(chan any, 1)
		go func(f func(), t *hooksrt.Task) {
			t.Begin()
			defer t.End()
			f()
		}(func() { got <- hooksrt.ExecutionAsyncResource() }, hooksrt.Go(crSite22Go))
		g := <-got
		res, isResource := g.(*hooksrt.Resource)
		fmt.Printf("goroutine: resource=%v site=%v notroot=%v\n", isResource, isResource && res.Site == crSite22Go, g != a)

		c := hooksrt.ExecutionAsyncResource()
		fmt.Printf("after: same=%v state=%v\n", c == a, c.(hooksrt.Object).Get(crStateKey{}))
	})
}

// Rule 22, identity half (test/parallel/test-async-hooks-execution-async-resource.js,
// test/async-hooks/test-async-local-storage-run-resource.js): at top level
// executionAsyncResource() is a non-nil object of stable identity (the
// *hooksrt.Root), unchanged after a scope returns, and values set on it stay.
// On a goroutine that no instrumented code started it is the shared
// *hooksrt.Unknown, also stable (Node's constant topLevelResource for an
// empty stack).
func TestRule22TopLevelExecutionAsyncResource(t *testing.T) {
	checkChild(t, "resources/rule22-top-level-resource", "top: nil=false same=true root=true\n"+
		"scope: resource=true\n"+
		"goroutine: resource=true site=true notroot=true\n"+
		"after: same=true state=top-state\n")

	a, b := hooksrt.ExecutionAsyncResource(), hooksrt.ExecutionAsyncResource()
	if _, ok := a.(*hooksrt.Unknown); !ok || a != b {
		t.Errorf("on a test goroutine: ExecutionAsyncResource() = %T %p then %p, want one stable *hooksrt.Unknown", a, a, b)
	}
}

var (
	crSite22ReqGo = crSite("rule22.request.go")
	crSite22Timer = crSite("rule22.request.timer")
)

// Rule 22, propagation half (test/parallel/test-async-hooks-execution-async-resource.js,
// test/parallel/test-async-hooks-execution-async-resource-await.js): Node's
// CLS pattern. An init hook copies a value from executionAsyncResource() to
// the new resource; a request handler stores its state on its own resource,
// and a timer it starts reads the state back from executionAsyncResource().
// In Go the value is attached with Set/Get (hooksrt.Object), the handler is
// an AsyncResource scope, and the state goes through a goroutine and a
// time.AfterFunc timer. Several requests run concurrently; each sees its own.
func TestRule22ExecutionAsyncResourcePropagatesState(t *testing.T) {
	hooksrt.Track()
	hook := hooksrt.CreateHook(hooksrt.Callbacks{
		Init: func(_ uint64, _ string, _ uint64, resource any) {
			cr, ok1 := hooksrt.ExecutionAsyncResource().(hooksrt.Object)
			res, ok2 := resource.(hooksrt.Object)
			if !ok1 || !ok2 {
				return
			}
			if v := cr.Get(crStateKey{}); v != nil {
				res.Set(crStateKey{}, v)
			}
		},
	}).Enable()
	defer hook.Disable()

	const requests = 8
	type result struct {
		req   int
		state any
		typ   string
	}
	results := make(chan result, requests)
	for i := range requests {
		req := hooksrt.NewAsyncResource("conformance.rule22.request", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
		req.RunInAsyncScope(func() {
			hooksrt.ExecutionAsyncResource().(hooksrt.Object).Set(crStateKey{}, fmt.Sprintf("/request/%d", i))
			crGo(crSite22ReqGo, func() {
				hooksrt.AfterFunc(time.AfterFunc, time.Millisecond, func() {
					cur := hooksrt.ExecutionAsyncResource()
					typ := ""
					if r, ok := cur.(*hooksrt.Resource); ok {
						typ = r.Type()
					}
					results <- result{i, cur.(hooksrt.Object).Get(crStateKey{}), typ}
				}, crSite22Timer)
			})
		})
		req.EmitDestroy()
	}
	seen := map[int]bool{}
	for range requests {
		r := crRecv(t, results)
		if want := fmt.Sprintf("/request/%d", r.req); r.state != want {
			t.Errorf("request %d: timer callback read state %v, want %q", r.req, r.state, want)
		}
		if r.typ != "Timeout" {
			t.Errorf("request %d: ExecutionAsyncResource() in the timer callback has type %q, want Timeout", r.req, r.typ)
		}
		seen[r.req] = true
	}
	if len(seen) != requests {
		t.Errorf("%d distinct requests answered, want %d", len(seen), requests)
	}
	// The unknown context's shared object must not have been written.
	if v := hooksrt.ExecutionAsyncResource().(hooksrt.Object).Get(crStateKey{}); v != nil {
		t.Errorf("state leaked into the unknown context: %v", v)
	}
}

// ---------------------------------------------------------------------
// Rule 23: ExecutionAsyncResource is the object init received.

var (
	crSite23Go    = crSite("rule23.go")
	crSite23Timer = crSite("rule23.timer")
	crSite23Ctx   = crSite("rule23.ctx")
)

// Rule 23 (test/async-hooks/test-async-exec-resource-match.js,
// test/async-hooks/test-async-exec-resource-http*.js,
// test/parallel/test-async-hooks-top-level-clearimmediate.js): in before, in
// after and inside the callback, ExecutionAsyncResource() is exactly the
// object init received for that id; inside RunInAsyncScope it is the
// *AsyncResource itself; init receives the public handle (for instrumented
// resources, a *hooksrt.Resource that names the site that created it).
func TestRule23ExecutionAsyncResourceMatchesInit(t *testing.T) {
	hooksrt.Track()
	var (
		mu         sync.Mutex
		objs       = map[uint64]any{}
		checked    = map[uint64]int{}
		mismatches []string
	)
	hook := hooksrt.CreateHook(hooksrt.Callbacks{
		Init: func(id uint64, _ string, _ uint64, resource any) {
			mu.Lock()
			objs[id] = resource
			mu.Unlock()
		},
		Before: func(id uint64) {
			cur, exec := hooksrt.ExecutionAsyncResource(), hooksrt.ExecutionAsyncID()
			mu.Lock()
			defer mu.Unlock()
			if o, ok := objs[id]; ok {
				checked[id]++
				if cur != o || exec != id {
					mismatches = append(mismatches, fmt.Sprintf("before(%d): exec %d, resource %p, init got %p", id, exec, cur, o))
				}
			}
		},
		After: func(id uint64) {
			cur, exec := hooksrt.ExecutionAsyncResource(), hooksrt.ExecutionAsyncID()
			mu.Lock()
			defer mu.Unlock()
			if o, ok := objs[id]; ok {
				checked[id]++
				if cur != o || exec != id {
					mismatches = append(mismatches, fmt.Sprintf("after(%d): exec %d, resource %p, init got %p", id, exec, cur, o))
				}
			}
		},
	}).Enable()
	defer hook.Disable()
	objOf := func(id uint64) any {
		mu.Lock()
		defer mu.Unlock()
		return objs[id]
	}

	type seen struct {
		id  uint64
		obj any
	}
	check := func(name string, s seen, site *hooksrt.Site, typ string) {
		t.Helper()
		o := objOf(s.id)
		if o == nil || s.obj != o {
			t.Errorf("%s: ExecutionAsyncResource() in the callback is %p, init received %p", name, s.obj, o)
		}
		if site != nil {
			r, ok := o.(*hooksrt.Resource)
			if !ok || r.Site != site || r.Type() != typ || r.AsyncID() != s.id {
				t.Errorf("%s: init received %#v, want a *hooksrt.Resource of type %s, id %d, at its site", name, o, typ, s.id)
			}
		}
	}

	r := hooksrt.NewAsyncResource("conformance.rule23", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	var inScope seen
	r.RunInAsyncScope(func() { inScope = seen{hooksrt.ExecutionAsyncID(), hooksrt.ExecutionAsyncResource()} })
	r.EmitDestroy()
	if inScope.obj != any(r) || objOf(r.AsyncID()) != any(r) {
		t.Errorf("AsyncResource: in scope %p, init received %p, want the *AsyncResource %p", inScope.obj, objOf(r.AsyncID()), r)
	}
	check("AsyncResource", inScope, nil, "")

	ch := make(chan seen, 1)
	crGo(crSite23Go, func() { ch <- seen{hooksrt.ExecutionAsyncID(), hooksrt.ExecutionAsyncResource()} })
	goSeen := crRecv(t, ch)
	check("goroutine", goSeen, crSite23Go, "GOROUTINE")

	hooksrt.AfterFunc(time.AfterFunc, time.Millisecond, func() { ch <- seen{hooksrt.ExecutionAsyncID(), hooksrt.ExecutionAsyncResource()} }, crSite23Timer)
	timerSeen := crRecv(t, ch)
	check("timer", timerSeen, crSite23Timer, "Timeout")

	ctx, cancel := context.WithCancel(context.Background())
	hooksrt.ContextAfterFunc(context.AfterFunc, ctx, func() { ch <- seen{hooksrt.ExecutionAsyncID(), hooksrt.ExecutionAsyncResource()} }, crSite23Ctx)
	cancel()
	ctxSeen := crRecv(t, ch)
	check("context.AfterFunc", ctxSeen, crSite23Ctx, "CONTEXTAFTERFUNC")

	// Wait until every before/after pair was checked: the afters of the
	// goroutine and callbacks run after they sent.
	ids := []uint64{r.AsyncID(), goSeen.id, timerSeen.id, ctxSeen.id}
	deadline := time.Now().Add(crWait)
	for {
		mu.Lock()
		done := true
		for _, id := range ids {
			if checked[id] != 2 {
				done = false
			}
		}
		mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("before/after not delivered for all of %v: %v", ids, checked)
		}
		runtime.Gosched()
	}
	mu.Lock()
	defer mu.Unlock()
	for _, m := range mismatches {
		t.Error(m)
	}
}

// ---------------------------------------------------------------------
// Rules 24 and 25: destroy delivery.

// Rule 24 (test/async-hooks/test-destroy-not-blocked.js,
// test/async-hooks/test-embedder.api.async-resource.js): Node queues destroy
// and delivers it in a later tick. Go does not batch: for an explicit end
// (EmitDestroy here) destroy is delivered before the ending call returns
// (SEMANTICS section 3), so no tick(1) is needed; destroy still comes after
// the resource's last after.
func TestRule24DestroyDeliveredBeforeEmitDestroyReturns(t *testing.T) {
	rec := newCrRecorder().enable()
	defer rec.disable()

	r := hooksrt.NewAsyncResource("conformance.rule24", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	r.RunInAsyncScope(func() { rec.mark("fn") })
	rec.mark("EmitDestroy called")
	r.EmitDestroy()
	rec.mark("EmitDestroy returned")
	want := []string{"init r", "before r", "fn", "after r", "EmitDestroy called", "destroy r", "EmitDestroy returned"}
	if got := rec.log(map[uint64]string{r.AsyncID(): "r"}); !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}

	// Many resources ended at once from many goroutines: each destroy is
	// delivered, once, before its EmitDestroy returns.
	const n = 64
	rs := make([]*hooksrt.AsyncResource, n)
	for i := range rs {
		rs[i] = hooksrt.NewAsyncResource("conformance.rule24", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	}
	var wg sync.WaitGroup
	var late atomic.Int32
	for _, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.EmitDestroy()
			if rec.count("destroy", r.AsyncID()) != 1 {
				late.Add(1)
			}
		}()
	}
	wg.Wait()
	if late.Load() != 0 {
		t.Errorf("%d of %d destroys not delivered when EmitDestroy returned", late.Load(), n)
	}
	for _, r := range rs {
		if got := rec.count("destroy", r.AsyncID()); got != 1 {
			t.Errorf("resource %d: %d destroys, want 1", r.AsyncID(), got)
		}
	}
}

// Rule 25 (test/parallel/test-async-hooks-close-during-destroy.js,
// test/parallel/test-async-wrap-destroyid.js): a destroy emitted from inside
// a destroy callback is delivered too, exactly once, and every hook gets
// both. Go delivers it at once (nested in the first dispatch) rather than
// in Node's drain loop; both are delivered before the outer EmitDestroy
// returns.
func TestRule25DestroyEmittedDuringDestroy(t *testing.T) {
	var a, b *hooksrt.AsyncResource
	var mu sync.Mutex
	var order []string
	hook := hooksrt.CreateHook(hooksrt.Callbacks{
		Destroy: func(id uint64) {
			mu.Lock()
			ra, rb := a, b
			ours := ra != nil && (id == ra.AsyncID() || id == rb.AsyncID())
			if ours {
				order = append(order, fmt.Sprintf("hook1 %d", id))
			}
			mu.Unlock()
			if ours && id == ra.AsyncID() {
				rb.EmitDestroy()
			}
		},
	}).Enable()
	defer hook.Disable()
	rec := newCrRecorder().enable()
	defer rec.disable()

	mu.Lock()
	a = hooksrt.NewAsyncResource("conformance.rule25.a", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	b = hooksrt.NewAsyncResource("conformance.rule25.b", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	mu.Unlock()

	a.EmitDestroy()
	names := map[uint64]string{a.AsyncID(): "a", b.AsyncID(): "b"}
	want := []string{"init a", "init b", "destroy b", "destroy a"}
	// The nested destroy(b) runs inside hook1's destroy(a) callback, so the
	// second hook (enabled later) sees b first, then a.
	if got := rec.log(names); !slices.Equal(got, want) {
		t.Errorf("second hook saw %q, want %q", got, want)
	}
	mu.Lock()
	got := slices.Clone(order)
	mu.Unlock()
	if want := []string{fmt.Sprintf("hook1 %d", a.AsyncID()), fmt.Sprintf("hook1 %d", b.AsyncID())}; !slices.Equal(got, want) {
		t.Errorf("first hook saw %q, want %q", got, want)
	}

	// b is already destroyed: ending it again delivers nothing.
	b.EmitDestroy()
	a.EmitDestroy()
	if rec.count("destroy", a.AsyncID()) != 1 || rec.count("destroy", b.AsyncID()) != 1 {
		t.Errorf("destroys: a %d, b %d; want 1 each", rec.count("destroy", a.AsyncID()), rec.count("destroy", b.AsyncID()))
	}
}

// ---------------------------------------------------------------------
// Rule 26: cancelled resources.

var (
	crSite26Pending   = crSite("rule26.pending")
	crSite26Fired     = crSite("rule26.fired")
	crSite26CtxStop   = crSite("rule26.ctx.stopped")
	crSite26CtxFired  = crSite("rule26.ctx.fired")
	crSite26CtxFired2 = crSite("rule26.ctx.fired.stop")
)

// Rule 26 (test/parallel/test-async-hooks-top-level-clearimmediate.js,
// test/async-hooks/test-timers.setTimeout.js,
// test/async-hooks/test-immediate.js): a cancelled resource gets destroy
// without before or after; one that ran gets destroy after after. Go's
// clearTimeout is Stop on a time.AfterFunc timer (hooksrt.StopTimer) and the
// stop function of context.AfterFunc (hooksrt.ContextAfterFunc); destroy is
// delivered before the successful stop returns.
func TestRule26CancelledResourceDestroyOnly(t *testing.T) {
	hooksrt.Track()
	c := hookstest.NewCollector(hookstest.Options{Types: []string{"Timeout", "CONTEXTAFTERFUNC"}}).Enable()
	defer c.Disable()
	rec := newCrRecorder().enable()
	defer rec.disable()

	one := func(t *testing.T, site *hooksrt.Site) hookstest.Activity {
		t.Helper()
		acts := crBySite(c, site)
		if len(acts) != 1 {
			t.Fatalf("%s: %d activities, want 1:\n%s", site.Func, len(acts), c)
		}
		return acts[0]
	}

	t.Run("StopTimer/pending", func(t *testing.T) {
		ran := make(chan struct{}, 1)
		tm := hooksrt.AfterFunc(time.AfterFunc, time.Hour, func() { ran <- struct{}{} }, crSite26Pending)
		if !hooksrt.StopTimer(tm) {
			t.Fatalf("StopTimer on a pending timer returned false")
		}
		a := one(t, crSite26Pending)
		hookstest.CheckInvocations(t, a, hookstest.Counts{"init": 1, "destroy": 1}, "when StopTimer returned")
		if hooksrt.StopTimer(tm) {
			t.Errorf("second StopTimer returned true")
		}
		hookstest.CheckInvocations(t, one(t, crSite26Pending), hookstest.Counts{"init": 1, "destroy": 1}, "after a second StopTimer")
		select {
		case <-ran:
			t.Errorf("a stopped timer's callback ran")
		default:
		}
	})

	t.Run("StopTimer/fired", func(t *testing.T) {
		fired := make(chan uint64, 1)
		tm := hooksrt.AfterFunc(time.AfterFunc, time.Millisecond, func() { fired <- hooksrt.ExecutionAsyncID() }, crSite26Fired)
		id := crRecv(t, fired)
		rec.waitDestroy(t, id)
		if hooksrt.StopTimer(tm) {
			t.Errorf("StopTimer on a fired timer returned true")
		}
		a := one(t, crSite26Fired)
		if a.ID != id {
			t.Fatalf("activity %d, want the callback's %d", a.ID, id)
		}
		hookstest.CheckInvocations(t, a, hookstest.Counts{"init": 1, "before": 1, "after": 1, "destroy": 1}, "fired, then StopTimer")
		if a.After[0] > a.Destroy[0] {
			t.Errorf("destroy (%d) came before after (%d)", a.Destroy[0], a.After[0])
		}
	})

	t.Run("ContextAfterFunc/stopped", func(t *testing.T) {
		ran := make(chan struct{}, 1)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		stop := hooksrt.ContextAfterFunc(context.AfterFunc, ctx, func() { ran <- struct{}{} }, crSite26CtxStop)
		if !stop() {
			t.Fatalf("stop of a pending context.AfterFunc returned false")
		}
		hookstest.CheckInvocations(t, one(t, crSite26CtxStop), hookstest.Counts{"init": 1, "destroy": 1}, "when stop returned")
		if stop() {
			t.Errorf("second stop returned true")
		}
		cancel()
		hookstest.CheckInvocations(t, one(t, crSite26CtxStop), hookstest.Counts{"init": 1, "destroy": 1}, "after cancel")
		select {
		case <-ran:
			t.Errorf("a stopped context.AfterFunc's function ran")
		default:
		}
	})

	t.Run("ContextAfterFunc/fired", func(t *testing.T) {
		fired := make(chan uint64, 1)
		ctx, cancel := context.WithCancel(context.Background())
		stop := hooksrt.ContextAfterFunc(context.AfterFunc, ctx, func() { fired <- hooksrt.ExecutionAsyncID() }, crSite26CtxFired)
		cancel()
		id := crRecv(t, fired)
		rec.waitDestroy(t, id)
		if stop() {
			t.Errorf("stop after the function ran returned true")
		}
		a := one(t, crSite26CtxFired)
		if a.ID != id {
			t.Fatalf("activity %d, want the function's %d", a.ID, id)
		}
		hookstest.CheckInvocations(t, a, hookstest.Counts{"init": 1, "before": 1, "after": 1, "destroy": 1}, "ran, then stop")
		if a.After[0] > a.Destroy[0] {
			t.Errorf("destroy (%d) came before after (%d)", a.Destroy[0], a.After[0])
		}
	})

	// A context that is already done: AfterFunc runs f at once, stop
	// cannot cancel it, and there is exactly one destroy.
	t.Run("ContextAfterFunc/already-done", func(t *testing.T) {
		fired := make(chan uint64, 1)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		stop := hooksrt.ContextAfterFunc(context.AfterFunc, ctx, func() { fired <- hooksrt.ExecutionAsyncID() }, crSite26CtxFired2)
		id := crRecv(t, fired)
		stopped := stop()
		rec.waitDestroy(t, id)
		if stopped {
			t.Errorf("stop on a done context returned true")
		}
		hookstest.CheckInvocations(t, one(t, crSite26CtxFired2), hookstest.Counts{"init": 1, "before": 1, "after": 1, "destroy": 1}, "done context")
	})
	c.Check(t)
}

// ---------------------------------------------------------------------
// Rule 27: disabled hooks get no destroy.

// Rule 27 (test/async-hooks/test-embedder.api.async-resource.js): a hook
// that is disabled receives no destroy, even for a resource it saw created:
// an explicit EmitDestroy, a destroy that waits for the garbage collector
// (Go's counterpart of an id queued before the hook was disabled), and the
// end of a goroutine that was running when the hook was disabled.
func TestRule27DisabledHookGetsNoDestroy(t *testing.T) {
	hooksrt.Track()
	keep := newCrRecorder().enable()
	defer keep.disable()

	t.Run("EmitDestroy", func(t *testing.T) {
		gone := newCrRecorder().enable()
		defer gone.disable()
		r := hooksrt.NewAsyncResource("conformance.rule27", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
		gone.disable()
		r.EmitDestroy()
		if keep.count("destroy", r.AsyncID()) != 1 {
			t.Errorf("enabled hook: %d destroys, want 1", keep.count("destroy", r.AsyncID()))
		}
		if gone.count("init", r.AsyncID()) != 1 || gone.count("destroy", r.AsyncID()) != 0 {
			t.Errorf("disabled hook: %d inits, %d destroys; want 1, 0", gone.count("init", r.AsyncID()), gone.count("destroy", r.AsyncID()))
		}
	})

	t.Run("garbage-collected", func(t *testing.T) {
		gone := newCrRecorder().enable()
		defer gone.disable()
		id, _ := crGarbageResource(hooksrt.AsyncResourceOptions{}, false)
		gone.disable()
		keep.waitDestroyGC(t, id)
		if gone.count("init", id) != 1 || gone.count("destroy", id) != 0 {
			t.Errorf("disabled hook: %d inits, %d destroys; want 1, 0", gone.count("init", id), gone.count("destroy", id))
		}
	})

	t.Run("goroutine", func(t *testing.T) {
		gone := newCrRecorder().enable()
		defer gone.disable()
		started, release := make(chan uint64), make(chan struct{})
		crGo(crSite("rule27.go"), func() {
			started <- hooksrt.ExecutionAsyncID()
			<-release
		})
		id := crRecv(t, started)
		gone.disable()
		close(release)
		keep.waitDestroy(t, id)
		got := gone.log(map[uint64]string{id: "g"})
		if want := []string{"init g", "before g"}; !slices.Equal(got, want) {
			t.Errorf("disabled hook saw %q, want %q", got, want)
		}
		if got := keep.log(map[uint64]string{id: "g"}); !slices.Equal(got, []string{"init g", "before g", "after g", "destroy g"}) {
			t.Errorf("enabled hook saw %q", got)
		}
	})
}

// crGarbageResource creates an AsyncResource with opts (and ends it with
// EmitDestroy if ended is set), and drops it. It returns its id and a
// channel closed when the resource has been garbage collected.
//
//go:noinline
func crGarbageResource(opts hooksrt.AsyncResourceOptions, ended bool) (uint64, <-chan struct{}) {
	r := hooksrt.NewAsyncResource("conformance.gc", opts)
	if ended {
		r.EmitDestroy()
	}
	collected := make(chan struct{})
	runtime.AddCleanup(r, func(ch chan struct{}) { close(ch) }, collected)
	return r.AsyncID(), collected
}

// ---------------------------------------------------------------------
// Rule 28: type validation.

// Rule 28 (test/async-hooks/test-embedder.api.async-resource-no-type.js,
// test/parallel/test-async-hooks-asyncresource-constructor.js): an empty type
// is rejected. Node throws ERR_ASYNC_TYPE for an empty string only while an init hook is
// enabled; Go's NewAsyncResource panics on "" always (SEMANTICS section 2),
// with or without hooks, and emits no init. A non-string type
// (ERR_INVALID_ARG_TYPE in Node) cannot be written in Go: typ is a string,
// and the compiler rejects anything else.
func TestRule28EmptyTypePanics(t *testing.T) {
	check := func(stage string) {
		t.Helper()
		v, panicked := crPanics(func() {
			hooksrt.NewAsyncResource("", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
		})
		if !panicked {
			t.Errorf("%s: NewAsyncResource(\"\") did not panic", stage)
			return
		}
		if s, ok := v.(string); !ok || !strings.Contains(s, "empty type") {
			t.Errorf("%s: panic value %#v, want a message about the empty type", stage, v)
		}
	}
	check("no hooks")

	rec := newCrRecorder().enable()
	defer rec.disable()
	before := hooksrt.NewAsyncResource("conformance.rule28", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	check("init hook enabled")
	after := hooksrt.NewAsyncResource("conformance.rule28", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	before.EmitDestroy()
	after.EmitDestroy()
	// No init was emitted for the rejected resource: nothing between the
	// two valid resources.
	rec.mu.Lock()
	var between []crEvent
	in := false
	for _, e := range rec.evs {
		if e.kind == "init" && e.id == before.AsyncID() {
			in = true
			continue
		}
		if e.kind == "init" && e.id == after.AsyncID() {
			break
		}
		if in && e.kind == "init" && e.typ == "" {
			between = append(between, e)
		}
	}
	rec.mu.Unlock()
	if len(between) != 0 {
		t.Errorf("init emitted for a resource with an empty type: %v", between)
	}
}

// ---------------------------------------------------------------------
// Rule 29: explicit trigger.

// Rule 29 (test/parallel/test-async-hooks-asyncresource-constructor.js,
// test/async-hooks/test-embedder.api.async-resource.js): a TriggerAsyncID
// option is taken as given (111 here), also inside a scope whose id would be
// the default, and asyncId() != triggerAsyncId(). Node's invalid triggers
// (-4, Math.PI, null) cannot be written in Go: the option is a uint64, and 0
// means the default (rule 15).
func TestRule29ExplicitTrigger(t *testing.T) {
	rec := newCrRecorder().enable()
	defer rec.disable()

	r := hooksrt.NewAsyncResource("conformance.rule29", hooksrt.AsyncResourceOptions{TriggerAsyncID: 111, RequireManualDestroy: true})
	defer r.EmitDestroy()
	if r.TriggerAsyncID() != 111 {
		t.Errorf("TriggerAsyncID() = %d, want 111", r.TriggerAsyncID())
	}
	if r.AsyncID() == r.TriggerAsyncID() {
		t.Errorf("AsyncID() == TriggerAsyncID() == %d", r.AsyncID())
	}
	if e, ok := rec.initOf(r.AsyncID()); !ok || e.trigger != 111 || e.typ != "conformance.rule29" {
		t.Errorf("init: %+v (seen %v), want type conformance.rule29, trigger 111", e, ok)
	}
	var exec, trigger uint64
	var inner *hooksrt.AsyncResource
	r.RunInAsyncScope(func() {
		exec, trigger = hooksrt.ExecutionAsyncID(), hooksrt.TriggerAsyncID()
		inner = hooksrt.NewAsyncResource("conformance.rule29", hooksrt.AsyncResourceOptions{TriggerAsyncID: 111, RequireManualDestroy: true})
	})
	defer inner.EmitDestroy()
	if exec != r.AsyncID() || trigger != 111 {
		t.Errorf("in scope: exec %d trigger %d, want %d 111", exec, trigger, r.AsyncID())
	}
	if inner.TriggerAsyncID() != 111 {
		t.Errorf("explicit trigger inside another scope: %d, want 111", inner.TriggerAsyncID())
	}
}

// ---------------------------------------------------------------------
// Rule 30: destroy on garbage collection.

// Rule 30 (test/parallel/test-async-hooks-destroy-on-gc.js,
// test/parallel/test-async-hooks-disable-gc-tracking.js,
// test/parallel/test-async-hooks-prevent-double-destroy.js): an AsyncResource
// that becomes garbage gets destroy, by default; not with
// RequireManualDestroy; not a second time after EmitDestroy; and not if no
// destroy hook was enabled when it was created. Node's global.gc() is
// runtime.GC(), polled until the event comes; the absence of an event is
// checked once the resource is known to have been collected, after a grace
// period for the cleanups of that collection.
func TestRule30DestroyOnGC(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		rec := newCrRecorder().enable()
		defer rec.disable()
		id, _ := crGarbageResource(hooksrt.AsyncResourceOptions{}, false)
		rec.waitDestroyGC(t, id)
		crGCGrace()
		if n := rec.count("destroy", id); n != 1 {
			t.Errorf("%d destroys, want 1", n)
		}
	})

	t.Run("RequireManualDestroy", func(t *testing.T) {
		rec := newCrRecorder().enable()
		defer rec.disable()
		id, collected := crGarbageResource(hooksrt.AsyncResourceOptions{RequireManualDestroy: true}, false)
		// A resource collected alongside it shows that GC destroys are
		// being delivered meanwhile.
		control, _ := crGarbageResource(hooksrt.AsyncResourceOptions{}, false)
		if !crPollGC(collected) {
			t.Fatalf("resource %d was not collected", id)
		}
		rec.waitDestroyGC(t, control)
		crGCGrace()
		if n := rec.count("destroy", id); n != 0 {
			t.Errorf("%d destroys for a RequireManualDestroy resource, want 0", n)
		}
	})

	t.Run("EmitDestroy then GC", func(t *testing.T) {
		rec := newCrRecorder().enable()
		defer rec.disable()
		id, collected := crGarbageResource(hooksrt.AsyncResourceOptions{}, true)
		if n := rec.count("destroy", id); n != 1 {
			t.Fatalf("after EmitDestroy: %d destroys, want 1", n)
		}
		if !crPollGC(collected) {
			t.Fatalf("resource %d was not collected", id)
		}
		crGCGrace()
		if n := rec.count("destroy", id); n != 1 {
			t.Errorf("after EmitDestroy and GC: %d destroys, want 1", n)
		}
	})

	// Node's harness runs gc() before its exit checks so that GC destroys
	// arrive (init-hooks.js); hookstest's Collector.Settle is the port of
	// that, and must see the destroy of a garbage AsyncResource it recorded.
	t.Run("Collector.Settle", func(t *testing.T) {
		c := hookstest.NewCollector(hookstest.Options{Types: []string{"conformance.gc"}}).Enable()
		defer c.Disable()
		id, _ := crGarbageResource(hooksrt.AsyncResourceOptions{}, false)
		if !c.Settle(5*time.Second, "conformance.gc") {
			t.Fatalf("Settle: resource %d was never destroyed:\n%s", id, c)
		}
		a, ok := c.Activity(id)
		if !ok {
			t.Fatalf("no activity for %d", id)
		}
		hookstest.CheckInvocations(t, a, hookstest.Counts{"init": 1, "destroy": 1}, "after Settle")
		c.Check(t)
	})

	t.Run("no destroy hook at construction", func(t *testing.T) {
		rec := newCrRecorder()
		initOnly := hooksrt.CreateHook(hooksrt.Callbacks{Init: func(uint64, string, uint64, any) {}}).Enable()
		id, collected := crGarbageResource(hooksrt.AsyncResourceOptions{}, false)
		initOnly.Disable()
		rec.enable()
		defer rec.disable()
		if !crPollGC(collected) {
			t.Fatalf("resource %d was not collected", id)
		}
		crGCGrace()
		if n := rec.count("destroy", id); n != 0 {
			t.Errorf("%d destroys for a resource created with no destroy hook enabled, want 0", n)
		}
	})
}

// ---------------------------------------------------------------------
// Rule 31: EmitDestroy.

// Rule 31 (lib/async_hooks.js; the docs say a second emitDestroy throws, the
// code queues a second destroy): EmitDestroy returns its receiver and is
// idempotent in Go: exactly one destroy, however often and from however many
// goroutines it is called.
func TestRule31EmitDestroyReturnsReceiverIdempotent(t *testing.T) {
	c := hookstest.NewCollector(hookstest.Options{Types: []string{"conformance.rule31"}}).Enable()
	defer c.Disable()

	r := hooksrt.NewAsyncResource("conformance.rule31", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	if got := r.EmitDestroy(); got != r {
		t.Errorf("EmitDestroy returned %p, want its receiver %p", got, r)
	}
	if got := r.EmitDestroy().EmitDestroy(); got != r {
		t.Errorf("repeated EmitDestroy returned %p, want %p", got, r)
	}
	a, ok := c.Activity(r.AsyncID())
	if !ok {
		t.Fatalf("no activity for %d", r.AsyncID())
	}
	hookstest.CheckInvocations(t, a, hookstest.Counts{"init": 1, "destroy": 1}, "after three EmitDestroy calls")

	// Concurrent calls on resources that are also eligible for GC destroy.
	const n, callers = 32, 8
	rs := make([]*hooksrt.AsyncResource, n)
	for i := range rs {
		rs[i] = hooksrt.NewAsyncResource("conformance.rule31", hooksrt.AsyncResourceOptions{})
	}
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, r := range rs {
				r.EmitDestroy()
			}
		}()
	}
	wg.Wait()
	for _, r := range rs {
		a, ok := c.Activity(r.AsyncID())
		if !ok {
			t.Fatalf("no activity for %d", r.AsyncID())
		}
		hookstest.CheckInvocations(t, a, hookstest.Counts{"init": 1, "destroy": 1}, "after concurrent EmitDestroy calls")
	}
	c.Check(t)
}

// ---------------------------------------------------------------------
// Rule 32: RunInAsyncScope.

// Rule 32 (test/async-hooks/test-embedder.api.async-resource.runInAsyncScope.js,
// test/parallel/test-async-hooks-run-in-async-scope-this-arg.js,
// test/parallel/test-async-hooks-run-in-async-scope-caught-exception.js):
// RunInAsyncScope runs before, fn, after, in that order; after also runs when
// fn panics (the caller recovers) or calls runtime.Goexit, and the caller's
// context is current again. Node's thisArg, arguments and return value have
// no Go counterpart: fn is a closure, which captures what it needs and
// assigns its results.
func TestRule32RunInAsyncScopeOrder(t *testing.T) {
	rec := newCrRecorder().enable()
	defer rec.disable()

	r := hooksrt.NewAsyncResource("conformance.rule32", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	defer r.EmitDestroy()
	names := map[uint64]string{r.AsyncID(): "r"}

	result := 0
	r.RunInAsyncScope(func() { rec.mark("fn"); result = 1729 })
	if result != 1729 {
		t.Errorf("result %d, want 1729", result)
	}
	if got, want := rec.log(names), []string{"init r", "before r", "fn", "after r"}; !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}

	t.Run("panic", func(t *testing.T) {
		inner := hooksrt.NewAsyncResource("conformance.rule32", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
		defer inner.EmitDestroy()
		names := map[uint64]string{r.AsyncID(): "r", inner.AsyncID(): "inner"}
		rec.mark("start panic")
		type boom struct{}
		v, panicked := crPanics(func() {
			r.RunInAsyncScope(func() {
				inner.RunInAsyncScope(func() {
					rec.mark("fn")
					panic(boom{})
				})
			})
		})
		rec.mark("recovered")
		if !panicked || v != (boom{}) {
			t.Errorf("panic value %v (panicked %v), want boom{}", v, panicked)
		}
		got := rec.log(names)
		got = got[slices.Index(got, "start panic"):]
		want := []string{"start panic", "before r", "before inner", "fn", "after inner", "after r", "recovered"}
		if !slices.Equal(got, want) {
			t.Errorf("events %q, want %q", got, want)
		}
		if e := hooksrt.ExecutionAsyncID(); e != 0 {
			t.Errorf("after the recovered panic: ExecutionAsyncID() = %d, want 0", e)
		}
		// The stack is intact: a scope opened now runs normally.
		var exec uint64
		r.RunInAsyncScope(func() { exec = hooksrt.ExecutionAsyncID() })
		if exec != r.AsyncID() {
			t.Errorf("scope after the recovered panic: exec %d, want %d", exec, r.AsyncID())
		}
	})

	t.Run("Goexit", func(t *testing.T) {
		rec.mark("start goexit")
		done := make(chan struct{})
		go func() {
			defer close(done)
			r.RunInAsyncScope(func() {
				rec.mark("fn")
				runtime.Goexit()
			})
			rec.mark("unreachable")
		}()
		crRecv(t, done)
		got := rec.log(names)
		got = got[slices.Index(got, "start goexit"):]
		if want := []string{"start goexit", "before r", "fn", "after r"}; !slices.Equal(got, want) {
			t.Errorf("events %q, want %q", got, want)
		}
	})
}

// ---------------------------------------------------------------------
// Rule 33: Bind.

var crNamedCalls atomic.Uint64

// crBoundNamed is a named function for the static Bind; it records the
// execution id it runs in.
func crBoundNamed() { crNamedCalls.Store(hooksrt.ExecutionAsyncID()) }

// Rule 33 (test/parallel/test-asyncresource-bind.js): a bound function runs
// in the resource's scope: ExecutionAsyncID() is the resource's id, which
// differs from the caller's. The static hooksrt.Bind (AsyncResource.bind)
// creates a resource in the current context whose type is the function's
// name, or "bound-anonymous-fn" for a function literal. Binding nil panics
// (Node: ERR_INVALID_ARG_TYPE for a non-function). thisArg, bound.length and
// the deprecated bound.asyncResource have no Go counterpart.
func TestRule33Bind(t *testing.T) {
	rec := newCrRecorder().enable()
	defer rec.disable()

	r := hooksrt.NewAsyncResource("conformance.rule33", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	defer r.EmitDestroy()
	var exec, trigger uint64
	bound := r.Bind(func() { exec, trigger = hooksrt.ExecutionAsyncID(), hooksrt.TriggerAsyncID() })
	if rec.count("before", r.AsyncID()) != 0 {
		t.Errorf("Bind ran the function")
	}
	caller := hooksrt.ExecutionAsyncID()
	bound()
	if exec != r.AsyncID() || exec == caller || trigger != r.TriggerAsyncID() {
		t.Errorf("bound call: exec %d trigger %d, want %d %d (caller %d)", exec, trigger, r.AsyncID(), r.TriggerAsyncID(), caller)
	}
	// Called from another goroutine, and again.
	done := make(chan uint64)
	go func() { bound(); done <- exec }()
	if got := crRecv(t, done); got != r.AsyncID() {
		t.Errorf("bound call on another goroutine: exec %d, want %d", got, r.AsyncID())
	}
	if b, a := rec.count("before", r.AsyncID()), rec.count("after", r.AsyncID()); b != 2 || a != 2 {
		t.Errorf("two bound calls: %d befores, %d afters; want 2, 2", b, a)
	}

	// Static Bind, in the scope of p: the new resource's trigger is p. The
	// function literals are one at the test's top level (named
	// "TestRule33Bind.funcN" by the compiler) and one nested in another
	// literal ("TestRule33Bind.funcN.M"); both are anonymous.
	p := hooksrt.NewAsyncResource("conformance.rule33.parent", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	defer p.EmitDestroy()
	type ctx struct{ exec, trigger uint64 }
	var litCtx, nestedCtx ctx
	lit := func() { litCtx = ctx{hooksrt.ExecutionAsyncID(), hooksrt.TriggerAsyncID()} }
	var named, boundLit, boundNested func()
	p.RunInAsyncScope(func() {
		named = hooksrt.Bind(crBoundNamed)
		boundLit = hooksrt.Bind(lit)
		boundNested = hooksrt.Bind(func() { nestedCtx = ctx{hooksrt.ExecutionAsyncID(), hooksrt.TriggerAsyncID()} })
	})
	named()
	boundLit()
	boundNested()
	namedID := crNamedCalls.Load()
	ids := map[uint64]bool{}
	for _, c := range []struct {
		what    string
		id      uint64
		trigger uint64 // TriggerAsyncID() inside; 0: not recorded
		typ     string
	}{
		{"named function", namedID, 0, "github.com/asyncinstr/asyncinstr/runtime/hooksrt_test.crBoundNamed"},
		{"function literal", litCtx.exec, litCtx.trigger, "bound-anonymous-fn"},
		{"function literal nested in a function literal", nestedCtx.exec, nestedCtx.trigger, "bound-anonymous-fn"},
	} {
		if c.id == 0 || c.id == caller {
			t.Errorf("static Bind of a %s: exec %d inside, want the new resource's id", c.what, c.id)
			continue
		}
		if ids[c.id] {
			t.Errorf("static Bind of a %s: id %d shared with another Bind", c.what, c.id)
		}
		ids[c.id] = true
		e, ok := rec.initOf(c.id)
		if !ok || e.typ != c.typ || e.trigger != p.AsyncID() {
			t.Errorf("static Bind of a %s: init %+v (seen %v), want type %q, trigger %d", c.what, e, ok, c.typ, p.AsyncID())
		}
		if c.trigger != 0 && c.trigger != p.AsyncID() {
			t.Errorf("static Bind of a %s: TriggerAsyncID() inside %d, want the binding context %d", c.what, c.trigger, p.AsyncID())
		}
	}

	for _, c := range []struct {
		what string
		f    func()
	}{
		{"(*AsyncResource).Bind(nil)", func() { r.Bind(nil) }},
		{"Bind(nil)", func() { hooksrt.Bind(nil) }},
	} {
		if _, panicked := crPanics(c.f); !panicked {
			t.Errorf("%s did not panic", c.what)
		}
	}
}

// ---------------------------------------------------------------------
// Rule 37: providers.

// Rule 37 (test/async-hooks/test-async-wrap-providers.js):
// asyncWrapProviders is Node's frozen copy of the provider table. Go cannot
// freeze a map; AsyncWrapProviders returns a fresh copy each call, so
// changing one changes nothing for the next caller. It names every type of
// SEMANTICS section 4, each with its own number.
func TestRule37AsyncWrapProviders(t *testing.T) {
	first := hooksrt.AsyncWrapProviders()
	want := []string{
		"GOROUTINE", "Timeout", "TIMER", "TICKER", "CONTEXTAFTERFUNC", "CHANSEND",
		"TCPSERVERWRAP", "PIPESERVERWRAP", "TCPWRAP", "PIPEWRAP", "TCPCONNECTWRAP",
		"GETADDRINFOREQWRAP", "UDPWRAP", "HTTPINCOMINGMESSAGE", "HTTPCLIENTREQUEST", "PIPECONNECTWRAP",
	}
	numbers := map[int]string{}
	for name, n := range first {
		if other, dup := numbers[n]; dup {
			t.Errorf("%s and %s share number %d", name, other, n)
		}
		numbers[n] = name
	}
	for _, name := range want {
		if _, ok := first[name]; !ok {
			t.Errorf("AsyncWrapProviders() lacks %s", name)
		}
	}
	saved := make(map[string]int, len(first))
	for k, v := range first {
		saved[k] = v
	}

	delete(first, "GOROUTINE")
	first["Timeout"] = 9999
	first["conformance.rule37"] = 1
	second := hooksrt.AsyncWrapProviders()
	if !reflect.DeepEqual(second, saved) {
		t.Errorf("after changing a returned map, AsyncWrapProviders() = %v, want %v", second, saved)
	}
	second["TICKER"] = -1
	if third := hooksrt.AsyncWrapProviders(); !reflect.DeepEqual(third, saved) {
		t.Errorf("third call = %v, want %v", third, saved)
	}
}
