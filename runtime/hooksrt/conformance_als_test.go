//go:build go1.25

package hooksrt_test

// Conformance tests for Node's AsyncLocalStorage: rules 38-44 of
// /work/shared/research/node-conformance.md, section 2, translated to Go as
// SEMANTICS.md sections 2 and 5 say, plus the propagation of stores through
// every kind of resource this package creates. Each test names the Node
// test it mirrors. Goroutines, timers and handoffs are started in exactly
// the shapes the rewriter emits (see the doc comments of Go, AfterFunc,
// NewTimer, Send and Scope).
//
// Helpers in this file are prefixed "als".

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
	"github.com/asyncinstr/asyncinstr/runtime/hooksrt/hookstest"
)

var alsSite = &hooksrt.Site{File: "conformance_als_test.go", Func: "als"}

// alsGo runs f in a goroutine started as a rewritten go statement starts
// one, and waits for it to end.
func alsGo(f func()) {
	done := make(chan struct{})
	go func(t *hooksrt.Task) {
		t.Begin()
		defer t.End()
		defer close(done)
		f()
	}(hooksrt.Go(alsSite))
	<-done
}

// alsLater starts a goroutine as a rewritten go statement does; once
// release is closed, it sends the store it sees on the returned channel.
func alsLater(als *hooksrt.AsyncLocalStorage[string], release <-chan struct{}) <-chan string {
	seen := make(chan string, 1)
	go func(t *hooksrt.Task) {
		t.Begin()
		defer t.End()
		<-release
		seen <- alsStore(als)
	}(hooksrt.Go(alsSite))
	return seen
}

// alsStore returns s's store as a string: "-" when there is none.
func alsStore[T any](s *hooksrt.AsyncLocalStorage[T]) string {
	v, ok := s.GetStore()
	if !ok {
		return "-"
	}
	return fmt.Sprint(v)
}

// ---------------------------------------------------------------------
// Rule 38: run.

// Rule 38 (test/async-hooks/test-async-local-storage-args.js,
// test/async-hooks/test-async-local-storage-nested.js): Run calls fn with
// the store set, nested Runs see the innermost store, and each Run restores
// the store that was current before it. Go passes arguments and results
// through the closure, which the test checks too.
func TestRule38RunNestsAndRestores(t *testing.T) {
	als := hooksrt.NewAsyncLocalStorage[string]()
	var log []string
	result := 0
	log = append(log, "before: "+alsStore(als))
	x := 21
	als.Run("outer", func() {
		log = append(log, "outer: "+alsStore(als))
		als.Run("inner", func() {
			log = append(log, "inner: "+alsStore(als))
			result = 2 * x
		})
		log = append(log, "outer again: "+alsStore(als))
	})
	log = append(log, "after: "+alsStore(als))
	want := []string{"before: -", "outer: outer", "inner: inner", "outer again: outer", "after: -"}
	if fmt.Sprint(log) != fmt.Sprint(want) {
		t.Errorf("stores seen:\n%q\nwant:\n%q", log, want)
	}
	if result != 42 {
		t.Errorf("result through the closure: %d, want 42", result)
	}
}

// Rule 38 and rule 12 (test/async-hooks/test-async-local-storage-errors.js):
// a panic inside Run still restores the previous store. A recover deferred
// inside fn (the Go counterpart of the uncaught-exception capture callback)
// sees the store of the panicking context; the caller that recovers outside
// Run sees the outer store. runtime.Goexit restores too.
func TestRule38RunRestoresOnPanic(t *testing.T) {
	als := hooksrt.NewAsyncLocalStorage[int]()
	var inside, outside string
	als.Run(1, func() {
		func() {
			defer func() { recover(); outside = alsStore(als) }()
			als.Run(2, func() {
				defer func() {
					inside = alsStore(als)
					panic(recover()) // re-panic to the outer recover
				}()
				panic("boom")
			})
		}()
	})
	if inside != "2" || outside != "1" {
		t.Errorf("store in the panicking Run's defer: %s, outside it after recover: %s; want 2 and 1", inside, outside)
	}
	if got := alsStore(als); got != "-" {
		t.Errorf("after the outer Run: %s, want none", got)
	}

	done := make(chan string)
	go func() {
		defer func() { done <- alsStore(als) }()
		als.Run(7, func() { runtime.Goexit() })
	}()
	if got := <-done; got != "-" {
		t.Errorf("after runtime.Goexit inside Run: %s, want none", got)
	}
}

// Rule 38 (test/async-hooks/test-async-local-storage-misc-stores.js): any
// value is a store: strings, numbers, structs, nil pointers and nil
// interfaces. A nil store is a store: GetStore reports true.
func TestRule38MiscStores(t *testing.T) {
	str := hooksrt.NewAsyncLocalStorage[string]()
	str.Run("hello node", func() {
		if v, ok := str.GetStore(); !ok || v != "hello node" {
			t.Errorf("string store: %q %v", v, ok)
		}
	})
	num := hooksrt.NewAsyncLocalStorage[int]()
	num.Run(123, func() {
		if v, ok := num.GetStore(); !ok || v != 123 {
			t.Errorf("int store: %d %v", v, ok)
		}
	})
	type pair struct{ a, b int }
	st := hooksrt.NewAsyncLocalStorage[pair]()
	st.Run(pair{1, 2}, func() {
		if v, ok := st.GetStore(); !ok || v != (pair{1, 2}) {
			t.Errorf("struct store: %v %v", v, ok)
		}
	})
	ptr := hooksrt.NewAsyncLocalStorage[*pair]()
	ptr.Run(nil, func() {
		if v, ok := ptr.GetStore(); !ok || v != nil {
			t.Errorf("nil pointer store: %v %v", v, ok)
		}
	})
	iface := hooksrt.NewAsyncLocalStorage[error]()
	iface.Run(nil, func() {
		if v, ok := iface.GetStore(); !ok || v != nil {
			t.Errorf("nil interface store: %v %v", v, ok)
		}
	})
	iface.Run(fmt.Errorf("e"), func() {
		if v, ok := iface.GetStore(); !ok || v == nil || v.Error() != "e" {
			t.Errorf("interface store: %v %v", v, ok)
		}
	})
}

// Rule 38 (test/parallel/test-async-local-storage-deep-stack.js): 1000
// nested Runs work, and unwind to no store.
func TestRule38DeepStack(t *testing.T) {
	als := hooksrt.NewAsyncLocalStorage[int]()
	deepest := -1
	var nest func(i int)
	nest = func(i int) {
		if i == 1000 {
			deepest, _ = als.GetStore()
			return
		}
		als.Run(i, func() {
			nest(i + 1)
			if v, _ := als.GetStore(); v != i {
				t.Fatalf("level %d sees %d after its inner Run returned", i, v)
			}
		})
	}
	nest(0)
	if deepest != 999 {
		t.Errorf("deepest store %d, want 999", deepest)
	}
	if _, ok := als.GetStore(); ok {
		t.Error("a store is left after 1000 nested Runs returned")
	}
}

// ---------------------------------------------------------------------
// Rule 39: exit.

// Rule 39 (test/async-hooks/test-async-local-storage-nested.js,
// test/parallel/test-async-local-storage-exit-does-not-leak.js): inside
// Exit there is no store, and nothing that Exit's function starts carries
// one, not even once Exit has returned; the outer store comes back after
// Exit. Other instances keep their stores inside Exit.
func TestRule39Exit(t *testing.T) {
	als := hooksrt.NewAsyncLocalStorage[string]()
	other := hooksrt.NewAsyncLocalStorage[string]()
	var inside, otherInside, after string
	started := make(chan struct{})
	var fromGoroutine <-chan string
	other.Run("kept", func() {
		als.Run("outer", func() {
			als.Exit(func() {
				inside = alsStore(als)
				otherInside = alsStore(other)
				fromGoroutine = alsLater(als, started) // reads after Exit has returned
			})
			after = alsStore(als)
		})
	})
	close(started)
	if inside != "-" || after != "outer" || otherInside != "kept" {
		t.Errorf("inside Exit: %s, other instance inside Exit: %s, after Exit: %s; want -, kept, outer", inside, otherInside, after)
	}
	if got := <-fromGoroutine; got != "-" {
		t.Errorf("a goroutine started inside Exit sees %s, want none", got)
	}
}

// Rule 39 and rule 43 (test/async-hooks/test-async-local-storage-enable-disable.js):
// Exit does not enable a disabled instance again.
func TestRule39ExitKeepsDisabled(t *testing.T) {
	als := hooksrt.NewAsyncLocalStorage[string]()
	als.Run("x", func() {
		als.Disable()
		als.Exit(func() {
			if _, ok := als.GetStore(); ok {
				t.Error("store inside Exit of a disabled instance")
			}
		})
		if _, ok := als.GetStore(); ok {
			t.Error("store after Exit of a disabled instance")
		}
	})
}

// ---------------------------------------------------------------------
// Rule 40: enterWith.

func init() {
	child("als/enterwith-top-level", func() {
		als := hooksrt.NewAsyncLocalStorage[string]()
		fromSibling := make(chan string, 1)
		fromChild := make(chan string, 1)
		entered := make(chan struct{})
		// Two sibling timers created at top level, as in the Node test.
		hooksrt.AfterFunc(time.AfterFunc, time.Millisecond, func() {
			als.EnterWith("foo")
			// A continuation created after EnterWith carries the store.
			hooksrt.AfterFunc(time.AfterFunc, time.Millisecond, func() { fromChild <- alsStore(als) }, alsSite)
			close(entered)
		}, alsSite)
		<-entered
		hooksrt.AfterFunc(time.AfterFunc, time.Millisecond, func() { fromSibling <- alsStore(als) }, alsSite)
		fmt.Printf("child timer: %s\n", <-fromChild)
		fmt.Printf("sibling timer: %s\n", <-fromSibling)
		fmt.Printf("top level: %s\n", alsStore(als))
		// EnterWith at top level lasts for the rest of main.
		als.EnterWith("main")
		alsGo(func() { fmt.Printf("goroutine after top-level EnterWith: %s\n", alsStore(als)) })
		fmt.Printf("top level after EnterWith: %s\n", alsStore(als))
	})
}

// Rule 40 (test/async-hooks/test-async-local-storage-enter-with.js):
// EnterWith applies to the rest of the current execution and to what it
// causes later, and does not leak into a sibling timer created at top
// level. At top level (main), it lasts for the rest of main.
func TestRule40EnterWith(t *testing.T) {
	checkChild(t, "als/enterwith-top-level", "child timer: foo\n"+
		"sibling timer: -\n"+
		"top level: -\n"+
		"goroutine after top-level EnterWith: main\n"+
		"top level after EnterWith: main\n")
}

// Rule 40: EnterWith inside a goroutine's scope ends with the scope, and a
// Run around it restores the store that was current before the Run.
func TestRule40EnterWithEndsWithScope(t *testing.T) {
	als := hooksrt.NewAsyncLocalStorage[string]()
	var inGoroutine, afterRun string
	alsGo(func() {
		als.Run("run", func() { als.EnterWith("entered") })
		afterRun = alsStore(als)
		als.EnterWith("g")
		inGoroutine = alsStore(als)
	})
	if afterRun != "-" || inGoroutine != "g" {
		t.Errorf("after a Run around EnterWith: %s, after EnterWith in the goroutine: %s; want - and g", afterRun, inGoroutine)
	}
	if got := alsStore(als); got != "-" {
		t.Errorf("the spawner sees %s after the goroutine's EnterWith, want none", got)
	}
	if n := hooksrt.LiveGoroutineStates(); n > 1 {
		// The test's own goroutine holds no state: only the main
		// goroutine's may remain.
		t.Errorf("%d goroutine states left", n)
	}
}

// ---------------------------------------------------------------------
// Rule 41: propagation.

// alsPropagation lists every resource kind and how a store set where it is
// created reaches its callback or scope. Each case creates the resource
// inside Run (with the store named) and returns the store its callback saw.
var alsPropagation = []struct {
	name string
	run  func(als *hooksrt.AsyncLocalStorage[string]) string
}{
	{"go statement", func(als *hooksrt.AsyncLocalStorage[string]) string {
		got := make(chan string, 1)
		als.Run("go", func() {
			go func(t *hooksrt.Task) {
				t.Begin()
				defer t.End()
				got <- alsStore(als)
			}(hooksrt.Go(alsSite))
		})
		return <-got
	}},
	{"sync.WaitGroup.Go", func(als *hooksrt.AsyncLocalStorage[string]) string {
		var wg sync.WaitGroup
		var got string
		als.Run("wg", func() { wg.Go(hooksrt.GoFunc(func() { got = alsStore(als) }, alsSite)) })
		wg.Wait()
		return got
	}},
	{"time.AfterFunc", func(als *hooksrt.AsyncLocalStorage[string]) string {
		got := make(chan string, 1)
		als.Run("timeout", func() {
			hooksrt.AfterFunc(time.AfterFunc, time.Millisecond, func() { got <- alsStore(als) }, alsSite)
		})
		return <-got
	}},
	{"time.NewTimer receive", func(als *hooksrt.AsyncLocalStorage[string]) string {
		var tm *time.Timer
		als.Run("timer", func() { tm = hooksrt.NewTimer(time.NewTimer, time.Millisecond, alsSite) })
		var sc hooksrt.Scope
		defer sc.Exit()
		c := hooksrt.TimeChan(tm.C)
		sc.EnterTime(&c, <-c)
		return alsStore(als)
	}},
	{"channel handoff", func(als *hooksrt.AsyncLocalStorage[string]) string {
		type msg struct {
			v string
			h *hooksrt.Handoff
		}
		ch := make(chan msg, 1)
		als.Run("sender", func() { ch <- msg{"x", hooksrt.Send(alsSite)} })
		got := make(chan string, 1)
		go func() { // the receiver: a goroutine of its own, with no store
			var sc hooksrt.Scope
			defer sc.Exit()
			for m := range ch {
				sc.Enter(m.h)
				got <- alsStore(als)
				sc.Exit()
				return
			}
		}()
		return <-got
	}},
	{"context.AfterFunc", func(als *hooksrt.AsyncLocalStorage[string]) string {
		ctx, cancel := context.WithCancel(context.Background())
		got := make(chan string, 1)
		als.Run("ctx", func() {
			hooksrt.ContextAfterFunc(context.AfterFunc, ctx, func() { got <- alsStore(als) }, alsSite)
		})
		cancel()
		return <-got
	}},
	{"AsyncResource", func(als *hooksrt.AsyncLocalStorage[string]) string {
		var r *hooksrt.AsyncResource
		als.Run("resource", func() { r = hooksrt.NewAsyncResource("ALS", hooksrt.AsyncResourceOptions{RequireManualDestroy: true}) })
		defer r.EmitDestroy()
		got := make(chan string, 1)
		go r.RunInAsyncScope(func() { got <- alsStore(als) })
		return <-got
	}},
	{"Bind", func(als *hooksrt.AsyncLocalStorage[string]) string {
		var f func()
		var got string
		als.Run("bound", func() { f = hooksrt.Bind(func() { got = alsStore(als) }) })
		f()
		return got
	}},
}

// Rule 41 (test/async-hooks/test-async-local-storage-{promises,async-await,
// async-functions,thenable,socket,stream-finished,http-agent}.js): a store
// reaches every continuation of the context that set it. Go's
// continuations are the resources of SEMANTICS.md section 4; each case here
// creates one inside Run and reads the store in its callback or scope, on
// another goroutine after Run has returned. Sockets and HTTP are checked in
// hooksnet and hookshttp.
func TestRule41Propagation(t *testing.T) {
	for _, tc := range alsPropagation {
		t.Run(tc.name, func(t *testing.T) {
			als := hooksrt.NewAsyncLocalStorage[string]()
			want := map[string]string{
				"go statement": "go", "sync.WaitGroup.Go": "wg", "time.AfterFunc": "timeout",
				"time.NewTimer receive": "timer", "channel handoff": "sender", "context.AfterFunc": "ctx",
				"AsyncResource": "resource", "Bind": "bound",
			}[tc.name]
			if got := tc.run(als); got != want {
				t.Errorf("callback saw %s, want %s", got, want)
			}
		})
	}
}

// Rule 41: propagation is transitive (a goroutine's goroutine's timer),
// and every level sees the store of the level that created it.
func TestRule41Chain(t *testing.T) {
	als := hooksrt.NewAsyncLocalStorage[string]()
	got := make(chan string, 3)
	als.Run("a", func() {
		go func(t *hooksrt.Task) {
			t.Begin()
			defer t.End()
			got <- alsStore(als)
			als.Run("b", func() {
				go func(t *hooksrt.Task) {
					t.Begin()
					defer t.End()
					got <- alsStore(als)
					hooksrt.AfterFunc(time.AfterFunc, time.Millisecond, func() { got <- alsStore(als) }, alsSite)
				}(hooksrt.Go(alsSite))
			})
		}(hooksrt.Go(alsSite))
	})
	if a, b, c := <-got, <-got, <-got; a != "a" || b != "b" || c != "b" {
		t.Errorf("goroutine %s, its goroutine %s, that one's timer %s; want a, b, b", a, b, c)
	}
}

// Rule 41 (test/async-hooks/test-async-local-storage-no-mix-contexts.js):
// instances are independent, and concurrent contexts never see each
// other's stores: 64 goroutines each Run their own store and check it in a
// goroutine and a timer they start.
func TestRule41NoMixContexts(t *testing.T) {
	a := hooksrt.NewAsyncLocalStorage[int]()
	b := hooksrt.NewAsyncLocalStorage[string]()
	var wg sync.WaitGroup
	errs := make(chan string, 64*3)
	for i := range 64 {
		wg.Go(func() {
			a.Run(i, func() {
				b.Run(fmt.Sprint("s", i), func() {
					check := func(where string) {
						va, _ := a.GetStore()
						vb, _ := b.GetStore()
						if va != i || vb != fmt.Sprint("s", i) {
							errs <- fmt.Sprintf("%s of %d sees %d and %q", where, i, va, vb)
						}
					}
					done := make(chan struct{}, 2)
					go func(t *hooksrt.Task) {
						t.Begin()
						defer t.End()
						check("goroutine")
						done <- struct{}{}
					}(hooksrt.Go(alsSite))
					hooksrt.AfterFunc(time.AfterFunc, time.Millisecond, func() { check("timer"); done <- struct{}{} }, alsSite)
					check("runner")
					<-done
					<-done
				})
			})
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// ---------------------------------------------------------------------
// Rule 42: snapshots.

// Rule 42 (test/async-hooks/test-async-local-storage-set-dc.js): an
// AsyncResource captures the store at construction; RunInAsyncScope shows
// that store even after a later EnterWith changed the current one.
func TestRule42ResourceCapturesStore(t *testing.T) {
	als := hooksrt.NewAsyncLocalStorage[string]()
	var inScope, outside string
	alsGo(func() {
		als.EnterWith("first")
		r := hooksrt.NewAsyncResource("ALS", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
		als.EnterWith("second")
		r.RunInAsyncScope(func() { inScope = alsStore(als) })
		outside = alsStore(als)
		r.EmitDestroy()
	})
	if inScope != "first" || outside != "second" {
		t.Errorf("in the resource's scope: %s, outside: %s; want first and second", inScope, outside)
	}
}

// Rule 42 (test/parallel/test-async-local-storage-snapshot.js,
// test/parallel/test-async-local-storage-bind.js): a snapshot taken in
// Run(123) runs its function with 123 even inside Run(321), and the
// snapshot is an AsyncResource of type bound-anonymous-fn, as in Node.
// Binding something that is not a function, which Node rejects with
// ERR_INVALID_ARG_TYPE, cannot compile in Go; binding a nil function
// panics.
func TestRule42Snapshot(t *testing.T) {
	c := hookstest.NewCollector(hookstest.Options{Types: []string{"bound-anonymous-fn"}}).Enable()
	defer c.Disable()
	als := hooksrt.NewAsyncLocalStorage[int]()
	var snap func(func())
	als.Run(123, func() { snap = hooksrt.Snapshot() })
	var got string
	als.Run(321, func() { snap(func() { got = alsStore(als) }) })
	if got != "123" {
		t.Errorf("snapshot's function saw %s, want 123", got)
	}
	if _, panicked := crPanics(func() { hooksrt.Bind(nil) }); !panicked {
		t.Error("Bind(nil) did not panic")
	}
	if as := c.Activities(); len(as) != 1 || len(as[0].Before) != 1 || len(as[0].After) != 1 {
		t.Errorf("snapshot resources: %v", c)
	}
	c.Check(t)
}

// ---------------------------------------------------------------------
// Rule 43: disable.

// Rule 43 (test/async-hooks/test-async-local-storage-enable-disable.js and
// its -frame variant): after Disable, GetStore reports no store at once,
// also in continuations created before the Disable; a later Run works
// again, and does not bring the old stores back.
func TestRule43Disable(t *testing.T) {
	als := hooksrt.NewAsyncLocalStorage[string]()
	release := make(chan struct{})
	var earlier <-chan string
	var afterDisable, inRun, afterRun string
	als.Run("foo", func() {
		earlier = alsLater(als, release) // a continuation scheduled before the Disable
		als.Disable()
		afterDisable = alsStore(als)
		als.Run("bar", func() { inRun = alsStore(als) })
		afterRun = alsStore(als)
	})
	close(release)
	if afterDisable != "-" || inRun != "bar" || afterRun != "-" {
		t.Errorf("after Disable: %s, in a later Run: %s, after it: %s; want -, bar, -", afterDisable, inRun, afterRun)
	}
	if got := <-earlier; got != "-" {
		t.Errorf("a goroutine started before Disable sees %s after a later Run, want none", got)
	}
}

// Rule 43 (test/async-hooks/test-async-local-storage-gcable.js): a disabled
// instance can be garbage collected, even when Disable is called inside its
// own Run.
func TestRule43DisabledIsCollectable(t *testing.T) {
	collected := make(chan struct{})
	func() {
		als := hooksrt.NewAsyncLocalStorage[[]byte]()
		runtime.AddCleanup(als, func(ch chan struct{}) { close(ch) }, collected)
		als.Run(make([]byte, 1<<10), func() { als.Disable() })
	}()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		runtime.GC()
		select {
		case <-collected:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("the disabled AsyncLocalStorage was not collected")
}

// ---------------------------------------------------------------------
// Rule 44: options, and withScope.

// Rule 44 (test/parallel/test-async-local-storage-run-scope.js): WithScope
// sets a store until the returned function is called, which restores the
// previous store, also when deferred through a panic; calling it twice is a
// no-op. Node's options (defaultValue, name) have no Go counterpart: the
// bool of GetStore and the zero value stand for defaultValue, and an
// instance is named by its variable; options of the wrong type cannot be
// passed to a typed constructor.
func TestRule44WithScope(t *testing.T) {
	als := hooksrt.NewAsyncLocalStorage[string]()
	restoreOuter := als.WithScope("outer")
	func() {
		defer func() { recover() }()
		restore := als.WithScope("inner")
		defer restore()
		if got := alsStore(als); got != "inner" {
			t.Errorf("in the inner scope: %s", got)
		}
		panic("boom")
	}()
	if got := alsStore(als); got != "outer" {
		t.Errorf("after the inner scope's restore: %s, want outer", got)
	}
	restoreOuter()
	restoreOuter()
	if got := alsStore(als); got != "-" {
		t.Errorf("after restoring twice: %s, want none", got)
	}
	if n := hooksrt.LiveGoroutineStates(); n > 1 {
		t.Errorf("%d goroutine states left", n)
	}

	// The restore belongs to the goroutine that set the scope.
	restore := als.WithScope("x")
	defer restore()
	v, panicked := make(chan any), make(chan bool)
	go func() {
		p, ok := crPanics(restore)
		panicked <- ok
		v <- p
	}()
	if !<-panicked {
		t.Error("restoring a scope on another goroutine did not panic")
	} else if p := <-v; p == nil {
		t.Error("nil panic value")
	}
}

// GetStore outside any store allocates nothing, and neither does reading a
// store that is set.
func TestGetStoreAllocs(t *testing.T) {
	als := hooksrt.NewAsyncLocalStorage[string]()
	if n := testing.AllocsPerRun(100, func() { als.GetStore() }); n != 0 {
		t.Errorf("GetStore without a store: %v allocs", n)
	}
	als.Run("x", func() {
		if n := testing.AllocsPerRun(100, func() { als.GetStore() }); n != 0 {
			t.Errorf("GetStore with a store: %v allocs", n)
		}
	})
}
