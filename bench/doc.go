// Package bench holds the workloads behind BENCHMARKS.md's main table:
// ordinary Go (workloads.go) that asyncinstr rewrites like any other
// code, so that one benchmark measures the plain program and, built again,
// the instrumented one, whichever way it was instrumented.
//
// The workloads are a go statement joined at once (spawn+join), a fan-out
// of 1,000 goroutines, time.AfterFunc, unbuffered and buffered handoffs
// between two goroutines, a worker pool and a loopback HTTP server.
// bench/node/bench.js holds their Node counterparts (setImmediate,
// setTimeout, promise chains and queues, an http server).
//
// make bench (bench/cmd/benchrun) builds the package's test binary three
// times: as written, from the copy that source mode writes (asyncinstr -o)
// and through -toolexec (asyncinstr go test -c). It runs each
// instrumented binary in four configurations, chosen by the environment
// variable ASYNCINSTR_BENCH_CONFIG (TestMain):
//
//	nohook    the runtime's API unused: what instrumentation costs a
//	          program that nobody observes
//	tracking  tracking on (hooksrt.Track), no hook
//	als       every benchmark inside AsyncLocalStorage.Run: a program that
//	          uses AsyncLocalStorage and nothing else
//	hooks4    four hooks, each with five no-op callbacks
//
// and Node in the same ones (but tracking, which Node does not have), in
// interleaved rounds. TestResources checks that the instrumented builds
// create the resources each workload is meant to measure (and that a plain
// build creates none): ASYNCINSTR_BENCH_BUILD says which build it runs in.
package bench
