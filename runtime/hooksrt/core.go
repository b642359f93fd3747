//go:build go1.25

package hooksrt

import "sync/atomic"

// A core is the identity and lifecycle state that every resource carries,
// whatever its public type.
type core struct {
	id        uint64
	trigger   uint64
	typ       string
	obj       any       // the public resource object given to init
	als       *alsFrame // AsyncLocalStorage frame captured at creation
	destroyed atomic.Bool
	// holds counts the scopes open on a resource that several goroutines
	// may enter at once (a listener), with holdDestroy set once it is
	// closed; its destroy waits for the last of them to end.
	holds atomic.Int32
}

const holdDestroy = 1 << 30

// lastID is the process-wide id counter. The root is 1; the first resource
// gets 2. Ids are never reused.
var lastID atomic.Uint64

func init() { lastID.Store(1) }

func newID() uint64 { return lastID.Add(1) }

// tracking reports whether execution contexts are being tracked. It is off
// until the program first uses the API (enables a hook with a callback,
// reads the current context, creates an AsyncResource), so an instrumented
// program that never uses it pays one atomic load per site. Goroutines
// started before tracking was switched on run in the unknown context (id 0),
// as promises created before a hook do in Node.
var tracking atomic.Bool

// track switches tracking on for good.
func track() {
	if !tracking.Load() {
		tracking.Store(true)
	}
}

// Track switches on tracking of execution contexts at once, so that every
// goroutine started from now on has an id even if nothing has read one yet.
// Tracking also switches on by itself the first time a program enables a
// hook, reads the current context or creates an AsyncResource. Call Track
// early (from an init function, say) when code that runs later asks for
// ids and must see the whole chain that led to it.
func Track() { track() }

// initCore fills in c for a new resource of type typ created by the calling
// goroutine and emits init. trigger 0 means the creator's execution id.
func initCore(c *core, typ string, trigger uint64, obj any) {
	cur := currentFrame()
	if trigger == 0 {
		trigger = cur.id
	}
	fillCore(c, typ, trigger, cur.als, obj)
}

// fillCore gives c its id and the rest, and emits init.
func fillCore(c *core, typ string, trigger uint64, als *alsFrame, obj any) {
	c.trigger = trigger
	c.id = newID()
	c.typ = typ
	c.obj = obj
	c.als = als
	emitInit(c)
}

// before makes c's context current on the calling goroutine and emits before.
func before(c *core) *gstate {
	gs := acquire()
	gs.push(frameOf(c))
	emitBefore(gs, c.id)
	return gs
}

// resolveBefore emits promiseResolve for c on the calling goroutine, then
// makes c's context current and emits before (both dispatches in one
// batch), and returns the goroutine's state, as before does.
func resolveBefore(c *core) *gstate {
	gs := acquire()
	if active.Load().total == 0 {
		gs.push(frameOf(c))
		return gs
	}
	b := batch{gs: gs}
	defer b.end()
	if fns := active.Load().resolve; len(fns) > 0 {
		b.call(batchResolve, fns, c.id)
	}
	gs.push(frameOf(c))
	if fns := active.Load().before; len(fns) > 0 {
		b.call(batchBefore, fns, c.id)
	}
	return gs
}

// after emits after for c and restores the context that before saved.
// gs is the state that before returned, or nil for an after without a
// before, which then finds the goroutine's own.
func after(gs *gstate, c *core) { endScope(gs, c.id, false) }

// endScope closes the scope of resource id on gs (nil: the calling
// goroutine's state): it emits after, restores the previous context, emits
// destroy if asked to, and then releases gs once the goroutine is idle.
// Destroying before the release lets the destroy dispatch reuse gs.
func endScope(gs *gstate, id uint64, destroy bool) {
	if gs == nil {
		gs = acquire()
	}
	if active.Load().total == 0 {
		// No hook: after emits nothing; destroy reads the hook set
		// again, as it would after an after dispatch.
		gs.pop(id)
		if destroy {
			emitDestroy(gs, id)
		}
	} else {
		afterDestroy(gs, id, destroy)
	}
	releaseIfIdle(gs)
}

// afterDestroy emits after for id on gs, restores the previous context and,
// if destroy, emits destroy: two dispatches in one batch.
func afterDestroy(gs *gstate, id uint64, destroy bool) {
	b := batch{gs: gs}
	defer b.end()
	if fns := active.Load().after; len(fns) > 0 {
		b.call(batchAfter, fns, id)
	}
	gs.pop(id)
	if destroy {
		if fns := active.Load().destroy; len(fns) > 0 {
			b.call(batchDestroy, fns, id)
		}
	}
}

// destroy emits destroy for c the first time it is called.
func destroy(c *core) {
	if c.destroyed.CompareAndSwap(false, true) {
		emitDestroy(nil, c.id)
	}
}

// hold counts a scope that opens on c, unless c is closed already.
func (c *core) hold() bool {
	for {
		v := c.holds.Load()
		if v&holdDestroy != 0 {
			return false
		}
		if c.holds.CompareAndSwap(v, v+1) {
			return true
		}
	}
}

// release ends a scope that hold counted, and destroys c if it was closed
// meanwhile and this was its last open scope.
func (c *core) release() {
	if c.holds.Add(-1) == holdDestroy {
		destroy(c)
	}
}

// close destroys c once no scope is open on it: at once, or when the last
// open one ends.
func (c *core) close() {
	if old := c.holds.Or(holdDestroy); old == 0 {
		destroy(c)
	}
}

// rootCore is the root execution context: package initialisation and the
// main goroutine run in it.
var rootCore = core{id: 1, trigger: 0, typ: "ROOT", obj: rootResource}

// object returns the resource object of the context f, creating it if the
// resource has none yet. f must be the current frame of gs (the only place
// the object is recorded).
func (gs *gstate) object() any {
	f := &gs.cur
	if f.res == nil {
		if f.id == 0 {
			return unknownResource
		}
		f.res = f.task.object()
	}
	return f.res.obj
}

// rootResource is the stable resource object of the root context.
var rootResource = &Root{}

// unknownResource is returned by ExecutionAsyncResource on goroutines whose
// context is unknown.
var unknownResource = &Unknown{}
