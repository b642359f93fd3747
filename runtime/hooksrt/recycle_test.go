//go:build go1.25

package hooksrt

import (
	"reflect"
	"testing"
)

// A recycled task is a zero Task but for its state's goid, which recycle
// zeroes atomically: a field added to Task or gstate that recycle does not
// reset fails this test. The task is used the way a go statement uses one,
// with its resource object created and a store entered, so that every
// field has been written.
func TestRecycleZeroesTask(t *testing.T) {
	track()
	h := CreateHook(Callbacks{Init: func(uint64, string, uint64, any) {}}).Enable()
	defer h.Disable()
	var als AsyncLocalStorage[string]
	var task *Task
	als.Run("x", func() { task = Go(&Site{File: "recycle_test.go"}) })
	done := make(chan struct{})
	go func() {
		defer close(done)
		task.Begin()
		defer task.End()
		ExecutionAsyncResource()
		als.EnterWith("y")
	}()
	<-done
	if task.gs.goid.Load() != 0 {
		t.Fatal("recycled task keeps its goroutine id")
	}
	if !reflect.ValueOf(task).Elem().IsZero() {
		t.Errorf("recycled task is not zero: %+v", task)
	}
}
