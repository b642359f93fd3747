//go:build go1.25

package hooksrt_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
	"github.com/asyncinstr/asyncinstr/runtime/hooksrt/hookstest"
)

var (
	stressSiteGo     = hooksrt.Site{File: "stress_test.go", Line: 1, Func: "go"}
	stressSiteWG     = hooksrt.Site{File: "stress_test.go", Line: 2, Func: "wg.Go"}
	stressSiteEG     = hooksrt.Site{File: "stress_test.go", Line: 3, Func: "errgroup.Go"}
	stressSiteTryGo  = hooksrt.Site{File: "stress_test.go", Line: 4, Func: "errgroup.TryGo"}
	stressSiteTimer  = hooksrt.Site{File: "stress_test.go", Line: 5, Func: "time.AfterFunc"}
	stressSiteCtx    = hooksrt.Site{File: "stress_test.go", Line: 6, Func: "context.AfterFunc"}
	stressSiteJob    = hooksrt.Site{File: "stress_test.go", Line: 7, Func: "jobs <- job"}
	stressSiteResult = hooksrt.Site{File: "stress_test.go", Line: 8, Func: "results <- result"}
)

// stressMsg is the element of a tracked channel: the value carries the
// handoff of its send, and, for checking, the sender's execution id.
type stressMsg struct {
	from uint64
	h    *hooksrt.Handoff
}

// stressRun is the state of one TestStress run.
type stressRun struct {
	scopes, jobsInScope, jobsOutside int

	jobs chan stressMsg

	// Resources created, by type, to compare with what the collector saw.
	goroutines, timeouts, ctxFuncs, handoffs, asyncResources atomic.Int64
	stoppedTimeouts, stoppedCtxFuncs                         atomic.Int64
	works                                                    atomic.Int64

	failures atomic.Int64
	mu       sync.Mutex
	first    []string
}

func (s *stressRun) fail(format string, args ...any) {
	if s.failures.Add(1) <= 10 {
		s.mu.Lock()
		s.first = append(s.first, fmt.Sprintf(format, args...))
		s.mu.Unlock()
	}
}

// inResource checks that the calling code runs in the scope of an
// instrumented resource of type typ whose trigger is want, and returns its
// id.
func (s *stressRun) inResource(typ string, want uint64) uint64 {
	exec := hooksrt.ExecutionAsyncID()
	res, ok := hooksrt.ExecutionAsyncResource().(*hooksrt.Resource)
	switch {
	case !ok:
		s.fail("%s: ExecutionAsyncResource() is %T", typ, hooksrt.ExecutionAsyncResource())
	case res.Type() != typ || res.AsyncID() != exec:
		s.fail("%s: running in %v, ExecutionAsyncID() %d", typ, res, exec)
	case hooksrt.TriggerAsyncID() != want || res.TriggerAsyncID() != want:
		s.fail("%s(%d): trigger %d (resource says %d), want %d", typ, exec, hooksrt.TriggerAsyncID(), res.TriggerAsyncID(), want)
	}
	return exec
}

// work is the body of every leaf goroutine: an AsyncResource run in many
// scopes, handoffs to the worker pool from inside and outside those scopes,
// and a result handed to the parent.
func (s *stressRun) work(typ string, parent uint64, results chan<- stressMsg) {
	s.works.Add(1)
	own := s.inResource(typ, parent)
	ar := hooksrt.NewAsyncResource("STRESS", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	s.asyncResources.Add(1)
	for k := range s.scopes {
		ar.RunInAsyncScope(func() {
			if hooksrt.ExecutionAsyncID() != ar.AsyncID() || hooksrt.TriggerAsyncID() != own {
				s.fail("AsyncResource(%d) scope: in %d triggered by %d, want %d", ar.AsyncID(), hooksrt.ExecutionAsyncID(), hooksrt.TriggerAsyncID(), own)
			}
			if k < s.jobsInScope {
				s.handoffs.Add(1)
				s.jobs <- stressMsg{from: ar.AsyncID(), h: hooksrt.Send(&stressSiteJob)}
			}
		})
	}
	ar.EmitDestroy()
	for range s.jobsOutside {
		s.handoffs.Add(1)
		s.jobs <- stressMsg{from: own, h: hooksrt.Send(&stressSiteJob)}
	}
	if got := hooksrt.ExecutionAsyncID(); got != own {
		s.fail("%s(%d): in %d after the AsyncResource scopes", typ, own, got)
	}
	s.handoffs.Add(1)
	results <- stressMsg{from: own, h: hooksrt.Send(&stressSiteResult)}
}

// worker takes jobs from the shared channel, each in the scope of its send.
func (s *stressRun) worker(root uint64) {
	own := s.inResource("GOROUTINE", root)
	var sc hooksrt.Scope
	defer sc.Exit()
	for m := range s.jobs {
		sc.Enter(m.h)
		res, ok := hooksrt.ExecutionAsyncResource().(*hooksrt.Resource)
		switch {
		case !ok || res.Site != &stressSiteJob:
			s.fail("job handled in %v", hooksrt.ExecutionAsyncResource())
		case hooksrt.ExecutionAsyncID() != res.AsyncID() || hooksrt.TriggerAsyncID() != m.from:
			s.fail("job from %d handled in %d triggered by %d", m.from, hooksrt.ExecutionAsyncID(), hooksrt.TriggerAsyncID())
		}
	}
	sc.Exit()
	if got := hooksrt.ExecutionAsyncID(); got != own {
		s.fail("worker %d in %d after its loop", own, got)
	}
}

// parent starts children goroutines in every instrumented way, some of
// which start grandchildren, and takes one result from each leaf.
func (s *stressRun) parent(root uint64, children int) {
	own := s.inResource("GOROUTINE", root)
	results := make(chan stressMsg, children)
	var wg sync.WaitGroup
	var g instrGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	leafs := 0
	body := func(typ string) func() { return func() { s.work(typ, own, results) } }
	for j := range children {
		switch j % 7 {
		case 0:
			s.goroutines.Add(1)
			go func(f func(string, uint64, chan<- stressMsg), typ string, parent uint64, results chan<- stressMsg, t *hooksrt.Task) {
				t.Begin()
				defer t.End()
				f(typ, parent, results)
			}(s.work, "GOROUTINE", own, results, hooksrt.Go(&stressSiteGo))
		case 1:
			s.goroutines.Add(1)
			wg.Go(hooksrt.GoFunc(body("GOROUTINE"), &stressSiteWG))
		case 2:
			s.goroutines.Add(1)
			f := body("GOROUTINE")
			g.Go(hooksrt.GoFuncErr(func() error { f(); return nil }, &stressSiteEG))
		case 3:
			s.goroutines.Add(1)
			f := body("GOROUTINE")
			if !hooksrt.TryGo(g.TryGo, func() error { f(); return nil }, &stressSiteTryGo) {
				s.fail("TryGo without a limit returned false")
			}
		case 4:
			s.timeouts.Add(1)
			if j%2 == 0 {
				hooksrt.AfterFunc(time.AfterFunc, time.Duration(j%3)*50*time.Microsecond, body("Timeout"), &stressSiteTimer)
			} else {
				// Reset while pending: the run keeps its resource.
				tm := hooksrt.AfterFunc(time.AfterFunc, time.Hour, body("Timeout"), &stressSiteTimer)
				if !hooksrt.ResetTimer(tm, 0) {
					s.fail("ResetTimer on a pending timer returned false")
				}
			}
		case 5:
			s.ctxFuncs.Add(1)
			hooksrt.ContextAfterFunc(context.AfterFunc, ctx, body("CONTEXTAFTERFUNC"), &stressSiteCtx)
		case 6:
			// A goroutine that starts the leaf goroutine and returns.
			s.goroutines.Add(2)
			go func(f func(), t *hooksrt.Task) {
				t.Begin()
				defer t.End()
				f()
			}(func() {
				mid := s.inResource("GOROUTINE", own)
				go func(f func(string, uint64, chan<- stressMsg), typ string, parent uint64, results chan<- stressMsg, t *hooksrt.Task) {
					t.Begin()
					defer t.End()
					f(typ, parent, results)
				}(s.work, "GOROUTINE", mid, results, hooksrt.Go(&stressSiteGo))
			}, hooksrt.Go(&stressSiteGo))
		}
		leafs++
	}
	// A timer and a context.AfterFunc that are stopped before they run.
	s.timeouts.Add(1)
	s.stoppedTimeouts.Add(1)
	if !hooksrt.StopTimer(hooksrt.AfterFunc(time.AfterFunc, time.Hour, func() { s.fail("stopped timer ran") }, &stressSiteTimer)) {
		s.fail("StopTimer on a pending timer returned false")
	}
	s.ctxFuncs.Add(1)
	s.stoppedCtxFuncs.Add(1)
	if !hooksrt.ContextAfterFunc(context.AfterFunc, ctx, func() { s.fail("stopped context.AfterFunc ran") }, &stressSiteCtx)() {
		s.fail("context.AfterFunc stop returned false")
	}
	cancel()
	for i := range leafs {
		m := <-results
		if i%3 == 0 {
			m.h.Received()
			continue
		}
		m.h.Begin()
		if res, ok := hooksrt.ExecutionAsyncResource().(*hooksrt.Resource); !ok || res.Site != &stressSiteResult || hooksrt.TriggerAsyncID() != m.from {
			s.fail("result from %d handled in %v", m.from, hooksrt.ExecutionAsyncResource())
		}
		m.h.End()
		if got := hooksrt.ExecutionAsyncID(); got != own {
			s.fail("parent %d in %d after a result", own, got)
		}
	}
	wg.Wait()
	if err := g.Wait(); err != nil {
		s.fail("group: %v", err)
	}
}

// TestStress runs more than 10,000 goroutines through the entry points of
// instr.go, producing more than a million events, while two goroutines keep
// enabling and disabling extra hooks, and checks every event with a
// hookstest.Collector.
func TestStress(t *testing.T) {
	scale := 1
	if testing.Short() {
		scale = 10
	}
	const childrenPer = 99 // each parent is 1 of 100 goroutines of its family
	parents := 100 / scale
	minEvents := 1_000_000 / scale
	s := &stressRun{scopes: 20, jobsInScope: 10, jobsOutside: 2, jobs: make(chan stressMsg, 256)}
	start := time.Now()

	hooksrt.Track()
	baseStates := hooksrt.LiveGoroutineStates()
	c := hookstest.NewCollector(hookstest.Options{}).Enable()
	defer c.Disable()

	// Counts of everything delivered, to know when the last destroy came.
	var inits, destroys atomic.Int64
	counter := hooksrt.CreateHook(hooksrt.Callbacks{
		Init:    func(uint64, string, uint64, any) { inits.Add(1) },
		Destroy: func(uint64) { destroys.Add(1) },
	}).Enable()
	defer counter.Disable()

	// Two goroutines enable and disable extra hooks all along.
	stop := make(chan struct{})
	var toggles atomic.Int64
	var togglers sync.WaitGroup
	noop := func(uint64) {}
	for i := range 2 {
		cb := hooksrt.Callbacks{Before: noop, After: noop}
		if i == 1 {
			cb = hooksrt.Callbacks{Init: func(uint64, string, uint64, any) {}, Before: noop, After: noop, Destroy: noop, PromiseResolve: noop}
		}
		togglers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				h := hooksrt.CreateHook(cb).Enable()
				time.Sleep(20 * time.Microsecond)
				h.Disable()
				toggles.Add(1)
				time.Sleep(20 * time.Microsecond)
			}
		})
	}
	stopToggling := sync.OnceFunc(func() { close(stop); togglers.Wait() })
	defer stopToggling()

	root := hooksrt.NewAsyncResource("STRESS_ROOT", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	var family, workers sync.WaitGroup
	root.RunInAsyncScope(func() {
		for range 4 {
			workers.Add(1)
			s.goroutines.Add(1)
			go func(f func(uint64), x uint64, t *hooksrt.Task) {
				t.Begin()
				defer t.End()
				f(x)
			}(func(root uint64) { defer workers.Done(); s.worker(root) }, root.AsyncID(), hooksrt.Go(&stressSiteGo))
		}
		for range parents {
			family.Add(1)
			s.goroutines.Add(1)
			go func(f func(uint64, int), x uint64, n int, t *hooksrt.Task) {
				t.Begin()
				defer t.End()
				f(x, n)
			}(func(root uint64, n int) { defer family.Done(); s.parent(root, n) }, root.AsyncID(), childrenPer, hooksrt.Go(&stressSiteGo))
		}
	})
	root.EmitDestroy()
	family.Wait()
	close(s.jobs)
	workers.Wait()

	// The last Ends may still be running.
	deadline := time.Now().Add(30 * time.Second)
	for destroys.Load() < inits.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if !c.Settle(10 * time.Second) {
		t.Errorf("not every resource was destroyed")
	}
	stopToggling()
	for hooksrt.LiveGoroutineStates() != baseStates && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := hooksrt.LiveGoroutineStates(); n != baseStates {
		t.Errorf("%d goroutine states live after the test, %d before", n, baseStates)
	}
	elapsed := time.Since(start)

	for _, f := range s.first {
		t.Error(f)
	}
	if n := s.failures.Load(); n > 0 {
		t.Errorf("%d context errors", n)
	}
	if toggles.Load() == 0 {
		t.Errorf("the extra hooks were never toggled")
	}

	// What the collector saw.
	events := 0
	byType := map[string]int{}
	for _, a := range c.Activities() {
		events += len(a.Init) + len(a.Before) + len(a.After) + len(a.Destroy) + len(a.PromiseResolve)
		byType[a.Type]++
		want := hookstest.Counts{"init": 1, "destroy": 1}
		switch a.Type {
		case "GOROUTINE", "Timeout", "CONTEXTAFTERFUNC":
			want["before"], want["after"] = 1, 1
			if len(a.Before) == 0 {
				want["before"], want["after"] = 0, 0 // stopped: counted below
				byType[a.Type+" stopped"]++
			}
		case "CHANSEND":
			want["before"], want["after"], want["promiseResolve"] = 1, 1, 1
		case "STRESS":
			want["before"], want["after"] = s.scopes, s.scopes
		case "STRESS_ROOT":
			want["before"], want["after"] = 1, 1
		}
		hookstest.CheckInvocations(t, a, want, "stress")
		if t.Failed() && events > 1000 {
			break
		}
	}
	for typ, want := range map[string]int64{
		"GOROUTINE":                s.goroutines.Load(),
		"Timeout":                  s.timeouts.Load(),
		"Timeout stopped":          s.stoppedTimeouts.Load(),
		"CONTEXTAFTERFUNC":         s.ctxFuncs.Load(),
		"CONTEXTAFTERFUNC stopped": s.stoppedCtxFuncs.Load(),
		"CHANSEND":                 s.handoffs.Load(),
		"STRESS":                   s.asyncResources.Load(),
		"STRESS_ROOT":              1,
	} {
		if int64(byType[typ]) != want {
			t.Errorf("%d %s resources, want %d", byType[typ], typ, want)
		}
	}
	started := s.goroutines.Load() + s.timeouts.Load() - s.stoppedTimeouts.Load() + s.ctxFuncs.Load() - s.stoppedCtxFuncs.Load()
	if started < int64(10_000/scale) {
		t.Errorf("only %d goroutines started", started)
	}
	if events < minEvents {
		t.Errorf("the collector saw %d events, want at least %d", events, minEvents)
	}
	c.Check(t)
	t.Logf("%d goroutines started: %d by go, wg.Go and errgroup (%d leaves), %d timers, %d context.AfterFuncs, %d handoffs; %d events; %d hook toggles; %v",
		started, s.goroutines.Load(), s.works.Load(), s.timeouts.Load(), s.ctxFuncs.Load(), s.handoffs.Load(), events, toggles.Load(), elapsed)
}
