// Package cli implements the asyncinstr command line.
package cli

import (
	"flag"
	"fmt"
	"io"
)

// Version is the version of the asyncinstr module this binary was built from.
const Version = "v0.1.0-dev"

const usage = `usage: asyncinstr [flags] [packages]

asyncinstr rewrites Go packages so that goroutines, timers and channel
handoffs report to the runtime package
github.com/asyncinstr/asyncinstr/runtime/hooksrt.

This version provides the runtime only; the rewriter is not built yet.

Flags:
`

// Main runs the command with args and returns its exit status: 0 on
// success, 2 for usage errors and failures.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("asyncinstr", flag.ContinueOnError)
	fs.SetOutput(stderr)
	version := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fs.SetOutput(stdout)
			fs.Usage()
			return 0
		}
		return 2
	}
	if *version {
		fmt.Fprintln(stdout, "asyncinstr", Version)
		return 0
	}
	fmt.Fprintln(stderr, "asyncinstr: rewriting packages is not available in this version (runtime only)")
	return 2
}
