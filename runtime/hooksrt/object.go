//go:build go1.25

package hooksrt

import (
	"fmt"
	"sync"
)

// Object is implemented by every resource object: the value that Init
// receives and ExecutionAsyncResource returns. It lets a program attach its
// own values to a resource, the Go form of Node's
// executionAsyncResource()[symbol] = state pattern. Keys are compared as map
// keys; use an unexported type for them, as with context.WithValue.
type Object interface {
	Set(key, value any)
	Get(key any) any
}

// Values holds the values attached to a resource object. Its Set and Get
// methods are safe for concurrent use. Embed it to make a type an Object.
type Values struct {
	mu sync.Mutex
	m  map[any]any
}

// Set attaches value to the resource under key, replacing any earlier value.
func (v *Values) Set(key, value any) {
	v.mu.Lock()
	if v.m == nil {
		v.m = make(map[any]any)
	}
	v.m[key] = value
	v.mu.Unlock()
}

// Get returns the value attached under key, or nil.
func (v *Values) Get(key any) any {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.m[key]
}

// Root is the resource object of the root context (id 1), in which package
// initialisation and the main goroutine run. There is one, and its identity
// never changes.
type Root struct{ Values }

func (*Root) String() string { return "ROOT" }

// Unknown is the resource object returned by ExecutionAsyncResource where
// the context is unknown (id 0). There is one, shared by all such
// goroutines, just as Node shares its top-level resource.
type Unknown struct{ Values }

func (*Unknown) String() string { return "UNKNOWN" }

// A Site says where instrumented code created a resource. The rewriter
// emits one static Site per instrumented source location, so creating a
// resource never formats a position.
type Site struct {
	File string // file name as given to the compiler
	Line int
	Func string // what the resource runs or waits for, such as "main.worker"
}

func (s *Site) String() string {
	if s == nil {
		return "unknown site"
	}
	if s.Func == "" {
		return fmt.Sprintf("%s:%d", s.File, s.Line)
	}
	return fmt.Sprintf("%s:%d %s", s.File, s.Line, s.Func)
}

// A Resource is the resource object of a resource that instrumented code
// created: a goroutine, a timer callback, a handed-off value.
type Resource struct {
	Values
	core
	// Site is where the resource was created; nil if the instrumentation
	// did not say.
	Site *Site
}

// Type returns the resource's type, such as "GOROUTINE".
func (r *Resource) Type() string { return r.typ }

// AsyncID returns the resource's async id.
func (r *Resource) AsyncID() uint64 { return r.id }

// TriggerAsyncID returns the id of the resource that caused r.
func (r *Resource) TriggerAsyncID() uint64 { return r.trigger }

func (r *Resource) String() string {
	return fmt.Sprintf("%s(%d) trigger %d at %s", r.typ, r.id, r.trigger, r.Site)
}
