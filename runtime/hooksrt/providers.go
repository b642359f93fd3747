//go:build go1.25

package hooksrt

// providers lists the resource types that instrumented code and this
// package create, numbered like Node's async wrap providers. Numbers are
// stable: new types are added at the end.
var providers = []string{
	"NONE",
	"GOROUTINE",           // a go statement, sync.WaitGroup.Go, errgroup's Go and TryGo
	"Timeout",             // time.AfterFunc
	"TIMER",               // time.NewTimer, time.After
	"TICKER",              // time.NewTicker, time.Tick
	"CONTEXTAFTERFUNC",    // context.AfterFunc
	"CHANSEND",            // a value sent on a tracked channel
	"TCPSERVERWRAP",       // a TCP listener
	"PIPESERVERWRAP",      // a unix socket listener
	"TCPWRAP",             // a TCP connection
	"PIPEWRAP",            // a unix socket connection
	"TCPCONNECTWRAP",      // a dial in progress
	"GETADDRINFOREQWRAP",  // a name lookup in progress
	"UDPWRAP",             // a UDP or packet socket
	"HTTPINCOMINGMESSAGE", // a request that a net/http server handles
	"HTTPCLIENTREQUEST",   // a request that a net/http client sends
	"PIPECONNECTWRAP",     // a dial of a unix socket in progress
}

// AsyncWrapProviders returns a new map from each resource type that
// instrumented code creates to its number. The map is the caller's to
// change; changing it changes nothing here (Node freezes its object; Go
// hands out a copy).
func AsyncWrapProviders() map[string]int {
	m := make(map[string]int, len(providers))
	for i, p := range providers {
		m[p] = i
	}
	return m
}
