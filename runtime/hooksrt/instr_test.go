//go:build go1.25

package hooksrt_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
	"github.com/asyncinstr/asyncinstr/runtime/hooksrt/hookstest"
	"github.com/asyncinstr/asyncinstr/runtime/hooksrt/internal/goid"
)

// These tests call the entry points of instr.go exactly as code that
// asyncinstr rewrote calls them (the shapes of their doc comments), and
// check the events of SEMANTICS.md §4: which, in what order, on which
// goroutine, with which context current.

// One static site per test, as the rewriter emits one per source location.
// The recorder only looks at resources created at the sites it is given, so
// that resources of other tests (timers still pending, garbage-collected
// AsyncResources) cannot disturb it.
var (
	instrSiteGo        = hooksrt.Site{File: "instr_test.go", Line: 1, Func: "go"}
	instrSiteGoLoop    = hooksrt.Site{File: "instr_test.go", Line: 2, Func: "go loop"}
	instrSiteGoPanic   = hooksrt.Site{File: "instr_test.go", Line: 3, Func: "go panic"}
	instrSiteGoExit    = hooksrt.Site{File: "instr_test.go", Line: 4, Func: "go goexit"}
	instrSiteWG        = hooksrt.Site{File: "instr_test.go", Line: 5, Func: "wg.Go"}
	instrSiteEG        = hooksrt.Site{File: "instr_test.go", Line: 6, Func: "errgroup.Go"}
	instrSiteTryGo     = hooksrt.Site{File: "instr_test.go", Line: 7, Func: "errgroup.TryGo"}
	instrSiteTimer     = hooksrt.Site{File: "instr_test.go", Line: 8, Func: "time.AfterFunc"}
	instrSiteCtx       = hooksrt.Site{File: "instr_test.go", Line: 9, Func: "context.AfterFunc"}
	instrSiteSend      = hooksrt.Site{File: "instr_test.go", Line: 10, Func: "ch <- v"}
	instrSiteOff       = hooksrt.Site{File: "instr_test.go", Line: 11, Func: "tracking off"}
	instrSiteUnrecover = hooksrt.Site{File: "instr_test.go", Line: 12, Func: "go unrecovered panic"}
)

// ---------------------------------------------------------------------------
// An instrRecorder records the events of the resources created at some sites, in the
// order they were delivered, with the goroutine and the execution context of
// each, rendered with symbolic names so that tests can compare whole
// sequences.

type instrEvent struct {
	kind    string // init, before, after, destroy, promiseResolve, or a mark
	id      uint64
	typ     string
	trigger uint64
	g       uint64 // goroutine
	exec    uint64 // ExecutionAsyncID() when the event was delivered
	mark    bool
}

type instrRecorder struct {
	hook  *hooksrt.AsyncHook
	sites map[*hooksrt.Site]bool

	mu     sync.Mutex
	evs    []instrEvent
	ids    map[uint64]bool
	res    map[uint64]*hooksrt.Resource
	names  map[uint64]string // async id -> name: r1, r2, ... in init order, or an alias
	nres   int
	gnames map[uint64]string // goroutine id -> fixed name (the test goroutine)
}

func newInstrRecorder(sites ...*hooksrt.Site) *instrRecorder {
	r := &instrRecorder{
		sites:  map[*hooksrt.Site]bool{},
		ids:    map[uint64]bool{},
		res:    map[uint64]*hooksrt.Resource{},
		names:  map[uint64]string{0: "0", 1: "root"},
		gnames: map[uint64]string{goid.Get(): "T"},
	}
	for _, s := range sites {
		r.sites[s] = true
	}
	r.hook = hooksrt.CreateHook(hooksrt.Callbacks{
		Init: func(id uint64, typ string, trigger uint64, resource any) {
			res, ok := resource.(*hooksrt.Resource)
			if !ok || !r.sites[res.Site] {
				return
			}
			exec := hooksrt.ExecutionAsyncID()
			r.mu.Lock()
			defer r.mu.Unlock()
			r.ids[id] = true
			r.res[id] = res
			r.nres++
			r.names[id] = "r" + strconv.Itoa(r.nres)
			r.evs = append(r.evs, instrEvent{kind: "init", id: id, typ: typ, trigger: trigger, g: goid.Get(), exec: exec})
		},
		Before:         func(id uint64) { r.event("before", id) },
		After:          func(id uint64) { r.event("after", id) },
		Destroy:        func(id uint64) { r.event("destroy", id) },
		PromiseResolve: func(id uint64) { r.event("promiseResolve", id) },
	})
	return r
}

func (r *instrRecorder) enable() *instrRecorder { r.hook.Enable(); return r }
func (r *instrRecorder) disable()               { r.hook.Disable() }

func (r *instrRecorder) event(kind string, id uint64) {
	r.mu.Lock()
	known := r.ids[id]
	r.mu.Unlock()
	if !known {
		return
	}
	var exec uint64
	if kind != "destroy" {
		exec = hooksrt.ExecutionAsyncID()
	}
	r.mu.Lock()
	r.evs = append(r.evs, instrEvent{kind: kind, id: id, g: goid.Get(), exec: exec})
	r.mu.Unlock()
}

// mark records a step of the code under test, with the context current
// where it runs.
func (r *instrRecorder) mark(what string) {
	exec := hooksrt.ExecutionAsyncID()
	r.mu.Lock()
	r.evs = append(r.evs, instrEvent{kind: what, g: goid.Get(), exec: exec, mark: true})
	r.mu.Unlock()
}

// alias names an id that the recorder did not see created (a parent scope).
func (r *instrRecorder) alias(id uint64, name string) {
	r.mu.Lock()
	r.names[id] = name
	r.mu.Unlock()
}

func (r *instrRecorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.evs)
}

// waitFor waits until n events were recorded.
func (r *instrRecorder) waitFor(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for r.len() < n {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %d events; have:\n%s", n, strings.Join(r.lines(), "\n"))
		}
		time.Sleep(time.Millisecond)
	}
}

func (r *instrRecorder) name(id uint64) string {
	if n, ok := r.names[id]; ok {
		return n
	}
	return "#" + strconv.FormatUint(id, 10)
}

// linesWhere renders the recorded events that keep accepts. Goroutines other
// than the test's (T) are named g1, g2, ... in order of first appearance
// among the rendered events.
func (r *instrRecorder) linesWhere(keep func(name string) bool) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	gnames := map[uint64]string{}
	for g, n := range r.gnames {
		gnames[g] = n
	}
	ng := 0
	var out []string
	for _, e := range r.evs {
		subject := r.name(e.id)
		if e.mark {
			subject = r.name(e.exec)
		}
		if keep != nil && !keep(subject) {
			continue
		}
		gn, ok := gnames[e.g]
		if !ok {
			ng++
			gn = "g" + strconv.Itoa(ng)
			gnames[e.g] = gn
		}
		var s string
		switch {
		case e.mark:
			s = fmt.Sprintf("%s exec=%s", e.kind, r.name(e.exec))
		case e.kind == "init":
			s = fmt.Sprintf("init %s %s trigger=%s exec=%s", e.typ, r.name(e.id), r.name(e.trigger), r.name(e.exec))
		case e.kind == "destroy":
			s = fmt.Sprintf("destroy %s", r.name(e.id))
		default:
			s = fmt.Sprintf("%s %s exec=%s", e.kind, r.name(e.id), r.name(e.exec))
		}
		out = append(out, s+" on "+gn)
	}
	return out
}

func (r *instrRecorder) lines() []string { return r.linesWhere(nil) }

// linesOf renders the events of one resource and the marks made in its
// context.
func (r *instrRecorder) linesOf(name string) []string {
	return r.linesWhere(func(n string) bool { return n == name })
}

// resource returns the resource object that init received for the resource
// named name.
func (r *instrRecorder) resource(t *testing.T, name string) *hooksrt.Resource {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, n := range r.names {
		if n == name {
			if res := r.res[id]; res != nil {
				return res
			}
		}
	}
	t.Fatalf("no resource %s was initialised", name)
	return nil
}

func instrExpect(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: events:\n\t%s\nwant:\n\t%s", what, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// instrInParent runs fn in the scope of a fresh AsyncResource that the recorder
// knows as name, so that resources created in fn have a known, non-zero
// trigger.
func instrInParent(r *instrRecorder, name string, fn func(id uint64)) {
	p := hooksrt.NewAsyncResource("TEST_PARENT", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	r.alias(p.AsyncID(), name)
	p.RunInAsyncScope(func() { fn(p.AsyncID()) })
	p.EmitDestroy()
}

// instrSetup enables a hookstest.Collector and an instrRecorder of sites.
func instrSetup(sites ...*hooksrt.Site) (*hookstest.Collector, *instrRecorder) {
	hooksrt.Track()
	c := hookstest.NewCollector(hookstest.Options{}).Enable()
	return c, newInstrRecorder(sites...).enable()
}

// An instrSeen is what the callback under test observed about its own context.
type instrSeen struct {
	exec, trigger uint64
	res           any
}

func instrObserve() instrSeen {
	return instrSeen{hooksrt.ExecutionAsyncID(), hooksrt.TriggerAsyncID(), hooksrt.ExecutionAsyncResource()}
}

// instrCheckResource checks the object init received for a resource, and that
// the callback saw that resource's context.
func instrCheckResource(t *testing.T, res *hooksrt.Resource, typ string, site *hooksrt.Site, trigger uint64, in instrSeen) {
	t.Helper()
	if res.Type() != typ {
		t.Errorf("resource type %q, want %q", res.Type(), typ)
	}
	if res.Site != site {
		t.Errorf("resource site %v, want %v", res.Site, site)
	}
	if res.TriggerAsyncID() != trigger {
		t.Errorf("resource trigger %d, want %d", res.TriggerAsyncID(), trigger)
	}
	if in.exec != res.AsyncID() {
		t.Errorf("ExecutionAsyncID() inside the callback = %d, want the resource's %d", in.exec, res.AsyncID())
	}
	if in.trigger != trigger {
		t.Errorf("TriggerAsyncID() inside the callback = %d, want %d", in.trigger, trigger)
	}
	if in.res != any(res) {
		t.Errorf("ExecutionAsyncResource() inside the callback = %v, want the object init received (%v)", in.res, res)
	}
}

// ---------------------------------------------------------------------------
// go f(x)

func TestInstrGoStatement(t *testing.T) {
	c, rec := instrSetup(&instrSiteGo)
	defer c.Disable()
	defer rec.disable()

	done := make(chan struct{})
	var in instrSeen
	var gotX int
	f := func(x int) {
		in = instrObserve()
		gotX = x
		rec.mark("f")
		close(done)
	}
	// The go statement's function and arguments are evaluated before Go.
	fn := func() func(int) { rec.mark("eval f"); return f }
	arg := func() int { rec.mark("eval x"); return 42 }
	var parent uint64
	instrInParent(rec, "P", func(p uint64) {
		parent = p
		go func(f func(int), x int, t *hooksrt.Task) {
			t.Begin()
			defer t.End()
			f(x)
		}(fn(), arg(), hooksrt.Go(&instrSiteGo))
	})
	<-done
	rec.waitFor(t, 7)
	instrExpect(t, "go f(x)", rec.lines(), []string{
		"eval f exec=P on T",
		"eval x exec=P on T",
		"init GOROUTINE r1 trigger=P exec=P on T",
		"before r1 exec=r1 on g1",
		"f exec=r1 on g1",
		"after r1 exec=r1 on g1",
		"destroy r1 on g1",
	})
	if gotX != 42 {
		t.Errorf("f received %d, want 42", gotX)
	}
	instrCheckResource(t, rec.resource(t, "r1"), "GOROUTINE", &instrSiteGo, parent, in)
	c.Check(t)
}

func TestInstrGoStatementLoopVariable(t *testing.T) {
	c, rec := instrSetup(&instrSiteGoLoop)
	defer c.Disable()
	defer rec.disable()

	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[int]instrSeen{}
	f := func(i int) {
		defer wg.Done()
		s := instrObserve()
		mu.Lock()
		got[i] = s
		mu.Unlock()
		rec.mark(fmt.Sprintf("f(%d)", i))
	}
	instrInParent(rec, "P", func(uint64) {
		for i := range 3 {
			wg.Add(1)
			go func(f func(int), i int, t *hooksrt.Task) {
				t.Begin()
				defer t.End()
				f(i)
			}(f, i, hooksrt.Go(&instrSiteGoLoop))
		}
	})
	wg.Wait()
	rec.waitFor(t, 15)
	for i := range 3 {
		r := fmt.Sprintf("r%d", i+1)
		instrExpect(t, "goroutine "+strconv.Itoa(i), rec.linesOf(r), []string{
			"init GOROUTINE " + r + " trigger=P exec=P on T",
			"before " + r + " exec=" + r + " on g1",
			fmt.Sprintf("f(%d) exec=%s on g1", i, r),
			"after " + r + " exec=" + r + " on g1",
			"destroy " + r + " on g1",
		})
		if res := rec.resource(t, r); got[i].exec != res.AsyncID() {
			t.Errorf("f(%d) ran in %d, want %s (%d)", i, got[i].exec, r, res.AsyncID())
		}
	}
	if len(got) != 3 {
		t.Errorf("goroutines saw %v, want each of 0, 1, 2 once", got)
	}
	c.Check(t)
}

func TestInstrGoStatementRecoveredPanic(t *testing.T) {
	c, rec := instrSetup(&instrSiteGoPanic)
	defer c.Disable()
	defer rec.disable()

	done := make(chan struct{})
	f := func(x int) {
		defer close(done)
		defer func() {
			if v := recover(); v != "boom" {
				t.Errorf("recovered %v, want boom", v)
			}
			rec.mark("recovered")
		}()
		rec.mark("f")
		panic("boom")
	}
	instrInParent(rec, "P", func(uint64) {
		go func(f func(int), x int, t *hooksrt.Task) {
			t.Begin()
			defer t.End()
			f(x)
		}(f, 1, hooksrt.Go(&instrSiteGoPanic))
	})
	<-done
	rec.waitFor(t, 6)
	instrExpect(t, "recovered panic", rec.lines(), []string{
		"init GOROUTINE r1 trigger=P exec=P on T",
		"before r1 exec=r1 on g1",
		"f exec=r1 on g1",
		"recovered exec=r1 on g1",
		"after r1 exec=r1 on g1",
		"destroy r1 on g1",
	})
	c.Check(t)
}

func TestInstrGoStatementGoexit(t *testing.T) {
	c, rec := instrSetup(&instrSiteGoExit)
	defer c.Disable()
	defer rec.disable()

	done := make(chan struct{})
	f := func() {
		defer close(done)
		rec.mark("f")
		runtime.Goexit()
		rec.mark("not reached")
	}
	instrInParent(rec, "P", func(uint64) {
		go func(f func(), t *hooksrt.Task) {
			t.Begin()
			defer t.End()
			f()
		}(f, hooksrt.Go(&instrSiteGoExit))
	})
	<-done
	rec.waitFor(t, 5)
	time.Sleep(5 * time.Millisecond) // nothing more may come
	instrExpect(t, "runtime.Goexit", rec.lines(), []string{
		"init GOROUTINE r1 trigger=P exec=P on T",
		"before r1 exec=r1 on g1",
		"f exec=r1 on g1",
		"after r1 exec=r1 on g1",
		"destroy r1 on g1",
	})
	c.Check(t)
}

// An unrecovered panic ends the process; after and destroy must still have
// been delivered by then.
func init() {
	child("instr-go-unrecovered-panic", func() {
		var ours atomic.Uint64
		say := func(format string, args ...any) { fmt.Printf(format+"\n", args...) }
		hooksrt.CreateHook(hooksrt.Callbacks{
			Init: func(id uint64, typ string, trigger uint64, resource any) {
				if r, ok := resource.(*hooksrt.Resource); ok && r.Site == &instrSiteUnrecover {
					ours.Store(id)
					say("init %s %d trigger=%d exec=%d", typ, id, trigger, hooksrt.ExecutionAsyncID())
				}
			},
			Before: func(id uint64) {
				if id == ours.Load() {
					say("before %d exec=%d", id, hooksrt.ExecutionAsyncID())
				}
			},
			After: func(id uint64) {
				if id == ours.Load() {
					say("after %d exec=%d", id, hooksrt.ExecutionAsyncID())
				}
			},
			Destroy: func(id uint64) {
				if id == ours.Load() {
					say("destroy %d", id)
				}
			},
		}).Enable()
		f := func(x int) {
			say("f %d exec=%d", x, hooksrt.ExecutionAsyncID())
			panic(fmt.Sprintf("boom %d", x))
		}
		go func(f func(int), x int, t *hooksrt.Task) {
			t.Begin()
			defer t.End()
			f(x)
		}(f, 7, hooksrt.Go(&instrSiteUnrecover))
		time.Sleep(30 * time.Second)
		say("not reached")
	})
}

func TestInstrGoStatementUnrecoveredPanic(t *testing.T) {
	stdout, stderr, code := runChild(t, "instr-go-unrecovered-panic")
	if code != 2 {
		t.Errorf("exit status %d, want 2 (an unrecovered panic)", code)
	}
	if !strings.Contains(stderr, "panic: boom 7") {
		t.Errorf("stderr does not report the panic:\n%s", stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var id uint64
	if len(lines) > 0 {
		fmt.Sscanf(lines[0], "init GOROUTINE %d", &id)
	}
	n := strconv.FormatUint(id, 10)
	instrExpect(t, "unrecovered panic", lines, []string{
		"init GOROUTINE " + n + " trigger=1 exec=1",
		"before " + n + " exec=" + n,
		"f 7 exec=" + n,
		"after " + n + " exec=" + n,
		"destroy " + n,
	})
	if id < 2 {
		t.Errorf("goroutine resource id %d, want one allocated after the root", id)
	}
}

// ---------------------------------------------------------------------------
// wg.Go(f), errgroup's g.Go(f) and g.TryGo(f)

func TestInstrWaitGroupGo(t *testing.T) {
	c, rec := instrSetup(&instrSiteWG)
	defer c.Disable()
	defer rec.disable()

	var in instrSeen
	f := func() {
		in = instrObserve()
		rec.mark("f")
	}
	var wg sync.WaitGroup
	var parent uint64
	instrInParent(rec, "P", func(p uint64) {
		parent = p
		wg.Go(hooksrt.GoFunc(f, &instrSiteWG))
	})
	wg.Wait()
	rec.waitFor(t, 5)
	instrExpect(t, "wg.Go", rec.lines(), []string{
		"init GOROUTINE r1 trigger=P exec=P on T",
		"before r1 exec=r1 on g1",
		"f exec=r1 on g1",
		"after r1 exec=r1 on g1",
		"destroy r1 on g1",
	})
	instrCheckResource(t, rec.resource(t, "r1"), "GOROUTINE", &instrSiteWG, parent, in)
	c.Check(t)
}

// A library may run the function it was given on a goroutine that is
// already in a scope (here: inline, on the caller's goroutine). The
// resource's scope then nests inside that one and unwinds to it.
func TestInstrGoFuncRunInline(t *testing.T) {
	c, rec := instrSetup(&instrSiteWG)
	defer c.Disable()
	defer rec.disable()

	instrInParent(rec, "P", func(uint64) {
		f := hooksrt.GoFunc(func() { rec.mark("f") }, &instrSiteWG)
		rec.mark("created")
		f()
		rec.mark("returned")
	})
	instrExpect(t, "inline", rec.lines(), []string{
		"init GOROUTINE r1 trigger=P exec=P on T",
		"created exec=P on T",
		"before r1 exec=r1 on T",
		"f exec=r1 on T",
		"after r1 exec=r1 on T",
		"destroy r1 on T",
		"returned exec=P on T",
	})
	c.Check(t)
}

// instrGroup stands in for golang.org/x/sync/errgroup.Group, which is not a
// dependency: Go, TryGo, SetLimit and Wait, and, like errgroup since
// v0.15, a panic in f is recovered in f's goroutine and re-raised by Wait.
// It is library code that the rewriter does not touch: its go statements
// are plain.
type instrGroup struct {
	wg       sync.WaitGroup
	sem      chan struct{}
	errOnce  sync.Once
	err      error
	mu       sync.Mutex
	panicked any
}

func (g *instrGroup) SetLimit(n int) { g.sem = make(chan struct{}, n) }

func (g *instrGroup) Go(f func() error) {
	if g.sem != nil {
		g.sem <- struct{}{}
	}
	g.start(f)
}

func (g *instrGroup) TryGo(f func() error) bool {
	if g.sem != nil {
		select {
		case g.sem <- struct{}{}:
		default:
			return false
		}
	}
	g.start(f)
	return true
}

func (g *instrGroup) start(f func() error) {
	g.wg.Add(1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				g.mu.Lock()
				g.panicked = v
				g.mu.Unlock()
			}
			if g.sem != nil {
				<-g.sem
			}
			g.wg.Done()
		}()
		if err := f(); err != nil {
			g.errOnce.Do(func() { g.err = err })
		}
	}()
}

func (g *instrGroup) Wait() error {
	g.wg.Wait()
	if g.panicked != nil {
		panic(g.panicked)
	}
	return g.err
}

func TestInstrErrgroupGo(t *testing.T) {
	c, rec := instrSetup(&instrSiteEG)
	defer c.Disable()
	defer rec.disable()

	errF := errors.New("f failed")
	var in instrSeen
	f := func() error {
		in = instrObserve()
		rec.mark("f")
		return errF
	}
	var g instrGroup
	var parent uint64
	instrInParent(rec, "P", func(p uint64) {
		parent = p
		g.Go(hooksrt.GoFuncErr(f, &instrSiteEG))
	})
	if err := g.Wait(); err != errF {
		t.Errorf("Wait returned %v, want f's error", err)
	}
	rec.waitFor(t, 5)
	instrExpect(t, "errgroup Go", rec.lines(), []string{
		"init GOROUTINE r1 trigger=P exec=P on T",
		"before r1 exec=r1 on g1",
		"f exec=r1 on g1",
		"after r1 exec=r1 on g1",
		"destroy r1 on g1",
	})
	instrCheckResource(t, rec.resource(t, "r1"), "GOROUTINE", &instrSiteEG, parent, in)
	c.Check(t)
}

// A panic that f does not recover, caught by the library that started the
// goroutine, still closes the resource.
func TestInstrErrgroupGoPanic(t *testing.T) {
	c, rec := instrSetup(&instrSiteEG)
	defer c.Disable()
	defer rec.disable()

	f := func() error {
		rec.mark("f")
		panic("boom")
	}
	var g instrGroup
	instrInParent(rec, "P", func(uint64) {
		g.Go(hooksrt.GoFuncErr(f, &instrSiteEG))
	})
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Errorf("Wait panicked with %v, want boom", v)
			}
		}()
		g.Wait()
	}()
	rec.waitFor(t, 5)
	instrExpect(t, "errgroup Go panic", rec.lines(), []string{
		"init GOROUTINE r1 trigger=P exec=P on T",
		"before r1 exec=r1 on g1",
		"f exec=r1 on g1",
		"after r1 exec=r1 on g1",
		"destroy r1 on g1",
	})
	c.Check(t)
}

func TestInstrErrgroupTryGo(t *testing.T) {
	c, rec := instrSetup(&instrSiteTryGo)
	defer c.Disable()
	defer rec.disable()

	var g instrGroup
	g.SetLimit(1)
	started, release := make(chan struct{}), make(chan struct{})
	f1 := func() error {
		rec.mark("f1")
		close(started)
		<-release
		return nil
	}
	f2 := func() error {
		rec.mark("f2 must not run")
		return nil
	}
	instrInParent(rec, "P", func(uint64) {
		if !hooksrt.TryGo(g.TryGo, f1, &instrSiteTryGo) {
			t.Errorf("first TryGo returned false")
		}
		<-started
		if hooksrt.TryGo(g.TryGo, f2, &instrSiteTryGo) {
			t.Errorf("TryGo over the limit returned true")
		}
		// destroy of the refused resource came before TryGo returned.
		instrExpect(t, "refused TryGo", rec.linesOf("r2"), []string{
			"init GOROUTINE r2 trigger=P exec=P on T",
			"destroy r2 on T",
		})
	})
	close(release)
	if err := g.Wait(); err != nil {
		t.Errorf("Wait: %v", err)
	}
	rec.waitFor(t, 7)
	instrExpect(t, "TryGo", rec.lines(), []string{
		"init GOROUTINE r1 trigger=P exec=P on T",
		"before r1 exec=r1 on g1",
		"f1 exec=r1 on g1",
		"init GOROUTINE r2 trigger=P exec=P on T",
		"destroy r2 on T",
		"after r1 exec=r1 on g1",
		"destroy r1 on g1",
	})
	c.Check(t)
}

// ---------------------------------------------------------------------------
// time.AfterFunc, t.Stop(), t.Reset(d)

func TestInstrAfterFunc(t *testing.T) {
	c, rec := instrSetup(&instrSiteTimer)
	defer c.Disable()
	defer rec.disable()

	done := make(chan struct{})
	var in instrSeen
	f := func() {
		in = instrObserve()
		rec.mark("f")
		close(done)
	}
	var parent uint64
	var tm *time.Timer
	instrInParent(rec, "P", func(p uint64) {
		parent = p
		tm = hooksrt.AfterFunc(time.AfterFunc, time.Millisecond, f, &instrSiteTimer)
	})
	<-done
	rec.waitFor(t, 5)
	want := []string{
		"init Timeout r1 trigger=P exec=P on T",
		"before r1 exec=r1 on g1",
		"f exec=r1 on g1",
		"after r1 exec=r1 on g1",
		"destroy r1 on g1",
	}
	instrExpect(t, "AfterFunc", rec.lines(), want)
	instrCheckResource(t, rec.resource(t, "r1"), "Timeout", &instrSiteTimer, parent, in)
	// Stop after the timer fired: false, and nothing happens.
	if hooksrt.StopTimer(tm) {
		t.Errorf("StopTimer after the timer fired returned true")
	}
	instrExpect(t, "Stop after fire", rec.lines(), want)
	c.Check(t)
}

func TestInstrAfterFuncStop(t *testing.T) {
	c, rec := instrSetup(&instrSiteTimer)
	defer c.Disable()
	defer rec.disable()

	f := func() { rec.mark("f must not run") }
	var tm *time.Timer
	instrInParent(rec, "P", func(uint64) {
		tm = hooksrt.AfterFunc(time.AfterFunc, time.Hour, f, &instrSiteTimer)
	})
	instrInParent(rec, "Q", func(uint64) {
		if !hooksrt.StopTimer(tm) {
			t.Errorf("StopTimer on a pending timer returned false")
		}
	})
	want := []string{
		"init Timeout r1 trigger=P exec=P on T",
		"destroy r1 on T",
	}
	instrExpect(t, "Stop", rec.lines(), want)
	if hooksrt.StopTimer(tm) {
		t.Errorf("second StopTimer returned true")
	}
	instrExpect(t, "second Stop", rec.lines(), want)
	c.Check(t)
}

func TestInstrAfterFuncResetPending(t *testing.T) {
	c, rec := instrSetup(&instrSiteTimer)
	defer c.Disable()
	defer rec.disable()

	done := make(chan struct{})
	f := func() {
		rec.mark("f")
		close(done)
	}
	var tm *time.Timer
	instrInParent(rec, "P", func(uint64) {
		tm = hooksrt.AfterFunc(time.AfterFunc, time.Hour, f, &instrSiteTimer)
	})
	instrInParent(rec, "Q", func(uint64) {
		if !hooksrt.ResetTimer(tm, time.Millisecond) {
			t.Errorf("ResetTimer on a pending timer returned false")
		}
	})
	<-done
	rec.waitFor(t, 5)
	instrExpect(t, "Reset pending", rec.lines(), []string{
		"init Timeout r1 trigger=P exec=P on T",
		"before r1 exec=r1 on g1",
		"f exec=r1 on g1",
		"after r1 exec=r1 on g1",
		"destroy r1 on g1",
	})
	c.Check(t)
}

func TestInstrAfterFuncResetAfterFire(t *testing.T) {
	c, rec := instrSetup(&instrSiteTimer)
	defer c.Disable()
	defer rec.disable()

	done := make(chan struct{}, 2)
	ins := make(chan instrSeen, 2)
	f := func() {
		ins <- instrObserve()
		rec.mark("f")
		done <- struct{}{}
	}
	var tm *time.Timer
	instrInParent(rec, "P", func(uint64) {
		tm = hooksrt.AfterFunc(time.AfterFunc, time.Millisecond, f, &instrSiteTimer)
	})
	<-done
	rec.waitFor(t, 5) // the first run's destroy
	<-ins
	var q uint64
	instrInParent(rec, "Q", func(id uint64) {
		q = id
		if hooksrt.ResetTimer(tm, time.Millisecond) {
			t.Errorf("ResetTimer on a fired timer returned true")
		}
	})
	<-done
	rec.waitFor(t, 10)
	instrExpect(t, "Reset after fire", rec.lines(), []string{
		"init Timeout r1 trigger=P exec=P on T",
		"before r1 exec=r1 on g1",
		"f exec=r1 on g1",
		"after r1 exec=r1 on g1",
		"destroy r1 on g1",
		"init Timeout r2 trigger=Q exec=Q on T",
		"before r2 exec=r2 on g2",
		"f exec=r2 on g2",
		"after r2 exec=r2 on g2",
		"destroy r2 on g2",
	})
	instrCheckResource(t, rec.resource(t, "r2"), "Timeout", &instrSiteTimer, q, <-ins)
	c.Check(t)
}

func TestInstrAfterFuncResetAfterStop(t *testing.T) {
	c, rec := instrSetup(&instrSiteTimer)
	defer c.Disable()
	defer rec.disable()

	done := make(chan struct{})
	f := func() {
		rec.mark("f")
		close(done)
	}
	var tm *time.Timer
	instrInParent(rec, "P", func(uint64) {
		tm = hooksrt.AfterFunc(time.AfterFunc, time.Hour, f, &instrSiteTimer)
		if !hooksrt.StopTimer(tm) {
			t.Errorf("StopTimer on a pending timer returned false")
		}
	})
	instrInParent(rec, "Q", func(uint64) {
		if hooksrt.ResetTimer(tm, time.Millisecond) {
			t.Errorf("ResetTimer on a stopped timer returned true")
		}
	})
	<-done
	rec.waitFor(t, 7)
	instrExpect(t, "Reset after Stop", rec.lines(), []string{
		"init Timeout r1 trigger=P exec=P on T",
		"destroy r1 on T",
		"init Timeout r2 trigger=Q exec=Q on T",
		"before r2 exec=r2 on g1",
		"f exec=r2 on g1",
		"after r2 exec=r2 on g1",
		"destroy r2 on g1",
	})
	c.Check(t)
}

// A callback that re-arms its own timer: the next run is a new resource
// caused by the run that re-armed it.
func TestInstrAfterFuncResetFromCallback(t *testing.T) {
	c, rec := instrSetup(&instrSiteTimer)
	defer c.Disable()
	defer rec.disable()

	timers := make(chan *time.Timer, 1)
	done := make(chan struct{})
	var runs atomic.Int32
	f := func() {
		switch runs.Add(1) {
		case 1:
			tm := <-timers
			rec.mark("first")
			if hooksrt.ResetTimer(tm, time.Millisecond) {
				t.Errorf("ResetTimer from the callback returned true")
			}
		case 2:
			rec.mark("second")
			close(done)
		}
	}
	instrInParent(rec, "P", func(uint64) {
		timers <- hooksrt.AfterFunc(time.AfterFunc, time.Millisecond, f, &instrSiteTimer)
	})
	<-done
	rec.waitFor(t, 10)
	instrExpect(t, "first run", rec.linesOf("r1"), []string{
		"init Timeout r1 trigger=P exec=P on T",
		"before r1 exec=r1 on g1",
		"first exec=r1 on g1",
		"after r1 exec=r1 on g1",
		"destroy r1 on g1",
	})
	instrExpect(t, "second run", rec.linesOf("r2"), []string{
		"init Timeout r2 trigger=r1 exec=r1 on g1",
		"before r2 exec=r2 on g2",
		"second exec=r2 on g2",
		"after r2 exec=r2 on g2",
		"destroy r2 on g2",
	})
	c.Check(t)
}

// A Reset that comes after the timer fired, but before the goroutine that
// runs the callback has claimed its resource, must not steal that run: the
// run that fired belongs to the resource created for it, and the Reset
// arms a new one.
//
// The test makes the window wide: the init hook of the Reset that arms the
// run holds the timer's lock (ResetTimer emits init under it) until the
// callback's goroutine is blocked on that lock; with GOMAXPROCS=1 the
// woken goroutine cannot run before the test's next Reset takes the lock.
func TestInstrAfterFuncResetRacingFire(t *testing.T) {
	c, rec := instrSetup(&instrSiteTimer)
	defer c.Disable()
	defer rec.disable()
	procs := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(procs)

	var hold atomic.Bool
	blocker := hooksrt.CreateHook(hooksrt.Callbacks{
		Init: func(id uint64, typ string, trigger uint64, resource any) {
			if r, ok := resource.(*hooksrt.Resource); !ok || r.Site != &instrSiteTimer || !hold.CompareAndSwap(true, false) {
				return
			}
			// Wait until the timer has fired and its goroutine waits for
			// the timer's lock, which this hook's caller holds.
			buf := make([]byte, 1<<20)
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
				if strings.Contains(string(buf[:runtime.Stack(buf, true)]), "(*timerState).fire") {
					return
				}
			}
			t.Errorf("the timer did not fire within 10 s")
		},
	}).Enable()
	defer blocker.Disable()

	done := make(chan instrSeen, 2)
	f := func() {
		rec.mark("f")
		done <- instrObserve()
	}
	var tm *time.Timer
	instrInParent(rec, "P", func(uint64) {
		tm = hooksrt.AfterFunc(time.AfterFunc, time.Hour, f, &instrSiteTimer)
		hooksrt.StopTimer(tm)
	})
	instrInParent(rec, "Q", func(uint64) {
		hold.Store(true)
		if hooksrt.ResetTimer(tm, time.Millisecond) {
			t.Errorf("ResetTimer on a stopped timer returned true")
		}
		// The timer has fired; its run is r2's. This Reset arms r3.
		if hooksrt.ResetTimer(tm, time.Hour) {
			t.Errorf("ResetTimer on a fired timer returned true")
		}
	})
	runtime.GOMAXPROCS(procs)
	var in instrSeen
	select {
	case in = <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("the callback did not run")
	}
	rec.waitFor(t, 8)
	if !hooksrt.StopTimer(tm) {
		t.Errorf("StopTimer on the re-armed timer returned false")
	}
	instrExpect(t, "first resource", rec.linesOf("r1"), []string{
		"init Timeout r1 trigger=P exec=P on T",
		"destroy r1 on T",
	})
	instrExpect(t, "the run that fired", rec.linesOf("r2"), []string{
		"init Timeout r2 trigger=Q exec=Q on T",
		"before r2 exec=r2 on g1",
		"f exec=r2 on g1",
		"after r2 exec=r2 on g1",
		"destroy r2 on g1",
	})
	instrExpect(t, "the run armed after it fired", rec.linesOf("r3"), []string{
		"init Timeout r3 trigger=Q exec=Q on T",
		"destroy r3 on T",
	})
	if r2 := rec.resource(t, "r2"); in.exec != r2.AsyncID() {
		t.Errorf("the callback ran in %d, want r2 (%d), the resource of the run that fired", in.exec, r2.AsyncID())
	}
	c.Check(t)
	// Every resource must be destroyed.
	for _, a := range c.Activities("Timeout") {
		if len(a.Destroy) != 1 {
			t.Errorf("Timeout(%d) was never destroyed:\n%s", a.ID, c)
		}
	}
}

// ---------------------------------------------------------------------------
// context.AfterFunc

func TestInstrContextAfterFunc(t *testing.T) {
	c, rec := instrSetup(&instrSiteCtx)
	defer c.Disable()
	defer rec.disable()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	var in instrSeen
	f := func() {
		in = instrObserve()
		rec.mark("f")
		close(done)
	}
	var parent uint64
	var stop func() bool
	instrInParent(rec, "P", func(p uint64) {
		parent = p
		stop = hooksrt.ContextAfterFunc(context.AfterFunc, ctx, f, &instrSiteCtx)
	})
	instrInParent(rec, "Q", func(uint64) { cancel() })
	<-done
	rec.waitFor(t, 5)
	want := []string{
		"init CONTEXTAFTERFUNC r1 trigger=P exec=P on T",
		"before r1 exec=r1 on g1",
		"f exec=r1 on g1",
		"after r1 exec=r1 on g1",
		"destroy r1 on g1",
	}
	instrExpect(t, "context.AfterFunc", rec.lines(), want)
	instrCheckResource(t, rec.resource(t, "r1"), "CONTEXTAFTERFUNC", &instrSiteCtx, parent, in)
	if stop() {
		t.Errorf("stop after f ran returned true")
	}
	instrExpect(t, "stop after f", rec.lines(), want)
	c.Check(t)
}

func TestInstrContextAfterFuncStop(t *testing.T) {
	c, rec := instrSetup(&instrSiteCtx)
	defer c.Disable()
	defer rec.disable()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := func() { rec.mark("f must not run") }
	var stop func() bool
	instrInParent(rec, "P", func(uint64) {
		stop = hooksrt.ContextAfterFunc(context.AfterFunc, ctx, f, &instrSiteCtx)
	})
	instrInParent(rec, "Q", func(uint64) {
		if !stop() {
			t.Errorf("stop before the context was done returned false")
		}
	})
	want := []string{
		"init CONTEXTAFTERFUNC r1 trigger=P exec=P on T",
		"destroy r1 on T",
	}
	instrExpect(t, "stop", rec.lines(), want)
	if stop() {
		t.Errorf("second stop returned true")
	}
	cancel()
	time.Sleep(5 * time.Millisecond)
	instrExpect(t, "cancel after stop", rec.lines(), want)
	c.Check(t)
}

// Callbacks that can start at once (a zero delay, a context already done)
// still get their init first, on the creating goroutine.
func TestInstrZeroDelay(t *testing.T) {
	c, rec := instrSetup(&instrSiteTimer, &instrSiteCtx)
	defer c.Disable()
	defer rec.disable()

	const n = 100
	done, cancel := context.WithCancel(context.Background())
	cancel()
	var wg sync.WaitGroup
	instrInParent(rec, "P", func(uint64) {
		for range n {
			wg.Add(2)
			hooksrt.AfterFunc(time.AfterFunc, 0, func() { rec.mark("timer"); wg.Done() }, &instrSiteTimer)
			hooksrt.ContextAfterFunc(context.AfterFunc, done, func() { rec.mark("ctx"); wg.Done() }, &instrSiteCtx)
		}
	})
	wg.Wait()
	rec.waitFor(t, 2*n*5)
	for i := range 2 * n {
		r := "r" + strconv.Itoa(i+1)
		typ, mark := "Timeout", "timer"
		if i%2 == 1 {
			typ, mark = "CONTEXTAFTERFUNC", "ctx"
		}
		instrExpect(t, r, rec.linesOf(r), []string{
			"init " + typ + " " + r + " trigger=P exec=P on T",
			"before " + r + " exec=" + r + " on g1",
			mark + " exec=" + r + " on g1",
			"after " + r + " exec=" + r + " on g1",
			"destroy " + r + " on g1",
		})
	}
	c.Check(t)
}

// ---------------------------------------------------------------------------
// ch <- v: Send, and the receiver's Begin/End, Received, Cancel and Scope.

// instrMsg is a value of a tracked channel: it carries the handoff of its send.
type instrMsg struct {
	v    int
	from uint64 // the sender's execution id
	h    *hooksrt.Handoff
}

func TestInstrHandoffScope(t *testing.T) {
	c, rec := instrSetup(&instrSiteGo, &instrSiteSend)
	defer c.Disable()
	defer rec.disable()

	ch := make(chan instrMsg)
	release := make(chan struct{})
	sender := func(v int) {
		ch <- instrMsg{v: v, from: hooksrt.ExecutionAsyncID(), h: hooksrt.Send(&instrSiteSend)}
		<-release
	}
	instrInParent(rec, "P", func(uint64) {
		go func(f func(int), v int, t *hooksrt.Task) {
			t.Begin()
			defer t.End()
			f(v)
		}(sender, 5, hooksrt.Go(&instrSiteGo))
	})
	var in instrSeen
	var own uint64
	instrInParent(rec, "R", func(r uint64) {
		own = r
		m := <-ch
		m.h.Begin()
		in = instrObserve()
		rec.mark("scope")
		m.h.End()
		rec.mark("after the scope")
		if m.v != 5 {
			t.Errorf("received %d, want 5", m.v)
		}
		if in.trigger != m.from {
			t.Errorf("TriggerAsyncID() in the scope = %d, want the sender's %d", in.trigger, m.from)
		}
		if got := hooksrt.ExecutionAsyncID(); got != own {
			t.Errorf("ExecutionAsyncID() after the scope = %d, want the receiver's own %d", got, own)
		}
	})
	close(release)
	rec.waitFor(t, 11)
	instrExpect(t, "handoff scope", rec.lines(), []string{
		"init GOROUTINE r1 trigger=P exec=P on T",
		"before r1 exec=r1 on g1",
		"init CHANSEND r2 trigger=r1 exec=r1 on g1",
		"promiseResolve r2 exec=R on T",
		"before r2 exec=r2 on T",
		"scope exec=r2 on T",
		"after r2 exec=r2 on T",
		"destroy r2 on T",
		"after the scope exec=R on T",
		"after r1 exec=r1 on g1",
		"destroy r1 on g1",
	})
	res := rec.resource(t, "r2")
	instrCheckResource(t, res, "CHANSEND", &instrSiteSend, rec.resource(t, "r1").AsyncID(), in)
	c.Check(t)
}

func TestInstrHandoffReceived(t *testing.T) {
	c, rec := instrSetup(&instrSiteSend)
	defer c.Disable()
	defer rec.disable()

	ch := make(chan instrMsg, 1)
	instrInParent(rec, "P", func(uint64) {
		ch <- instrMsg{v: 1, h: hooksrt.Send(&instrSiteSend)}
	})
	instrInParent(rec, "R", func(uint64) {
		rec.mark("before the receive")
		m := <-ch
		m.h.Received()
		rec.mark("after the receive")
	})
	instrExpect(t, "Received", rec.lines(), []string{
		"init CHANSEND r1 trigger=P exec=P on T",
		"before the receive exec=R on T",
		"promiseResolve r1 exec=R on T",
		"before r1 exec=r1 on T",
		"after r1 exec=r1 on T",
		"destroy r1 on T",
		"after the receive exec=R on T",
	})
	c.Check(t)
}

func TestInstrHandoffCancel(t *testing.T) {
	c, rec := instrSetup(&instrSiteSend)
	defer c.Disable()
	defer rec.disable()

	full := make(chan instrMsg) // nobody receives: the send case loses
	instrInParent(rec, "P", func(uint64) {
		h := hooksrt.Send(&instrSiteSend)
		select {
		case full <- instrMsg{v: 1, h: h}:
			t.Errorf("send to a channel nobody receives from succeeded")
		default:
			h.Cancel()
		}
	})
	instrExpect(t, "Cancel", rec.lines(), []string{
		"init CHANSEND r1 trigger=P exec=P on T",
		"destroy r1 on T",
	})
	c.Check(t)
}

// The scope of a for-range iteration ends where the next one starts.
func TestInstrHandoffLoopScope(t *testing.T) {
	c, rec := instrSetup(&instrSiteSend)
	defer c.Disable()
	defer rec.disable()

	ch := make(chan instrMsg, 3)
	instrInParent(rec, "P", func(uint64) {
		for v := range 3 {
			ch <- instrMsg{v: v, h: hooksrt.Send(&instrSiteSend)}
		}
		close(ch)
	})
	instrInParent(rec, "R", func(uint64) {
		func() {
			var sc hooksrt.Scope
			defer sc.Exit()
			for m := range ch {
				sc.Enter(m.h)
				rec.mark(fmt.Sprintf("body %d", m.v))
			}
			sc.Exit()
			rec.mark("after the loop")
		}()
		rec.mark("after the deferred Exit")
	})
	instrExpect(t, "for range scope", rec.lines(), []string{
		"init CHANSEND r1 trigger=P exec=P on T",
		"init CHANSEND r2 trigger=P exec=P on T",
		"init CHANSEND r3 trigger=P exec=P on T",
		"promiseResolve r1 exec=R on T",
		"before r1 exec=r1 on T",
		"body 0 exec=r1 on T",
		"after r1 exec=r1 on T",
		"destroy r1 on T",
		"promiseResolve r2 exec=R on T",
		"before r2 exec=r2 on T",
		"body 1 exec=r2 on T",
		"after r2 exec=r2 on T",
		"destroy r2 on T",
		"promiseResolve r3 exec=R on T",
		"before r3 exec=r3 on T",
		"body 2 exec=r3 on T",
		"after r3 exec=r3 on T",
		"destroy r3 on T",
		"after the loop exec=R on T",
		"after the deferred Exit exec=R on T",
	})
	c.Check(t)
}

// Enter(nil) (a value whose send was not tracked) closes the open scope and
// opens none; Exit on an empty scope does nothing.
func TestInstrHandoffScopeEnterNil(t *testing.T) {
	c, rec := instrSetup(&instrSiteSend)
	defer c.Disable()
	defer rec.disable()

	var h *hooksrt.Handoff
	instrInParent(rec, "P", func(uint64) { h = hooksrt.Send(&instrSiteSend) })
	instrInParent(rec, "R", func(uint64) {
		var sc hooksrt.Scope
		sc.Exit()
		sc.Enter(h)
		rec.mark("in")
		sc.Enter(nil)
		rec.mark("untracked value")
		sc.Exit()
		sc.Exit()
	})
	instrExpect(t, "Enter nil", rec.lines(), []string{
		"init CHANSEND r1 trigger=P exec=P on T",
		"promiseResolve r1 exec=R on T",
		"before r1 exec=r1 on T",
		"in exec=r1 on T",
		"after r1 exec=r1 on T",
		"destroy r1 on T",
		"untracked value exec=R on T",
	})
	c.Check(t)
}

// Under concurrent senders and receivers on a buffered channel, each
// receiver sees the resource of the very send that produced its value.
func TestInstrHandoffExactAttribution(t *testing.T) {
	hooksrt.Track()
	c := hookstest.NewCollector(hookstest.Options{}).Enable()
	defer c.Disable()

	const senders, perSender, receivers = 4, 50, 3
	ch := make(chan instrMsg, 8)
	var bad atomic.Int64
	var errs sync.Map
	fail := func(format string, args ...any) {
		if bad.Add(1) <= 5 {
			errs.Store(fmt.Sprintf(format, args...), true)
		}
	}
	var sent, recvd sync.WaitGroup
	send := func(n int) {
		defer sent.Done()
		for v := range n {
			ch <- instrMsg{v: v, from: hooksrt.ExecutionAsyncID(), h: hooksrt.Send(&instrSiteSend)}
		}
	}
	receive := func(int) {
		defer recvd.Done()
		own := hooksrt.ExecutionAsyncID()
		var sc hooksrt.Scope
		defer sc.Exit()
		for m := range ch {
			sc.Enter(m.h)
			res, _ := hooksrt.ExecutionAsyncResource().(*hooksrt.Resource)
			switch {
			case res == nil || res.Site != &instrSiteSend || res.Type() != "CHANSEND":
				fail("resource in the scope is %v", hooksrt.ExecutionAsyncResource())
			case hooksrt.ExecutionAsyncID() != res.AsyncID():
				fail("ExecutionAsyncID %d, resource %d", hooksrt.ExecutionAsyncID(), res.AsyncID())
			case hooksrt.TriggerAsyncID() != m.from:
				fail("value from %d received in a scope triggered by %d", m.from, hooksrt.TriggerAsyncID())
			}
			runtime.Gosched()
		}
		sc.Exit()
		if got := hooksrt.ExecutionAsyncID(); got != own {
			fail("receiver in %d after its loop, want %d", got, own)
		}
	}
	p := hooksrt.NewAsyncResource("TEST_PARENT", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	p.RunInAsyncScope(func() {
		for range receivers {
			recvd.Add(1)
			go func(f func(int), x int, t *hooksrt.Task) {
				t.Begin()
				defer t.End()
				f(x)
			}(receive, 0, hooksrt.Go(&instrSiteGo))
		}
		for range senders {
			sent.Add(1)
			go func(f func(int), x int, t *hooksrt.Task) {
				t.Begin()
				defer t.End()
				f(x)
			}(send, perSender, hooksrt.Go(&instrSiteGo))
		}
	})
	p.EmitDestroy()
	sent.Wait()
	close(ch)
	recvd.Wait()
	if !c.Settle(10*time.Second, "GOROUTINE", "CHANSEND") {
		t.Errorf("not every resource was destroyed:\n%s", c)
	}
	errs.Range(func(k, _ any) bool { t.Error(k); return true })
	if n := bad.Load(); n > 0 {
		t.Errorf("%d attribution errors", n)
	}
	sends := c.Activities("CHANSEND")
	if len(sends) != senders*perSender {
		t.Errorf("%d CHANSEND resources, want %d", len(sends), senders*perSender)
	}
	for _, a := range sends {
		hookstest.CheckInvocations(t, a, hookstest.Counts{"init": 1, "promiseResolve": 1, "before": 1, "after": 1, "destroy": 1}, "handoff")
		if a.PromiseResolve[0] > a.Before[0] || a.After[0] > a.Destroy[0] {
			t.Errorf("CHANSEND(%d): events out of order: %+v", a.ID, a)
		}
	}
	c.Check(t)
}

// ---------------------------------------------------------------------------
// Tracking off: every entry point is the original call, and nothing is
// emitted.

func instrFuncPtr[F any](f F) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&f)) }

func TestInstrEntryPointsTrackingOff(t *testing.T) {
	hooksrt.Track()
	// A hook that counts the events of resources created here: enabled
	// before tracking goes off, since enabling a hook switches tracking on.
	// Its callbacks only count, so as not to switch tracking back on
	// themselves.
	var events atomic.Int64
	var ours sync.Map
	count := func(id uint64) {
		if _, ok := ours.Load(id); ok {
			events.Add(1)
		}
	}
	h := hooksrt.CreateHook(hooksrt.Callbacks{
		Init: func(id uint64, typ string, trigger uint64, resource any) {
			if r, ok := resource.(*hooksrt.Resource); ok && r.Site == &instrSiteOff {
				ours.Store(id, true)
				events.Add(1)
			}
		},
		Before: count, After: count, Destroy: count, PromiseResolve: count,
	}).Enable()
	defer h.Disable()
	hooksrt.ResetTracking()
	defer hooksrt.Track()

	// go f(x)
	task := hooksrt.Go(&instrSiteOff)
	if task.AsyncID() != 0 {
		t.Errorf("Go returned %v, want nil", task)
	}
	ran := make(chan string, 10)
	go func(f func(string), x string, t *hooksrt.Task) {
		t.Begin()
		defer t.End()
		f(x)
	}(func(s string) { ran <- s }, "go", task)
	if s := <-ran; s != "go" {
		t.Errorf("goroutine got %q", s)
	}

	// wg.Go(f)
	f := func() { ran <- "wg" }
	if got := hooksrt.GoFunc(f, &instrSiteOff); instrFuncPtr(got) != instrFuncPtr(f) {
		t.Errorf("GoFunc wrapped f")
	}
	var wg sync.WaitGroup
	wg.Go(hooksrt.GoFunc(f, &instrSiteOff))
	wg.Wait()
	if s := <-ran; s != "wg" {
		t.Errorf("wg.Go ran %q", s)
	}

	// g.Go(f), g.TryGo(f)
	fe := func() error { ran <- "errgroup"; return nil }
	if got := hooksrt.GoFuncErr(fe, &instrSiteOff); instrFuncPtr(got) != instrFuncPtr(fe) {
		t.Errorf("GoFuncErr wrapped f")
	}
	var passed func() error
	tryGo := func(ok bool) func(func() error) bool {
		return func(g func() error) bool { passed = g; return ok }
	}
	for _, ok := range []bool{true, false} {
		passed = nil
		if got := hooksrt.TryGo(tryGo(ok), fe, &instrSiteOff); got != ok {
			t.Errorf("TryGo returned %v, want tryGo's %v", got, ok)
		}
		if instrFuncPtr(passed) != instrFuncPtr(fe) {
			t.Errorf("TryGo passed a wrapped f to tryGo")
		}
	}

	// time.AfterFunc, Stop, Reset
	tm := hooksrt.AfterFunc(time.AfterFunc, time.Millisecond, func() { ran <- "timer" }, &instrSiteOff)
	if s := <-ran; s != "timer" {
		t.Errorf("timer ran %q", s)
	}
	if hooksrt.ResetTimer(tm, time.Millisecond) {
		t.Errorf("ResetTimer on a fired timer returned true")
	}
	if s := <-ran; s != "timer" {
		t.Errorf("reset timer ran %q", s)
	}
	tm = hooksrt.AfterFunc(time.AfterFunc, time.Hour, func() { ran <- "stopped timer" }, &instrSiteOff)
	if !hooksrt.ResetTimer(tm, time.Hour) {
		t.Errorf("ResetTimer on a pending timer returned false")
	}
	if !hooksrt.StopTimer(tm) || hooksrt.StopTimer(tm) {
		t.Errorf("StopTimer: want true, then false")
	}

	// context.AfterFunc
	ctx, cancel := context.WithCancel(context.Background())
	stop := hooksrt.ContextAfterFunc(context.AfterFunc, ctx, func() { ran <- "ctx" }, &instrSiteOff)
	stop2 := hooksrt.ContextAfterFunc(context.AfterFunc, ctx, func() { ran <- "stopped ctx" }, &instrSiteOff)
	if !stop2() {
		t.Errorf("stop returned false")
	}
	cancel()
	if s := <-ran; s != "ctx" {
		t.Errorf("context.AfterFunc ran %q", s)
	}
	if stop() {
		t.Errorf("stop after f ran returned true")
	}

	// ch <- v
	hs := hooksrt.Send(&instrSiteOff)
	if hs == nil || hs.AsyncID() != 0 || hs != hooksrt.Send(&instrSiteOff) {
		t.Errorf("Send returned %v, want the shared untracked handoff (non-nil, id 0)", hs)
	}
	hs.Begin()
	hs.End()
	hs.Received()
	hs.Cancel()
	var sc hooksrt.Scope
	sc.Enter(hs)
	sc.Enter(hooksrt.Send(&instrSiteOff))
	sc.Exit()

	time.Sleep(5 * time.Millisecond)
	select {
	case s := <-ran:
		t.Errorf("%s ran", s)
	default:
	}
	if n := events.Load(); n != 0 {
		t.Errorf("%d events emitted with tracking off", n)
	}
	if hooksrt.Tracking() {
		t.Errorf("something switched tracking on")
	}
}

var (
	instrOffFunc    = func() {}
	instrOffFuncErr = func() error { return nil }
	instrOffTryGo   = func(func() error) bool { return false }
)

func TestInstrEntryPointsAllocateNothingWhenOff(t *testing.T) {
	hooksrt.ResetTracking()
	defer hooksrt.Track()
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"Go+Begin+End", func() { task := hooksrt.Go(&instrSiteOff); task.Begin(); task.End() }},
		{"GoFunc", func() { instrOffFunc = hooksrt.GoFunc(instrOffFunc, &instrSiteOff) }},
		{"GoFuncErr", func() { instrOffFuncErr = hooksrt.GoFuncErr(instrOffFuncErr, &instrSiteOff) }},
		{"TryGo", func() { hooksrt.TryGo(instrOffTryGo, instrOffFuncErr, &instrSiteOff) }},
		{"Send+Received", func() { hooksrt.Send(&instrSiteOff).Received() }},
		{"Send+Begin+End", func() { h := hooksrt.Send(&instrSiteOff); h.Begin(); h.End() }},
		{"Send+Cancel", func() { hooksrt.Send(&instrSiteOff).Cancel() }},
		{"Scope", func() { var sc hooksrt.Scope; sc.Enter(hooksrt.Send(&instrSiteOff)); sc.Exit() }},
	} {
		if n := testing.AllocsPerRun(1000, tc.f); n != 0 {
			t.Errorf("%s: %v allocations per run with tracking off, want 0", tc.name, n)
		}
	}
	if hooksrt.Tracking() {
		t.Errorf("something switched tracking on")
	}
}

// A value sent while tracking was off carries the shared untracked
// handoff; receiving it once hooks are on emits nothing, whatever form
// the receive takes.
func TestUntrackedHandoffIsSilent(t *testing.T) {
	hooksrt.ResetTracking()
	h := hooksrt.Send(&instrSiteOff)
	var mu sync.Mutex
	var events []string
	note := func(ev string) func(uint64) {
		return func(id uint64) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, fmt.Sprint(ev, id))
		}
	}
	hook := hooksrt.CreateHook(hooksrt.Callbacks{Before: note("before"), After: note("after"),
		Destroy: note("destroy"), PromiseResolve: note("promiseResolve")}).Enable()
	defer hook.Disable()
	h.Received()
	h.Begin()
	h.End()
	h.Cancel()
	var sc hooksrt.Scope
	sc.Enter(h)
	sc.Exit()
	if tracked := hooksrt.Send(&instrSiteOff); tracked.AsyncID() == 0 {
		t.Errorf("Send with a hook enabled returned an untracked handoff")
	} else {
		tracked.Received()
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 4 || !strings.HasPrefix(events[0], "promiseResolve") {
		t.Errorf("events: %q, want only the tracked handoff's promiseResolve, before, after and destroy", events)
	}
}
