//go:build go1.25

// Package weaktab is a concurrent table from objects to values that never
// keeps an object alive: the runtime's packages use it to find the
// resource of a listener, a conn or a server that they cannot wrap, since
// a program may assert such objects to their own types.
package weaktab

import (
	"reflect"
	"runtime"
	"sync"
	"unsafe"
	"weak"
)

// A Table maps objects, identified by the pointer an interface value holds,
// to values of type V. An entry lives until it is deleted or its object is
// collected; an address that a new object reuses is never taken for the
// old object's. The zero Table is empty and ready; it is safe for
// concurrent use.
type Table[V any] struct {
	m sync.Map // object address (uintptr) -> *entry[V]
}

type entry[V any] struct {
	obj weak.Pointer[byte]
	v   V
}

// Addr returns the address that the pointer in x holds, or nil when x
// holds no pointer (or a nil one).
func Addr(x any) unsafe.Pointer {
	if x == nil {
		return nil
	}
	v := reflect.ValueOf(x)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return nil
	}
	return v.UnsafePointer()
}

// Store records v for x's object, replacing any earlier value, and reports
// whether x holds a pointer (nothing is recorded otherwise). When the
// object is collected, its entry goes and collected, if not nil, is called
// with v, on a goroutine of its own.
func (t *Table[V]) Store(x any, v V, collected func(V)) bool {
	p := Addr(x)
	if p == nil {
		return false
	}
	e := &entry[V]{obj: weak.Make((*byte)(p)), v: v}
	t.m.Store(uintptr(p), e)
	t.watch(p, e, collected)
	return true
}

// watch removes e, the entry of the object at p, when the object is
// collected.
func (t *Table[V]) watch(p unsafe.Pointer, e *entry[V], collected func(V)) {
	runtime.AddCleanup((*byte)(p), func(key uintptr) {
		if t.m.CompareAndDelete(key, e) && collected != nil {
			collected(e.v)
		}
	}, uintptr(p))
}

// Load returns the value recorded for x's object.
func (t *Table[V]) Load(x any) (v V, ok bool) {
	p := Addr(x)
	if p == nil {
		return v, false
	}
	got, ok := t.m.Load(uintptr(p))
	if !ok {
		return v, false
	}
	e := got.(*entry[V])
	if e.obj.Value() != (*byte)(p) {
		return v, false
	}
	return e.v, true
}

// LoadOrStore returns the value recorded for x's object, or records the
// one that make returns and returns it. make may run for nothing when
// goroutines race; only one value is ever recorded.
func (t *Table[V]) LoadOrStore(x any, make func() V, collected func(V)) (V, bool) {
	if v, ok := t.Load(x); ok {
		return v, true
	}
	p := Addr(x)
	if p == nil {
		var zero V
		return zero, false
	}
	e := &entry[V]{obj: weak.Make((*byte)(p)), v: make()}
	for {
		got, loaded := t.m.LoadOrStore(uintptr(p), e)
		if !loaded {
			t.watch(p, e, collected)
			return e.v, true
		}
		old := got.(*entry[V])
		if old.obj.Value() == (*byte)(p) {
			return old.v, true
		}
		// A dead object's entry whose cleanup has not run yet.
		t.m.CompareAndDelete(uintptr(p), old)
	}
}
