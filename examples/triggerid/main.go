// Triggerid shows what the trigger id says that the execution id does not:
// the Go form of the triggerAsyncId demonstration in Node's async_hooks
// documentation, where a server's listener creates a resource for each
// connection.
//
// Here a server goroutine, started by main, starts a handler goroutine for
// each incoming connection. The hook prints each resource as it is
// created: the server is triggered by main's root context (1), and each
// handler by the server, whose context is also the one executing when the
// handler is created. The source is plain Go; asyncinstr instruments it:
//
//	go run ./cmd/asyncinstr -o /tmp/demo ./examples/triggerid
//	cd /tmp/demo && go run ./examples/triggerid
package main

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
)

func main() { run(os.Stdout, 2) }

// run prints the init event of every resource created while conns
// connections are served.
func run(w io.Writer, conns int) {
	hook := hooksrt.CreateHook(hooksrt.Callbacks{
		Init: func(id uint64, typ string, trigger uint64, _ any) {
			fmt.Fprintf(w, "%s(%d): trigger: %d execution: %d\n", typ, id, trigger, hooksrt.ExecutionAsyncID())
		},
	}).Enable()
	defer hook.Disable()

	incoming := make(chan int)
	var handled sync.WaitGroup
	handled.Add(conns)
	go serve(incoming, &handled)
	for c := range conns {
		incoming <- c
	}
	close(incoming)
	handled.Wait()
}

// serve starts a handler for each connection, as a listener's accept loop
// does.
func serve(incoming <-chan int, handled *sync.WaitGroup) {
	for c := range incoming {
		go handle(c, handled)
	}
}

func handle(conn int, handled *sync.WaitGroup) {
	defer handled.Done()
	_ = conn
}
