// Package cli implements the asyncinstr command line.
package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/diff"
	"golang.org/x/tools/txtar"

	"github.com/asyncinstr/asyncinstr/internal/toolexec"
	"github.com/asyncinstr/asyncinstr/rewrite"
	"github.com/asyncinstr/asyncinstr/rules"
)

// Version is the version of the asyncinstr module this binary was built from.
const Version = "v0.1.0-dev"

const usage = `usage: asyncinstr [flags] [packages]
       asyncinstr [-rules list] go build|install|run|test|list|vet [go flags] [packages]
       asyncinstr graph [-format svg|dot|html] [-all] [-o file] tracefile

asyncinstr rewrites Go packages so that their goroutines, timers, channel
handoffs, connections and HTTP requests report to
github.com/asyncinstr/asyncinstr/runtime/hooksrt, Node's async_hooks for Go.

Source mode: packages are named as for go build (default "."); their test
files are included. With no flag it prints the files it would change, as a
txtar archive, and changes nothing.

Compile-time mode: "asyncinstr go ..." runs the go command with
-toolexec=asyncinstr, which rewrites every package outside the standard
library as it is compiled and leaves the sources alone. -toolexec=asyncinstr
works given to the go command directly too; $ASYNCINSTR_RULES selects the
rules there.

Async APIs of your own (a pool's Submit, an event's On): the directive
	//asyncinstr:callback arg=NAME [type=TYPE] [runs=once|many]
in the doc comment of the function that takes the callback, or, for code
you cannot annotate, a line of asyncinstr.rules at the module root:
	callback (*example.com/pool.Pool).Submit arg=task type=POOLTASK
makes each callback passed there a resource (the callback rule).

Seeing a run: an instrumented program run with ASYNCINSTR_TRACE=FILE writes
its events to FILE as a Chrome trace (Perfetto opens it), and
"asyncinstr graph FILE" draws its trigger tree; ASYNCINSTR_LEAKS=1 prints
what it never destroyed when it ends (the exit rule).

Flags:
`

// Exit statuses, as gofmt uses them.
const (
	exitOK      = 0
	exitChanges = 1 // -l or -d found files that would change
	exitError   = 2 // usage errors and failures
)

type options struct {
	list, diff, write, strip, explain, verbose bool
	out, rules, tags                           string
}

// Main runs the command with args and returns its exit status: 0 on
// success, 1 when -l or -d found something to change, 2 for usage errors
// and failures.
//
// When the go command runs it as -toolexec, it answers for the tool it
// was given instead: see package toolexec.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "graph" {
		return runGraph(args[1:], stdout, stderr)
	}
	if toolexec.Is(args) {
		return toolexec.Main(args, stdout, stderr)
	}
	fs, parseOut := newFlagSet("asyncinstr")
	var o options
	version := fs.Bool("version", false, "print the version and exit")
	fs.BoolVar(&o.list, "l", false, "list the files that would change; exit 1 if any would")
	fs.BoolVar(&o.diff, "d", false, "print unified diffs of the changes; exit 1 if any")
	fs.BoolVar(&o.write, "w", false, "write the changes to the files (atomically) and add the runtime to go.mod")
	fs.StringVar(&o.out, "o", "", "write an instrumented copy of the module to `dir` (new or empty)")
	fs.BoolVar(&o.strip, "strip", false, "undo instrumentation: restore the original files, remove the companion files")
	fs.StringVar(&o.rules, "rules", "all", "comma-separated `rules` to apply (see below)")
	fs.BoolVar(&o.explain, "explain", false, "list every site a rule matched, instrumented or not, and why")
	fs.BoolVar(&o.verbose, "v", false, "say which packages were skipped and which files were written")
	fs.StringVar(&o.tags, "tags", "", "build `tags` to load packages with, as for go build")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), "\nRules:\n")
		for _, r := range rules.All {
			fmt.Fprintf(fs.Output(), "  %-17s %s\n", r.Name, r.Doc)
		}
	}
	if code, ok := parse(fs, parseOut, args, stdout, stderr); !ok {
		return code
	}
	if *version {
		fmt.Fprintln(stdout, "asyncinstr", Version)
		return exitOK
	}
	if o.write && o.out != "" {
		fmt.Fprintln(stderr, "asyncinstr: -w and -o cannot be used together")
		return exitError
	}
	rs, err := rules.Select(o.rules)
	if err != nil {
		fmt.Fprintf(stderr, "asyncinstr: -rules: %v\n", err)
		return exitError
	}
	if fs.NArg() > 0 && fs.Arg(0) == "go" {
		return runGo(fs.Args()[1:], o.rules, stdout, stderr)
	}
	cfg := rewrite.Config{Rules: rs, Tags: o.tags}
	var res *rewrite.Result
	if o.strip {
		res, err = rewrite.Strip(cfg, fs.Args()...)
	} else {
		res, err = rewrite.Instrument(cfg, fs.Args()...)
	}
	if err != nil {
		report(stderr, err)
		return exitError
	}
	return run(&o, res, stdout, stderr)
}

// newFlagSet returns a flag set for the command or a subcommand, with the
// buffer that parse gets its messages from: the flag package prints the
// usage itself when asked for help or given a bad flag, and parse decides
// where that goes.
func newFlagSet(name string) (*flag.FlagSet, *bytes.Buffer) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var out bytes.Buffer
	fs.SetOutput(&out)
	return fs, &out
}

// parse parses args with fs. It reports false, with the exit status, when
// the command must stop there: after -help (the usage on stdout, status
// 0) or a bad flag (the message on stderr, status 2).
func parse(fs *flag.FlagSet, out *bytes.Buffer, args []string, stdout, stderr io.Writer) (int, bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return exitOK, true
	case err == flag.ErrHelp:
		stdout.Write(out.Bytes())
		return exitOK, false
	}
	stderr.Write(out.Bytes())
	return exitError, false
}

// report prints an error, one problem per line, each prefixed so that it
// is clear which tool is speaking.
func report(w io.Writer, err error) {
	var es rewrite.Errors
	if errors.As(err, &es) {
		for _, e := range es {
			if e.Pos == "" {
				fmt.Fprintln(w, e.Msg)
				continue
			}
			fmt.Fprintf(w, "%s: %s\n", relPos(e.Pos), e.Msg)
		}
		return
	}
	fmt.Fprintf(w, "asyncinstr: %v\n", err)
}

func run(o *options, res *rewrite.Result, stdout, stderr io.Writer) int {
	if o.verbose {
		for _, s := range res.Skipped {
			fmt.Fprintf(stderr, "asyncinstr: skipped %s\n", s)
		}
		if o.strip {
			fmt.Fprintf(stderr, "asyncinstr: %d files to change\n", len(res.Changes))
		} else {
			fmt.Fprintf(stderr, "asyncinstr: %d sites, %d files to change; loading took %v, rewriting %v\n",
				len(res.Sites), len(res.Changes), res.Load.Round(time.Millisecond), res.Rewrite.Round(time.Millisecond))
		}
	}
	if o.explain {
		for _, s := range res.Sites {
			fmt.Fprintln(stdout, relPos(s.String()))
		}
	}
	switch {
	case o.write || o.out != "":
		if err := apply(o, res, stderr); err != nil {
			fmt.Fprintf(stderr, "asyncinstr: %v\n", err)
			return exitError
		}
		return exitOK
	case o.list || o.diff:
		for _, c := range res.Changes {
			name := rel(c.Path)
			if o.list {
				fmt.Fprintln(stdout, name)
			}
			if o.diff {
				old, new := name, name
				if c.Old == nil {
					old = "/dev/null"
				}
				if c.New == nil {
					new = "/dev/null"
				}
				stdout.Write(diff.Diff(old, c.Old, new, c.New))
			}
		}
		if len(res.Changes) > 0 {
			return exitChanges
		}
		return exitOK
	case o.explain:
		return exitOK
	}
	// No flag: print what would change, as a txtar archive.
	var a txtar.Archive
	for _, c := range res.Changes {
		data := c.New
		name := rel(c.Path)
		if data == nil {
			name += " (removed)"
		}
		a.Files = append(a.Files, txtar.File{Name: name, Data: data})
	}
	stdout.Write(txtar.Format(&a))
	return exitOK
}

// rel returns path relative to the current directory when it is below it.
func rel(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if r, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

// relPos shortens the file name of a "file:line:col" or "file:line"
// position.
func relPos(pos string) string {
	file, suffix := pos, ""
	for range 2 {
		i := strings.LastIndexByte(file, ':')
		if i < 0 || strings.Trim(file[i+1:], "0123456789") != "" {
			break
		}
		file, suffix = file[:i], file[i:]+suffix
	}
	if !filepath.IsAbs(file) {
		return pos
	}
	return rel(file) + suffix
}
