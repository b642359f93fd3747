//go:build go1.25

/*
Package hooksrt is the runtime of asyncinstr: Node.js's async_hooks for Go.

Code that asyncinstr has rewritten calls this package wherever it starts a
goroutine, arms a timer or hands a value to another goroutine. Each of
these becomes an asynchronous resource with an id, the id of the resource
that caused it, and lifecycle events. Programs use the package directly to
register hooks, to ask which resource they are running in, and to report
their own asynchronous work with AsyncResource.

# Ids

An async id is a uint64 from one process-wide counter. Ids are never
reused, and a resource's trigger id is always allocated before its own id.
Id 1 is the root: package initialisation and the main goroutine run in it,
where ExecutionAsyncID() is 1 and TriggerAsyncID() is 0. Id 0 means the
context is unknown: code on a goroutine that no instrumented code started
(one started by the standard library or by an uninstrumented dependency,
or a test function's goroutine) reports 0, as Node reports 0 for callbacks
entered from C++.

# Execution contexts

Every goroutine has a current execution context: the id and trigger id of
the resource whose code is running, its resource object, and the
AsyncLocalStorage stores visible there. ExecutionAsyncID, TriggerAsyncID
and ExecutionAsyncResource read it. A resource's before event makes the
resource's context current on the goroutine that runs its callback, and its
after event restores the previous context. Scopes nest and unwind per
goroutine. A new goroutine started by instrumented code runs entirely in
its GOROUTINE resource's scope, so its trigger is the context that executed
the go statement:

	main (1)
	└── go serve()           GOROUTINE(2), trigger 1
	    └── time.AfterFunc   Timeout(3), trigger 2

Go has no goroutine-local storage. This package keeps each goroutine's
context in a table keyed by goroutine id. Ids are never reused by the Go
runtime, while goroutine structures are, so one goroutine is never taken
for another. The id is read through the runtime's g structure. Its offset
is found and checked against runtime.Stack at start-up, and where that
check fails, or on platforms without the assembly (anything but amd64 and
arm64), runtime.Stack is parsed on every lookup: correct, but about a
thousand times slower. A goroutine has an entry only while it is inside a
scope, so the table does not grow with the number of goroutines a program
has run.

# Tracking

Tracking contexts costs a little on every instrumented site. So it is off
until a program first uses the API: enables a hook that has a callback,
reads its context, creates an AsyncResource, or sets an AsyncLocalStorage
store. From then on it stays on.
Goroutines started before that run in the unknown context, as promises
created before the first hook do in Node. Call Track from an init function
to have every goroutine tracked from the start. With tracking off, an
instrumented site costs one atomic load and allocates nothing.

# Hooks and their delivery

CreateHook returns an AsyncHook. Enable and Disable switch it on and off;
both are idempotent and return the hook. Events are delivered in this order
for each resource:

  - Init runs on the goroutine that creates the resource, before the
    resource can run. Inside it, ExecutionAsyncID() is the creator's.
  - Before and After bracket each run of the resource's callback or scope,
    on the goroutine that runs it, with the resource's context current.
    After also runs when the callback panics or calls runtime.Goexit.
  - PromiseResolve runs when a handed-off value is taken by its receiver,
    just before that scope's Before.
  - Destroy runs once, after the last After. Where the end is explicit (a
    goroutine returns, a timer's Stop succeeds, EmitDestroy) it is delivered
    before that call returns. Where only the garbage collector can tell (an
    AsyncResource without RequireManualDestroy) it is delivered later, on
    another goroutine. A cancelled resource (a stopped timer, a send that
    lost its select) gets Destroy without Before or After.

Hooks are called in the order they were enabled. Enable and Disable called
from ordinary code take effect at once, for every goroutine's next event.
Called from inside a hook callback, they take effect when that goroutine's
outermost hook dispatch returns (Node's copy-on-write rule). The event
being delivered, and events emitted from inside the callback, go to the
hooks that were enabled when the dispatch began. A resource created before
a hook was enabled still reports Before, After and Destroy to it, without
Init.

A hook callback that panics ends the process as an unrecovered panic does:
the panic value and the stack go to standard error, and the exit status is
2. No recover in the program can intercept it. With a hook enabled, an
After that does not match the innermost Before on its goroutine is a fatal
error, "async hook stack has become corrupted (actual: X, expected: Y)",
exit status 2. Code that uses only this package's API cannot cause that,
because RunInAsyncScope and the entry points for instrumented code always
unwind in order.

# Concurrency: how this differs from Node

Node runs every hook on one thread. A Go program runs them on many
goroutines at once, so:

  - Callbacks must be safe for concurrent use. A hook that keeps state
    needs a mutex or atomics, and a per-goroutine notion such as "the
    current indentation" must be keyed by something other than a global.
  - Order holds per resource (init, then before/after pairs, then destroy)
    and per goroutine (before and after balanced and properly nested).
    Events of different resources on different goroutines interleave
    arbitrarily. Under concurrency, inits can arrive out of id order.
  - A resource used by several goroutines at once (an AsyncResource run
    from a pool, a ticker) can have overlapping before/after pairs on
    different goroutines.
  - Enable and Disable from one goroutine become visible to other
    goroutines at their next event, not at a shared tick boundary.
  - Destroy for explicit ends is synchronous, where Node batches it into a
    later tick: a test can check for it as soon as the ending call returns.

# Resource objects

The resource object that Init receives, and that ExecutionAsyncResource
returns inside the resource's scope, is a *Resource for resources that
instrumented code creates: its Site says where (file, line, what it runs).
It is created when first needed (for an Init hook, or by the first
ExecutionAsyncResource call in its scope), so tracked goroutines that
nobody inspects cost no object. Once created, it is the same object for the
resource's whole life.
For an AsyncResource it is the *AsyncResource itself; the root has its own
stable *Root; an unknown context returns the shared *Unknown. Every
resource object implements Object, whose Set and Get attach values to it.
This is how Node's executionAsyncResource()[symbol] = state pattern is
written in Go.

# AsyncResource

NewAsyncResource reports work that a program or library runs later or
elsewhere: a job queue, a connection pool, a callback API. RunInAsyncScope
runs a function in the resource's context. Bind returns a function that
does so on every call. EmitDestroy ends the resource, and the package-level
Bind binds a function to the current context.

# AsyncLocalStorage

An AsyncLocalStorage[T] keeps one store per execution context, and the
store follows what the context causes: a resource captures the stores
current where it is created, and its before installs them. A goroutine sees
its spawner's stores as they were at the go statement, a timer callback the
stores at AfterFunc, a handoff's receiver the sender's at the send, an HTTP
handler those current when its server's listener was created, and an
AsyncResource those at NewAsyncResource. Run sets a store for one function
and what it causes and restores the previous one on every path, panics
included; Exit runs a function with none; EnterWith sets one for the rest
of the current scope; WithScope returns the restore function of a
Run-like scope, for defer; Disable hides the instance's stores everywhere
until the next Run. Snapshot captures every store (and the execution
context) for a function to run in later. Instances are independent, each
goroutine sees its own context's store, and GetStore allocates nothing.
Using an AsyncLocalStorage switches tracking on.

Code that asyncinstr cannot see (a dependency's worker goroutine, a
callback a library keeps) loses the context. A context.Context can carry
it there: WithContext captures the current context in a ctx, and
RunContext runs a function in it at the other end. ExecutionAsyncIDContext,
TriggerAsyncIDContext and GetStoreContext read the goroutine's own context
where it is known and the ctx's where it is unknown (id 0 and no store).
Package hooksslog adds the ids and chosen stores to log/slog records the
same way.

# Callbacks of declared async APIs

A function declared an async API (a //asyncinstr:callback directive, or a
line of asyncinstr.rules) passes each callback it is given through a
Callback: a resource of the declared type created at the call, with a
before/after pair around each run of the callback and destroy after its
run, or, for one declared runs=many (or one that never runs), when it is
garbage collected.

# Channels and timers

A value sent on a channel that asyncinstr tracks carries a *Handoff, the
CHANSEND resource of its send, created (init) in the sender with the
sender's context. The goroutine that receives the value reports
promiseResolve, then before and after around its handling of the value,
then destroy; so exactly the receiver of each value runs in the context of
the send that produced it, whatever the number of senders and receivers.
A send case that loses its select is destroyed without before or after.

Timers and tickers created by instrumented code are TIMER and TICKER
resources; a receive from their channel is handled in their scope, as a
handoff's is, without promiseResolve. A TIMER is destroyed once its value
has been handled, or by a Stop that returns true (a Reset of a fired or
stopped timer creates a new one); a TICKER by its first Stop.

# Network resources

Listeners, connections, dials, lookups and HTTP requests are reported by
two packages beside this one, so that a program links net or net/http only
if it uses them: hooksnet (TCPSERVERWRAP, TCPWRAP, TCPCONNECTWRAP,
GETADDRINFOREQWRAP, UDPWRAP and their PIPE forms) and hookshttp
(HTTPINCOMINGMESSAGE around a handler that net/http calls, triggered by the
server's listener; HTTPCLIENTREQUEST, destroyed when the response body is
closed). Their resource objects embed a *Resource (Base returns it) and add
what the resource is: network and addresses, the name looked up, the
method and URL. They drive their resources through Resource's Init,
InitIn, Enter, EnterOnce and Dispose, which are meant for them, not for
programs (which have AsyncResource).

# Seeing a run: the trace and the leak report

Two environment variables, read when the program starts, need no hook of
the program's own:

  - ASYNCINSTR_TRACE=FILE writes every event to FILE as it happens, as a
    Chrome trace (the JSON Array Format) that Perfetto and chrome://tracing
    open: a slice where each resource was created, a slice per run on the
    goroutine that ran it, a flow arrow from the creation to the runs, and
    the resource's lifetime from init to destroy. asyncinstr graph draws
    its trigger tree. "%p" in FILE stands for the process id. The events go
    through a fixed number of buffers written out when full and every 100
    ms, so memory stays bounded and a program that crashes leaves a trace
    that lacks at most its last 100 ms. The format is specified in
    docs/trace-format.md of the asyncinstr repository.
  - ASYNCINSTR_LEAKS=1 prints to standard error, when the program ends,
    every resource that was created and never destroyed, grouped by type
    and creation site with counts, each group with the trigger chain of its
    oldest resource (LeakReport shows the form).
  - ASYNCINSTR_GOTRACE=1 reports to the runtime's execution tracer too,
    while it runs (go test -trace, trace.Start, a trace.FlightRecorder):
    each resource is a runtime/trace task, the child of its trigger's task,
    with its site logged, and each run is a region of its task named after
    its type, so that go tool trace shows the trigger tree and the runs.

Go has no hook at program exit, so the program must say when it ends:
Finish completes the trace and prints the report. The rewriter makes func
main defer it and turns os.Exit(code) into Exit(os.Exit, code, &site) (the
exit rule); in compile-time mode it does the same for the main that go
test generates. A program that ends otherwise (log.Fatal, a panic in a
goroutine, a signal) prints no report and leaves a trace without its last
events and closing bracket, which the readers accept.

Each of them enables a hook, with what that implies (see Hooks and
their delivery):
tracking is on, and a before/after mismatch is fatal. WatchLeaks and
LiveResources give a program or test the same records, and package hooksleak
builds a goleak-style test helper on them.

# Entry points for instrumented code

Go, GoFunc, GoFuncErr, TryGo, AfterFunc, StopTimer, ResetTimer,
ContextAfterFunc, Send, NewTimer, After, NewTicker, Tick, StopTicker,
TimeRecv, NewCallback, Exit and the Task, Handoff, Scope, TimeChan and Callback
types are called by
code that asyncinstr rewrote. Their doc comments give the shapes the
rewriter emits, written with the hooksrt names; the rewritten files call
them through _asyncinstr names that a generated companion file of their
package declares. They are exported so that rewritten packages can reach
them; programs should not call them directly.

# Testing

Package hookstest is a Go port of Node's invariant checker. Enable a
hookstest.Collector around the code under test, and it reports every event
that breaks the rules above.
*/
package hooksrt
