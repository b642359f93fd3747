// Package benchrun runs the benchmarks behind BENCHMARKS.md's main table:
// the workloads of package bench built plainly and in both of
// asyncinstr's modes, the runtime's single-operation benchmarks and the
// Node counterparts in bench/node, all in one invocation, in interleaved
// rounds, each round measuring every build and configuration once. Report
// turns the raw results into the tables: ratios to plain, with benchstat's
// confidence intervals (golang.org/x/perf/benchmath), and a verdict for
// every speed goal the project has set.
package benchrun

// A Workload pairs a benchmark of package bench with its Node counterpart.
type Workload struct {
	Title     string // what one operation is, for the tables
	Go        string // the benchmark's name in package bench, without "Benchmark"
	Node      string // the counterpart's name in bench/node/bench.js
	NodeTitle string // what the counterpart uses
}

// Workloads is every workload, in the tables' order.
var Workloads = []Workload{
	{"spawn+join: one goroutine, started and joined", "SpawnJoin", "SetImmediate", "setImmediate"},
	{"fan-out: 1,000 goroutines, joined", "FanOut1000", "FanOut1000", "1,000 setImmediate"},
	{"AfterFunc(0, f), waited for", "AfterFunc", "SetTimeout", "setTimeout(f, 0)"},
	{"unbuffered handoff between two goroutines", "HandoffUnbuffered", "PromiseChain", "promise chain"},
	{"buffered handoff (capacity 64)", "HandoffBuffered", "AsyncQueue64", "promise queue of 64"},
	{"worker pool: 4 workers, 64 jobs", "WorkerPool", "WorkerPool", "4 async workers"},
	{"loopback HTTP request, keep-alive", "HTTP", "HTTP", "http server"},
}

// Configs are the configurations every instrumented build runs in, and
// Node, except tracking, which Node does not have: a program either
// enables a hook or does not.
var Configs = []string{"nohook", "tracking", "als", "hooks4"}

// configTitle is each configuration's column heading.
var configTitle = map[string]string{
	"nohook":   "no hook",
	"tracking": "tracking, no hook",
	"als":      "AsyncLocalStorage only",
	"hooks4":   "4 no-op hooks",
}

// Builds of package bench: plain, rewritten by source mode, and compiled
// through -toolexec.
var Builds = []string{"plain", "source", "toolexec"}

var buildTitle = map[string]string{
	"plain":    "Go, plain",
	"source":   "Go, source mode",
	"toolexec": "Go, compile-time mode",
}

// Micro are the runtime's single-operation benchmarks that a goal names,
// as the full names that runtime/hooksrt's benchmarks give them.
var Micro = []struct {
	Name, Title string
	Goal        float64 // ns, the most it may take
	Issue       string
}{
	{"ExecutionAsyncID/ctx=no-scope", "ExecutionAsyncID, outside any scope", 10, "[1/8]"},
	{"ExecutionAsyncID/ctx=in-scope", "ExecutionAsyncID, inside a scope", 10, "[1/8]"},
	{"AsyncLocalStorage/op=GetStore", "AsyncLocalStorage.GetStore, a store set", 10, "[6/8]"},
}

// microBench is the -test.bench pattern that selects Micro (each level of
// a sub-benchmark name is matched on its own).
const microBench = "^Benchmark(ExecutionAsyncID|AsyncLocalStorage)$/^(ctx=no-scope|ctx=in-scope|op=GetStore)$"

// A Goal is a speed goal that an issue set, as a ratio to plain Go.
type Goal struct {
	Issue, What string
	Workload    string // Go name
	Config      string
	Max         float64
}

// Goals are the ratio goals of issues [1/8] to [7/8] that the workloads
// measure. The goals on single operations are in Micro; the build-time
// goals are measured by scripts/bench-build.sh.
var Goals = []Goal{
	{"[1/8]", "spawn+join, instrumented, API never used", "SpawnJoin", "nohook", 1.05},
	{"[1/8]", "spawn+join, tracking on, no hook", "SpawnJoin", "tracking", 1.2},
	{"[1/8]", "spawn+join, four no-op hooks", "SpawnJoin", "hooks4", 1.3},
	{"[4/8]", "unbuffered handoff, API unused", "HandoffUnbuffered", "nohook", 1.1},
	{"[4/8]", "buffered handoff, API unused", "HandoffBuffered", "nohook", 1.1},
	{"[4/8]", "unbuffered handoff, four no-op hooks", "HandoffUnbuffered", "hooks4", 1.5},
	{"[4/8]", "buffered handoff, four no-op hooks", "HandoffBuffered", "hooks4", 2},
	{"[5/8]", "loopback HTTP request, four no-op hooks", "HTTP", "hooks4", 1.1},
	{"[6/8]", "spawn+join, AsyncLocalStorage only", "SpawnJoin", "als", 1.2},
}
