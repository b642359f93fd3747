// Package rewrite applies asyncinstr's rules to Go packages: it loads them
// with golang.org/x/tools/go/packages, rewrites the constructs that the
// rules select into calls of the runtime package hooksrt, and prints
// gofmt-clean code whose positions are those of the original source.
//
// The engine is being built; this package currently holds only its
// documentation.
package rewrite
