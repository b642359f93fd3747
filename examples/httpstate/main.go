// Httpstate is the Go form of the executionAsyncResource example in Node's
// async_hooks documentation: a handler stores state in its own resource,
// and a timer it starts reads it back, because an init hook copies the
// state from the resource that creates each new one:
//
//	createHook({ init(asyncId, type, triggerAsyncId, resource) {
//	  const cr = executionAsyncResource();
//	  if (cr) resource[sym] = cr[sym];
//	} }).enable();
//	createServer((req, res) => {
//	  executionAsyncResource()[sym] = { state: req.url };
//	  setTimeout(function() {
//	    res.end(JSON.stringify(executionAsyncResource()[sym]));
//	  }, 100);
//	}).listen(3000);
//
// Each request's handler runs in its HTTPINCOMINGMESSAGE resource, so the
// state it stores there is the request's own, and the time.AfterFunc
// callback runs in a Timeout resource that inherited it. The server
// answers -requests requests on -addr, then exits. The source is plain Go;
// asyncinstr instruments it:
//
//	asyncinstr go run ./examples/httpstate &
//	curl 127.0.0.1:3000/hello    # {"state":"/hello"}
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
)

// stateKey is the private key of the state, Node's Symbol('state').
type stateKey struct{}

type state struct {
	State string `json:"state"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "address to listen on")
	requests := flag.Int("requests", 0, "requests to answer before exiting (0: no limit)")
	flag.Parse()
	hooksrt.CreateHook(hooksrt.Callbacks{
		Init: func(_ uint64, _ string, _ uint64, resource any) {
			cr, ok := hooksrt.ExecutionAsyncResource().(hooksrt.Object)
			if !ok {
				return
			}
			if st := cr.Get(stateKey{}); st != nil {
				resource.(hooksrt.Object).Set(stateKey{}, st)
			}
		},
	}).Enable()

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(os.Stderr, "listening on", l.Addr())
	var answered sync.WaitGroup
	answered.Add(*requests)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if *requests > 0 {
			defer answered.Done()
		}
		hooksrt.ExecutionAsyncResource().(hooksrt.Object).Set(stateKey{}, state{r.URL.Path})
		done := make(chan struct{})
		time.AfterFunc(10*time.Millisecond, func() {
			json.NewEncoder(w).Encode(hooksrt.ExecutionAsyncResource().(hooksrt.Object).Get(stateKey{}))
			close(done)
		})
		<-done
	})}
	go func() {
		answered.Wait()
		if *requests > 0 {
			srv.Close()
		}
	}()
	if err := srv.Serve(l); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
