//go:build go1.25

package weaktab

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

type obj struct{ n int }

func TestStoreLoad(t *testing.T) {
	var tab Table[string]
	a, b := &obj{1}, &obj{2}
	if !tab.Store(a, "a", nil) || !tab.Store(b, "b", nil) {
		t.Fatal("Store refused a pointer")
	}
	if v, ok := tab.Load(a); !ok || v != "a" {
		t.Errorf("Load(a) = %q, %v", v, ok)
	}
	if tab.Store(obj{3}, "value", nil) || tab.Store(nil, "nil", nil) {
		t.Error("Store recorded a value that holds no pointer")
	}
	if _, ok := tab.Load(&obj{1}); ok {
		t.Error("an equal object that is another one was found")
	}
	runtime.KeepAlive(b)
}

// The table keeps no object alive, and reports each collected one once.
func TestCollected(t *testing.T) {
	var tab Table[int]
	var mu sync.Mutex
	got := map[int]int{}
	for i := range 10 {
		tab.Store(&obj{i}, i, func(v int) {
			mu.Lock()
			got[v]++
			mu.Unlock()
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		runtime.GC()
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == 10 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range 10 {
		if got[i] != 1 {
			t.Errorf("object %d reported collected %d times", i, got[i])
		}
	}
}

// LoadOrStore makes one value per object under concurrent callers.
func TestLoadOrStore(t *testing.T) {
	var tab Table[*int]
	o := &obj{}
	var wg sync.WaitGroup
	vals := make([]*int, 8)
	for i := range vals {
		wg.Go(func() {
			vals[i], _ = tab.LoadOrStore(o, func() *int { return new(int) }, nil)
		})
	}
	wg.Wait()
	for _, v := range vals {
		if v != vals[0] {
			t.Fatal("two values recorded for one object")
		}
	}
	runtime.KeepAlive(o)
}
