//go:build go1.25

package goid

import (
	"sync"
	"testing"
)

func TestFastMatchesSlow(t *testing.T) {
	if !haveGetg {
		t.Skip("no fast path on this platform")
	}
	if !Fast() {
		t.Fatal("fast path failed validation on a supported platform")
	}
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if f, s := Get(), Slow(); f != s {
				errs <- "fast and slow goroutine ids differ"
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

func TestDistinctAndNeverReused(t *testing.T) {
	seen := map[uint64]bool{Get(): true}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := Get()
			mu.Lock()
			defer mu.Unlock()
			if seen[id] {
				t.Errorf("goroutine id %d seen twice", id)
			}
			seen[id] = true
		}()
		wg.Wait() // one at a time, so g structures are reused
	}
}

func BenchmarkGet(b *testing.B) {
	for b.Loop() {
		Get()
	}
}

func BenchmarkSlow(b *testing.B) {
	for b.Loop() {
		Slow()
	}
}
