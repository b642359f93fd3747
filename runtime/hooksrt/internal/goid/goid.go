//go:build go1.25

// Package goid reports the id of the calling goroutine.
//
// Go deliberately hides goroutine ids, so there are two ways to learn one.
// The slow but certain way parses the header line of runtime.Stack
// ("goroutine 42 [running]:"), which costs about two microseconds. The fast
// way reads the goid field of the runtime's g structure through the g
// pointer that assembly can see. The field's offset is not part of any API,
// so this package does not trust a hand-copied struct layout: at start-up it
// searches the g structure for the offset that holds the id the slow path
// reports, on several goroutines, and uses the fast path only if exactly one
// offset agrees everywhere. Otherwise every call takes the slow path.
//
// Goroutine ids are never reused by the runtime (they come from a 64-bit
// counter), while g structures are; keying state by id therefore never
// attributes one goroutine's state to another.
package goid

import (
	"runtime"
	"sync"
)

// scanLimit bounds the search for the goid field. The field sits at byte
// 152 on 64-bit platforms in Go 1.23 to 1.26, and every g structure is far
// larger than this, so the search never reads past the structure.
const scanLimit = 256

// offset is the byte offset of goid in the runtime's g structure, or -1 when
// the fast path is unavailable or failed validation.
var offset = -1

func init() {
	if haveGetg {
		offset = findOffset()
	}
}

// Get returns the id of the calling goroutine.
func Get() uint64 {
	if offset >= 0 {
		return goidAt(uintptr(offset))
	}
	return Slow()
}

// Fast reports whether Get uses the validated fast path.
func Fast() bool { return offset >= 0 }

// Slow returns the id of the calling goroutine by parsing runtime.Stack. It
// is always correct and about a thousand times slower than Get.
func Slow() uint64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	b := buf[:n]
	const prefix = "goroutine "
	if len(b) < len(prefix) || string(b[:len(prefix)]) != prefix {
		panic("goid: unexpected runtime.Stack header: " + string(b))
	}
	var id uint64
	for _, c := range b[len(prefix):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}

// findOffset returns the only offset below scanLimit that holds the
// goroutine id on the calling goroutine and on a number of fresh ones, or -1.
func findOffset() int {
	candidates := matching(nil)
	const probes = 8
	var wg sync.WaitGroup
	results := make([][]int, probes)
	for i := range probes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = matching(candidates)
		}()
	}
	wg.Wait()
	for _, r := range results {
		candidates = intersect(candidates, r)
	}
	if len(candidates) != 1 {
		return -1
	}
	return candidates[0]
}

// matching returns the offsets (among within, or all 8-byte aligned offsets
// below scanLimit when within is nil) whose word equals the calling
// goroutine's id.
func matching(within []int) []int {
	id := Slow()
	var out []int
	check := func(off int) {
		if goidAt(uintptr(off)) == id {
			out = append(out, off)
		}
	}
	if within == nil {
		for off := 0; off < scanLimit; off += 8 {
			check(off)
		}
		return out
	}
	for _, off := range within {
		check(off)
	}
	return out
}

func intersect(a, b []int) []int {
	var out []int
	for _, x := range a {
		for _, y := range b {
			if x == y {
				out = append(out, x)
			}
		}
	}
	return out
}
