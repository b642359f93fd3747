//go:build go1.25

// Package hooksnet is the part of asyncinstr's runtime that reports
// package net: code that asyncinstr rewrote calls it in place of net's
// listen, accept, dial, lookup and close calls. Its resources follow
// SEMANTICS.md §4:
//
//	net.Listen, ListenTCP, ListenUnix,     TCPSERVERWRAP (unix: PIPESERVERWRAP): init when it
//	  ListenConfig.Listen                    returns a listener; before/after around the handling
//	                                         of each accepted conn; destroy at Close
//	Accept, AcceptTCP, AcceptUnix          TCPWRAP (unix: PIPEWRAP), trigger = the listener:
//	                                         init when Accept returns; destroy at Close
//	net.Dial*, Dialer.Dial*                TCPCONNECTWRAP (unix: PIPECONNECTWRAP): init when the
//	                                         call starts, before/after when it returns, destroy
//	                                         then; the conn it made has it as trigger
//	net.Lookup*, Resolver.Lookup*          GETADDRINFOREQWRAP, carrying the name looked up
//	net.ListenUDP, ListenPacket, ...       UDPWRAP (unixgram: PIPEWRAP): init when it returns;
//	                                         destroy at Close
//
// The listeners and conns keep their own types (a program may assert them
// to *net.TCPConn), so their resources are found in a weak table keyed by
// the object: the table never keeps a conn alive. A listener or conn that is never closed by
// rewritten code (net/http closes its own) is destroyed when it is
// collected, which is also when package net closes it.
//
// A listener's scope may be open on many goroutines at once (one per
// accepted conn being handled); its destroy waits until the last of them
// has ended, so that no before or after follows it.
//
// The functions are safe for concurrent use. With tracking off, each costs
// one atomic load on top of the call it reports.
package hooksnet

import (
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
	"github.com/asyncinstr/asyncinstr/runtime/internal/weaktab"
)

// Resource types.
const (
	TypeTCPServer   = "TCPSERVERWRAP"
	TypePipeServer  = "PIPESERVERWRAP"
	TypeTCP         = "TCPWRAP"
	TypePipe        = "PIPEWRAP"
	TypeUDP         = "UDPWRAP"
	TypeTCPConnect  = "TCPCONNECTWRAP"
	TypePipeConnect = "PIPECONNECTWRAP"
	TypeLookup      = "GETADDRINFOREQWRAP"
)

// A Listener is the resource object of a listener: TCPSERVERWRAP or
// PIPESERVERWRAP.
type Listener struct {
	hooksrt.Resource
	Network string // "tcp", "unix", ...
	Addr    string // the address it listens on
}

func (l *Listener) String() string {
	return fmt.Sprintf("%s %s %s", l.Resource.String(), l.Network, l.Addr)
}

// A Conn is the resource object of a connection or a packet endpoint:
// TCPWRAP, PIPEWRAP or UDPWRAP.
type Conn struct {
	hooksrt.Resource
	Network    string
	LocalAddr  string
	RemoteAddr string // "" for an unconnected packet endpoint
}

func (c *Conn) String() string {
	return fmt.Sprintf("%s %s %s->%s", c.Resource.String(), c.Network, c.LocalAddr, c.RemoteAddr)
}

// A Request is the resource object of a connect request
// (TCPCONNECTWRAP, PIPECONNECTWRAP) or a lookup (GETADDRINFOREQWRAP).
type Request struct {
	hooksrt.Resource
	Op      string // the function called, such as "net.Dial" or "net.LookupHost"
	Network string // for a dial, or a lookup that takes one
	Host    string // the address dialled, or the name looked up
}

func (r *Request) String() string {
	return fmt.Sprintf("%s %s %s %s", r.Resource.String(), r.Op, r.Network, r.Host)
}

// handle is what the table holds for a listener or a conn.
type handle interface {
	resource() *hooksrt.Resource
}

func (l *Listener) resource() *hooksrt.Resource { return &l.Resource }
func (c *Conn) resource() *hooksrt.Resource     { return &c.Resource }

// table maps listeners and conns to their resources. When one is
// collected, its resource is destroyed: package net closes a collected
// conn's descriptor then too.
var table weaktab.Table[handle]

func register(x any, h handle) {
	table.Store(x, h, func(h handle) { h.resource().Dispose() })
}

func find(x any) handle {
	h, _ := table.Load(x)
	return h
}

// ListenerOf returns the resource object of l, or nil if rewritten code
// did not create l while tracking.
func ListenerOf(l net.Listener) *Listener {
	lr, _ := find(l).(*Listener)
	return lr
}

// ConnOf returns the resource object of c, or nil if c is not known.
func ConnOf(c any) *Conn {
	cr, _ := find(c).(*Conn)
	return cr
}

// TrackListener makes l a listener resource created at site by the
// calling goroutine, unless it is one already, and returns its object
// (nil while tracking is off). hookshttp uses it for a listener that a
// server is given.
func TrackListener(l net.Listener, site *hooksrt.Site) *Listener {
	if !hooksrt.Tracking() || l == nil {
		return nil
	}
	if lr := ListenerOf(l); lr != nil {
		return lr
	}
	a := l.Addr()
	lr := &Listener{Network: a.Network(), Addr: a.String()}
	typ := TypeTCPServer
	if isPipe(lr.Network) {
		typ = TypePipeServer
	}
	lr.Init(typ, 0, site, lr)
	register(l, lr)
	return lr
}

func isPipe(network string) bool { return strings.HasPrefix(network, "unix") }

// connType returns the resource type of a conn on network.
func connType(network string) string {
	switch {
	case isPipe(network):
		return TypePipe
	case strings.HasPrefix(network, "udp"), strings.HasPrefix(network, "ip"):
		return TypeUDP
	}
	return TypeTCP
}

// trackConn makes c a conn resource triggered by trigger (0: the calling
// goroutine's context).
func trackConn(c net.Conn, trigger uint64, site *hooksrt.Site) {
	if c == nil {
		return
	}
	cr := &Conn{Network: c.LocalAddr().Network(), LocalAddr: addrString(c.LocalAddr()), RemoteAddr: addrString(c.RemoteAddr())}
	cr.Init(connType(cr.Network), trigger, site, cr)
	register(c, cr)
}

// trackPacket makes c, a packet endpoint, a UDPWRAP (or PIPEWRAP)
// resource.
func trackPacket(c net.PacketConn, site *hooksrt.Site) {
	if !hooksrt.Tracking() || c == nil {
		return
	}
	cr := &Conn{Network: c.LocalAddr().Network(), LocalAddr: addrString(c.LocalAddr())}
	if nc, ok := c.(net.Conn); ok {
		cr.RemoteAddr = addrString(nc.RemoteAddr())
	}
	typ := TypeUDP
	if isPipe(cr.Network) {
		typ = TypePipe
	}
	cr.Init(typ, 0, site, cr)
	register(c, cr)
}

func addrString(a net.Addr) string {
	if a == nil || reflect.ValueOf(a).IsNil() {
		return ""
	}
	return a.String()
}

// Close reports the Close method of a listener, a conn or a packet
// endpoint: after the close, the resource is destroyed (a listener's once
// no accepted conn's handling is still in its scope).
//
//	c.Close()  =>  hooksnet.Close(c)
//
// Called by instrumented code.
func Close(c io.Closer) error {
	err := c.Close()
	if !hooksrt.Tracking() {
		return err // no resource was ever made
	}
	if h := find(c); h != nil {
		h.resource().Dispose()
	}
	return err
}
