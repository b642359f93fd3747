//go:build go1.25

package hooksrt_test

// Conformance with Node's async_hooks: registration, enable/disable, errors
// and stack discipline. Each test mirrors one rule of §2 of
// shared/research/node-conformance.md (rules 1 to 13, 20 and 21), translated
// to Go as shared/SEMANTICS.md says.
//
// Hooks are process-global, so no test here runs in parallel, every hook a
// test creates is disabled when it ends, and assertions only look at the
// resources the test itself created: other tests' resources may still
// deliver events (destroys from the garbage collector, say).

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
	"github.com/asyncinstr/asyncinstr/runtime/hooksrt/hookstest"
)

// evlog records, in the order they arrive, the events that hooks deliver
// and the notes a test adds between them. Events are kept for every id, but
// events reports only those of ids the test has named, so that stray events
// of other tests' resources do not disturb it.
type evlog struct {
	mu     sync.Mutex
	raw    []logEntry
	labels map[uint64]string
}

type logEntry struct {
	hook  string // "" for a note
	event string
	id    uint64
}

func newEvlog() *evlog { return &evlog{labels: map[uint64]string{}} }

func (l *evlog) add(hook, event string, id uint64) {
	l.mu.Lock()
	l.raw = append(l.raw, logEntry{hook, event, id})
	l.mu.Unlock()
}

// note records a step of the test itself.
func (l *evlog) note(format string, args ...any) {
	l.add("", fmt.Sprintf(format, args...), 0)
}

// name makes events report the events of id, under label.
func (l *evlog) name(id uint64, label string) {
	l.mu.Lock()
	l.labels[id] = label
	l.mu.Unlock()
}

// res creates an AsyncResource of type label that only EmitDestroy
// destroys, and names it label.
func (l *evlog) res(label string) *hooksrt.AsyncResource {
	r := hooksrt.NewAsyncResource(label, hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	l.name(r.AsyncID(), label)
	return r
}

// callbacks returns callbacks that record each event as "hook event label".
func (l *evlog) callbacks(hook string) hooksrt.Callbacks {
	return hooksrt.Callbacks{
		Init:           func(id uint64, _ string, _ uint64, _ any) { l.add(hook, "init", id) },
		Before:         func(id uint64) { l.add(hook, "before", id) },
		After:          func(id uint64) { l.add(hook, "after", id) },
		Destroy:        func(id uint64) { l.add(hook, "destroy", id) },
		PromiseResolve: func(id uint64) { l.add(hook, "promiseResolve", id) },
	}
}

// events returns the notes and the events of named ids, in order.
func (l *evlog) events() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.raw {
		if e.hook == "" {
			out = append(out, e.event)
			continue
		}
		if label, ok := l.labels[e.id]; ok {
			out = append(out, e.hook+" "+e.event+" "+label)
		}
	}
	return out
}

// expect fails t unless events returns exactly want.
func (l *evlog) expect(t *testing.T, want ...string) {
	t.Helper()
	if got := l.events(); !slices.Equal(got, want) {
		t.Errorf("events:\n\tgot:  %s\n\twant: %s", strings.Join(got, "\n\t      "), strings.Join(want, "\n\t      "))
	}
}

// newHook creates a hook that is disabled when the test ends.
func newHook(t *testing.T, cb hooksrt.Callbacks) *hooksrt.AsyncHook {
	t.Helper()
	h := hooksrt.CreateHook(cb)
	t.Cleanup(func() { h.Disable() })
	return h
}

// collect enables a hookstest.Collector for the rest of the test and checks
// Node's invariants over what it saw when the test ends.
func collect(t *testing.T) *hookstest.Collector {
	t.Helper()
	c := hookstest.NewCollector(hookstest.Options{}).Enable()
	t.Cleanup(func() {
		c.Disable()
		c.Check(t)
	})
	return c
}

// send creates a handoff (the CHANSEND resource of a channel send, the Go
// counterpart of a promise) and names it label.
func send(t *testing.T, l *evlog, label string) *hooksrt.Handoff {
	t.Helper()
	h := hooksrt.Send(nil)
	if h == nil {
		t.Fatal("hooksrt.Send returned nil: tracking is off")
	}
	l.name(h.AsyncID(), label)
	return h
}

// Rule 1 (test/parallel/test-async-hooks-constructor.js,
// test/parallel/test-async-wrap-constructor.js): Node throws a TypeError for
// a callback that is present but not a function. In Go the Callbacks fields
// are typed func fields, so a non-function cannot be passed: the compiler
// rejects it. What remains is the other half of the rule: an absent callback
// (undefined in Node, nil in Go) is allowed and simply not called, for each
// of the five callbacks.
func TestRule1NilCallbacksAllowed(t *testing.T) {
	hooksrt.Track()
	collect(t)
	l := newEvlog()
	newHook(t, hooksrt.Callbacks{}).Enable() // every callback nil
	hooks := []hooksrt.Callbacks{
		{Init: l.callbacks("initOnly").Init},
		{Before: l.callbacks("beforeOnly").Before},
		{After: l.callbacks("afterOnly").After},
		{Destroy: l.callbacks("destroyOnly").Destroy},
		{PromiseResolve: l.callbacks("resolveOnly").PromiseResolve},
	}
	for _, cb := range hooks {
		newHook(t, cb).Enable()
	}

	a := l.res("A")
	a.RunInAsyncScope(func() { l.note("in A") })
	a.EmitDestroy()
	h := send(t, l, "H")
	h.Begin()
	l.note("in H")
	h.End()

	l.expect(t,
		"initOnly init A",
		"beforeOnly before A",
		"in A",
		"afterOnly after A",
		"destroyOnly destroy A",
		"initOnly init H",
		"resolveOnly promiseResolve H",
		"beforeOnly before H",
		"in H",
		"afterOnly after H",
		"destroyOnly destroy H",
	)
}

// Rule 2 (test/parallel/test-async-hooks-enable-disable.js): Enable and
// Disable return the hook; enabling twice registers once; disabling two or
// three times is a no-op; a hook disabled after a resource was created and
// before it runs (Node's Immediate created and the hook disabled in the same
// tick) sees the init only.
func TestRule2EnableDisableReturnHookAndAreIdempotent(t *testing.T) {
	collect(t)
	l := newEvlog()
	h := newHook(t, l.callbacks("h"))
	if got := h.Enable(); got != h {
		t.Errorf("Enable returned %p, want the hook %p", got, h)
	}
	if got := h.Enable(); got != h {
		t.Errorf("second Enable returned %p, want the hook %p", got, h)
	}
	a := l.res("A")
	a.RunInAsyncScope(func() {})
	a.EmitDestroy()

	for i := range 3 {
		if got := h.Disable(); got != h {
			t.Errorf("Disable #%d returned %p, want the hook %p", i+1, got, h)
		}
	}
	b := l.res("B")
	b.RunInAsyncScope(func() {})
	b.EmitDestroy()

	h.Enable()
	c := l.res("C")
	h.Disable()
	c.RunInAsyncScope(func() {})
	c.EmitDestroy()

	l.expect(t,
		"h init A", "h before A", "h after A", "h destroy A",
		"h init C",
	)
}

// Rule 3 (test/parallel/test-async-hooks-enable-disable-enable.js, Node issue
// #27585): after Enable, Disable, Enable the hook is registered once and
// tracking still works: the execution id changes inside a scope and in the
// scope of a handoff (Go's counterpart of the code after an await), and
// every event is delivered exactly once.
func TestRule3EnableDisableEnable(t *testing.T) {
	hooksrt.Track()
	collect(t)
	l := newEvlog()
	h := newHook(t, l.callbacks("h"))
	if got := h.Enable().Disable().Enable(); got != h {
		t.Fatalf("Enable().Disable().Enable() returned %p, want the hook %p", got, h)
	}
	outer := hooksrt.ExecutionAsyncID()
	a := l.res("A")
	a.RunInAsyncScope(func() {
		id := hooksrt.ExecutionAsyncID()
		l.note("in A: id is A's %v, changed %v", id == a.AsyncID(), id != outer)
	})
	l.note("back: restored %v", hooksrt.ExecutionAsyncID() == outer)
	hd := send(t, l, "H")
	hd.Begin()
	id := hooksrt.ExecutionAsyncID()
	l.note("in H: id is H's %v, changed %v", id == hd.AsyncID(), id != outer)
	hd.End()
	l.note("back: restored %v", hooksrt.ExecutionAsyncID() == outer)
	a.EmitDestroy()

	l.expect(t,
		"h init A", "h before A", "in A: id is A's true, changed true", "h after A",
		"back: restored true",
		"h init H", "h promiseResolve H", "h before H", "in H: id is H's true, changed true", "h after H", "h destroy H",
		"back: restored true",
		"h destroy A",
	)
}

// Rule 4 (test/parallel/test-async-hooks-promise-enable-disable.js): repeated
// enable/disable windows work. After Enable().Disable().Disable(), a window
// opened and closed inside one scope and an Enable().Enable() window inside
// another give exactly two inits: those of the resources created inside the
// windows.
func TestRule4RepeatedWindows(t *testing.T) {
	collect(t)
	l := newEvlog()
	h := newHook(t, hooksrt.Callbacks{Init: l.callbacks("h").Init})
	h.Enable().Disable().Disable()
	l.res("X0")
	p := l.res("P")
	p.RunInAsyncScope(func() {
		h.Enable()
		l.res("A")
		h.Disable()
		l.res("X1")
	})
	q := l.res("Q")
	q.RunInAsyncScope(func() {
		h.Enable().Enable()
		l.res("B")
		h.Disable()
		l.res("X2")
	})
	l.res("X3")
	l.expect(t, "h init A", "h init B")
}

// Rule 5 (test/addons/async-hooks-promise/test.js, lib/async_hooks.js
// kTotals): a hook without callbacks is added to the active hooks but
// switches nothing on. In Go: CreateHook(Callbacks{}).Enable() does not turn
// tracking on (handoffs and goroutine resources are not created) and does
// not turn on the stack check, while a hook with a callback does turn
// tracking on. Tracking is process-global and never turns off, so this runs
// in fresh processes.
func TestRule5EmptyHookActivatesNothing(t *testing.T) {
	stdout, stderr, code := runChildFast(t, "conf-hooks/rule5-tracking")
	want := "start: tracking=false\n" +
		"enable returns the hook: true\n" +
		"empty hook: tracking=false send=false go=false\n" +
		"hook with a callback: tracking=true send=true\n"
	if code != 0 || stdout != want {
		t.Errorf("tracking child: exit %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s", code, stdout, want, stderr)
	}

	// With only an empty hook enabled, an improper unwind is not checked.
	stdout, stderr, code = runChildFast(t, "conf-hooks/rule5-nocheck")
	if code != 0 || !strings.Contains(stdout, "heartbeat") || !strings.Contains(stdout, "survived: exec=1\n") || stderr != "" {
		t.Errorf("empty hook + improper unwind: exit %d, want 0 and no check\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// Rule 6 (sample log in test/async-hooks/test-enable-disable.js): hooks run
// in the order they were enabled (not created), and a hook disabled and
// enabled again moves to the end.
func TestRule6EnableOrder(t *testing.T) {
	hooksrt.Track()
	collect(t)
	l := newEvlog()
	h1 := newHook(t, l.callbacks("h1"))
	h2 := newHook(t, l.callbacks("h2"))
	h3 := newHook(t, l.callbacks("h3"))
	h2.Enable()
	h1.Enable()
	h3.Enable()

	a := l.res("A")
	a.RunInAsyncScope(func() {})
	a.EmitDestroy()
	hd := send(t, l, "H")
	hd.Received()

	h1.Disable()
	h1.Enable()
	b := l.res("B")
	b.RunInAsyncScope(func() {})
	b.EmitDestroy()

	var want []string
	for _, ev := range []string{"init A", "before A", "after A", "destroy A", "init H", "promiseResolve H", "before H", "after H", "destroy H"} {
		want = append(want, "h2 "+ev, "h1 "+ev, "h3 "+ev)
	}
	for _, ev := range []string{"init B", "before B", "after B", "destroy B"} {
		want = append(want, "h2 "+ev, "h3 "+ev, "h1 "+ev)
	}
	l.expect(t, want...)
}

// Rule 7 (test/async-hooks/test-enable-disable.js,
// test/async-hooks/test-enable-in-init.js,
// test/async-hooks/test-disable-in-init.js,
// test/parallel/test-async-hooks-enable-recursive.js): Enable and Disable
// called from inside a hook callback change a copy of the hook set, which
// takes effect when the outermost dispatch on that goroutine returns. The
// event being delivered, and events emitted from inside the callback, use
// the old set.
func TestRule7CopyOnWrite(t *testing.T) {
	// hook2 of test-enable-disable.js: enabled in another hook's before, it
	// misses that before (and the resource's init) but gets the following
	// after and destroy, and is live in the scope's body.
	t.Run("EnableInBefore", func(t *testing.T) {
		collect(t)
		l := newEvlog()
		var target atomic.Uint64
		h2 := newHook(t, l.callbacks("h2"))
		cb := l.callbacks("h1")
		rec := cb.Before
		cb.Before = func(id uint64) {
			rec(id)
			if id == target.Load() {
				h2.Enable()
			}
		}
		newHook(t, cb).Enable()
		a := l.res("A")
		target.Store(a.AsyncID())
		a.RunInAsyncScope(func() {
			l.note("in A")
			l.res("B").EmitDestroy()
		})
		a.EmitDestroy()
		l.expect(t,
			"h1 init A",
			"h1 before A",
			"in A",
			"h1 init B", "h2 init B",
			"h1 destroy B", "h2 destroy B",
			"h1 after A", "h2 after A",
			"h1 destroy A", "h2 destroy A",
		)
	})

	// hook1 of test-enable-disable.js: disabled by an earlier hook in the
	// same dispatch, a hook still gets the current event and misses the
	// later ones.
	t.Run("DisabledByEarlierHook", func(t *testing.T) {
		collect(t)
		l := newEvlog()
		var target atomic.Uint64
		h2 := newHook(t, l.callbacks("h2"))
		cb := l.callbacks("h1")
		rec := cb.Before
		cb.Before = func(id uint64) {
			rec(id)
			if id == target.Load() {
				h2.Disable()
			}
		}
		newHook(t, cb).Enable()
		h2.Enable()
		a := l.res("A")
		target.Store(a.AsyncID())
		a.RunInAsyncScope(func() { l.note("in A") })
		a.EmitDestroy()
		l.expect(t,
			"h1 init A", "h2 init A",
			"h1 before A", "h2 before A",
			"in A",
			"h1 after A",
			"h1 destroy A",
		)
	})

	// hook3 of test-enable-disable.js: a hook that disables itself in its
	// own after gets no destroy; hooks later in the array still get that
	// after.
	t.Run("DisableSelfInAfter", func(t *testing.T) {
		collect(t)
		l := newEvlog()
		var target atomic.Uint64
		var h1 *hooksrt.AsyncHook
		cb := l.callbacks("h1")
		rec := cb.After
		cb.After = func(id uint64) {
			rec(id)
			if id == target.Load() {
				h1.Disable()
			}
		}
		h1 = newHook(t, cb)
		h2 := newHook(t, l.callbacks("h2"))
		h1.Enable()
		h2.Enable()
		a := l.res("A")
		target.Store(a.AsyncID())
		a.RunInAsyncScope(func() { l.note("in A") })
		a.EmitDestroy()
		l.expect(t,
			"h1 init A", "h2 init A",
			"h1 before A", "h2 before A",
			"in A",
			"h1 after A", "h2 after A",
			"h2 destroy A",
		)
	})

	// test-enable-in-init.js: a hook enabled in init is not called for a
	// resource created inside that init (the nested dispatch uses the old
	// set); it is called from the next event on.
	t.Run("EnableInInit", func(t *testing.T) {
		collect(t)
		l := newEvlog()
		nested := newHook(t, l.callbacks("nested"))
		cb := l.callbacks("outer")
		rec := cb.Init
		cb.Init = func(id uint64, typ string, trigger uint64, res any) {
			rec(id, typ, trigger, res)
			if typ == "R7.outer" {
				nested.Enable()
				l.res("R7.inner")
			}
		}
		newHook(t, cb).Enable()
		l.res("R7.outer")
		l.note("dispatch returned")
		l.res("R7.next")
		l.expect(t,
			"outer init R7.outer",
			"outer init R7.inner",
			"dispatch returned",
			"outer init R7.next", "nested init R7.next",
		)
	})

	// test-disable-in-init.js: a hook disabled in init still gets both the
	// outer init and the init of the resource created inside that init, and
	// nothing once the dispatch has returned.
	t.Run("DisableInInit", func(t *testing.T) {
		collect(t)
		l := newEvlog()
		var nested *hooksrt.AsyncHook
		var nestedCall atomic.Bool
		cb := l.callbacks("outer")
		rec := cb.Init
		cb.Init = func(id uint64, typ string, trigger uint64, res any) {
			if !strings.HasPrefix(typ, "R7.") {
				return
			}
			rec(id, typ, trigger, res)
			nested.Disable()
			if nestedCall.CompareAndSwap(false, true) {
				l.res("R7.inner")
			}
		}
		newHook(t, cb).Enable()
		nested = newHook(t, l.callbacks("nested")).Enable()
		l.res("R7.outer")
		l.note("dispatch returned")
		l.res("R7.next")
		l.expect(t,
			"outer init R7.outer",
			"outer init R7.inner",
			"nested init R7.inner",
			"nested init R7.outer",
			"dispatch returned",
			"outer init R7.next",
		)
	})

	// test-async-hooks-enable-recursive.js: the outer hook enables the
	// nested hook in every init. The nested hook misses the init during
	// which it was enabled, gets the next one once, and enabling it again
	// from inside later dispatches is a no-op: nested 1 init, outer 2.
	t.Run("EnableRecursive", func(t *testing.T) {
		collect(t)
		l := newEvlog()
		var outerN, nestedN atomic.Int32
		nested := newHook(t, hooksrt.Callbacks{Init: func(_ uint64, typ string, _ uint64, _ any) {
			if strings.HasPrefix(typ, "R7.") {
				nestedN.Add(1)
			}
		}})
		newHook(t, hooksrt.Callbacks{Init: func(_ uint64, typ string, _ uint64, _ any) {
			if strings.HasPrefix(typ, "R7.") {
				outerN.Add(1)
				nested.Enable()
			}
		}}).Enable()
		a := l.res("R7.first")
		l.note("after first: outer %d nested %d", outerN.Load(), nestedN.Load())
		a.RunInAsyncScope(func() {
			l.res("R7.second")
		})
		l.note("after second: outer %d nested %d", outerN.Load(), nestedN.Load())
		l.expect(t,
			"after first: outer 1 nested 0",
			"after second: outer 2 nested 1",
		)
	})
}

// Rule 8 (test/async-hooks/test-late-hook-enable.js,
// test/parallel/test-async-hooks-disable-during-promise.js,
// test/parallel/test-async-hooks-enable-during-promise.js): Enable and
// Disable from ordinary code (a scope's body, not a hook) take effect at
// once, for the calling goroutine and for every other goroutine's next
// event.
func TestRule8EnableDisableFromOrdinaryCodeIsImmediate(t *testing.T) {
	// A hook enabled inside a scope gets no before for it, but that scope's
	// after and destroy, and the init of a resource created next.
	t.Run("EnableInScope", func(t *testing.T) {
		collect(t)
		l := newEvlog()
		h := newHook(t, l.callbacks("h"))
		a := l.res("A")
		a.RunInAsyncScope(func() {
			l.note("in A")
			h.Enable()
			l.res("B").EmitDestroy()
		})
		a.EmitDestroy()
		l.expect(t,
			"in A",
			"h init B", "h destroy B",
			"h after A",
			"h destroy A",
		)
	})

	// A hook disabled inside a scope gets no after (and no destroy) for it.
	t.Run("DisableInScope", func(t *testing.T) {
		collect(t)
		l := newEvlog()
		h := newHook(t, l.callbacks("h")).Enable()
		a := l.res("A")
		a.RunInAsyncScope(func() {
			l.note("in A")
			h.Disable()
		})
		a.EmitDestroy()
		l.expect(t, "h init A", "h before A", "in A")
	})

	// A hook enabled in the innermost of two nested scopes gets both
	// afters.
	t.Run("EnableInNestedScopes", func(t *testing.T) {
		collect(t)
		l := newEvlog()
		h := newHook(t, l.callbacks("h"))
		a, b := l.res("A"), l.res("B")
		a.RunInAsyncScope(func() {
			b.RunInAsyncScope(func() { h.Enable() })
		})
		l.expect(t, "h after B", "h after A")
	})

	// Enabled by ordinary code on another goroutine while a scope is open,
	// a hook gets that scope's after at once.
	t.Run("EnableFromAnotherGoroutine", func(t *testing.T) {
		collect(t)
		l := newEvlog()
		h := newHook(t, l.callbacks("h"))
		a := l.res("A")
		inside, enabled, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			a.RunInAsyncScope(func() {
				close(inside)
				<-enabled
				l.note("in A, hook enabled")
			})
		}()
		<-inside
		h.Enable()
		close(enabled)
		<-done
		a.EmitDestroy()
		l.expect(t, "in A, hook enabled", "h after A", "h destroy A")
	})
}

// Rule 9 (test/async-hooks/test-promise.chain-promise-before-init-hooks.js,
// test/parallel/test-async-wrap-promise-after-enabled.js): a resource created
// before a hook was enabled still reports before, after and destroy to it
// (and promiseResolve for a handoff), without init, and its id is a real one
// (> 1).
func TestRule9ResourceCreatedBeforeEnable(t *testing.T) {
	hooksrt.Track()
	l := newEvlog()
	a := l.res("A")
	hd := send(t, l, "H")
	task := hooksrt.Go(nil)
	if task.AsyncID() == 0 {
		t.Fatal("hooksrt.Go returned nil: tracking is off")
	}
	l.name(task.AsyncID(), "T")
	for _, id := range []uint64{a.AsyncID(), hd.AsyncID(), task.AsyncID()} {
		if id <= 1 {
			t.Errorf("resource id %d, want > 1", id)
		}
	}

	newHook(t, l.callbacks("h")).Enable()
	a.RunInAsyncScope(func() { l.note("in A") })
	a.EmitDestroy()
	hd.Begin()
	l.note("in H")
	hd.End()
	done := make(chan struct{})
	go func() {
		defer close(done)
		task.Begin()
		defer task.End()
		l.note("in T")
	}()
	<-done

	l.expect(t,
		"h before A", "in A", "h after A", "h destroy A",
		"h promiseResolve H", "h before H", "in H", "h after H", "h destroy H",
		"h before T", "in T", "h after T", "h destroy T",
	)
}

// Rule 10 (test/async-hooks/test-callback-error.js,
// test/parallel/test-async-hooks-fatal-error.js): a hook callback that
// panics ends the process. Node prints "Error: <msg>" and exits 1; Go does
// what an unrecovered panic does: "panic: <value>" and a goroutine stack on
// stderr, exit status 2. A recover in user code around the code that
// emitted the event does not swallow it. Each of the five callbacks is
// tried, and nil and error panic values (Node's `throw null`) print as the
// runtime prints them.
func TestRule10HookPanicIsFatal(t *testing.T) {
	for _, pc := range rule10Cases {
		t.Run(pc.name, func(t *testing.T) {
			stdout, stderr, code := runChildFast(t, "conf-hooks/rule10/"+pc.name)
			if code != 2 {
				t.Errorf("exit status %d, want 2", code)
			}
			if stdout != "heartbeat\n" {
				t.Errorf("stdout = %q, want only the heartbeat (the recover must not run, nothing after the event)", stdout)
			}
			if !strings.HasPrefix(stderr, "panic: "+pc.want) {
				t.Errorf("stderr does not start with %q:\n%s", "panic: "+pc.want, stderr)
			}
			if !strings.Contains(stderr, "goroutine 1 [running]:") || !strings.Contains(stderr, "conformance_hooks_test.go") {
				t.Errorf("stderr has no stack of the panicking callback:\n%s", stderr)
			}
		})
	}
}

// rule10Cases are the hook panics of rule 10; each has a child scenario.
var rule10Cases = []struct {
	name  string
	value any    // what the callback panics with
	want  string // how stderr must show it
	// run enables a hook whose callback for one event panics with value,
	// and returns the code that emits that event.
	run func(panicWith func()) func()
}{
	{name: "init", value: "boom in init", want: "boom in init", run: rule10Init},
	{name: "before", value: "boom in before", want: "boom in before", run: rule10Before},
	{name: "after", value: "boom in after", want: "boom in after", run: rule10After},
	{name: "destroy", value: "boom in destroy", want: "boom in destroy", run: rule10Destroy},
	{name: "promiseResolve", value: "boom in promiseResolve", want: "boom in promiseResolve", run: rule10Resolve},
	{name: "before-nil", value: nil, want: "panic called with nil argument", run: rule10Before},
	{name: "init-error", value: errors.New("init failed"), want: "init failed", run: rule10Init},
	{name: "after-int", value: 42, want: "42", run: rule10After},
	// The after of a scope that is itself panicking: the user's recover
	// would catch the scope's panic, but not the hook's.
	{name: "after-while-panicking", value: "boom in after", want: "boom in after", run: rule10AfterPanicking},
}

func rule10Init(boom func()) func() {
	hooksrt.CreateHook(hooksrt.Callbacks{Init: func(uint64, string, uint64, any) { boom() }}).Enable()
	return func() {
		hooksrt.NewAsyncResource("BOOM", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	}
}

func rule10Before(boom func()) func() {
	hooksrt.CreateHook(hooksrt.Callbacks{Before: func(uint64) { boom() }}).Enable()
	r := hooksrt.NewAsyncResource("BOOM", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	return func() { r.RunInAsyncScope(func() { fmt.Println("scope ran") }) }
}

func rule10After(boom func()) func() {
	hooksrt.CreateHook(hooksrt.Callbacks{After: func(uint64) { boom() }}).Enable()
	r := hooksrt.NewAsyncResource("BOOM", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	return func() { r.RunInAsyncScope(func() {}) }
}

func rule10AfterPanicking(boom func()) func() {
	hooksrt.CreateHook(hooksrt.Callbacks{After: func(uint64) { boom() }}).Enable()
	r := hooksrt.NewAsyncResource("BOOM", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	return func() { r.RunInAsyncScope(func() { panic("user panic") }) }
}

func rule10Destroy(boom func()) func() {
	hooksrt.CreateHook(hooksrt.Callbacks{Destroy: func(uint64) { boom() }}).Enable()
	r := hooksrt.NewAsyncResource("BOOM", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	return func() { r.EmitDestroy() }
}

var rule10Site = hooksrt.Site{File: "conformance_hooks_test.go", Line: 1, Func: "rule10"}

func rule10Resolve(boom func()) func() {
	hooksrt.CreateHook(hooksrt.Callbacks{PromiseResolve: func(uint64) { boom() }}).Enable()
	h := hooksrt.Send(&rule10Site)
	if h == nil {
		fmt.Println("tracking is off")
		os.Exit(3)
	}
	return func() {
		h.Begin()
		fmt.Println("scope ran")
		h.End()
	}
}

// Rule 11 (test/parallel/test-async-wrap-uncaughtexception.js,
// test/async-hooks/test-unhandled-exception-valid-ids.js,
// test/async-hooks/test-timers.setInterval.js): after still runs when the
// code in a scope panics. Go has no 'uncaughtException' handler; its
// counterparts are a deferred function inside the scope (which, like Node's
// handler, still sees the panicking resource as current) and a recover by
// the caller (which sees its own context again, after the after). A
// resource whose scope panics twice and is recovered each time (Node's
// throwing interval, rescheduled) counts init 1, before 2, after 2, destroy
// 1. A goroutine that dies of the panic still reports after and destroy
// before the process ends, and runtime.Goexit also runs after.
func TestRule11AfterRunsWhenScopePanics(t *testing.T) {
	t.Run("RecoveredByCaller", func(t *testing.T) {
		c := collect(t)
		l := newEvlog()
		newHook(t, l.callbacks("h")).Enable()
		outer := hooksrt.ExecutionAsyncID()
		a := l.res("A")
		for range 2 {
			func() {
				defer func() {
					r := recover()
					l.note("recovered %v, own context %v", r, hooksrt.ExecutionAsyncID() == outer)
				}()
				a.RunInAsyncScope(func() {
					defer func() {
						l.note("deferred in scope, A current %v", hooksrt.ExecutionAsyncID() == a.AsyncID())
					}()
					l.note("cb")
					panic("boom")
				})
			}()
		}
		a.EmitDestroy()
		var want []string
		want = append(want, "h init A")
		for range 2 {
			want = append(want, "h before A", "cb", "deferred in scope, A current true", "h after A", "recovered boom, own context true")
		}
		want = append(want, "h destroy A")
		l.expect(t, want...)
		act, ok := c.Activity(a.AsyncID())
		if !ok {
			t.Fatal("collector saw nothing of A")
		}
		hookstest.CheckInvocations(t, act, hookstest.Counts{"init": 1, "before": 2, "after": 2, "destroy": 1}, "after two panics")
	})

	t.Run("Goexit", func(t *testing.T) {
		collect(t)
		l := newEvlog()
		newHook(t, l.callbacks("h")).Enable()
		a := l.res("A")
		done := make(chan struct{})
		go func() {
			defer close(done)
			a.RunInAsyncScope(func() {
				l.note("in A")
				runtime.Goexit()
			})
			l.note("unreachable")
		}()
		<-done
		a.EmitDestroy()
		l.expect(t, "h init A", "h before A", "in A", "h after A", "h destroy A")
	})

	t.Run("GoroutineDies", func(t *testing.T) {
		stdout, stderr, code := runChildFast(t, "conf-hooks/rule11-goroutine-panic")
		m := regexp.MustCompile(`(?m)^task (\d+)$`).FindStringSubmatch(stdout)
		if m == nil {
			t.Fatalf("no task id in stdout:\n%s\nstderr:\n%s", stdout, stderr)
		}
		want := fmt.Sprintf("init GOROUTINE %[1]s trigger 1\ntask %[1]s\nbefore %[1]s\nrunning in %[1]s\nafter %[1]s\ndestroy %[1]s\n", m[1])
		if stdout != want {
			t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
		}
		if code != 2 || !strings.HasPrefix(stderr, "panic: boom in goroutine") {
			t.Errorf("exit %d, want 2 with the goroutine's panic; stderr:\n%s", code, stderr)
		}
	})
}

// Rule 12 (test/async-hooks/test-async-local-storage-errors.js) concerns
// AsyncLocalStorage and Node's uncaught-exception capture callback. Go has
// no such callback, and AsyncLocalStorage is a later issue; it is not tested
// here.

// Rule 13 (test/parallel/test-async-hooks-run-in-async-scope-caught-exception.js):
// RunInAsyncScope with a function that panics, recovered by the caller,
// leaves the stack intact: after runs, the previous context is current
// again, later scopes work, and (with hooks enabled, so the stack is
// checked) nothing is reported corrupted. In the root context this runs in
// a fresh process: the id is 1 again afterwards.
func TestRule13PanicInScopeLeavesStackIntact(t *testing.T) {
	t.Run("Nested", func(t *testing.T) {
		collect(t)
		l := newEvlog()
		newHook(t, l.callbacks("h")).Enable()
		base := hooksrt.ExecutionAsyncID()
		outer, inner, next := l.res("outer"), l.res("inner"), l.res("next")
		outer.RunInAsyncScope(func() {
			func() {
				defer func() { l.note("recovered %v", recover()) }()
				inner.RunInAsyncScope(func() { panic("boom") })
			}()
			l.note("outer current %v, trigger %v",
				hooksrt.ExecutionAsyncID() == outer.AsyncID(), hooksrt.TriggerAsyncID() == outer.TriggerAsyncID())
			next.RunInAsyncScope(func() { l.note("next current %v", hooksrt.ExecutionAsyncID() == next.AsyncID()) })
			l.note("outer current %v", hooksrt.ExecutionAsyncID() == outer.AsyncID())
		})
		l.note("base current %v", hooksrt.ExecutionAsyncID() == base)

		// A panic that unwinds two scopes at once runs both afters,
		// innermost first.
		func() {
			defer func() { l.note("recovered %v", recover()) }()
			outer.RunInAsyncScope(func() {
				inner.RunInAsyncScope(func() { panic("deep") })
			})
		}()
		l.note("base current %v", hooksrt.ExecutionAsyncID() == base)

		l.expect(t,
			"h init outer", "h init inner", "h init next",
			"h before outer",
			"h before inner", "h after inner", "recovered boom",
			"outer current true, trigger true",
			"h before next", "next current true", "h after next",
			"outer current true",
			"h after outer",
			"base current true",
			"h before outer", "h before inner", "h after inner", "h after outer", "recovered deep",
			"base current true",
		)
	})

	t.Run("Root", func(t *testing.T) {
		stdout, stderr, code := runChildFast(t, "conf-hooks/rule13-root")
		want := "recovered boom: exec=1 trigger=0\nnext current: true\nend: exec=1 trigger=0\n"
		if code != 0 || stdout != want {
			t.Errorf("exit %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s", code, stdout, want, stderr)
		}
	})
}

// unwindCases are the improper unwinds of rules 20 and 21. Each prints
// "heartbeat: actual=X expected=Y" just before the bad call, X and Y being
// the ids the corrupted-stack error must name, and "survived" if it gets
// past it.
var unwindCases = []struct {
	name string
	run  func()
}{
	// test-improper-unwind.js: before(A) before(B) after(A).
	{"handoffs", func() {
		h1, h2 := mustSend(), mustSend()
		h1.Begin()
		h2.Begin()
		fmt.Printf("heartbeat: actual=%d expected=%d\n", h2.AsyncID(), h1.AsyncID())
		h1.End()
		h2.End()
		fmt.Printf("survived: exec=%d\n", hooksrt.ExecutionAsyncID())
	}},
	// The same on a goroutine of its own: the goroutine's task ends while
	// a handoff's scope is still open in it.
	{"task", func() {
		task := hooksrt.Go(nil)
		if task.AsyncID() == 0 {
			fmt.Println("tracking is off")
			os.Exit(3)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			task.Begin()
			h := mustSend()
			h.Begin()
			fmt.Printf("heartbeat: actual=%d expected=%d\n", h.AsyncID(), task.AsyncID())
			task.End()
			h.End()
		}()
		<-done
		fmt.Printf("survived: exec=%d\n", hooksrt.ExecutionAsyncID())
	}},
	// test-improper-order.js: an after without a before. Node's top level
	// runs in a callback scope of its own; here the enclosing scope plays
	// that part.
	{"after-without-before", func() {
		outer := hooksrt.NewAsyncResource("OUTER", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
		outer.RunInAsyncScope(func() {
			h := mustSend()
			fmt.Printf("heartbeat: actual=%d expected=%d\n", outer.AsyncID(), h.AsyncID())
			h.End()
		})
		fmt.Printf("survived: exec=%d\n", hooksrt.ExecutionAsyncID())
	}},
	// test-emit-after-on-destroyed.js: an after after the destroy, inside
	// another scope.
	{"after-after-destroy", func() {
		outer := hooksrt.NewAsyncResource("OUTER", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
		outer.RunInAsyncScope(func() {
			h := mustSend()
			h.Begin()
			h.End()
			fmt.Printf("heartbeat: actual=%d expected=%d\n", outer.AsyncID(), h.AsyncID())
			h.End()
		})
		fmt.Printf("survived: exec=%d\n", hooksrt.ExecutionAsyncID())
	}},
	// test-emit-before-on-destroyed.js: a before after the destroy, never
	// closed; the enclosing scope's after finds it.
	{"before-after-destroy", func() {
		outer := hooksrt.NewAsyncResource("OUTER", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
		outer.RunInAsyncScope(func() {
			h := mustSend()
			h.Cancel()
			fmt.Printf("heartbeat: actual=%d expected=%d\n", h.AsyncID(), outer.AsyncID())
			h.Begin()
		})
		fmt.Printf("survived: exec=%d\n", hooksrt.ExecutionAsyncID())
	}},
}

// runChildFast is runChild without the race detector's one-second pause at
// the exit of a child that ends normally.
func runChildFast(t *testing.T, name string) (stdout, stderr string, code int) {
	t.Helper()
	t.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	return runChild(t, name)
}

func mustSend() *hooksrt.Handoff {
	h := hooksrt.Send(nil)
	if h == nil {
		fmt.Println("tracking is off")
		os.Exit(3)
	}
	return h
}

var heartbeatRE = regexp.MustCompile(`(?m)^heartbeat: actual=(\d+) expected=(\d+)$`)

// Rule 20 (test/async-hooks/test-improper-order.js,
// test/async-hooks/test-improper-unwind.js,
// test/async-hooks/test-emit-after-on-destroyed.js,
// test/async-hooks/test-emit-before-on-destroyed.js): with a hook enabled,
// an after that does not close the innermost before on its goroutine is
// fatal: "async hook stack has become corrupted (actual: X, expected: Y)"
// and a stack on stderr, exit status 2 (Node: exit 1). The code before the
// bad call has run (the heartbeat) and nothing after it.
func TestRule20CorruptedStackIsFatal(t *testing.T) {
	for _, uc := range unwindCases {
		t.Run(uc.name, func(t *testing.T) {
			stdout, stderr, code := runChildFast(t, "conf-hooks/rule20/"+uc.name)
			m := heartbeatRE.FindStringSubmatch(stdout)
			if m == nil {
				t.Fatalf("no heartbeat: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			if code != 2 {
				t.Errorf("exit status %d, want 2", code)
			}
			if strings.Contains(stdout, "survived") {
				t.Errorf("the process went on after the bad call:\n%s", stdout)
			}
			msg := fmt.Sprintf("async hook stack has become corrupted (actual: %s, expected: %s)", m[1], m[2])
			if !strings.Contains(stderr, msg) {
				t.Errorf("stderr does not contain %q:\n%s", msg, stderr)
			}
			if !strings.Contains(stderr, "goroutine ") {
				t.Errorf("stderr has no stack:\n%s", stderr)
			}
		})
	}
}

// Rule 21 (test/async-hooks/test-no-assert-when-disabled.js,
// test/async-hooks/test-emit-before-after.js): with no hook enabled (none
// ever, or one that was enabled and disabled again), the same improper
// unwinds are not checked and the process goes on. Tracking is switched on
// explicitly, so the handoffs are real.
func TestRule21NoCheckWithoutHooks(t *testing.T) {
	for _, variant := range []string{"rule21", "rule21-disabled"} {
		for _, uc := range unwindCases {
			t.Run(variant+"/"+uc.name, func(t *testing.T) {
				stdout, stderr, code := runChildFast(t, "conf-hooks/"+variant+"/"+uc.name)
				if code != 0 || heartbeatRE.FindString(stdout) == "" || !strings.Contains(stdout, "survived") || stderr != "" {
					t.Errorf("exit %d, want 0 and no check\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
				}
			})
		}
	}
	// Where the unwind is out of order, the innermost context is popped:
	// after before(A) before(B) after(A) after(B), the root is current.
	stdout, _, _ := runChildFast(t, "conf-hooks/rule21/handoffs")
	if !strings.Contains(stdout, "survived: exec=1\n") {
		t.Errorf("after the unwind the root is not current:\n%s", stdout)
	}
}

func noopHook() *hooksrt.AsyncHook {
	return hooksrt.CreateHook(hooksrt.Callbacks{
		Init:           func(uint64, string, uint64, any) {},
		Before:         func(uint64) {},
		After:          func(uint64) {},
		Destroy:        func(uint64) {},
		PromiseResolve: func(uint64) {},
	})
}

func init() {
	child("conf-hooks/rule5-tracking", func() {
		fmt.Printf("start: tracking=%v\n", hooksrt.Tracking())
		h := hooksrt.CreateHook(hooksrt.Callbacks{})
		fmt.Printf("enable returns the hook: %v\n", h.Enable() == h)
		fmt.Printf("empty hook: tracking=%v send=%v go=%v\n", hooksrt.Tracking(), hooksrt.Send(nil).AsyncID() != 0, hooksrt.Go(nil).AsyncID() != 0)
		hooksrt.CreateHook(hooksrt.Callbacks{After: func(uint64) {}}).Enable()
		fmt.Printf("hook with a callback: tracking=%v send=%v\n", hooksrt.Tracking(), hooksrt.Send(nil).AsyncID() != 0)
	})
	child("conf-hooks/rule5-nocheck", func() {
		hooksrt.Track()
		hooksrt.CreateHook(hooksrt.Callbacks{}).Enable()
		unwindCases[0].run()
	})

	for _, pc := range rule10Cases {
		child("conf-hooks/rule10/"+pc.name, func() {
			trigger := pc.run(func() { panic(pc.value) })
			func() {
				defer func() {
					if r := recover(); r != nil {
						fmt.Println("recovered:", r)
					}
				}()
				fmt.Println("heartbeat")
				trigger()
			}()
			fmt.Println("survived")
		})
	}

	child("conf-hooks/rule11-goroutine-panic", func() {
		hooksrt.CreateHook(hooksrt.Callbacks{
			Init: func(id uint64, typ string, trigger uint64, _ any) {
				fmt.Printf("init %s %d trigger %d\n", typ, id, trigger)
			},
			Before:  func(id uint64) { fmt.Printf("before %d\n", id) },
			After:   func(id uint64) { fmt.Printf("after %d\n", id) },
			Destroy: func(id uint64) { fmt.Printf("destroy %d\n", id) },
		}).Enable()
		task := hooksrt.Go(nil)
		fmt.Printf("task %d\n", task.AsyncID())
		go func() {
			task.Begin()
			defer task.End()
			fmt.Printf("running in %d\n", hooksrt.ExecutionAsyncID())
			panic("boom in goroutine")
		}()
		select {}
	})

	child("conf-hooks/rule13-root", func() {
		noopHook().Enable()
		r := hooksrt.NewAsyncResource("R13", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
		func() {
			defer func() {
				fmt.Printf("recovered %v: exec=%d trigger=%d\n", recover(), hooksrt.ExecutionAsyncID(), hooksrt.TriggerAsyncID())
			}()
			r.RunInAsyncScope(func() { panic("boom") })
		}()
		next := hooksrt.NewAsyncResource("R13", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
		next.RunInAsyncScope(func() {
			fmt.Printf("next current: %v\n", hooksrt.ExecutionAsyncID() == next.AsyncID())
		})
		fmt.Printf("end: exec=%d trigger=%d\n", hooksrt.ExecutionAsyncID(), hooksrt.TriggerAsyncID())
	})

	for _, uc := range unwindCases {
		child("conf-hooks/rule20/"+uc.name, func() {
			noopHook().Enable()
			uc.run()
		})
		child("conf-hooks/rule21/"+uc.name, func() {
			hooksrt.Track()
			uc.run()
		})
		child("conf-hooks/rule21-disabled/"+uc.name, func() {
			noopHook().Enable().Disable()
			uc.run()
		})
	}
}
