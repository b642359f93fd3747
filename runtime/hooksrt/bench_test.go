//go:build go1.25

package hooksrt_test

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
	"github.com/asyncinstr/asyncinstr/runtime/hooksrt/internal/goid"
)

// Benchmarks of the plain Go constructs against the shapes that asyncinstr
// rewrites them into (see the doc comments in instr.go). Each benchmark has
// one sub-benchmark per mode, named mode=..., so that
//
//	benchstat -col /mode bench.txt
//
// puts the modes side by side, with plain as the baseline column:
//
//	plain     the construct as written, no hooksrt call at all
//	off       the rewritten shape in a program that never used the API:
//	          tracking is off, so every entry point is one atomic load
//	tracking  the rewritten shape with tracking on and no hook enabled
//	hooks4    the rewritten shape with four no-op hooks enabled, each with
//	          all five callbacks (init, before, after, destroy,
//	          promiseResolve)
//	als       (spawn+join only) the rewritten shape inside an
//	          AsyncLocalStorage Run, no hook enabled: what a program pays
//	          that uses AsyncLocalStorage and nothing else
//	trace     (spawn+join only) the rewritten shape in a program run with
//	          ASYNCINSTR_TRACE: every event written to a trace file; it
//	          also reports the events per operation and the bytes per event
//
// ExecutionAsyncID and Dispatch measure single operations against absolute
// goals, not against a plain construct; they have no mode key (their keys
// are ctx= and hooks=), so that they stay out of the mode columns. `make
// bench` runs all of them and compares them with benchstat; BENCHMARKS.md
// records the figures.

// The benchmark modes of the plain-vs-rewritten comparisons, in column
// order.
const (
	modePlain    = "plain"
	modeOff      = "off"
	modeTracking = "tracking"
	modeHooks4   = "hooks4"
	modeALS      = "als"
	modeTrace    = "trace"
)

var instrumentedModes = []string{modeOff, modeTracking, modeHooks4}

// Static sites, one per benchmarked source location, as the rewriter emits.
var (
	siteGo       = hooksrt.Site{File: "bench_test.go", Line: 1, Func: "hooksrt_test.signal"}
	siteWG       = hooksrt.Site{File: "bench_test.go", Line: 2, Func: "hooksrt_test.signalWG"}
	siteTimer    = hooksrt.Site{File: "bench_test.go", Line: 3, Func: "hooksrt_test.noop"}
	siteTimerRun = hooksrt.Site{File: "bench_test.go", Line: 4, Func: "hooksrt_test.signal"}
	siteSend     = hooksrt.Site{File: "bench_test.go", Line: 5}
)

// Callbacks of the no-op hooks. They are distinct package-level functions
// so that every hook pays a real indirect call.
func noopInit(uint64, string, uint64, any) {}
func noopEvent(uint64)                     {}

func noopCallbacks() hooksrt.Callbacks {
	return hooksrt.Callbacks{
		Init:           noopInit,
		Before:         noopEvent,
		After:          noopEvent,
		Destroy:        noopEvent,
		PromiseResolve: noopEvent,
	}
}

// setMode puts the package into mode m for the calling (sub-)benchmark and
// registers a cleanup that disables the hooks it enabled and restores the
// tracking state the benchmark found. (The testing package runs cleanups
// after every run of a benchmark function, so state never leaks from one
// mode into the next.) It also turns on allocation reporting.
func setMode(b *testing.B, m string) {
	b.ReportAllocs()
	wasTracking := hooksrt.Tracking()
	var hooks []*hooksrt.AsyncHook
	switch m {
	case modePlain, modeOff:
		hooksrt.ResetTracking()
	case modeTracking, modeALS:
		hooksrt.Track()
	case modeHooks4:
		hooksrt.Track()
		for range 4 {
			hooks = append(hooks, hooksrt.CreateHook(noopCallbacks()).Enable())
		}
	default:
		b.Fatalf("unknown mode %q", m)
	}
	b.Cleanup(func() {
		for _, h := range hooks {
			h.Disable()
		}
		restoreTracking(wasTracking)
	})
}

func restoreTracking(on bool) {
	if on {
		hooksrt.Track()
	} else {
		hooksrt.ResetTracking()
	}
}

func noop() {}

// signal is the body of the spawned goroutine: it reports that it ran.
func signal(done chan<- struct{}) { done <- struct{}{} }

// BenchmarkSpawnJoin starts one goroutine and waits for it to run:
//
//	go signal(done); <-done
//
// against the rewriter's shape of the same go statement:
//
//	go _asyncinstrRun1(signal, done, _asyncinstrGo(&_asyncinstrSites[0]))
//
// with the two helpers declared as the companion file declares them (run1
// and goTask below). The join is the receive, as in the program being instrumented; the
// spawned goroutine's after and destroy run after it signalled, so on more
// than one core part of End overlaps the next iteration.
// BenchmarkWaitGroupGo measures the variant whose join waits for End.
func BenchmarkSpawnJoin(b *testing.B) {
	benchmarkSpawnJoin(b)
}

// goTask and run1 are what asyncinstr declares in a package's companion
// file (as _asyncinstrGo and _asyncinstrRun1) and calls for go f(x): the
// rewritten statement is go run1(f, x, goTask(&site)).
var goTask = hooksrt.Go

func run1[A0 any](f func(A0), a0 A0, t *hooksrt.Task) {
	t.Begin()
	defer t.End()
	f(a0)
}

func benchmarkSpawnJoin(b *testing.B) {
	b.Run("mode="+modePlain, func(b *testing.B) {
		setMode(b, modePlain)
		done := make(chan struct{})
		for b.Loop() {
			go signal(done)
			<-done
		}
	})
	for _, m := range instrumentedModes {
		b.Run("mode="+m, func(b *testing.B) {
			setMode(b, m)
			done := make(chan struct{})
			for b.Loop() {
				go run1(signal, done, goTask(&siteGo))
				<-done
			}
		})
	}
	b.Run("mode="+modeALS, func(b *testing.B) {
		setMode(b, modeALS)
		als := hooksrt.NewAsyncLocalStorage[string]()
		done := make(chan struct{})
		als.Run("request", func() {
			for b.Loop() {
				go run1(signal, done, goTask(&siteGo))
				<-done
			}
		})
	})
	b.Run("mode="+modeTrace, func(b *testing.B) {
		setMode(b, modeTracking)
		path := filepath.Join(b.TempDir(), "trace.json")
		stop := hooksrt.StartTrace(path)
		done := make(chan struct{})
		for b.Loop() {
			go run1(signal, done, goTask(&siteGo))
			<-done
		}
		b.StopTimer()
		events := stop()
		fi, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(events)/float64(b.N), "events/op")
		b.ReportMetric(float64(fi.Size())/float64(events), "B/event")
	})
}

// BenchmarkWaitGroupGo starts one goroutine with sync.WaitGroup.Go and
// waits for it with Wait:
//
//	wg.Go(noop); wg.Wait()
//
// against wg.Go(hooksrt.GoFunc(noop, &site)); wg.Wait(). Here the join
// happens after the goroutine's End, so after and destroy are inside the
// measured time.
func BenchmarkWaitGroupGo(b *testing.B) {
	b.Run("mode="+modePlain, func(b *testing.B) {
		setMode(b, modePlain)
		var wg sync.WaitGroup
		for b.Loop() {
			wg.Go(noop)
			wg.Wait()
		}
	})
	for _, m := range instrumentedModes {
		b.Run("mode="+m, func(b *testing.B) {
			setMode(b, m)
			var wg sync.WaitGroup
			for b.Loop() {
				wg.Go(hooksrt.GoFunc(noop, &siteWG))
				wg.Wait()
			}
		})
	}
}

// BenchmarkAfterFunc arms a timer that does not fire and stops it:
//
//	t := time.AfterFunc(time.Hour, noop); t.Stop()
//
// against t := hooksrt.AfterFunc(time.AfterFunc, time.Hour, noop, &site);
// hooksrt.StopTimer(t). With tracking on, the stop destroys the Timeout
// resource without before or after.
func BenchmarkAfterFunc(b *testing.B) {
	b.Run("mode="+modePlain, func(b *testing.B) {
		setMode(b, modePlain)
		for b.Loop() {
			t := time.AfterFunc(time.Hour, noop)
			t.Stop()
		}
	})
	for _, m := range instrumentedModes {
		b.Run("mode="+m, func(b *testing.B) {
			setMode(b, m)
			for b.Loop() {
				t := hooksrt.AfterFunc(time.AfterFunc, time.Hour, noop, &siteTimer)
				hooksrt.StopTimer(t)
			}
		})
	}
}

// BenchmarkStopTimer stops a timer that AfterFunc did not create:
//
//	t := time.NewTimer(time.Hour); t.Stop()
//
// against t := time.NewTimer(time.Hour); hooksrt.StopTimer(t), the shape
// every Stop call on a *time.Timer is rewritten to. In the tracking modes
// one AfterFunc timer created while tracking stays pending throughout, as
// in a program that uses both kinds of timer, so StopTimer has to look t up
// before it knows that t is not one of its own.
func BenchmarkStopTimer(b *testing.B) {
	b.Run("mode="+modePlain, func(b *testing.B) {
		setMode(b, modePlain)
		for b.Loop() {
			t := time.NewTimer(time.Hour)
			t.Stop()
		}
	})
	for _, m := range instrumentedModes {
		b.Run("mode="+m, func(b *testing.B) {
			setMode(b, m)
			if m != modeOff {
				tracked := hooksrt.AfterFunc(time.AfterFunc, time.Hour, noop, &siteTimer)
				defer hooksrt.StopTimer(tracked)
			}
			for b.Loop() {
				t := time.NewTimer(time.Hour)
				hooksrt.StopTimer(t)
			}
		})
	}
}

// BenchmarkAfterFuncFire arms a timer that fires at once and waits for its
// callback to run, the counterpart of Node's setTimeout(f, 0):
//
//	time.AfterFunc(0, func() { signal(done) }); <-done
//
// against the same call through hooksrt.AfterFunc. The callback runs in a
// goroutine of its own, so this is dominated by the timer and the
// scheduler.
func BenchmarkAfterFuncFire(b *testing.B) {
	b.Run("mode="+modePlain, func(b *testing.B) {
		setMode(b, modePlain)
		done := make(chan struct{})
		f := func() { signal(done) }
		for b.Loop() {
			time.AfterFunc(0, f)
			<-done
		}
	})
	for _, m := range instrumentedModes {
		b.Run("mode="+m, func(b *testing.B) {
			setMode(b, m)
			done := make(chan struct{})
			f := func() { signal(done) }
			for b.Loop() {
				hooksrt.AfterFunc(time.AfterFunc, 0, f, &siteTimerRun)
				<-done
			}
		})
	}
}

// msg, on, sender, recvMsg and enterMsg are what asyncinstr declares in a
// package's companion file for tracked channels (_asyncinstrMsg,
// _asyncinstrOn, _asyncinstrSender, _asyncinstrRecv, _asyncinstrEnter):
// the element of a tracked channel carries the value and the CHANSEND
// resource of its send.
type msg[T any] struct {
	V T
	H *hooksrt.Handoff
}

func on[T any](chan<- msg[T]) sender[T] { return sender[T]{} }

type sender[T any] struct{}

func (sender[T]) Send(v T, site *hooksrt.Site) msg[T] {
	return msg[T]{v, hooksrt.Send(site)}
}

func recvMsg[T any](m msg[T]) T {
	m.H.Received()
	return m.V
}

func enterMsg[T any](s *hooksrt.Scope, m msg[T]) T {
	s.Enter(m.H)
	return m.V
}

// BenchmarkHandoff sends a value on a buffered channel and receives it on
// the same goroutine, the cost of the handoff itself without a goroutine
// switch:
//
//	ch <- i; v := <-ch
//
// against the tracked form, in which the value carries its CHANSEND
// resource and the receive is an empty handling scope:
//
//	ch <- on(ch).Send(i, &site); v := recvMsg(<-ch)
//
// With hooks4 a handoff delivers all five events.
func BenchmarkHandoff(b *testing.B) {
	b.Run("mode="+modePlain, func(b *testing.B) {
		setMode(b, modePlain)
		ch := make(chan int, 1)
		sum := 0
		for i := 0; b.Loop(); i++ {
			ch <- i
			sum += <-ch
		}
		_ = sum
	})
	for _, m := range instrumentedModes {
		b.Run("mode="+m, func(b *testing.B) {
			setMode(b, m)
			ch := make(chan msg[int], 1)
			sum := 0
			for i := 0; b.Loop(); i++ {
				ch <- on(ch).Send(i, &siteSend)
				sum += recvMsg(<-ch)
			}
			_ = sum
		})
	}
}

// BenchmarkHandoffUnbuffered hands each value from a producer goroutine to
// a consumer over an unbuffered channel; the consumer handles it in a
// range loop, as a worker does:
//
//	go produce(ch, n)    // for i := range n { ch <- i }; close(ch)
//	go consume(ch, done) // for v := range ch { sum += v }
//
// against the rewriter's shape of the same code, in which both goroutines
// run in GOROUTINE resources and each iteration of the consumer's loop is
// the handling scope of the value's send:
//
//	ch <- on(ch).Send(i, &site)
//	for m := range ch { v := enterMsg(&sc, m); sum += v; sc.Exit() }
func BenchmarkHandoffUnbuffered(b *testing.B) { benchmarkProducerConsumer(b, 0) }

// BenchmarkHandoffBuffered is BenchmarkHandoffUnbuffered over a channel
// with room for 64 values: a producer and a consumer that rarely wait for
// each other.
func BenchmarkHandoffBuffered(b *testing.B) { benchmarkProducerConsumer(b, 64) }

func benchmarkProducerConsumer(b *testing.B, capacity int) {
	b.Run("mode="+modePlain, func(b *testing.B) {
		setMode(b, modePlain)
		ch := make(chan int, capacity)
		done := make(chan struct{})
		go produce(ch, b.N)
		go consume(ch, done)
		<-done
	})
	for _, m := range instrumentedModes {
		b.Run("mode="+m, func(b *testing.B) {
			setMode(b, m)
			ch := make(chan msg[int], capacity)
			done := make(chan struct{})
			// Both goroutines are started as instrumented code starts
			// them, so each runs in its GOROUTINE resource.
			go run2(produceMsg, ch, b.N, goTask(&siteGo))
			go run2(consumeMsg, ch, done, goTask(&siteGo))
			<-done
		})
	}
}

func run2[A0, A1 any](f func(A0, A1), a0 A0, a1 A1, t *hooksrt.Task) {
	t.Begin()
	defer t.End()
	f(a0, a1)
}

func produce(ch chan<- int, n int) {
	for i := range n {
		ch <- i
	}
	close(ch)
}

func consume(ch <-chan int, done chan<- struct{}) {
	sum := 0
	for v := range ch {
		sum += v
	}
	_ = sum
	done <- struct{}{}
}

// produceMsg and consumeMsg are produce and consume as asyncinstr
// rewrites them.
func produceMsg(ch chan<- msg[int], n int) {
	for i := range n {
		ch <- on(ch).Send(i, &siteSend)
	}
	close(ch)
}

func consumeMsg(ch <-chan msg[int], done chan<- struct{}) {
	var sc hooksrt.Scope
	defer sc.Exit()
	sum := 0
	for m := range ch {
		v := enterMsg(&sc, m)
		sum += v
		sc.Exit()
	}
	_ = sum
	done <- struct{}{}
}

// BenchmarkExecutionAsyncID reads the current execution id:
//
//	ctx=goid       reading the goroutine id alone (internal/goid.Get), the
//	               floor under any goroutine-keyed lookup, for reference
//	ctx=no-scope   ExecutionAsyncID on a goroutine in no scope (the
//	               benchmark's own goroutine): a table miss, returns 0; the
//	               main goroutine (id 1) takes the same path
//	ctx=in-scope   ExecutionAsyncID inside RunInAsyncScope: a table hit
//
// Goal: at most 10 ns.
func BenchmarkExecutionAsyncID(b *testing.B) {
	b.Run("ctx=goid", func(b *testing.B) {
		b.ReportAllocs()
		var sum uint64
		for b.Loop() {
			sum += goid.Get()
		}
		_ = sum
	})
	b.Run("ctx=no-scope", func(b *testing.B) {
		setMode(b, modeTracking)
		var sum uint64
		for b.Loop() {
			sum += hooksrt.ExecutionAsyncID()
		}
		if sum != 0 {
			b.Fatalf("ExecutionAsyncID outside any scope summed to %d, want 0", sum)
		}
	})
	b.Run("ctx=in-scope", func(b *testing.B) {
		setMode(b, modeTracking)
		r := hooksrt.NewAsyncResource("BENCH", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
		defer r.EmitDestroy()
		var sum uint64
		r.RunInAsyncScope(func() {
			for b.Loop() {
				sum += hooksrt.ExecutionAsyncID()
			}
		})
		if want := uint64(b.N) * r.AsyncID(); sum != want {
			b.Fatalf("ExecutionAsyncID inside the scope summed to %d, want %d", sum, want)
		}
	})
}

// BenchmarkGoroutineResource measures the runtime's part of a go
// statement without the goroutine: Go, then Begin and End on the calling
// goroutine (which has no state of its own, as a new goroutine has none),
// with tracking on and no hook. Its key is op=, not mode=: there is no
// plain counterpart. A CPU profile of it shows where a tracked
// goroutine's cost goes (BENCHMARKS.md).
func BenchmarkGoroutineResource(b *testing.B) {
	b.Run("op=Go+Begin+End", func(b *testing.B) {
		setMode(b, modeTracking)
		done := make(chan struct{})
		go func() { // a goroutine in no scope, as a new one is
			defer close(done)
			for b.Loop() {
				t := hooksrt.Go(&siteGo)
				t.Begin()
				t.End()
			}
		}()
		<-done
	})
}

// BenchmarkAsyncLocalStorage measures the AsyncLocalStorage operations
// against absolute goals (their key is op=, not mode=):
//
//	op=GetStore        GetStore inside a Run of the same instance, on a
//	                   goroutine whose state is in the table (goal: at most
//	                   10 ns; Node 20 takes about 5 ns)
//	op=GetStore-none   GetStore on a goroutine in no scope and no Run
//	op=GetStore-4      GetStore of the last of four instances set
//	op=Run             Run with an empty function, nested in a Run of the
//	                   same instance
func BenchmarkAsyncLocalStorage(b *testing.B) {
	b.Run("op=GetStore", func(b *testing.B) {
		setMode(b, modeTracking)
		als := hooksrt.NewAsyncLocalStorage[string]()
		n := 0
		als.Run("request", func() {
			for b.Loop() {
				if _, ok := als.GetStore(); ok {
					n++
				}
			}
		})
		if n != b.N {
			b.Fatalf("GetStore found %d stores in %d calls", n, b.N)
		}
	})
	b.Run("op=GetStore-none", func(b *testing.B) {
		setMode(b, modeTracking)
		als := hooksrt.NewAsyncLocalStorage[string]()
		for b.Loop() {
			if _, ok := als.GetStore(); ok {
				b.Fatal("a store outside any Run")
			}
		}
	})
	b.Run("op=GetStore-4", func(b *testing.B) {
		setMode(b, modeTracking)
		s := [4]*hooksrt.AsyncLocalStorage[int]{}
		for i := range s {
			s[i] = hooksrt.NewAsyncLocalStorage[int]()
		}
		sum := 0
		s[0].Run(0, func() {
			s[1].Run(1, func() {
				s[2].Run(2, func() {
					s[3].Run(3, func() {
						for b.Loop() {
							v, _ := s[3].GetStore()
							sum += v
						}
					})
				})
			})
		})
		if sum != 3*b.N {
			b.Fatalf("GetStore summed to %d", sum)
		}
	})
	b.Run("op=Run", func(b *testing.B) {
		setMode(b, modeTracking)
		als := hooksrt.NewAsyncLocalStorage[string]()
		als.Run("outer", func() {
			for b.Loop() {
				als.Run("inner", noop)
			}
		})
	})
}

// BenchmarkDispatch measures one hook dispatch: the delivery of one event
// to the enabled hooks. Each iteration runs an empty RunInAsyncScope of a
// resource (before, after) nested in an outer scope that keeps the
// goroutine's state registered, so the iteration itself is a push, a pop
// and the dispatches:
//
//	hooks=0   no hook enabled: push and pop only, no dispatch
//	hooks=1   one hook with a Before callback only: one dispatch of one
//	          callback per iteration
//	hooks=4   four hooks with a Before callback only: one dispatch of four
//	          callbacks per iteration
//
// The cost of one dispatch is hooks=1 minus hooks=0.
func BenchmarkDispatch(b *testing.B) {
	for _, n := range []int{0, 1, 4} {
		b.Run("hooks="+strconv.Itoa(n), func(b *testing.B) {
			setMode(b, modeTracking)
			for range n {
				h := hooksrt.CreateHook(hooksrt.Callbacks{Before: noopEvent}).Enable()
				defer h.Disable()
			}
			outer := hooksrt.NewAsyncResource("OUTER", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
			r := hooksrt.NewAsyncResource("BENCH", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
			outer.RunInAsyncScope(func() {
				for b.Loop() {
					r.RunInAsyncScope(noop)
				}
			})
			r.EmitDestroy()
			outer.EmitDestroy()
		})
	}
}

// TestDisabledPathAllocs checks the promise of instr.go: while tracking is
// off, the entry points that add nothing to what the plain construct does
// allocate nothing.
func TestDisabledPathAllocs(t *testing.T) {
	wasTracking := hooksrt.Tracking()
	hooksrt.ResetTracking()
	defer restoreTracking(wasTracking)

	f := func() {}
	fe := func() error { return nil }
	cases := []struct {
		name string
		fn   func()
	}{
		{"Go+Begin+End", func() {
			task := hooksrt.Go(&siteGo)
			task.Begin()
			task.End()
		}},
		{"GoFunc", func() {
			if g := hooksrt.GoFunc(f, &siteWG); g == nil {
				t.Fatal("GoFunc returned nil")
			}
		}},
		{"GoFuncErr", func() {
			if g := hooksrt.GoFuncErr(fe, &siteWG); g == nil {
				t.Fatal("GoFuncErr returned nil")
			}
		}},
		{"Send+Received", func() { hooksrt.Send(&siteSend).Received() }},
		{"Send+Begin+End", func() {
			h := hooksrt.Send(&siteSend)
			h.Begin()
			h.End()
		}},
		{"Send+Cancel", func() { hooksrt.Send(&siteSend).Cancel() }},
		{"NewCallback+Begin+End", func() {
			c := hooksrt.NewCallback("POOLTASK", false, &siteGo)
			c.End(c.Begin())
		}},
		{"Scope", func() {
			var sc hooksrt.Scope
			sc.Enter(hooksrt.Send(&siteSend))
			sc.Exit()
		}},
	}
	for _, c := range cases {
		if n := testing.AllocsPerRun(1000, c.fn); n != 0 {
			t.Errorf("%s with tracking off: %v allocations per run, want 0", c.name, n)
		}
	}
	if hooksrt.Tracking() {
		t.Error("the disabled path switched tracking on")
	}
}
