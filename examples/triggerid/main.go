// Triggerid shows what the trigger id says that the execution id does not:
// the Go form of the triggerAsyncId demonstration in Node's async_hooks
// documentation, where a server's listener creates a resource for each
// connection.
//
// Here a server goroutine, started by main, starts a handler goroutine for
// each connection that main hands it over a channel. The hook prints each
// resource as it is created:
//
//	GOROUTINE(2): trigger: 1 execution: 1   the server, started by main
//	CHANSEND(3): trigger: 1 execution: 1    main hands over connection 0
//	GOROUTINE(4): trigger: 3 execution: 3   its handler
//	CHANSEND(5): trigger: 1 execution: 1    connection 1
//	GOROUTINE(6): trigger: 5 execution: 5   its handler
//
// Each handler is created while the server handles the connection it
// received, inside that handoff's scope: its trigger is the connection's
// CHANSEND resource, not merely the server loop, and the handoff's own
// trigger is main, which sent it. The source is plain Go; asyncinstr
// instruments it:
//
//	asyncinstr go run ./examples/triggerid
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
	go serve(incoming, &handled)
	// One connection at a time, so that the output has one order.
	for c := range conns {
		handled.Add(1)
		incoming <- c
		handled.Wait()
	}
	close(incoming)
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
