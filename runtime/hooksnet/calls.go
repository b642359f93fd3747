//go:build go1.25

package hooksnet

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
)

// The functions below each report one function or method of package net.
// A function is passed the function it reports, which it calls with the
// rest of its arguments:
//
//	net.Listen("tcp", addr)  =>  hooksnet.Listen(net.Listen, "tcp", addr, &site)
//	d.DialContext(ctx, n, a) =>  hooksnet.DialerDialContext(d.DialContext, ctx, n, a, &site)
//
// and a method of a listener is passed the listener:
//
//	l.Accept()  =>  hooksnet.Accept(l, &site)
//
// All of them are called by instrumented code.

// listened makes l, which a listen call returned, a listener resource.
func listened[L net.Listener](l L, err error, site *hooksrt.Site) (L, error) {
	if err == nil {
		TrackListener(l, site)
	}
	return l, err
}

// Listen reports net.Listen.
func Listen(f func(string, string) (net.Listener, error), network, address string, site *hooksrt.Site) (net.Listener, error) {
	l, err := f(network, address)
	return listened(l, err, site)
}

// ListenConfigListen reports (*net.ListenConfig).Listen.
func ListenConfigListen(f func(context.Context, string, string) (net.Listener, error), ctx context.Context, network, address string, site *hooksrt.Site) (net.Listener, error) {
	l, err := f(ctx, network, address)
	return listened(l, err, site)
}

// ListenTCP reports net.ListenTCP.
func ListenTCP(f func(string, *net.TCPAddr) (*net.TCPListener, error), network string, laddr *net.TCPAddr, site *hooksrt.Site) (*net.TCPListener, error) {
	l, err := f(network, laddr)
	return listened(l, err, site)
}

// ListenUnix reports net.ListenUnix.
func ListenUnix(f func(string, *net.UnixAddr) (*net.UnixListener, error), network string, laddr *net.UnixAddr, site *hooksrt.Site) (*net.UnixListener, error) {
	l, err := f(network, laddr)
	return listened(l, err, site)
}

// packet makes c, which a listen call returned, a packet resource.
func packet[C net.PacketConn](c C, err error, site *hooksrt.Site) (C, error) {
	if err == nil {
		trackPacket(c, site)
	}
	return c, err
}

// ListenUDP reports net.ListenUDP.
func ListenUDP(f func(string, *net.UDPAddr) (*net.UDPConn, error), network string, laddr *net.UDPAddr, site *hooksrt.Site) (*net.UDPConn, error) {
	c, err := f(network, laddr)
	return packet(c, err, site)
}

// ListenMulticastUDP reports net.ListenMulticastUDP.
func ListenMulticastUDP(f func(string, *net.Interface, *net.UDPAddr) (*net.UDPConn, error), network string, ifi *net.Interface, gaddr *net.UDPAddr, site *hooksrt.Site) (*net.UDPConn, error) {
	c, err := f(network, ifi, gaddr)
	return packet(c, err, site)
}

// ListenPacket reports net.ListenPacket.
func ListenPacket(f func(string, string) (net.PacketConn, error), network, address string, site *hooksrt.Site) (net.PacketConn, error) {
	c, err := f(network, address)
	return packet(c, err, site)
}

// ListenConfigListenPacket reports (*net.ListenConfig).ListenPacket.
func ListenConfigListenPacket(f func(context.Context, string, string) (net.PacketConn, error), ctx context.Context, network, address string, site *hooksrt.Site) (net.PacketConn, error) {
	c, err := f(ctx, network, address)
	return packet(c, err, site)
}

// Accept reports the Accept method of a listener: the conn it returns is
// a TCPWRAP (PIPEWRAP) resource triggered by the listener, and the
// listener's before and after then mark an empty handling scope.
func Accept(l net.Listener, site *hooksrt.Site) (net.Conn, error) {
	c, err := l.Accept()
	accepted(nil, l, c, err, site)
	return c, err
}

// AcceptIn is Accept for an accept statement directly in a for loop's
// body: the handling scope that it opens in s, the listener's, lasts for
// the rest of the iteration, by the rule of a channel receive.
func AcceptIn(s *hooksrt.Scope, l net.Listener, site *hooksrt.Site) (net.Conn, error) {
	c, err := l.Accept()
	accepted(s, l, c, err, site)
	return c, err
}

// AcceptTCP reports (*net.TCPListener).AcceptTCP, as Accept does.
func AcceptTCP(l *net.TCPListener, site *hooksrt.Site) (*net.TCPConn, error) {
	c, err := l.AcceptTCP()
	accepted(nil, l, c, err, site)
	return c, err
}

// AcceptTCPIn is AcceptTCP with a scope, as AcceptIn is.
func AcceptTCPIn(s *hooksrt.Scope, l *net.TCPListener, site *hooksrt.Site) (*net.TCPConn, error) {
	c, err := l.AcceptTCP()
	accepted(s, l, c, err, site)
	return c, err
}

// AcceptUnix reports (*net.UnixListener).AcceptUnix, as Accept does.
func AcceptUnix(l *net.UnixListener, site *hooksrt.Site) (*net.UnixConn, error) {
	c, err := l.AcceptUnix()
	accepted(nil, l, c, err, site)
	return c, err
}

// AcceptUnixIn is AcceptUnix with a scope, as AcceptIn is.
func AcceptUnixIn(s *hooksrt.Scope, l *net.UnixListener, site *hooksrt.Site) (*net.UnixConn, error) {
	c, err := l.AcceptUnix()
	accepted(s, l, c, err, site)
	return c, err
}

// accepted reports what an Accept on l returned. A failed Accept (the
// listener was closed, say) creates nothing and opens no scope.
func accepted[C net.Conn](s *hooksrt.Scope, l net.Listener, c C, err error, site *hooksrt.Site) {
	if s != nil {
		s.Exit()
	}
	if !hooksrt.Tracking() || err != nil {
		return
	}
	lr := ListenerOf(l)
	var trigger uint64
	if lr != nil {
		trigger = lr.AsyncID()
	}
	trackConn(c, trigger, site)
	if lr == nil {
		return
	}
	if s != nil {
		lr.Enter(s)
		return
	}
	var empty hooksrt.Scope
	if lr.Enter(&empty) {
		empty.Exit()
	}
}

// dial runs a dial as a connect request: init before it, before and after
// when it returns, with the conn it made created in between (so that the
// request is its trigger), and destroy last.
func dial[C net.Conn](op, network, address string, site *hooksrt.Site, f func() (C, error)) (C, error) {
	if !hooksrt.Tracking() {
		return f()
	}
	req := &Request{Op: op, Network: network, Host: address}
	typ := TypeTCPConnect
	if isPipe(network) {
		typ = TypePipeConnect
	}
	req.Init(typ, 0, site, req)
	c, err := f()
	var s hooksrt.Scope
	req.EnterOnce(&s)
	if err == nil {
		trackConn(c, 0, site)
	}
	s.Exit()
	return c, err
}

// Dial reports net.Dial.
func Dial(f func(string, string) (net.Conn, error), network, address string, site *hooksrt.Site) (net.Conn, error) {
	return dial("net.Dial", network, address, site, func() (net.Conn, error) { return f(network, address) })
}

// DialTimeout reports net.DialTimeout.
func DialTimeout(f func(string, string, time.Duration) (net.Conn, error), network, address string, timeout time.Duration, site *hooksrt.Site) (net.Conn, error) {
	return dial("net.DialTimeout", network, address, site, func() (net.Conn, error) { return f(network, address, timeout) })
}

// DialerDial reports (*net.Dialer).Dial.
func DialerDial(f func(string, string) (net.Conn, error), network, address string, site *hooksrt.Site) (net.Conn, error) {
	return dial("(*net.Dialer).Dial", network, address, site, func() (net.Conn, error) { return f(network, address) })
}

// DialerDialContext reports (*net.Dialer).DialContext.
func DialerDialContext(f func(context.Context, string, string) (net.Conn, error), ctx context.Context, network, address string, site *hooksrt.Site) (net.Conn, error) {
	return dial("(*net.Dialer).DialContext", network, address, site, func() (net.Conn, error) { return f(ctx, network, address) })
}

// DialTCP reports net.DialTCP.
func DialTCP(f func(string, *net.TCPAddr, *net.TCPAddr) (*net.TCPConn, error), network string, laddr, raddr *net.TCPAddr, site *hooksrt.Site) (*net.TCPConn, error) {
	return dial("net.DialTCP", network, addrString(raddr), site, func() (*net.TCPConn, error) { return f(network, laddr, raddr) })
}

// DialUDP reports net.DialUDP.
func DialUDP(f func(string, *net.UDPAddr, *net.UDPAddr) (*net.UDPConn, error), network string, laddr, raddr *net.UDPAddr, site *hooksrt.Site) (*net.UDPConn, error) {
	return dial("net.DialUDP", network, addrString(raddr), site, func() (*net.UDPConn, error) { return f(network, laddr, raddr) })
}

// DialUnix reports net.DialUnix.
func DialUnix(f func(string, *net.UnixAddr, *net.UnixAddr) (*net.UnixConn, error), network string, laddr, raddr *net.UnixAddr, site *hooksrt.Site) (*net.UnixConn, error) {
	return dial("net.DialUnix", network, addrString(raddr), site, func() (*net.UnixConn, error) { return f(network, laddr, raddr) })
}

// lookup runs a lookup as a GETADDRINFOREQWRAP: init before it, before
// and after when it returns, destroy last.
func lookup[R any](op, network, host string, site *hooksrt.Site, f func() (R, error)) (R, error) {
	if !hooksrt.Tracking() {
		return f()
	}
	req := &Request{Op: op, Network: network, Host: host}
	req.Init(TypeLookup, 0, site, req)
	r, err := f()
	var s hooksrt.Scope
	req.EnterOnce(&s)
	s.Exit()
	return r, err
}

// lookup1 reports a lookup function of one name.
func lookup1[R any](op string, f func(string) (R, error), name string, site *hooksrt.Site) (R, error) {
	return lookup(op, "", name, site, func() (R, error) { return f(name) })
}

// lookupCtx reports a Resolver method of a context and one name.
func lookupCtx[R any](op string, f func(context.Context, string) (R, error), ctx context.Context, name string, site *hooksrt.Site) (R, error) {
	return lookup(op, "", name, site, func() (R, error) { return f(ctx, name) })
}

// lookupNet reports a Resolver method of a context, a network and a name.
func lookupNet[R any](op string, f func(context.Context, string, string) (R, error), ctx context.Context, network, name string, site *hooksrt.Site) (R, error) {
	return lookup(op, network, name, site, func() (R, error) { return f(ctx, network, name) })
}

// LookupHost reports net.LookupHost.
func LookupHost(f func(string) ([]string, error), host string, site *hooksrt.Site) ([]string, error) {
	return lookup1("net.LookupHost", f, host, site)
}

// LookupIP reports net.LookupIP.
func LookupIP(f func(string) ([]net.IP, error), host string, site *hooksrt.Site) ([]net.IP, error) {
	return lookup1("net.LookupIP", f, host, site)
}

// LookupAddr reports net.LookupAddr.
func LookupAddr(f func(string) ([]string, error), addr string, site *hooksrt.Site) ([]string, error) {
	return lookup1("net.LookupAddr", f, addr, site)
}

// LookupCNAME reports net.LookupCNAME.
func LookupCNAME(f func(string) (string, error), host string, site *hooksrt.Site) (string, error) {
	return lookup1("net.LookupCNAME", f, host, site)
}

// LookupMX reports net.LookupMX.
func LookupMX(f func(string) ([]*net.MX, error), name string, site *hooksrt.Site) ([]*net.MX, error) {
	return lookup1("net.LookupMX", f, name, site)
}

// LookupNS reports net.LookupNS.
func LookupNS(f func(string) ([]*net.NS, error), name string, site *hooksrt.Site) ([]*net.NS, error) {
	return lookup1("net.LookupNS", f, name, site)
}

// LookupTXT reports net.LookupTXT.
func LookupTXT(f func(string) ([]string, error), name string, site *hooksrt.Site) ([]string, error) {
	return lookup1("net.LookupTXT", f, name, site)
}

// LookupPort reports net.LookupPort; the name looked up is the service.
func LookupPort(f func(string, string) (int, error), network, service string, site *hooksrt.Site) (int, error) {
	return lookup("net.LookupPort", network, service, site, func() (int, error) { return f(network, service) })
}

// LookupSRV reports net.LookupSRV; the name looked up is name.
func LookupSRV(f func(string, string, string) (string, []*net.SRV, error), service, proto, name string, site *hooksrt.Site) (cname string, addrs []*net.SRV, err error) {
	_, err = lookup("net.LookupSRV", "", name, site, func() (struct{}, error) {
		cname, addrs, err = f(service, proto, name)
		return struct{}{}, err
	})
	return cname, addrs, err
}

// ResolverLookupHost reports (*net.Resolver).LookupHost.
func ResolverLookupHost(f func(context.Context, string) ([]string, error), ctx context.Context, host string, site *hooksrt.Site) ([]string, error) {
	return lookupCtx("(*net.Resolver).LookupHost", f, ctx, host, site)
}

// ResolverLookupIPAddr reports (*net.Resolver).LookupIPAddr.
func ResolverLookupIPAddr(f func(context.Context, string) ([]net.IPAddr, error), ctx context.Context, host string, site *hooksrt.Site) ([]net.IPAddr, error) {
	return lookupCtx("(*net.Resolver).LookupIPAddr", f, ctx, host, site)
}

// ResolverLookupIP reports (*net.Resolver).LookupIP.
func ResolverLookupIP(f func(context.Context, string, string) ([]net.IP, error), ctx context.Context, network, host string, site *hooksrt.Site) ([]net.IP, error) {
	return lookupNet("(*net.Resolver).LookupIP", f, ctx, network, host, site)
}

// ResolverLookupNetIP reports (*net.Resolver).LookupNetIP.
func ResolverLookupNetIP(f func(context.Context, string, string) ([]netip.Addr, error), ctx context.Context, network, host string, site *hooksrt.Site) ([]netip.Addr, error) {
	return lookupNet("(*net.Resolver).LookupNetIP", f, ctx, network, host, site)
}

// ResolverLookupAddr reports (*net.Resolver).LookupAddr.
func ResolverLookupAddr(f func(context.Context, string) ([]string, error), ctx context.Context, addr string, site *hooksrt.Site) ([]string, error) {
	return lookupCtx("(*net.Resolver).LookupAddr", f, ctx, addr, site)
}

// ResolverLookupCNAME reports (*net.Resolver).LookupCNAME.
func ResolverLookupCNAME(f func(context.Context, string) (string, error), ctx context.Context, host string, site *hooksrt.Site) (string, error) {
	return lookupCtx("(*net.Resolver).LookupCNAME", f, ctx, host, site)
}

// ResolverLookupMX reports (*net.Resolver).LookupMX.
func ResolverLookupMX(f func(context.Context, string) ([]*net.MX, error), ctx context.Context, name string, site *hooksrt.Site) ([]*net.MX, error) {
	return lookupCtx("(*net.Resolver).LookupMX", f, ctx, name, site)
}

// ResolverLookupNS reports (*net.Resolver).LookupNS.
func ResolverLookupNS(f func(context.Context, string) ([]*net.NS, error), ctx context.Context, name string, site *hooksrt.Site) ([]*net.NS, error) {
	return lookupCtx("(*net.Resolver).LookupNS", f, ctx, name, site)
}

// ResolverLookupTXT reports (*net.Resolver).LookupTXT.
func ResolverLookupTXT(f func(context.Context, string) ([]string, error), ctx context.Context, name string, site *hooksrt.Site) ([]string, error) {
	return lookupCtx("(*net.Resolver).LookupTXT", f, ctx, name, site)
}

// ResolverLookupPort reports (*net.Resolver).LookupPort.
func ResolverLookupPort(f func(context.Context, string, string) (int, error), ctx context.Context, network, service string, site *hooksrt.Site) (int, error) {
	return lookupNet("(*net.Resolver).LookupPort", f, ctx, network, service, site)
}

// ResolverLookupSRV reports (*net.Resolver).LookupSRV.
func ResolverLookupSRV(f func(context.Context, string, string, string) (string, []*net.SRV, error), ctx context.Context, service, proto, name string, site *hooksrt.Site) (cname string, addrs []*net.SRV, err error) {
	_, err = lookup("(*net.Resolver).LookupSRV", "", name, site, func() (struct{}, error) {
		cname, addrs, err = f(ctx, service, proto, name)
		return struct{}{}, err
	})
	return cname, addrs, err
}
