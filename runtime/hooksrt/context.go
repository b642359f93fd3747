//go:build go1.25

package hooksrt

import "github.com/asyncinstr/asyncinstr/runtime/hooksrt/internal/goid"

// ExecutionAsyncID returns the id of the calling goroutine's current
// execution context: the resource whose callback or scope is running, 1 in
// the root context (package initialisation and the main goroutine), or 0
// when the context is unknown (a goroutine that no instrumented code
// started, outside any scope).
func ExecutionAsyncID() uint64 {
	track()
	return currentFrame().id
}

// TriggerAsyncID returns the id of the resource that caused the current
// execution context's resource to be created: 0 in the root context and in
// an unknown context.
func TriggerAsyncID() uint64 {
	track()
	return currentFrame().trigger
}

// ExecutionAsyncResource returns the resource object of the current
// execution context: the object that Init received for it. It is never nil:
// the root context has its own stable *Root, and an unknown context returns
// the single *Unknown. Every resource object has Set and Get methods (see
// Object), so state can be attached to the current resource and read back
// in the resources it causes.
func ExecutionAsyncResource() any {
	track()
	id := goid.Get()
	if gs := lookup(id); gs != nil {
		return gs.object()
	}
	if id == 1 {
		return rootResource
	}
	return unknownResource
}
