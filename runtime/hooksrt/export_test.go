//go:build go1.25

package hooksrt

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
