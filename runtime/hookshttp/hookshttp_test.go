//go:build go1.25

package hookshttp_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/asyncinstr/asyncinstr/runtime/hookshttp"
	"github.com/asyncinstr/asyncinstr/runtime/hooksnet"
	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
	"github.com/asyncinstr/asyncinstr/runtime/hooksrt/hookstest"
)

var (
	site = &hooksrt.Site{File: "h.go", Line: 1, Func: "handler"}
	full = hookstest.Counts{"init": 1, "before": 1, "after": 1, "destroy": 1}
)

// handler is a handler as the rewriter leaves it: its first statement
// opens its request's scope. It reports what it saw on seen.
type handler struct {
	seen chan<- seen
	next http.Handler
}

type seen struct {
	exec uint64
	res  any
}

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer hookshttp.ServeHTTP(r, site).Done()
	if h.next != nil {
		h.next.ServeHTTP(w, r)
		return
	}
	if h.seen != nil {
		h.seen <- seen{hooksrt.ExecutionAsyncID(), hooksrt.ExecutionAsyncResource()}
	}
	fmt.Fprint(w, r.URL.Path)
}

func collect(t *testing.T) *hookstest.Collector {
	t.Helper()
	c := hookstest.NewCollector(hookstest.Options{}).Enable()
	t.Cleanup(func() { c.Disable() })
	return c
}

func settle(t *testing.T, c *hookstest.Collector) {
	t.Helper()
	if !c.Settle(10 * time.Second) {
		t.Fatalf("resources never destroyed:\n%s", c)
	}
	c.Check(t)
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := hookshttp.Get(http.Get, url, site)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return string(b)
}

// A request that a server started by rewritten code hands to a handler
// runs in an HTTPINCOMINGMESSAGE below the server's listener, whose object
// says what the request is; nested handlers make one resource; the
// client's request is destroyed when its body is closed.
func TestServe(t *testing.T) {
	c := collect(t)
	l, err := hooksnet.Listen(net.Listen, "tcp", "127.0.0.1:0", site)
	if err != nil {
		t.Fatal(err)
	}
	seenc := make(chan seen, 1)
	srv := &http.Server{Handler: handler{next: handler{seen: seenc}}}
	served := make(chan error)
	go func() { served <- hookshttp.ServerServe(srv, l, site) }()
	if got := get(t, "http://"+l.Addr().String()+"/a?b=c"); got != "/a" {
		t.Errorf("response %q", got)
	}
	s := <-seenc
	in, ok := s.res.(*hookshttp.Incoming)
	if !ok || in.AsyncID() != s.exec || in.Method != "GET" || in.URL != "/a?b=c" {
		t.Fatalf("the handler runs in %d, resource %#v", s.exec, s.res)
	}
	srv.Close()
	if err := <-served; err != http.ErrServerClosed {
		t.Errorf("Serve: %v", err)
	}
	settle(t, c)
	listener := c.Activities(hooksnet.TypeTCPServer)
	incoming := c.Activities(hookshttp.TypeIncoming)
	client := c.Activities(hookshttp.TypeClient)
	if len(listener) != 1 || len(incoming) != 1 || len(client) != 1 {
		t.Fatalf("resources:\n%s", c)
	}
	hookstest.CheckInvocations(t, incoming[0], full, "incoming")
	hookstest.CheckInvocations(t, client[0], full, "client")
	hookstest.CheckInvocations(t, listener[0], hookstest.Counts{"init": 1, "destroy": 1}, "listener")
	if incoming[0].Trigger != listener[0].ID {
		t.Errorf("the request's trigger is %d, want the listener %d", incoming[0].Trigger, listener[0].ID)
	}
	// The client request lives until its body is closed, after the
	// handler's request ended.
	if client[0].Destroy[0] < incoming[0].Destroy[0] {
		t.Error("the client request was destroyed before its body was closed")
	}
}

// A handler that something other than net/http calls, or that runs on a
// goroutine with a context, makes no resource.
func TestNotServed(t *testing.T) {
	c := collect(t)
	rec := httptest.NewRecorder()
	handler{}.ServeHTTP(rec, httptest.NewRequest("GET", "/direct", nil))
	if rec.Body.String() != "/direct" {
		t.Errorf("response %q", rec.Body.String())
	}
	if n := len(c.Activities(hookshttp.TypeIncoming)); n != 0 {
		t.Errorf("%d requests for a handler called directly", n)
	}
}

// A server that rewritten code did not start (httptest's) gets a listener
// resource of its own at its first request, the trigger of all of them.
func TestUnknownServer(t *testing.T) {
	c := collect(t)
	ts := httptest.NewServer(handler{})
	for i := range 3 {
		if got := get(t, fmt.Sprintf("%s/%d", ts.URL, i)); got != fmt.Sprint("/", i) {
			t.Errorf("response %q", got)
		}
	}
	ts.Close()
	incoming := c.Activities(hookshttp.TypeIncoming)
	listeners := c.Activities(hooksnet.TypeTCPServer)
	if len(incoming) != 3 || len(listeners) != 1 {
		t.Fatalf("resources:\n%s", c)
	}
	incomingBelow(t, c, listeners[0])
}

// freeAddr returns a loopback address that nothing listens on (unless
// something took it since).
func freeAddr(t *testing.T) string {
	t.Helper()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer free.Close()
	return free.Addr().String()
}

// incomingBelow checks that every request resource of c has the listener
// as its trigger.
func incomingBelow(t *testing.T, c *hookstest.Collector, listener hookstest.Activity) {
	t.Helper()
	for _, in := range c.Activities(hookshttp.TypeIncoming) {
		if in.Trigger != listener.ID {
			t.Errorf("request trigger %d, want the listener %d", in.Trigger, listener.ID)
		}
	}
}

// ListenAndServe's listener, inside net/http, is a TCPSERVERWRAP from the
// call until it returns.
func TestListenAndServe(t *testing.T) {
	c := collect(t)
	addr := freeAddr(t)
	srv := &http.Server{Addr: addr, Handler: handler{}}
	served := make(chan error)
	go func() { served <- hookshttp.ServerListenAndServe(srv, site) }()
	var resp *http.Response
	var err error
	for range 100 {
		if resp, err = hookshttp.Get(http.Get, "http://"+addr+"/x", site); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	srv.Close()
	<-served
	settle(t, c)
	listener := c.Activities(hooksnet.TypeTCPServer)
	if len(listener) != 1 {
		t.Fatalf("resources:\n%s", c)
	}
	incomingBelow(t, c, listener[0])
}

// A failed client request is destroyed at once.
func TestClientError(t *testing.T) {
	c := collect(t)
	addr := freeAddr(t)
	req, _ := http.NewRequest("POST", "http://"+addr+"/refused", nil)
	if _, err := hookshttp.Do(http.DefaultClient.Do, req, site); err == nil {
		t.Skip("something listens on the address just freed")
	}
	settle(t, c)
	client := c.Activities(hookshttp.TypeClient)
	if len(client) != 1 {
		t.Fatalf("resources:\n%s", c)
	}
	hookstest.CheckInvocations(t, client[0], full, "failed client request")
}

// Many clients at once (run under -race): every request hangs below the
// listener, and every event sequence is well formed.
func TestConcurrentRequests(t *testing.T) {
	c := collect(t)
	l, err := hooksnet.Listen(net.Listen, "tcp", "127.0.0.1:0", site)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler{}}
	served := make(chan error)
	go func() { served <- hookshttp.ServerServe(srv, l, site) }()
	const clients, each = 8, 25
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			for j := range each {
				want := fmt.Sprintf("/%d/%d", i, j)
				if got := get(t, "http://"+l.Addr().String()+want); got != want {
					t.Errorf("response %q, want %q", got, want)
				}
			}
		})
	}
	wg.Wait()
	srv.Close()
	<-served
	settle(t, c)
	listener := c.Activities(hooksnet.TypeTCPServer)
	incoming := c.Activities(hookshttp.TypeIncoming)
	if len(listener) != 1 || len(incoming) != clients*each || len(c.Activities(hookshttp.TypeClient)) != clients*each {
		t.Fatalf("%d listeners, %d requests", len(listener), len(incoming))
	}
	incomingBelow(t, c, listener[0])
}

// storeHandler reports the AsyncLocalStorage store its request sees.
type storeHandler struct {
	als  *hooksrt.AsyncLocalStorage[string]
	seen chan<- string
}

func (h storeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer hookshttp.ServeHTTP(r, site).Done()
	v, ok := h.als.GetStore()
	if !ok {
		v = "-"
	}
	h.seen <- v
}

// A handler sees the AsyncLocalStorage stores that were current when its
// server's listener was created (SEMANTICS.md section 5), not those of
// the goroutine that later started Serve, nor the client's.
func TestHandlerSeesListenStores(t *testing.T) {
	als := hooksrt.NewAsyncLocalStorage[string]()
	var l net.Listener
	var err error
	als.Run("listen", func() { l, err = hooksnet.Listen(net.Listen, "tcp", "127.0.0.1:0", site) })
	if err != nil {
		t.Fatal(err)
	}
	seenc := make(chan string, 1)
	srv := &http.Server{Handler: storeHandler{als, seenc}}
	served := make(chan error, 1)
	als.Run("serve", func() {
		go func() { served <- hookshttp.ServerServe(srv, l, site) }()
	})
	als.Run("client", func() { get(t, "http://"+l.Addr().String()+"/") })
	if got := <-seenc; got != "listen" {
		t.Errorf("the handler sees %q, want the store at Listen", got)
	}
	srv.Close()
	<-served
}
