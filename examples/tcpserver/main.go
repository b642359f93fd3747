// Tcpserver is the Go form of the TCP server in Node's async_hooks
// documentation:
//
//	net.createServer((conn) => {}).listen(8080);
//
// whose init hook prints, once a client connects (nc localhost 8080):
//
//	TCPSERVERWRAP(5): trigger: 1 execution: 1
//	TCPWRAP(7): trigger: 5 execution: 0
//
// Here the hook prints every resource as it is created, and the server
// accepts -conns connections on -addr, handling each in a goroutine of its
// own:
//
//	TCPSERVERWRAP(2): trigger: 1 execution: 1   the listener, created by main
//	TCPWRAP(3): trigger: 2 execution: 1         a connection, caused by the listener
//	GOROUTINE(4): trigger: 2 execution: 2       its handler, started in the listener's scope
//
// The connection's trigger is the listener, as in Node. Its execution id is
// main's, which called Accept (Node's is 0: its connections arrive from
// C++). The rest of the loop's iteration runs in the listener's scope, the
// rule of a channel receive, so the handler goroutine's trigger is the
// listener too. The source is plain Go; asyncinstr instruments it:
//
//	asyncinstr go run ./examples/tcpserver &
//	nc 127.0.0.1 8080
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sync"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	conns := flag.Int("conns", 1, "connections to accept before exiting")
	flag.Parse()
	if err := serve(os.Stdout, *addr, *conns); err != nil {
		log.Fatal(err)
	}
}

// serve accepts conns connections on addr, greeting each, and prints the
// init event of every resource created meanwhile.
func serve(w io.Writer, addr string, conns int) error {
	var mu sync.Mutex
	hook := hooksrt.CreateHook(hooksrt.Callbacks{
		Init: func(id uint64, typ string, trigger uint64, _ any) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(w, "%s(%d): trigger: %d execution: %d\n", typ, id, trigger, hooksrt.ExecutionAsyncID())
		},
	}).Enable()
	defer hook.Disable()

	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer l.Close()
	// The address, for a client that asked for port 0.
	fmt.Fprintln(os.Stderr, "listening on", l.Addr())
	var handlers sync.WaitGroup
	for range conns {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		handlers.Add(1)
		go func() {
			defer handlers.Done()
			defer c.Close()
			fmt.Fprintln(c, "hello from", c.LocalAddr())
		}()
	}
	handlers.Wait()
	return nil
}
