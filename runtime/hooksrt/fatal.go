//go:build go1.25

package hooksrt

import (
	"fmt"
	"os"
	"runtime/debug"
)

// exit ends the process. Fatal errors must not be recoverable, so this is
// os.Exit, not a panic.
var exit = os.Exit

// fatalHookPanic ends the process because a hook callback panicked with v.
// It prints what an unrecovered panic prints (the value and the stack of the
// panicking goroutine, which at this point still holds the callback's
// frames) and exits with status 2, the status of an unrecovered panic.
func fatalHookPanic(event string, v any) {
	fmt.Fprintf(os.Stderr, "panic: %s [async hook %s callback]\n\n%s", panicValue(v), event, debug.Stack())
	exit(2)
}

// fatalCorrupted ends the process because an after did not match the
// innermost before on its goroutine: Node's "async hook stack has become
// corrupted", printed as a Go fatal error.
func fatalCorrupted(actual, expected uint64) {
	fmt.Fprintf(os.Stderr, "fatal error: async hook stack has become corrupted (actual: %d, expected: %d)\n\n%s", actual, expected, debug.Stack())
	exit(2)
}

// panicValue formats v as the runtime does for an unrecovered panic.
func panicValue(v any) string {
	switch v := v.(type) {
	case error:
		return v.Error()
	case fmt.Stringer:
		return v.String()
	case string:
		return v
	case nil:
		return "nil"
	}
	return fmt.Sprintf("%#v", v)
}
