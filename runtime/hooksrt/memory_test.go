//go:build go1.25

package hooksrt_test

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
)

var (
	memSiteGo    = hooksrt.Site{File: "memory_test.go", Line: 1, Func: "go"}
	memSiteWG    = hooksrt.Site{File: "memory_test.go", Line: 2, Func: "wg.Go"}
	memSiteEG    = hooksrt.Site{File: "memory_test.go", Line: 3, Func: "errgroup.Go"}
	memSiteTimer = hooksrt.Site{File: "memory_test.go", Line: 4, Func: "time.AfterFunc"}
	memSiteSend  = hooksrt.Site{File: "memory_test.go", Line: 5, Func: "ch <- v"}
)

// memHeapObjects returns the bytes of live heap objects after garbage
// collection.
func memHeapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// memSettle collects garbage until the heap stops shrinking (cleanups, such
// as the one that forgets a collected timer, run after a collection and free
// more at the next one) and returns the live heap.
func memSettle() uint64 {
	best := ^uint64(0)
	for range 6 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // let cleanups run
		if h := memHeapObjects(); h < best {
			best = h
		}
	}
	runtime.GC()
	return min(best, memHeapObjects())
}

// memLifecycles runs n goroutine lifecycles through the entry points, batch
// at a time: go statements, wg.Go and errgroup's Go, a handoff from each
// goroutine to the batch's collector loop, and n/10 AfterFunc timers more,
// some of them stopped or reset.
func memLifecycles(n, batch int) {
	noop := func(int) {}
	for done := 0; done < n; done += batch {
		var wg sync.WaitGroup
		var g instrGroup
		ch := make(chan instrMsg, batch)
		for i := range batch {
			switch i % 4 {
			case 0, 1:
				wg.Add(1)
				go func(f func(int), x int, t *hooksrt.Task) {
					t.Begin()
					defer t.End()
					f(x)
				}(func(x int) {
					defer wg.Done()
					noop(x)
					ch <- instrMsg{v: x, h: hooksrt.Send(&memSiteSend)}
				}, i, hooksrt.Go(&memSiteGo))
			case 2:
				wg.Go(hooksrt.GoFunc(func() {
					ch <- instrMsg{v: i, h: hooksrt.Send(&memSiteSend)}
				}, &memSiteWG))
			case 3:
				g.Go(hooksrt.GoFuncErr(func() error {
					ch <- instrMsg{v: i, h: hooksrt.Send(&memSiteSend)}
					return nil
				}, &memSiteEG))
			}
		}
		for i := range batch / 10 {
			wg.Add(1)
			f := func() { defer wg.Done(); noop(i) }
			switch i % 5 {
			case 0:
				// Stopped before it runs: it never will.
				wg.Done()
				hooksrt.StopTimer(hooksrt.AfterFunc(time.AfterFunc, time.Hour, f, &memSiteTimer))
			case 1:
				tm := hooksrt.AfterFunc(time.AfterFunc, time.Hour, f, &memSiteTimer)
				hooksrt.ResetTimer(tm, 0)
			default:
				hooksrt.AfterFunc(time.AfterFunc, 0, f, &memSiteTimer)
			}
		}
		var sc hooksrt.Scope
		for range batch {
			m := <-ch
			sc.Enter(m.h)
		}
		sc.Exit()
		wg.Wait()
		g.Wait()
	}
}

// TestMemoryReturnsToBaseline checks that a million goroutine lifecycles
// (and a hundred thousand timers) leave nothing behind: no goroutine
// states in the table, and a live heap back where it was.
func TestMemoryReturnsToBaseline(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	const batch = 1000
	hooksrt.Track()
	noop := func(uint64) {}
	h := hooksrt.CreateHook(hooksrt.Callbacks{
		Init:    func(uint64, string, uint64, any) {},
		Before:  noop,
		After:   noop,
		Destroy: noop,
	}).Enable()
	defer h.Disable()

	// Warm up: pools, the goroutine table, the runtime's goroutine
	// structures and timer heaps reach their working size.
	memLifecycles(20*batch, batch)
	goroutines := runtime.NumGoroutine()
	states := hooksrt.LiveGoroutineStates()
	base := memSettle()

	start := time.Now()
	memLifecycles(n, batch)
	elapsed := time.Since(start)

	// The last Ends may still be running.
	deadline := time.Now().Add(10 * time.Second)
	for (runtime.NumGoroutine() > goroutines || hooksrt.LiveGoroutineStates() > states) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := hooksrt.LiveGoroutineStates(); got != states {
		t.Errorf("%d goroutine states live after %d lifecycles, %d before", got, n, states)
	}
	const bound = 1 << 20
	after := memSettle()
	for after > base+bound && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		after = memSettle()
	}
	if after > base+bound {
		t.Errorf("live heap %d bytes after %d lifecycles, %d before: grew by %d, more than %d", after, n, base, after-base, bound)
	}
	t.Logf("%d lifecycles in %v; live heap %d -> %d bytes (%+d)", n, elapsed, base, after, int64(after)-int64(base))
}
