//go:build go1.25

package hooksnet_test

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/asyncinstr/asyncinstr/runtime/hooksnet"
	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
	"github.com/asyncinstr/asyncinstr/runtime/hooksrt/hookstest"
)

var (
	listenSite = &hooksrt.Site{File: "server.go", Line: 1, Func: "listen"}
	acceptSite = &hooksrt.Site{File: "server.go", Line: 2, Func: "accept"}
	dialSite   = &hooksrt.Site{File: "client.go", Line: 3, Func: "dial"}
)

// The event counts of a resource with one scope, and of one without.
var (
	full = hookstest.Counts{"init": 1, "before": 1, "after": 1, "destroy": 1}
	bare = hookstest.Counts{"init": 1, "destroy": 1}
)

func collect(t *testing.T) *hookstest.Collector {
	t.Helper()
	c := hookstest.NewCollector(hookstest.Options{}).Enable()
	t.Cleanup(func() { c.Disable() })
	return c
}

// settle waits until every resource of types has been destroyed, then
// checks the event invariants.
func settle(t *testing.T, c *hookstest.Collector, types ...string) {
	t.Helper()
	if !c.Settle(10*time.Second, types...) {
		t.Fatalf("resources never destroyed:\n%s", c)
	}
	c.Check(t)
}

func only(t *testing.T, c *hookstest.Collector, typ string) hookstest.Activity {
	t.Helper()
	as := c.Activities(typ)
	if len(as) != 1 {
		t.Fatalf("%d %s resources, want 1:\n%s", len(as), typ, c)
	}
	return as[0]
}

// acceptLoop accepts conns on l until it is closed, as rewritten code does
// with c, err := l.Accept() directly in a for body: handle runs in the
// listener's scope, which ends with the iteration. The channel is closed
// when the loop ends.
func acceptLoop(l net.Listener, handle func(net.Conn)) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		var s hooksrt.Scope
		defer s.Exit()
		for {
			conn, err := hooksnet.AcceptIn(&s, l, acceptSite)
			if err != nil {
				return
			}
			handle(conn)
			s.Exit()
		}
	}()
	return done
}

// A listener's accepted conns hang below it and are handled in its scope;
// a dialled conn hangs below its connect request; Close destroys each once.
func TestAcceptDialClose(t *testing.T) {
	c := collect(t)
	l, err := hooksnet.Listen(net.Listen, "tcp", "127.0.0.1:0", listenSite)
	if err != nil {
		t.Fatal(err)
	}
	lr := hooksnet.ListenerOf(l)
	if lr == nil || lr.Addr != l.Addr().String() || lr.Network != "tcp" || lr.Type() != hooksnet.TypeTCPServer {
		t.Fatalf("listener resource %v for %v", lr, l.Addr())
	}
	inScope := make(chan uint64, 1)
	done := acceptLoop(l, func(conn net.Conn) {
		inScope <- hooksrt.ExecutionAsyncID()
		io.Copy(conn, conn)
		hooksnet.Close(conn)
	})
	var d net.Dialer
	conn, err := hooksnet.DialerDialContext(d.DialContext, context.Background(), "tcp", l.Addr().String(), dialSite)
	if err != nil {
		t.Fatal(err)
	}
	if id := <-inScope; id != lr.AsyncID() {
		t.Errorf("the accepted conn is handled in context %d, want the listener's %d", id, lr.AsyncID())
	}
	conn.Write([]byte("ping"))
	conn.(*net.TCPConn).CloseWrite()
	b, _ := io.ReadAll(conn)
	if string(b) != "ping" {
		t.Errorf("echo = %q", b)
	}
	if err := hooksnet.Close(conn); err != nil {
		t.Fatal(err)
	}
	if err := hooksnet.Close(conn); err == nil {
		t.Error("a second Close succeeded")
	}
	hooksnet.Close(l)
	<-done
	settle(t, c)

	listener := only(t, c, hooksnet.TypeTCPServer)
	connect := only(t, c, hooksnet.TypeTCPConnect)
	hookstest.CheckInvocations(t, listener, full, "listener")
	hookstest.CheckInvocations(t, connect, full, "connect")
	conns := c.Activities(hooksnet.TypeTCP)
	if len(conns) != 2 {
		t.Fatalf("%d TCPWRAP resources, want 2:\n%s", len(conns), c)
	}
	for _, a := range conns {
		hookstest.CheckInvocations(t, a, bare, "conn")
		if a.Trigger != listener.ID && a.Trigger != connect.ID {
			t.Errorf("conn %d has trigger %d, want the listener %d or the connect request %d", a.ID, a.Trigger, listener.ID, connect.ID)
		}
	}
	if conns[0].Trigger == conns[1].Trigger {
		t.Errorf("both conns have trigger %d", conns[0].Trigger)
	}
	if *connect.Site != *dialSite || *listener.Site != *listenSite {
		t.Errorf("sites: connect %v, listener %v", connect.Site, listener.Site)
	}
}

// A listener closed while a goroutine waits in Accept is destroyed exactly
// once, and the failed Accept creates nothing.
func TestCloseWhileAccepting(t *testing.T) {
	c := collect(t)
	l, err := hooksnet.ListenTCP(net.ListenTCP, "tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, listenSite)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error)
	for range 3 {
		go func() {
			_, err := hooksnet.AcceptTCP(l, acceptSite)
			errc <- err
		}()
	}
	time.Sleep(10 * time.Millisecond)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { hooksnet.Close(l) })
	}
	wg.Wait()
	for range 3 {
		if err := <-errc; !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close: %v", err)
		}
	}
	settle(t, c)
	hookstest.CheckInvocations(t, only(t, c, hooksnet.TypeTCPServer), bare, "listener")
	if n := len(c.Activities(hooksnet.TypeTCP)); n != 0 {
		t.Errorf("%d conns from failed Accepts", n)
	}
}

// A listener closed inside the handling scope of a conn it accepted is
// destroyed after that scope's after, never before it.
func TestCloseInsideScope(t *testing.T) {
	c := collect(t)
	l, err := hooksnet.Listen(net.Listen, "tcp", "127.0.0.1:0", listenSite)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		conn, err := net.Dial("tcp", l.Addr().String())
		if err == nil {
			conn.Close()
		}
	}()
	var s hooksrt.Scope
	conn, err := hooksnet.AcceptIn(&s, l, acceptSite)
	if err != nil {
		t.Fatal(err)
	}
	hooksnet.Close(l)
	lr := only(t, c, hooksnet.TypeTCPServer)
	if len(lr.Destroy) != 0 {
		t.Error("the listener was destroyed inside an open scope of its own")
	}
	s.Exit()
	hooksnet.Close(conn)
	settle(t, c)
	lr = only(t, c, hooksnet.TypeTCPServer)
	if len(lr.Destroy) != 1 || len(lr.After) != 1 || lr.Destroy[0] < lr.After[0] {
		t.Errorf("listener events: after %v, destroy %v", lr.After, lr.Destroy)
	}
	// A closed listener opens no scope any more.
	var s2 hooksrt.Scope
	if hooksnet.ListenerOf(l).Enter(&s2) {
		t.Error("a destroyed listener's scope opened")
	}
}

// A refused dial reports its connect request, with no conn.
func TestDialRefused(t *testing.T) {
	c := collect(t)
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := free.Addr().String()
	free.Close()
	if _, err := hooksnet.Dial(net.Dial, "tcp", addr, dialSite); err == nil {
		t.Skip("something listens on the address just freed")
	}
	settle(t, c)
	req := only(t, c, hooksnet.TypeTCPConnect)
	hookstest.CheckInvocations(t, req, full, "connect")
	if n := len(c.Activities(hooksnet.TypeTCP)); n != 0 {
		t.Errorf("%d conns from a refused dial", n)
	}
}

// A lookup is a GETADDRINFOREQWRAP that carries the name.
func TestLookup(t *testing.T) {
	c := collect(t)
	var got *hooksnet.Request
	hook := hooksrt.CreateHook(hooksrt.Callbacks{Init: func(_ uint64, typ string, _ uint64, res any) {
		if typ == hooksnet.TypeLookup {
			got = res.(*hooksnet.Request)
		}
	}}).Enable()
	defer hook.Disable()
	if _, err := hooksnet.LookupHost(net.LookupHost, "localhost", dialSite); err != nil {
		t.Skipf("no localhost here: %v", err)
	}
	if _, err := hooksnet.ResolverLookupPort(net.DefaultResolver.LookupPort, context.Background(), "tcp", "80", dialSite); err != nil {
		t.Fatal(err)
	}
	settle(t, c)
	if got == nil || got.Host != "80" || got.Network != "tcp" || got.Op != "(*net.Resolver).LookupPort" {
		t.Errorf("last lookup resource: %+v", got)
	}
	as := c.Activities(hooksnet.TypeLookup)
	if len(as) != 2 {
		t.Fatalf("%d lookups, want 2", len(as))
	}
	for _, a := range as {
		hookstest.CheckInvocations(t, a, full, "lookup")
	}
}

// Packet endpoints are UDPWRAP resources, destroyed at Close.
func TestUDP(t *testing.T) {
	c := collect(t)
	pc, err := hooksnet.ListenPacket(net.ListenPacket, "udp", "127.0.0.1:0", listenSite)
	if err != nil {
		t.Fatal(err)
	}
	uc, err := hooksnet.DialUDP(net.DialUDP, "udp", nil, pc.LocalAddr().(*net.UDPAddr), dialSite)
	if err != nil {
		t.Fatal(err)
	}
	uc.Write([]byte("x"))
	buf := make([]byte, 1)
	pc.ReadFrom(buf)
	hooksnet.Close(pc)
	hooksnet.Close(uc)
	settle(t, c)
	udp := c.Activities(hooksnet.TypeUDP)
	if len(udp) != 2 {
		t.Fatalf("%d UDPWRAP, want 2:\n%s", len(udp), c)
	}
	connect := only(t, c, hooksnet.TypeTCPConnect)
	if udp[1].Trigger != connect.ID {
		t.Errorf("the dialled endpoint's trigger is %d, want its connect request %d", udp[1].Trigger, connect.ID)
	}
}

// Unix sockets are PIPE resources.
func TestUnix(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no unix sockets")
	}
	c := collect(t)
	path := filepath.Join(t.TempDir(), "s")
	l, err := hooksnet.Listen(net.Listen, "unix", path, listenSite)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		conn, err := hooksnet.Accept(l, acceptSite)
		if err == nil {
			hooksnet.Close(conn)
		}
	}()
	conn, err := hooksnet.Dial(net.Dial, "unix", path, dialSite)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(conn)
	hooksnet.Close(conn)
	hooksnet.Close(l)
	settle(t, c)
	server := only(t, c, hooksnet.TypePipeServer)
	hookstest.CheckInvocations(t, server, full, "pipe server")
	only(t, c, hooksnet.TypePipeConnect)
	if n := len(c.Activities(hooksnet.TypePipe)); n != 2 {
		t.Errorf("%d PIPEWRAP, want 2", n)
	}
}

// A conn that rewritten code never closes is destroyed when it is
// collected, which is when package net closes it too.
func TestCollectedConn(t *testing.T) {
	c := collect(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	func() {
		_, err := hooksnet.Dial(net.Dial, "tcp", l.Addr().String(), dialSite)
		if err != nil {
			t.Fatal(err)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		runtime.GC()
		if a := only(t, c, hooksnet.TypeTCP); len(a.Destroy) == 1 {
			c.Check(t)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("a collected conn was never destroyed")
}

// Many clients at once: every accepted conn hangs below the listener and
// every event sequence is well formed (run under -race).
func TestConcurrentConns(t *testing.T) {
	c := collect(t)
	l, err := hooksnet.Listen(net.Listen, "tcp", "127.0.0.1:0", listenSite)
	if err != nil {
		t.Fatal(err)
	}
	var handlers sync.WaitGroup
	acceptDone := acceptLoop(l, func(conn net.Conn) {
		task := hooksrt.Go(acceptSite)
		handlers.Go(func() {
			task.Begin()
			defer task.End()
			io.Copy(conn, conn)
			hooksnet.Close(conn)
		})
	})
	const clients, each = 8, 20
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for range each {
				conn, err := hooksnet.Dial(net.Dial, "tcp", l.Addr().String(), dialSite)
				if err != nil {
					t.Error(err)
					return
				}
				conn.Write([]byte("x"))
				conn.(*net.TCPConn).CloseWrite()
				io.ReadAll(conn)
				hooksnet.Close(conn)
			}
		})
	}
	wg.Wait()
	hooksnet.Close(l)
	<-acceptDone
	handlers.Wait()
	settle(t, c)
	listener := only(t, c, hooksnet.TypeTCPServer)
	var accepted int
	for _, a := range c.Activities(hooksnet.TypeTCP) {
		if a.Trigger == listener.ID {
			accepted++
		}
	}
	if accepted != clients*each || len(listener.Before) != clients*each {
		t.Errorf("%d conns below the listener, %d scopes; want %d", accepted, len(listener.Before), clients*each)
	}
	for _, g := range c.Activities("GOROUTINE") {
		if g.Trigger != listener.ID {
			t.Errorf("a handler goroutine has trigger %d, want the listener %d", g.Trigger, listener.ID)
		}
	}
}

// Every type this package reports is one of the runtime's providers.
func TestProviders(t *testing.T) {
	p := hooksrt.AsyncWrapProviders()
	for _, typ := range []string{hooksnet.TypeTCPServer, hooksnet.TypePipeServer, hooksnet.TypeTCP, hooksnet.TypePipe,
		hooksnet.TypeUDP, hooksnet.TypeTCPConnect, hooksnet.TypePipeConnect, hooksnet.TypeLookup} {
		if _, ok := p[typ]; !ok {
			t.Errorf("%s is not a provider", typ)
		}
	}
}

// The handling of an accepted conn runs in the listener's scope, so it sees
// the AsyncLocalStorage stores current when the listener was created, not
// those of the goroutine that accepts (SEMANTICS.md section 5).
func TestAcceptSeesListenStores(t *testing.T) {
	als := hooksrt.NewAsyncLocalStorage[string]()
	var l net.Listener
	var err error
	als.Run("listen", func() { l, err = hooksnet.Listen(net.Listen, "tcp", "127.0.0.1:0", listenSite) })
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan string, 1)
	var done <-chan struct{}
	als.Run("accepter", func() {
		done = acceptLoop(l, func(c net.Conn) {
			v, _ := als.GetStore()
			seen <- v
			hooksnet.Close(c)
		})
	})
	c, err := hooksnet.Dial(net.Dial, "tcp", l.Addr().String(), dialSite)
	if err != nil {
		t.Fatal(err)
	}
	if got := <-seen; got != "listen" {
		t.Errorf("the accepted conn's handling sees %q, want the store at Listen", got)
	}
	hooksnet.Close(c)
	hooksnet.Close(l)
	<-done
}
