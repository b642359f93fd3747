//go:build go1.25

package hooksrt

import (
	"os"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt/internal/tracefile"
)

// ResetTracking switches tracking off again, so that benchmarks can measure
// the path of a program that never used the API. Tests only: a real program
// cannot switch tracking off.
func ResetTracking() { tracking.Store(false) }

// LiveGoroutineStates returns the number of goroutine states in the table,
// for leak tests.
func LiveGoroutineStates() int {
	n := 0
	for i := range table {
		if table[i].Load() != nil {
			n++
		}
	}
	overflowMu.Lock()
	n += len(overflow)
	overflowMu.Unlock()
	return n
}

// StartTrace starts the recorder writing a trace to path, as TraceEnv does
// at start-up, for benchmarks. stop disables it, closes the trace and
// returns the number of events written; the recorder can start again.
func StartTrace(path string) (stop func() int64) {
	w, err := tracefile.Create(path, os.Getpid(), "bench")
	if err != nil {
		panic(err)
	}
	startRecorder(sinks{trace: w, path: path})
	return func() int64 {
		rec.mu.Lock()
		rec.hook.Disable()
		rec.hook = nil
		rec.mu.Unlock()
		w.Close() // the events still in flight are dropped
		for i := range rec.shards {
			s := &rec.shards[i]
			s.mu.Lock()
			clear(s.m)
			s.mu.Unlock()
		}
		return w.Events()
	}
}
