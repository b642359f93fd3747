//go:build go1.25

package hooksrt

import "testing"

// Any 2^tableBits consecutive goroutine ids map to distinct slots, and
// consecutive ids to different cache lines.
func TestSlotBijection(t *testing.T) {
	for _, start := range []uint64{0, 1, 12345, 1 << 40} {
		seen := map[int]uint64{}
		for id := start; id < start+1<<tableBits; id++ {
			s := slotIndex(id)
			if prev, dup := seen[s]; dup {
				t.Fatalf("ids %d and %d share a slot", prev, id)
			}
			seen[s] = id
		}
	}
	const lineSlots = 8 // 64-byte lines of 8-byte pointers
	for id := uint64(100); id < 200; id++ {
		if slotIndex(id)/lineSlots == slotIndex(id+1)/lineSlots {
			t.Fatalf("ids %d and %d share a cache line", id, id+1)
		}
	}
}

func slotIndex(id uint64) int {
	p := slot(id)
	for i := range table {
		if &table[i] == p {
			return i
		}
	}
	panic("slot outside the table")
}
