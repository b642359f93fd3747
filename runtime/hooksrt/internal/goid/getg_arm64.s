#include "textflag.h"

// func goidAt(off uintptr) uint64
// Reads the 8-byte word at byte offset off of the current goroutine's g.
TEXT ·goidAt(SB),NOSPLIT,$0-16
	MOVD off+0(FP), R1
	MOVD (g)(R1), R0
	MOVD R0, ret+8(FP)
	RET
