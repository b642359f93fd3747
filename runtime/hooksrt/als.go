//go:build go1.25

package hooksrt

import (
	"sync/atomic"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt/internal/goid"
)

// An AsyncLocalStorage holds one store of type T per execution context, and
// the store follows the work that a context causes: a goroutine sees its
// spawner's store as it was at the go statement, a timer callback the store
// at AfterFunc, a channel receiver's scope the sender's store at the send,
// an HTTP handler the store current when its server's listener was created,
// and AsyncResource.RunInAsyncScope the store at NewAsyncResource. It is
// Node's AsyncLocalStorage.
//
// Run is the usual way in: it sets the store for one function call and
// everything that call causes, and restores the previous store afterwards,
// also when the function panics. Instances are independent of each other.
// The zero value is ready to use; an AsyncLocalStorage must not be copied
// after first use. Its methods are safe for concurrent use: each goroutine
// sees its own execution context's store.
//
// Using an AsyncLocalStorage (Run, EnterWith) switches tracking on (see
// Track): goroutines started before that carry no store.
type AsyncLocalStorage[T any] struct {
	key alsKey
}

// An alsKey identifies one AsyncLocalStorage in frames. epoch counts its
// Disable calls: an entry written before the latest Disable is not visible.
type alsKey struct {
	epoch atomic.Uint64
}

// An alsFrame is the immutable set of AsyncLocalStorage stores visible in
// an execution context, one entry per instance. Resources capture the frame
// current where they are created and install it around their callbacks;
// Run, Exit, EnterWith and Disable replace the current goroutine's frame
// with a new one, never changing an existing frame, so a captured frame
// can be shared by any number of goroutines without locks. A nil frame has
// no store.
type alsFrame struct {
	entries []alsEntry
}

type alsEntry struct {
	key   *alsKey
	epoch uint64 // key.epoch when the store was set
	store any
}

// lookup returns the entry of key in f, or nil.
func (f *alsFrame) lookup(key *alsKey) *alsEntry {
	if f == nil {
		return nil
	}
	for i := range f.entries {
		if e := &f.entries[i]; e.key == key {
			return e
		}
	}
	return nil
}

// with returns a frame like f in which key's store is store.
func (f *alsFrame) with(key *alsKey, store any) *alsFrame {
	e := alsEntry{key: key, epoch: key.epoch.Load(), store: store}
	if f == nil {
		return &alsFrame{entries: []alsEntry{e}}
	}
	n := &alsFrame{entries: make([]alsEntry, len(f.entries), len(f.entries)+1)}
	copy(n.entries, f.entries)
	for i := range n.entries {
		if n.entries[i].key == key {
			n.entries[i] = e
			return n
		}
	}
	n.entries = append(n.entries, e)
	return n
}

// without returns a frame like f in which key has no store; nil if none is
// left.
func (f *alsFrame) without(key *alsKey) *alsFrame {
	if f.lookup(key) == nil {
		return f
	}
	if len(f.entries) == 1 {
		return nil
	}
	n := &alsFrame{entries: make([]alsEntry, 0, len(f.entries)-1)}
	for _, e := range f.entries {
		if e.key != key {
			n.entries = append(n.entries, e)
		}
	}
	return n
}

// NewAsyncLocalStorage returns a new AsyncLocalStorage. It is the same as
// new(AsyncLocalStorage[T]).
func NewAsyncLocalStorage[T any]() *AsyncLocalStorage[T] {
	return new(AsyncLocalStorage[T])
}

// GetStore returns the store of the calling goroutine's current execution
// context, and whether there is one: false outside any Run or EnterWith of
// s (and not caused by one), inside Exit, and everywhere after Disable
// until the next Run or EnterWith. It does not allocate, and does not switch
// tracking on.
func (s *AsyncLocalStorage[T]) GetStore() (T, bool) {
	return s.storeIn(currentFrame().als)
}

// storeIn returns s's store in frame f.
func (s *AsyncLocalStorage[T]) storeIn(f *alsFrame) (T, bool) {
	if e := f.lookup(&s.key); e != nil && e.epoch == s.key.epoch.Load() {
		// A nil interface store is stored as nil: the assertion fails
		// and store stays the zero T, which is that nil.
		store, _ := e.store.(T)
		return store, true
	}
	var zero T
	return zero, false
}

// Run calls fn with store as s's store, for fn and for everything fn causes
// (goroutines, timers, sends, resources), and then restores the calling
// goroutine's previous store, also when fn panics or calls runtime.Goexit.
// Runs nest.
func (s *AsyncLocalStorage[T]) Run(store T, fn func()) {
	s.runIn(func(f *alsFrame) *alsFrame { return f.with(&s.key, store) }, fn)
}

// Exit calls fn with no store of s, for fn and for everything fn causes,
// and then restores the previous store, also when fn panics. It does not
// undo Disable.
func (s *AsyncLocalStorage[T]) Exit(fn func()) {
	s.runIn(func(f *alsFrame) *alsFrame { return f.without(&s.key) }, fn)
}

// runIn calls fn in the frame that next makes of the current one, and
// restores the current one afterwards. The goroutine's state is pinned
// meanwhile, so that a scope ending inside fn does not release it.
func (s *AsyncLocalStorage[T]) runIn(next func(*alsFrame) *alsFrame, fn func()) {
	gs, old := pin(next)
	defer unpin(gs, old)
	fn()
}

// pin makes next(current frame) the calling goroutine's frame, and pins its
// state until unpin restores the frame it returns.
func pin(next func(*alsFrame) *alsFrame) (*gstate, *alsFrame) {
	track()
	gs := acquire()
	old := gs.cur.als
	gs.pins++
	gs.cur.als = next(old)
	return gs, old
}

// unpin ends a Run or Exit on gs: it restores the frame old and releases
// gs if nothing else holds it.
func unpin(gs *gstate, old *alsFrame) {
	gs.cur.als = old
	gs.pins--
	releaseIfIdle(gs)
}

// WithScope makes store s's store until the returned restore function is
// called, which restores the previous store: Run without a function, for
// code that reads better with defer (Node's withScope):
//
//	defer als.WithScope(store)()
//
// restore must be called on the goroutine that called WithScope, once the
// scopes opened since have ended; calling it again does nothing, and
// calling it on another goroutine panics.
func (s *AsyncLocalStorage[T]) WithScope(store T) (restore func()) {
	gs, old := pin(func(f *alsFrame) *alsFrame { return f.with(&s.key, store) })
	id := gs.goid.Load()
	done := false
	return func() {
		if goid.Get() != id {
			panic("hooksrt: AsyncLocalStorage.WithScope: restore called on another goroutine")
		}
		if !done {
			done = true
			unpin(gs, old)
		}
	}
}

// EnterWith makes store s's store for the rest of the calling goroutine's
// current execution context and everything it causes from now on: until the
// end of the scope it runs in (the goroutine's body, a timer callback, a
// Run), or for good on a goroutine that is in no scope. Prefer Run, whose
// extent is visible. On a goroutine that instrumented code did not start,
// outside any scope, the state that holds the store is kept until the
// program exits, since nothing tells when such a goroutine ends.
func (s *AsyncLocalStorage[T]) EnterWith(store T) {
	track()
	gs := acquire()
	gs.cur.als = gs.cur.als.with(&s.key, store)
}

// Disable makes GetStore report false everywhere: in the current context,
// in the resources created so far, and in those they create, until the
// next Run or EnterWith of s, which starts afresh. The calling goroutine's
// current frame drops s, so that a disabled instance that nothing else
// refers to can be garbage collected.
func (s *AsyncLocalStorage[T]) Disable() {
	s.key.epoch.Add(1)
	if gs := lookup(goid.Get()); gs != nil {
		gs.cur.als = gs.cur.als.without(&s.key)
		releaseIfIdle(gs)
	}
}

// Snapshot captures the calling goroutine's current execution context, its
// AsyncLocalStorage stores included, and returns a function that runs its
// argument in that context each time it is called: Node's
// AsyncLocalStorage.snapshot. Like Node's, it is an AsyncResource of type
// "bound-anonymous-fn", created now and destroyed when the returned
// function is garbage collected.
func Snapshot() func(fn func()) {
	r := NewAsyncResource(typeBound, AsyncResourceOptions{})
	return r.RunInAsyncScope
}
