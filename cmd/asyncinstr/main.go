// Command asyncinstr rewrites Go packages so that their goroutines, timers
// and channel handoffs report to the hooksrt runtime. See doc.go.
package main

import (
	"os"

	"github.com/asyncinstr/asyncinstr/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
