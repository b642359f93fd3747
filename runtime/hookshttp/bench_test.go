//go:build go1.25

package hookshttp_test

import (
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/asyncinstr/asyncinstr/runtime/hookshttp"
	"github.com/asyncinstr/asyncinstr/runtime/hooksnet"
	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
)

// BenchmarkServe measures one request through a loopback HTTP server: a
// keep-alive client sends GET, the handler writes a short body, the client
// reads and closes it. mode=plain is plain Go; mode=hooks4 is the shape
// the rewriter gives the same program (listener, Serve, handler prologue,
// client call) with four no-op hooks enabled, each with all five
// callbacks. The per-request ratio is the goal (<= 1.1x).
func BenchmarkServe(b *testing.B) {
	b.Run("mode=plain", func(b *testing.B) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "ok")
		})}
		go srv.Serve(l)
		defer srv.Close()
		url := "http://" + l.Addr().String() + "/"
		benchRequests(b, func() (*http.Response, error) { return http.Get(url) })
	})
	b.Run("mode=hooks4", func(b *testing.B) {
		noop := func(uint64) {}
		for range 4 {
			h := hooksrt.CreateHook(hooksrt.Callbacks{
				Init:           func(uint64, string, uint64, any) {},
				Before:         noop,
				After:          noop,
				Destroy:        noop,
				PromiseResolve: noop,
			}).Enable()
			defer h.Disable()
		}
		l, err := hooksnet.Listen(net.Listen, "tcp", "127.0.0.1:0", site)
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer hookshttp.ServeHTTP(r, site).Done()
			io.WriteString(w, "ok")
		})}
		go hookshttp.ServerServe(srv, l, site)
		defer srv.Close()
		url := "http://" + l.Addr().String() + "/"
		benchRequests(b, func() (*http.Response, error) { return hookshttp.Get(http.Get, url, site) })
	})
}

func benchRequests(b *testing.B, get func() (*http.Response, error)) {
	b.ReportAllocs()
	for b.Loop() {
		resp, err := get()
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
