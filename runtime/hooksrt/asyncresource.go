//go:build go1.25

package hooksrt

import (
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
)

// AsyncResourceOptions configures NewAsyncResource.
type AsyncResourceOptions struct {
	// TriggerAsyncID is the id of the resource that caused this one; 0
	// means the current ExecutionAsyncID().
	TriggerAsyncID uint64
	// RequireManualDestroy turns off the destroy event that is otherwise
	// emitted when the resource becomes unreachable and is garbage
	// collected. EmitDestroy still emits it.
	RequireManualDestroy bool
}

// An AsyncResource is a resource that a program or library creates itself,
// to report work that it runs later or elsewhere (a queue, a pool, a
// callback API) so that hooks and AsyncLocalStorage follow it. It is Node's
// AsyncResource. The *AsyncResource itself is the resource object passed to
// Init and returned by ExecutionAsyncResource inside its scope.
type AsyncResource struct {
	Values
	core
	// gcDone, when set, is shared with the garbage-collection cleanup and
	// replaces core.destroyed, so that the cleanup does not keep r alive.
	gcDone *atomic.Bool
}

// NewAsyncResource creates a resource of type typ, captures the current
// AsyncLocalStorage frame and emits init on the calling goroutine. Unless
// opts.RequireManualDestroy is set and if a destroy hook is enabled now,
// destroy is emitted when the resource is garbage collected without having
// been destroyed by EmitDestroy (on a goroutine of the runtime's, some time
// later). NewAsyncResource panics if typ is empty.
func NewAsyncResource(typ string, opts AsyncResourceOptions) *AsyncResource {
	if typ == "" {
		panic("hooksrt: NewAsyncResource: empty type")
	}
	track()
	r := &AsyncResource{}
	initCore(&r.core, typ, opts.TriggerAsyncID, r)
	if !opts.RequireManualDestroy && hasDestroyHooks() {
		done := new(atomic.Bool)
		r.gcDone = done
		runtime.AddCleanup(r, gcDestroy, gcArg{id: r.id, done: done})
	}
	return r
}

// AsyncID returns the resource's async id.
func (r *AsyncResource) AsyncID() uint64 { return r.id }

// TriggerAsyncID returns the id of the resource that caused r.
func (r *AsyncResource) TriggerAsyncID() uint64 { return r.trigger }

// Type returns the type r was created with.
func (r *AsyncResource) Type() string { return r.typ }

// RunInAsyncScope calls fn in r's execution context: before, fn, after.
// Inside fn, ExecutionAsyncID() is r.AsyncID(), TriggerAsyncID() is
// r.TriggerAsyncID(), and the AsyncLocalStorage stores are those captured
// when r was created. After runs even if fn panics or calls runtime.Goexit.
// Scopes nest on a goroutine, and the same resource may run in several
// goroutines at once.
func (r *AsyncResource) RunInAsyncScope(fn func()) {
	gs := before(&r.core)
	defer after(gs, &r.core)
	fn()
}

// Bind returns a function that calls fn in r's scope each time it is
// called.
func (r *AsyncResource) Bind(fn func()) func() {
	if fn == nil {
		panic("hooksrt: Bind: nil function")
	}
	return func() { r.RunInAsyncScope(fn) }
}

// Bind returns a function that calls fn in the execution context current
// now, each time it is called. It creates an AsyncResource whose type is the
// name of fn, or "bound-anonymous-fn" for a function literal, like Node's
// static AsyncResource.bind.
func Bind(fn func()) func() {
	if fn == nil {
		panic("hooksrt: Bind: nil function")
	}
	return NewAsyncResource(funcType(fn), AsyncResourceOptions{}).Bind(fn)
}

// funcType names fn the way Node names a bound function: by its name, or
// "bound-anonymous-fn" when it has none (a function literal).
func funcType(fn func()) string {
	f := runtime.FuncForPC(reflect.ValueOf(fn).Pointer())
	if f == nil {
		return typeBound
	}
	name := f.Name()
	// Literals are named after their enclosing function: pkg.f.func1,
	// and pkg.f.func1.2 when nested in another literal.
	last := name[strings.LastIndexByte(name, '.')+1:]
	if literal := strings.TrimLeft(strings.TrimPrefix(strings.TrimPrefix(last, "func"), "gowrap"), "0123456789"); literal == "" && last != "func" && last != "gowrap" {
		return typeBound
	}
	return name
}

// EmitDestroy emits destroy for r and returns r. Only the first call (or
// the garbage-collection cleanup, whichever comes first) emits it. Call it
// after r's last RunInAsyncScope has returned.
func (r *AsyncResource) EmitDestroy() *AsyncResource {
	flag := &r.destroyed
	if r.gcDone != nil {
		flag = r.gcDone
	}
	if flag.CompareAndSwap(false, true) {
		emitDestroy(nil, r.id)
	}
	return r
}

// typeBound is the type of the resource of a bound function literal, as in
// Node.
const typeBound = "bound-anonymous-fn"

// gcArg is what the garbage-collection cleanup of an AsyncResource sees:
// its id and the shared destroyed flag, never the resource itself.
type gcArg struct {
	id   uint64
	done *atomic.Bool
}

func gcDestroy(a gcArg) {
	if a.done.CompareAndSwap(false, true) {
		emitDestroy(nil, a.id)
	}
}
