//go:build go1.25

package hooksrt_test

import (
	"testing"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
)

var lazySite = hooksrt.Site{File: "lazy.go", Line: 7, Func: "lazy.worker"}

// Without an Init hook, a goroutine's resource object is created when
// ExecutionAsyncResource first asks for it. It describes the resource and
// keeps its identity, and its values, for the goroutine's lifetime.
func TestLazyResourceObject(t *testing.T) {
	hooksrt.Track()
	type key struct{}
	done := make(chan [2]any)
	var id, trigger uint64 // the task's, read before it starts: a Task is valid until its End
	go func(f func(), t *hooksrt.Task) {
		t.Begin()
		defer t.End()
		f()
	}(func() {
		first := hooksrt.ExecutionAsyncResource()
		first.(hooksrt.Object).Set(key{}, "v")
		done <- [2]any{first, hooksrt.ExecutionAsyncResource()}
	}, func() *hooksrt.Task {
		task := hooksrt.Go(&lazySite)
		id, trigger = task.AsyncID(), task.TriggerAsyncID()
		return task
	}())
	got := <-done
	r, ok := got[0].(*hooksrt.Resource)
	if !ok {
		t.Fatalf("ExecutionAsyncResource() is %T, want *hooksrt.Resource", got[0])
	}
	if got[0] != got[1] {
		t.Errorf("second call returned a different object")
	}
	if r.Type() != "GOROUTINE" || r.Site != &lazySite || r.AsyncID() != id || r.TriggerAsyncID() != trigger {
		t.Errorf("object %v does not describe task %d (trigger %d) at %v", r, id, trigger, &lazySite)
	}
	if r.Get(key{}) != "v" {
		t.Errorf("value set on the object was lost")
	}
}

// With an Init hook enabled when the goroutine is created, the object is
// created then, and it is the very object the goroutine sees.
func TestEagerResourceObject(t *testing.T) {
	var initObj any
	var initID uint64
	h := hooksrt.CreateHook(hooksrt.Callbacks{Init: func(id uint64, typ string, _ uint64, r any) {
		if typ == "GOROUTINE" {
			initID, initObj = id, r
		}
	}}).Enable()
	defer h.Disable()
	done := make(chan any)
	go func(t *hooksrt.Task) {
		t.Begin()
		defer t.End()
		done <- hooksrt.ExecutionAsyncResource()
	}(hooksrt.Go(&lazySite))
	if got := <-done; got != initObj || initObj == nil {
		t.Errorf("goroutine sees %v, init received %v (id %d)", got, initObj, initID)
	}
}
