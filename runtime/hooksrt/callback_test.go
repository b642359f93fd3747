//go:build go1.25

package hooksrt_test

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
	"github.com/asyncinstr/asyncinstr/runtime/hooksrt/hookstest"
)

// cbWrap is the wrapper that the companion file declares for a callback of
// type func() (_asyncinstrCb0).
func cbWrap[F ~func()](f F, c *hooksrt.Callback) F {
	if c == nil || f == nil {
		return f
	}
	return func() {
		defer c.End(c.Begin())
		f()
	}
}

var cbSite = &hooksrt.Site{File: "callback_test.go", Line: 1, Func: "pool.Submit"}

// A toy pool with its own worker goroutine, started plainly: the rewriter
// does not see it, so its tasks run in the unknown context unless their
// callbacks are resources.
type cbPool struct{ tasks chan func() }

func newCbPool() *cbPool {
	p := &cbPool{tasks: make(chan func(), 16)}
	go func() {
		for f := range p.tasks {
			f()
		}
	}()
	return p
}

// Submit is the declared async API, wrapped at its entry as a directive
// makes the rewriter wrap it.
func (p *cbPool) Submit(task func(), typ string, many bool) {
	task = cbWrap(task, hooksrt.NewCallback(typ, many, cbSite))
	p.tasks <- task
}

// A callback that runs once: init at Submit, triggered by the submitter
// and carrying its stores; before and after around its run on the pool's
// worker; destroy right after.
func TestCallbackOnce(t *testing.T) {
	c := hookstest.NewCollector(hookstest.Options{Types: []string{"POOLTASK"}}).Enable()
	defer c.Disable()
	p := newCbPool()
	defer close(p.tasks)
	als := hooksrt.NewAsyncLocalStorage[string]()
	type seen struct {
		exec, trigger uint64
		store         string
	}
	got := make(chan seen, 1)
	var submitter uint64
	alsGo(func() {
		submitter = hooksrt.ExecutionAsyncID()
		als.Run("job-1", func() {
			p.Submit(func() {
				got <- seen{hooksrt.ExecutionAsyncID(), hooksrt.TriggerAsyncID(), alsStore(als)}
			}, "POOLTASK", false)
		})
	})
	s := <-got
	if !c.Settle(5*time.Second, "POOLTASK") {
		t.Fatalf("the task was not destroyed:\n%s", c)
	}
	as := c.Activities()
	if len(as) != 1 {
		t.Fatalf("%d POOLTASK resources, want 1:\n%s", len(as), c)
	}
	a := as[0]
	if a.Trigger != submitter || s.exec != a.ID || s.trigger != submitter || s.store != "job-1" || a.Site != cbSite {
		t.Errorf("task ran as %d (trigger %d, store %s); resource %d trigger %d site %v; submitter %d", s.exec, s.trigger, s.store, a.ID, a.Trigger, a.Site, submitter)
	}
	hookstest.CheckInvocations(t, a, hookstest.Counts{"init": 1, "before": 1, "after": 1, "destroy": 1}, "after its run")
	c.Check(t)
}

// A callback declared runs=many gets a before/after pair per run, on
// several goroutines at once, and its destroy only when it is collected. A
// once callback run twice (a misdeclared API) runs outside its resource
// the second time; a nil callback stays nil.
func TestCallbackManyAndMisuse(t *testing.T) {
	c := hookstest.NewCollector(hookstest.Options{Types: []string{"EVENT", "ONCE"}}).Enable()
	defer c.Disable()
	var runID atomic.Uint64
	func() {
		h := cbWrap(func() { runID.Store(hooksrt.ExecutionAsyncID()) }, hooksrt.NewCallback("EVENT", true, cbSite))
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(h)
		}
		wg.Wait()
		runtime.KeepAlive(h)
	}()
	if !c.Settle(10*time.Second, "EVENT") {
		t.Fatalf("the collected callback was not destroyed:\n%s", c)
	}
	a, _ := c.Activity(runID.Load())
	hookstest.CheckInvocations(t, a, hookstest.Counts{"init": 1, "before": 4, "after": 4, "destroy": 1}, "after 4 runs and GC")

	var ids []uint64
	once := cbWrap(func() { ids = append(ids, hooksrt.ExecutionAsyncID()) }, hooksrt.NewCallback("ONCE", false, cbSite))
	once()
	once()
	if len(ids) != 2 || ids[0] == 0 || ids[1] != 0 {
		t.Errorf("a once callback run twice ran in %v, want its resource then the unknown context", ids)
	}
	a, _ = c.Activity(ids[0])
	hookstest.CheckInvocations(t, a, hookstest.Counts{"init": 1, "before": 1, "after": 1, "destroy": 1}, "after 2 runs")

	if f := cbWrap[func()](nil, hooksrt.NewCallback("ONCE", false, cbSite)); f != nil {
		t.Error("a nil callback was wrapped")
	}
	c.Check(t)
}

// A once callback that never runs is destroyed without before or after
// when it is collected; a panicking callback still gets after and destroy.
func TestCallbackNeverRunAndPanic(t *testing.T) {
	c := hookstest.NewCollector(hookstest.Options{Types: []string{"DROPPED", "PANICS"}}).Enable()
	defer c.Disable()
	func() {
		f := cbWrap(func() {}, hooksrt.NewCallback("DROPPED", false, cbSite))
		runtime.KeepAlive(f)
	}()
	if !c.Settle(10*time.Second, "DROPPED") {
		t.Fatalf("a dropped callback was not destroyed:\n%s", c)
	}
	dropped := c.Activities("DROPPED")
	if len(dropped) != 1 {
		t.Fatalf("%d DROPPED resources", len(dropped))
	}
	hookstest.CheckInvocations(t, dropped[0], hookstest.Counts{"init": 1, "destroy": 1}, "dropped")

	var id uint64
	f := cbWrap(func() { id = hooksrt.ExecutionAsyncID(); panic("boom") }, hooksrt.NewCallback("PANICS", false, cbSite))
	func() {
		defer func() { recover() }()
		f()
	}()
	a, _ := c.Activity(id)
	hookstest.CheckInvocations(t, a, hookstest.Counts{"init": 1, "before": 1, "after": 1, "destroy": 1}, "after a panic")
	c.Check(t)
}

// Destroy runs after the resource's after, outside its scope: inside the
// destroy callback of a goroutine's resource, the goroutine is back in its
// base context (unknown, 0), as it is after a callback scope's end.
func TestDestroyRunsOutsideScope(t *testing.T) {
	var mu sync.Mutex
	inDestroy := map[uint64]uint64{}
	h := hooksrt.CreateHook(hooksrt.Callbacks{Destroy: func(id uint64) {
		mu.Lock()
		inDestroy[id] = hooksrt.ExecutionAsyncID()
		mu.Unlock()
	}}).Enable()
	defer h.Disable()
	ids := make(chan uint64, 1)
	done := make(chan struct{})
	go func(t *hooksrt.Task) {
		defer close(done)
		t.Begin()
		defer t.End()
		ids <- hooksrt.ExecutionAsyncID()
	}(hooksrt.Go(cbSite))
	id := <-ids
	<-done
	mu.Lock()
	defer mu.Unlock()
	if got, ok := inDestroy[id]; !ok || got != 0 {
		t.Errorf("destroy of %d: delivered %v, in context %d; want 0", id, ok, got)
	}
}

// A goroutine whose task ends while a scope it opened is still open
// (misused entry points; with no hook checking the stack) leaves no
// goroutine state behind.
func TestTaskEndsWithScopeOpen(t *testing.T) {
	hooksrt.Track()
	before := hooksrt.LiveGoroutineStates()
	done := make(chan struct{})
	go func(task *hooksrt.Task) {
		defer close(done)
		task.Begin()
		defer task.End()
		hooksrt.Send(cbSite).Begin() // never ended
	}(hooksrt.Go(cbSite))
	<-done
	if n := hooksrt.LiveGoroutineStates(); n > before {
		t.Errorf("%d goroutine states after the task ended, %d before", n, before)
	}
}
