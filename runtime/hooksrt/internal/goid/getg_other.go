//go:build go1.25 && !amd64 && !arm64

package goid

const haveGetg = false

func goidAt(off uintptr) uint64 { panic("goid: no fast path on this platform") }
