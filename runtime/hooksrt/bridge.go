//go:build go1.25

package hooksrt

import "context"

// The bridge to context.Context. Instrumented code carries execution
// contexts across go statements, timers, channels and the other resources of
// SEMANTICS.md section 4. Code that the rewriter cannot see (a dependency
// left as it is, a callback that a library stores and calls from a
// goroutine of its own) loses them. A context.Context usually travels that
// path anyway, so it can carry the execution context too: WithContext puts
// it in, RunContext runs a function in it at the other end.
//
// When ctx wins. RunContext always runs its function in ctx's execution
// context: the caller asked for it. The functions that read the current
// context through a ctx (ExecutionAsyncIDContext, TriggerAsyncIDContext,
// AsyncLocalStorage.GetStoreContext, and hooksslog's handler) prefer the
// calling goroutine's own context, which is exact, and use ctx's only
// where the goroutine's is unknown (id 0 and no store): code on a goroutine
// that instrumented code did not start, outside any scope. A ctx is often
// older than the code that receives it (a server's base context, a
// long-lived worker's), so it does not override a context that is known.

// contextKey is the context.Context key of the execution context that
// WithContext captures.
type contextKey struct{}

// typeContext is the type of the AsyncResource that WithContext creates.
const typeContext = "CONTEXT"

// WithContext returns a copy of ctx that carries the calling goroutine's
// current execution context, its AsyncLocalStorage stores included. The
// capture is an AsyncResource of type "CONTEXT" created now, triggered by
// the current context; RunContext enters its scope, and its destroy comes
// when it is garbage collected.
func WithContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, contextKey{}, NewAsyncResource(typeContext, AsyncResourceOptions{}))
}

// FromContext returns the resource of the execution context that
// WithContext stored in ctx (or in a context derived from it).
func FromContext(ctx context.Context) (*AsyncResource, bool) {
	if ctx == nil {
		return nil, false
	}
	r, ok := ctx.Value(contextKey{}).(*AsyncResource)
	return r, ok
}

// RunContext calls fn in the execution context that ctx carries (see
// WithContext): inside fn, ExecutionAsyncID is that resource's id and the
// stores are those captured. If ctx carries none, it just calls fn.
func RunContext(ctx context.Context, fn func()) {
	if r, ok := FromContext(ctx); ok {
		r.RunInAsyncScope(fn)
		return
	}
	fn()
}

// frameContext returns the execution context that code running with ctx is
// in: the calling goroutine's, unless it is unknown and ctx carries one.
func frameContext(ctx context.Context) *frame {
	cur := currentFrame()
	if cur.id != 0 || cur.als != nil {
		return cur
	}
	if r, ok := FromContext(ctx); ok {
		f := frameOf(&r.core)
		return &f
	}
	return cur
}

// ExecutionAsyncIDContext is ExecutionAsyncID for code that has a ctx: it
// returns the id of the calling goroutine's context, or of the one ctx
// carries where the goroutine's is unknown.
func ExecutionAsyncIDContext(ctx context.Context) uint64 {
	track()
	return frameContext(ctx).id
}

// TriggerAsyncIDContext is TriggerAsyncID for code that has a ctx (see
// ExecutionAsyncIDContext).
func TriggerAsyncIDContext(ctx context.Context) uint64 {
	track()
	return frameContext(ctx).trigger
}

// GetStoreContext is GetStore for code that has a ctx: the store of the
// calling goroutine's context, or of the one ctx carries where the
// goroutine's is unknown (see ExecutionAsyncIDContext).
func (s *AsyncLocalStorage[T]) GetStoreContext(ctx context.Context) (T, bool) {
	return s.storeIn(frameContext(ctx).als)
}
