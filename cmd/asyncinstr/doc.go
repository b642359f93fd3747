/*
Asyncinstr rewrites Go packages so that every goroutine, timer, channel
handoff, connection and HTTP request they create becomes an asynchronous
resource with an id, a trigger id and lifecycle events, as Node's async_hooks
gives JavaScript. The rewritten code calls the runtime package
github.com/asyncinstr/asyncinstr/runtime/hooksrt (and, for package net and
net/http, runtime/hooksnet and runtime/hookshttp), which is where programs
register hooks and read their execution context.

Usage:

	asyncinstr [flags] [packages]          source mode
	asyncinstr [-rules list] go build|install|run|test|list|vet [go flags] [packages]
	go build|install|run|test -toolexec=asyncinstr [go flags] [packages]
	                                       compile-time mode

In source mode, packages are named as for go build (default "."), and their test files are
rewritten too. Without a flag, asyncinstr prints the files it would change,
as a txtar archive, and changes nothing. The flags are:

	-l
		list the files that would change
	-d
		print unified diffs of the changes
	-w
		write the changes to the files
	-o dir
		write an instrumented copy of the module to dir, which must not
		exist or be empty; the sources stay untouched
	-strip
		undo the instrumentation: with -w (or -o), every rewritten
		construct goes back to its original form and the companion
		files are removed
	-rules list
		apply only these comma-separated rules (default all); -help
		lists them
	-explain
		list every construct a rule matched, with its position,
		whether it is instrumented and, if not, why
	-tags tags
		build tags to load the packages with, as for go build
	-v
		say which packages were skipped, which files were written, and
		how long loading and rewriting took
	-version
		print the version and exit

# What changes

A rewritten statement keeps its line, and so does every other line of the
file: panics, tracebacks, runtime.Caller, compiler errors, vet and coverage
report the original file and line (and column, on every line that was not
rewritten). For example

	go worker(jobs, 3)
	time.AfterFunc(d, f)
	t.Stop()

become

	go _asyncinstrRun2(worker, jobs, 3, _asyncinstrGo(&_asyncinstrSites[0]))
	_asyncinstrAfterFunc(time.AfterFunc, d, f, &_asyncinstrSites[1])
	_asyncinstrStopTimer(t)

The go statement still evaluates worker, jobs and 3 where it did; the new
goroutine reports before and after around worker. A channel whose every
flow stays in its package carries each value's CHANSEND resource with it,
and its receiver handles the value in that resource's scope:

	jobs <- j
	for j := range jobs {

become

	jobs <- _asyncinstrOn(jobs).Send(j, &_asyncinstrSites[2])
	for _asyncinstrM := range jobs { j := _asyncinstrEnter(&_asyncinstrSc0, _asyncinstrM)

Calls of package net and net/http go through the runtime, and a handler
opens its request's scope when net/http calls it:

	c, err := l.Accept()      (directly in a for body)
	func hello(w http.ResponseWriter, r *http.Request) {

become

	c, err := _asyncinstrAcceptIn(&_asyncinstrSc0, l, &_asyncinstrSites[3])
	func hello(w http.ResponseWriter, r *http.Request) { defer _asyncinstrServeHTTP(r, &_asyncinstrSites[4]).Done();

and the rest of the loop's iteration runs in the listener's scope.

# Async APIs of your own

A library that keeps callbacks and runs them later (a worker pool's
Submit, an event emitter's On) is declared with a directive in the doc
comment of the function that takes the callback:

	//asyncinstr:callback arg=task type=POOLTASK
	func (p *Pool) Submit(task func()) error {

which becomes

	func (p *Pool) Submit(task func()) error { task = _asyncinstrCb0(task, "POOLTASK", false, &_asyncinstrSites[5]);

so that every call, from any package, passes a callback that runs in a
POOLTASK resource created at the call: triggered by the caller, with the
caller's AsyncLocalStorage stores. arg names the parameter (or gives its
index from 0), type the resource type (default CALLBACK), and runs=many
declares a callback that runs any number of times: each run is a
before/after pair and destroy comes when it is garbage collected, where
runs=once (the default) destroys it after its run. For code that cannot be
annotated, such as a third-party module, the file asyncinstr.rules at the
root of the main module declares the same with one line per function, and
the calls in rewritten code wrap their argument:

	# asyncinstr.rules
	callback (*github.com/panjf2000/ants/v2.Pool).Submit arg=task type=POOLTASK
	callback github.com/panjf2000/ants/v2.Submit arg=task type=POOLTASK

A bad directive or line (an unknown option, a parameter that is not a
function, a function its package does not have) is an error at its
file:line:col, in both modes. Compile-time mode reads asyncinstr.rules from
the main modules, and an edit to it rebuilds.

Statements that a scope needs share the lines of the code around them, so
those lines are not gofmt-formatted. -explain lists the channels left
untracked and why. The _asyncinstr names are
declared in one generated file per package, zz_asyncinstr.go (and
zz_asyncinstr_x_test.go for an external test package), which imports the
runtime and holds the table of creation sites. Because the rewritten files
import nothing new, no line moves and no //line directive is needed.

Rewriting is idempotent: running asyncinstr again on instrumented code
changes nothing, and new constructs added since get the next site numbers.
With -strip, a file that was gofmt-formatted before instrumentation comes
back byte for byte.

The comment //asyncinstr:ignore leaves alone the file (before the package
clause), the function (in its doc comment) or the statement (on its line or
the line above) that it marks. The runtime, the standard library and
vendored packages are never rewritten.

# The module

Where the rewritten code needs the runtime, -w and -o make the module
require github.com/asyncinstr/asyncinstr/runtime, and say so. A local build
of asyncinstr adds a replace directive pointing at the runtime directory of
its own checkout (or at $ASYNCINSTR_RUNTIME); a released one requires the
matching version. The runtime module declares go 1.21 (its files need a Go
1.25 toolchain), so a module that declares an older go version is raised
to 1.21, with a "godebug default=" line that keeps the GODEBUG settings of
its old version. -strip leaves go.mod alone and says how to drop the
requirement.

# Errors

Syntax errors, type errors, missing packages, files that cannot be read or
written, and a directory outside any module are reported as
"file:line:col: message" (or a plain sentence where there is no position),
with exit status 2 and no file changed: -w writes every file to a temporary
file first and renames them only when all are written, keeping each file's
mode, and refuses read-only files. So are go statements that source mode
cannot rewrite: in cgo files, and in files that no build configuration
includes.

# Build configurations

Files that the current configuration leaves out (foo_windows.go, a test
file for -race builds) are rewritten too: asyncinstr loads their package
again in the configuration closest to the current one that includes them
(other build tags, then another GOARCH, then another GOOS). Files
constrained by "//go:build ignore" are left alone.

# Compile-time mode

"asyncinstr go test ./..." runs "go test -toolexec=/path/to/asyncinstr
./...": the go command then runs every compiler and linker of the build
through asyncinstr, which rewrites each package outside the standard
library (dependencies and vendored packages included) as it is compiled,
with the rules and positions of source mode, and leaves the sources alone.
-toolexec=asyncinstr given to the go command directly, or in GOFLAGS, does
the same; so does any go command that accepts -toolexec. $ASYNCINSTR_RULES
selects the rules, as -rules does (asyncinstr -rules=list go ... sets it).

Each rewritten file is compiled from a copy in the build's work directory
whose first line is a //line directive naming the original, and the
companion file is compiled as if it were in the package's directory:
compiler errors, panics, runtime.Caller, coverage profiles and -trimpath
paths are those of the sources. Coverage (-cover, -coverpkg) counts the
statements a plain build counts, never the runtime's.

The program does not need to require the runtime: asyncinstr adds it to the
compiler's and the linker's import configuration. It builds the runtime with
one "go list -export" run with the build's own flags (read from the go
command that runs it: "asyncinstr go" passes them in $ASYNCINSTR_GO; with
-toolexec given directly they are read from the parent process, on Linux
only), so that the runtime links with the very standard library archives
the build uses, and keeps the result in the user cache directory. A module
that requires the runtime itself (to register hooks) gets that one, which
must be the runtime this asyncinstr goes with: a different one is an error.

The build cache keeps instrumented and plain builds apart and stays
correct: asyncinstr's answer to "compile -V=full" and "link -V=full", on
which the go command keys every compile and link, carries a fingerprint of
the asyncinstr binary, the runtime's sources and the selected rules. A
rebuild with nothing changed compiles nothing; a new asyncinstr, runtime or
rule set rebuilds everything once (the standard library included, since the
go command keys its packages on the compiler too).

A package that cannot be rewritten fails the build with a file:line:col
error, never a silently uninstrumented binary. A package that does not
compile as written is compiled unchanged, so that the compiler's own errors
report why.

# Seeing a run: the trace, the leak report and asyncinstr graph

An instrumented program reads three environment variables when it starts
(package hooksrt documents them):

	ASYNCINSTR_TRACE=FILE
		write every event to FILE, streaming, as a Chrome trace that
		Perfetto and chrome://tracing open ("%p" in FILE stands for
		the process id)
	ASYNCINSTR_LEAKS=1
		print, when the program ends, every resource that was never
		destroyed, grouped by creation site, with its trigger chain
	ASYNCINSTR_GOTRACE=1
		report to the execution tracer too (go test -trace): each
		resource a runtime/trace task under its trigger's, each run a
		region, for go tool trace

Go has no exit hook, so the exit rule makes the program say when it ends:
func main of package main defers hooksrt.Finish, and os.Exit(code) becomes
a call of hooksrt.Exit, which finishes first. In compile-time mode, the
main that go test generates gets the exit rule too.

	asyncinstr graph [-format svg|dot|html] [-all] [-o file] tracefile

reads the trace that an instrumented program run with
ASYNCINSTR_TRACE=tracefile wrote (the format is docs/trace-format.md) and
draws its trigger tree: every resource under the resource that caused it
(its trigger_async_id), labelled with its type, id, creation site, how
long it lived and how long its runs took, with the resources never
destroyed marked (a red dashed border). The root (id 1) and the unknown
context (id 0) head the trees; a trigger with no init of its own, a
resource created before tracing began, hangs under the root as "created
before the trace". The trace of a program that crashed, which lacks its
closing line and may end in the middle of an event, will do. The flags
are:

	-format svg
		a picture that asyncinstr lays out itself, left to right, boxes
		coloured by type (the default)
	-format dot
		a Graphviz digraph (dot -Tsvg)
	-format html
		one self-contained page to explore a large tree: click a row
		to collapse or expand it, search by type, site or #id, expand
		or collapse everything
	-all
		in svg and dot, draw every resource: by default the childless
		siblings of one type and site (and alike in being destroyed or
		not) are drawn as one node "TYPE ×N"
	-o file
		write to file, through a temporary file renamed into place,
		instead of standard output

A trace that is not valid is reported as "file:line: message" at the
offending event, with exit status 2 and no output file.

# Exit status

In source mode, 0 on success; 1 when -l or -d found something to change; 2
for usage errors and failures. "asyncinstr go" exits with the go command's
status.
*/
package main
