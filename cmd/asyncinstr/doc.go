/*
Asyncinstr rewrites Go packages so that every goroutine and timer they
create becomes an asynchronous resource with an id, a trigger id and
lifecycle events, as Node's async_hooks gives JavaScript. The rewritten code
calls the runtime package github.com/asyncinstr/asyncinstr/runtime/hooksrt,
which is where programs register hooks and read their execution context.

Usage:

	asyncinstr [flags] [packages]

Packages are named as for go build (default "."), and their test files are
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
goroutine reports before and after around worker. The _asyncinstr names are
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

# Exit status

0 on success; 1 when -l or -d found something to change; 2 for usage
errors and failures.
*/
package main
