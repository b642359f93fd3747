// Hooktree prints the lifecycle events of a small program's goroutines and
// timers, indented by execution context: the Go form of the "asynchronous
// context example" in Node's async_hooks documentation.
//
// The program starts a goroutine that sets a 10ms timer, and the timer
// prints its execution id. The source is plain Go: run it through
// asyncinstr (make demo does) and the go statement and the time.AfterFunc
// call report to the hook. Run as it is, it prints nothing: no resource is
// reported, so it does not wait for the timer.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
)

func main() { run(os.Stdout) }

// run enables a hook that prints each event to w, runs the program, and
// returns once every resource it created has been destroyed.
func run(w io.Writer) {
	var (
		mu     sync.Mutex
		indent int
		live   sync.WaitGroup
	)
	printf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, strings.Repeat(" ", indent)+format+"\n", args...)
	}
	hook := hooksrt.CreateHook(hooksrt.Callbacks{
		Init: func(id uint64, typ string, trigger uint64, _ any) {
			live.Add(1)
			printf("%s(%d): trigger: %d execution: %d", typ, id, trigger, hooksrt.ExecutionAsyncID())
		},
		Before: func(id uint64) {
			printf("before:  %d", id)
			mu.Lock()
			indent += 2
			mu.Unlock()
		},
		After: func(id uint64) {
			mu.Lock()
			indent -= 2
			mu.Unlock()
			printf("after:   %d", id)
		},
		Destroy: func(id uint64) {
			printf("destroy: %d", id)
			live.Done()
		},
	}).Enable()
	defer hook.Disable()

	go server(w)

	// Init runs at the go statement, so live already counts the goroutine.
	live.Wait()
}

// server waits 10ms before saying that it started, as the listen callback
// of Node's example does.
func server(w io.Writer) {
	time.AfterFunc(10*time.Millisecond, func() {
		fmt.Fprintln(w, ">>>", hooksrt.ExecutionAsyncID())
	})
}
