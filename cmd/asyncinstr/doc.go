/*
Asyncinstr rewrites Go packages so that every goroutine, timer and channel
handoff they create becomes an asynchronous resource with an id, a trigger
id and lifecycle events, as Node's async_hooks gives JavaScript. The
rewritten code calls the runtime package
github.com/asyncinstr/asyncinstr/runtime/hooksrt, which is where programs
register hooks and read their execution context.

Usage:

	asyncinstr [flags] [packages]

This version provides the runtime only: the source rewriter and the
compile-time (-toolexec) mode are being built, and until they land the
command reports that and exits with status 2. The flags are:

	-h, -help
		print this help
	-version
		print the version and exit
*/
package main
