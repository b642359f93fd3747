//go:build go1.25

package hooksrt

import (
	"sync"
	"sync/atomic"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt/internal/goid"
)

// A frame is an execution context: the ids of the resource whose scope is
// running (id 0: the unknown context), the resource's core once its
// resource object exists, and the AsyncLocalStorage frame visible in it.
// Frames are small values, copied on every scope change; they are never
// shared.
//
// The resource object of a goroutine or timer callback is created only when
// something needs it: an Init hook enabled when the resource is created, or
// ExecutionAsyncResource inside its scope. task says what to create.
type frame struct {
	id, trigger uint64
	res         *core
	als         *alsFrame
	task        *Task // for a task whose object does not exist yet
}

// set makes f a copy of src, field by field. A frame has one field more
// than the compiler copies one by one itself: assigned whole to memory on
// the heap (a goroutine state), it is moved with a bulk write barrier
// (runtime.wbMove, and wbZero to clear it), which while the garbage
// collector marks costs several times the three pointer write barriers of
// this copy. Frames in goroutine states are written with set and clear.
func (f *frame) set(src *frame) {
	f.id, f.trigger, f.res, f.als, f.task = src.id, src.trigger, src.res, src.als, src.task
}

// clear makes f the zero frame (the unknown context), as set does.
func (f *frame) clear() {
	f.id, f.trigger, f.res, f.als, f.task = 0, 0, nil, nil, nil
}

// frameOf returns the context of a resource whose core exists.
func frameOf(c *core) frame {
	return frame{id: c.id, trigger: c.trigger, res: c, als: c.als}
}

// A gstate is the execution state of one goroutine. Only the goroutine that
// owns it reads or writes its fields (other goroutines only ever compare its
// goid while probing the table), so the fields need no synchronisation.
type gstate struct {
	goid  atomic.Uint64 // owner; atomic because pooled gstates are probed by others
	cur   frame         // the current execution context
	stack []frame       // contexts saved by before, restored by after
	// stack0 backs stack for the usual shallow nesting, so that entering
	// a scope does not allocate.
	stack0 [2]frame
	depth  int32 // nesting of hook dispatch on this goroutine
	pins   int32 // AsyncLocalStorage Run and Exit calls in progress
	// pending holds Enable/Disable calls made from inside a hook callback on
	// this goroutine; they take effect when the outermost dispatch returns.
	pending []pendingOp
	live    bool // whether it is in the table
	// owned marks the state embedded in a Task (see Task.begin): it is
	// used once, by the task's goroutine, and never returns to gsPool, so
	// its goid never changes once published.
	owned bool
}

// baseRef returns the context of a goroutine that is in no scope: the root
// for the main goroutine (id 1, which runs package initialisation and main),
// the unknown context for every other goroutine. The frame is shared: it
// must only be read.
func baseRef(id uint64) *frame {
	if id == 1 {
		return &rootFrame
	}
	return &unknownFrame
}

// The goroutine table maps goroutine ids to gstates. It is a direct-mapped
// array of atomic pointers indexed by the goroutine id's low bits (see slot),
// backed by a locked overflow map for the rare goroutine whose slot is taken.
// A goroutine only ever looks up its own id, so a lookup is one atomic load
// and one comparison, and no lock is shared by all goroutines: goroutine ids
// are handed out sequentially, so live goroutines rarely collide. Entries
// exist only while a goroutine is inside a scope, a hook dispatch or an
// AsyncLocalStorage Run (or holds a store of its own, see EnterWith), so
// the table does not grow with the number of goroutines a program has run.
// A goroutine that a Task starts uses the state inside its Task (see
// Task.begin); any other takes one from gsPool and gives it back when it
// leaves.
const tableBits = 14

var (
	table      [1 << tableBits]atomic.Pointer[gstate]
	overflowN  atomic.Int64
	overflowMu sync.Mutex
	overflow   = map[uint64]*gstate{}

	gsPool = sync.Pool{New: func() any { return new(gstate) }}
)

// slot returns the table entry of goroutine id. The low bits of the id are
// rotated left by three, so consecutive ids (a goroutine and the ones it
// starts, which the runtime numbers in a row) fall in different cache lines
// instead of contending for one, while any 2^tableBits consecutive ids still
// map to distinct slots.
func slot(id uint64) *atomic.Pointer[gstate] {
	const mask = 1<<tableBits - 1
	i := id & mask
	return &table[(i<<3|i>>(tableBits-3))&mask]
}

// lookup returns the calling goroutine's gstate (whose id is id), or nil.
func lookup(id uint64) *gstate {
	if gs := slot(id).Load(); gs != nil && gs.goid.Load() == id {
		return gs
	}
	if overflowN.Load() == 0 {
		return nil
	}
	overflowMu.Lock()
	gs := overflow[id]
	overflowMu.Unlock()
	return gs
}

// register publishes gs as the state of the calling goroutine, id.
func register(id uint64, gs *gstate) {
	gs.goid.Store(id)
	publish(id, gs)
}

// publish puts gs, whose goid is id already, in the table.
func publish(id uint64, gs *gstate) {
	gs.live = true
	if slot(id).CompareAndSwap(nil, gs) {
		return
	}
	overflowMu.Lock()
	overflow[id] = gs
	overflowN.Add(1)
	overflowMu.Unlock()
}

// unregister removes gs, the calling goroutine's state.
func unregister(gs *gstate) {
	if !gs.live {
		return
	}
	unpublish(gs)
	if gs.owned {
		return // its task, and it, become garbage together
	}
	gs.goid.Store(0)
	gs.cur.clear() // pop cleared the saved frames; keep nothing alive
	gs.pending = nil
	gsPool.Put(gs)
}

// unpublish takes gs, the calling goroutine's state, out of the table.
func unpublish(gs *gstate) {
	gs.live = false
	id := gs.goid.Load()
	if !slot(id).CompareAndSwap(gs, nil) {
		overflowMu.Lock()
		if overflow[id] == gs {
			delete(overflow, id)
			overflowN.Add(-1)
		}
		overflowMu.Unlock()
	}
}

// acquire returns the calling goroutine's gstate, creating and registering
// one if it has none. Pair it with releaseIfIdle.
func acquire() *gstate {
	id := goid.Get()
	if gs := lookup(id); gs != nil {
		return gs
	}
	gs := gsPool.Get().(*gstate)
	gs.cur.set(baseRef(id))
	register(id, gs)
	return gs
}

// releaseIfIdle removes gs once its goroutine is in no scope, no dispatch
// and no AsyncLocalStorage Run, and has no store of its own (EnterWith
// outside any scope). A task's own state (owned) is in its task's scope
// until the task's End removes it. The main goroutine keeps its state: it is one entry,
// and it spares the churn of re-creating it for every event main emits.
func releaseIfIdle(gs *gstate) {
	if gs.idle() && !gs.owned && gs.goid.Load() != 1 {
		unregister(gs)
	}
}

// idle reports whether gs's goroutine is in no scope, no dispatch and no
// AsyncLocalStorage Run, and has no store of its own.
func (gs *gstate) idle() bool {
	return len(gs.stack) == 0 && gs.depth == 0 && gs.pins == 0 && gs.cur.als == nil
}

// Frames of goroutines that are in no scope. They are read, never written.
var (
	rootFrame    = frame{id: 1, res: &rootCore}
	unknownFrame = frame{}
)

// currentFrame returns the calling goroutine's execution context. The
// caller must only read it.
func currentFrame() *frame {
	id := goid.Get()
	if gs := lookup(id); gs != nil {
		return &gs.cur
	}
	if id == 1 {
		return &rootFrame
	}
	return &unknownFrame
}

// push makes the context of r current on gs, saving the previous one.
func (gs *gstate) push(f frame) {
	if gs.stack == nil {
		gs.stack = gs.stack0[:0]
	}
	n := len(gs.stack)
	if n < cap(gs.stack) {
		gs.stack = gs.stack[:n+1]
	} else {
		gs.stack = append(gs.stack, frame{})
	}
	gs.stack[n].set(&gs.cur)
	gs.cur.set(&f)
}

// pop restores the context saved by the push that made id current. With a
// hook enabled, a mismatch is fatal, as in Node: an after that does not
// match the innermost before, or that has no before at all. Without one, the
// mismatch is ignored: the innermost context is popped, and popping an empty
// stack does nothing.
func (gs *gstate) pop(id uint64) {
	if got := gs.cur.id; (got != id || len(gs.stack) == 0) && checking() {
		fatalCorrupted(got, id)
	}
	if len(gs.stack) == 0 {
		return
	}
	n := len(gs.stack) - 1
	gs.cur.set(&gs.stack[n])
	gs.stack[n].clear()
	gs.stack = gs.stack[:n]
}
