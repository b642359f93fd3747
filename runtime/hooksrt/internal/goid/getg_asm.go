//go:build go1.25 && (amd64 || arm64)

package goid

const haveGetg = true

// goidAt returns the word at byte offset off of the calling goroutine's g
// structure. Implemented in assembly.
//
//go:noescape
func goidAt(off uintptr) uint64
