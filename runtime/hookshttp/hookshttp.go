//go:build go1.25

// Package hookshttp is the part of asyncinstr's runtime that reports
// package net/http (SEMANTICS.md §4):
//
//   - A request that a net/http server hands to a handler in rewritten code
//     is an HTTPINCOMINGMESSAGE resource, triggered by the server's
//     listener and seeing the AsyncLocalStorage stores current where the
//     server started to listen: init when the handler is called, before and
//     after around it, destroy when it returns.
//   - A client request (http.Get, Client.Do, ...) is an HTTPCLIENTREQUEST
//     resource: init when the call starts, before and after when it returns,
//     destroy when the response's body is closed (at once when the call
//     fails or the response has no body).
//
// Handlers are found by their shape, not by how they reach a server: the
// rewriter gives every function and method of type
// func(http.ResponseWriter, *http.Request) a first statement
//
//	defer hookshttp.ServeHTTP(r, &site).Done()
//
// which opens the request's scope only when net/http itself called it: the
// request carries the server (http.ServerContextKey) and the goroutine is
// one that rewritten code did not start, outside any scope. So middleware,
// mux and handler nested in one another make one resource, the outermost
// rewritten handler's; a handler that a test calls directly makes none.
//
// A server started by rewritten code (Server.Serve, ListenAndServe, the
// package functions of the same names) has its listener recorded; a
// listener that rewritten code did not create, or one that ListenAndServe
// creates inside net/http, becomes a TCPSERVERWRAP when the call starts and
// is destroyed when it returns. A server started elsewhere (httptest, a
// library that is not rewritten) gets a TCPSERVERWRAP of its own at its
// first request, destroyed when the server is collected.
//
// net/http's own goroutines (one per connection, the transport's) are not
// resources: the standard library is not rewritten in either mode, so a
// handler's request hangs directly below the listener.
//
// The functions are safe for concurrent use. With tracking off, each costs
// one atomic load on top of the call it reports.
package hookshttp

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/asyncinstr/asyncinstr/runtime/hooksnet"
	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
	"github.com/asyncinstr/asyncinstr/runtime/internal/weaktab"
)

// Resource types.
const (
	TypeIncoming = "HTTPINCOMINGMESSAGE"
	TypeClient   = "HTTPCLIENTREQUEST"
)

// An Incoming is the resource object of a request that a server handles.
type Incoming struct {
	hooksrt.Resource
	Method     string
	URL        string // as the request line gave it
	Host       string
	RemoteAddr string
}

func (in *Incoming) String() string {
	return fmt.Sprintf("%s %s %s from %s", in.Resource.String(), in.Method, in.URL, in.RemoteAddr)
}

// A ClientRequest is the resource object of a request that a client sends.
type ClientRequest struct {
	hooksrt.Resource
	Method string
	URL    string
}

func (c *ClientRequest) String() string {
	return fmt.Sprintf("%s %s %s", c.Resource.String(), c.Method, c.URL)
}

// A server is what is known of one *http.Server: the listeners it serves,
// and the one made for it at its first request if it serves none that
// rewritten code gave it.
type server struct {
	mu        sync.Mutex
	listeners []*hooksnet.Listener
	implicit  *hooksnet.Listener
}

var servers weaktab.Table[*server]

func serverOf(srv *http.Server) *server {
	s, _ := servers.LoadOrStore(srv, func() *server { return new(server) }, func(s *server) {
		// The server was collected: its implicit listener has gone too.
		s.mu.Lock()
		lr := s.implicit
		s.mu.Unlock()
		if lr != nil {
			lr.Dispose()
		}
	})
	return s
}

// serving records that srv serves lr until the returned function runs,
// which also destroys lr: a server closes its listeners when Serve
// returns.
func serving(srv *http.Server, lr *hooksnet.Listener) func() {
	if lr == nil {
		return func() {}
	}
	s := serverOf(srv)
	s.mu.Lock()
	s.listeners = append(s.listeners, lr)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		for i, x := range s.listeners {
			if x == lr {
				s.listeners = append(s.listeners[:i], s.listeners[i+1:]...)
				break
			}
		}
		s.mu.Unlock()
		lr.Dispose()
	}
}

// listenerFor returns the listener of srv that received a request on the
// local address local: the one listening there, or else the last one
// recorded; for a server that rewritten code did not start, one made now.
func listenerFor(srv *http.Server, local net.Addr) *hooksnet.Listener {
	s := serverOf(srv)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.listeners) == 0 {
		if s.implicit == nil {
			lr := &hooksnet.Listener{Network: "tcp"}
			if local != nil {
				lr.Network, lr.Addr = local.Network(), local.String()
			}
			lr.Init(hooksnet.TypeTCPServer, 0, nil, lr)
			s.implicit = lr
		}
		return s.implicit
	}
	if local != nil {
		la := local.String()
		for _, lr := range s.listeners {
			if lr.Addr == la || (strings.HasPrefix(lr.Addr, "[::]:") || strings.HasPrefix(lr.Addr, "0.0.0.0:") || strings.HasPrefix(lr.Addr, ":")) && port(lr.Addr) == port(la) {
				return lr
			}
		}
	}
	return s.listeners[len(s.listeners)-1]
}

func port(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }

// A Served is the scope of a request that a handler serves; its Done ends
// it. The zero Served (a handler that net/http did not call) does nothing.
type Served struct{ s hooksrt.Scope }

// ServeHTTP opens the scope of r, the request of the handler that calls
// it, if net/http called that handler (see the package documentation).
//
//	func (h H) ServeHTTP(w http.ResponseWriter, r *http.Request) {
//		defer hookshttp.ServeHTTP(r, &site).Done()
//
// Called by instrumented code.
func ServeHTTP(r *http.Request, site *hooksrt.Site) Served {
	if !hooksrt.Tracking() || r == nil {
		return Served{}
	}
	return serve(r, site)
}

func serve(r *http.Request, site *hooksrt.Site) (sv Served) {
	if !hooksrt.InUnknownContext() {
		return Served{}
	}
	ctx := r.Context()
	srv, _ := ctx.Value(http.ServerContextKey).(*http.Server)
	if srv == nil {
		return Served{}
	}
	local, _ := ctx.Value(http.LocalAddrContextKey).(net.Addr)
	lr := listenerFor(srv, local)
	in := &Incoming{Method: r.Method, URL: r.RequestURI, Host: r.Host, RemoteAddr: r.RemoteAddr}
	if lr != nil {
		in.InitIn(TypeIncoming, &lr.Resource, site, in)
	} else {
		in.Init(TypeIncoming, 0, site, in)
	}
	in.EnterOnce(&sv.s)
	return sv
}

// Done ends the request's scope: after, then destroy.
func (sv Served) Done() { sv.s.Exit() }

// The server functions. A method of *http.Server is passed the server:
//
//	srv.Serve(l)  =>  hookshttp.ServerServe(srv, l, &site)
//
// and a package function the function itself, which it replaces by its
// documented equivalent on a server of its own:
//
//	http.ListenAndServe(addr, h)  =>  hookshttp.ListenAndServe(http.ListenAndServe, addr, h, &site)
//
// All of them are called by instrumented code.

// ServerServe reports (*http.Server).Serve: l's resource (made now if
// rewritten code did not make one) is the trigger of the requests srv
// handles from it, and is destroyed when Serve returns, having closed l.
func ServerServe(srv *http.Server, l net.Listener, site *hooksrt.Site) error {
	defer serving(srv, hooksnet.TrackListener(l, site))()
	return srv.Serve(l)
}

// ServerServeTLS reports (*http.Server).ServeTLS, as ServerServe does.
func ServerServeTLS(srv *http.Server, l net.Listener, certFile, keyFile string, site *hooksrt.Site) error {
	defer serving(srv, hooksnet.TrackListener(l, site))()
	return srv.ServeTLS(l, certFile, keyFile)
}

// implicitListener makes the resource of the listener that ListenAndServe
// creates inside net/http, where rewritten code cannot see it.
func implicitListener(srv *http.Server, site *hooksrt.Site) *hooksnet.Listener {
	if !hooksrt.Tracking() {
		return nil
	}
	addr := srv.Addr
	if addr == "" {
		addr = ":http"
	}
	lr := &hooksnet.Listener{Network: "tcp", Addr: addr}
	lr.Init(hooksnet.TypeTCPServer, 0, site, lr)
	return lr
}

// ServerListenAndServe reports (*http.Server).ListenAndServe: the listener
// it creates is a TCPSERVERWRAP from the call until it returns.
func ServerListenAndServe(srv *http.Server, site *hooksrt.Site) error {
	defer serving(srv, implicitListener(srv, site))()
	return srv.ListenAndServe()
}

// ServerListenAndServeTLS reports (*http.Server).ListenAndServeTLS, as
// ServerListenAndServe does.
func ServerListenAndServeTLS(srv *http.Server, certFile, keyFile string, site *hooksrt.Site) error {
	defer serving(srv, implicitListener(srv, site))()
	return srv.ListenAndServeTLS(certFile, keyFile)
}

// Serve reports http.Serve, whose body it is: a server of its own serves l.
func Serve(_ func(net.Listener, http.Handler) error, l net.Listener, h http.Handler, site *hooksrt.Site) error {
	return ServerServe(&http.Server{Handler: h}, l, site)
}

// ServeTLS reports http.ServeTLS, as Serve does.
func ServeTLS(_ func(net.Listener, http.Handler, string, string) error, l net.Listener, h http.Handler, certFile, keyFile string, site *hooksrt.Site) error {
	return ServerServeTLS(&http.Server{Handler: h}, l, certFile, keyFile, site)
}

// ListenAndServe reports http.ListenAndServe, whose body it is.
func ListenAndServe(_ func(string, http.Handler) error, addr string, h http.Handler, site *hooksrt.Site) error {
	return ServerListenAndServe(&http.Server{Addr: addr, Handler: h}, site)
}

// ListenAndServeTLS reports http.ListenAndServeTLS, whose body it is.
func ListenAndServeTLS(_ func(string, string, string, http.Handler) error, addr, certFile, keyFile string, h http.Handler, site *hooksrt.Site) error {
	return ServerListenAndServeTLS(&http.Server{Addr: addr, Handler: h}, certFile, keyFile, site)
}

// The client functions, each passed the function or method it reports:
//
//	http.Get(u)  =>  hookshttp.Get(http.Get, u, &site)
//	c.Do(req)    =>  hookshttp.Do(c.Do, req, &site)
//
// All of them are called by instrumented code.

// client runs a client request as an HTTPCLIENTREQUEST.
func client(method, rawURL string, site *hooksrt.Site, f func() (*http.Response, error)) (*http.Response, error) {
	if !hooksrt.Tracking() {
		return f()
	}
	req := &ClientRequest{Method: method, URL: rawURL}
	req.Init(TypeClient, 0, site, req)
	resp, err := f()
	var s hooksrt.Scope
	if req.Enter(&s) {
		s.Exit()
	}
	if err != nil || resp == nil || resp.Body == nil || resp.Body == http.NoBody {
		req.Dispose()
		return resp, err
	}
	if w, ok := resp.Body.(io.ReadWriteCloser); ok {
		resp.Body = &rwBody{body{w, req}}
	} else {
		resp.Body = &body{resp.Body, req}
	}
	return resp, err
}

// A body is a response body whose Close destroys its request's resource.
type body struct {
	io.ReadCloser
	req *ClientRequest
}

func (b *body) Close() error {
	err := b.ReadCloser.Close()
	b.req.Dispose()
	return err
}

// An rwBody is the body of a response that switched protocols, which
// net/http makes writable.
type rwBody struct{ body }

func (b *rwBody) Write(p []byte) (int, error) { return b.ReadCloser.(io.Writer).Write(p) }

// Get reports http.Get and (*http.Client).Get.
func Get(f func(string) (*http.Response, error), u string, site *hooksrt.Site) (*http.Response, error) {
	return client(http.MethodGet, u, site, func() (*http.Response, error) { return f(u) })
}

// Head reports http.Head and (*http.Client).Head.
func Head(f func(string) (*http.Response, error), u string, site *hooksrt.Site) (*http.Response, error) {
	return client(http.MethodHead, u, site, func() (*http.Response, error) { return f(u) })
}

// Post reports http.Post and (*http.Client).Post.
func Post(f func(string, string, io.Reader) (*http.Response, error), u, contentType string, b io.Reader, site *hooksrt.Site) (*http.Response, error) {
	return client(http.MethodPost, u, site, func() (*http.Response, error) { return f(u, contentType, b) })
}

// PostForm reports http.PostForm and (*http.Client).PostForm.
func PostForm(f func(string, url.Values) (*http.Response, error), u string, data url.Values, site *hooksrt.Site) (*http.Response, error) {
	return client(http.MethodPost, u, site, func() (*http.Response, error) { return f(u, data) })
}

// Do reports (*http.Client).Do.
func Do(f func(*http.Request) (*http.Response, error), req *http.Request, site *hooksrt.Site) (*http.Response, error) {
	method, u := "", ""
	if req != nil {
		method = req.Method
		if method == "" {
			method = http.MethodGet
		}
		if req.URL != nil {
			u = req.URL.String()
		}
	}
	return client(method, u, site, func() (*http.Response, error) { return f(req) })
}
