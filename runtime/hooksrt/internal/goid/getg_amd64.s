#include "textflag.h"

// func goidAt(off uintptr) uint64
// Reads the 8-byte word at byte offset off of the current goroutine's g.
TEXT ·goidAt(SB),NOSPLIT,$0-16
	MOVQ (TLS), AX
	MOVQ off+0(FP), BX
	MOVQ (AX)(BX*1), AX
	MOVQ AX, ret+8(FP)
	RET
