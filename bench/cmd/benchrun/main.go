// Command benchrun produces BENCHMARKS.md's main table: it builds package
// bench plainly and in both of asyncinstr's modes, runs the workloads,
// the runtime's single-operation benchmarks and their Node counterparts in
// interleaved rounds, writes the raw results (the Go benchmark format,
// for benchstat) and prints the tables. Run it from the repository's root,
// as make bench does:
//
//	go run ./bench/cmd/benchrun [-rounds N] [-benchtime D] [-bench RE] [-o FILE] [-node CMD]
//
// With -report FILE it only prints the tables of results written before.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"

	"github.com/asyncinstr/asyncinstr/bench/internal/benchrun"
)

func main() {
	rounds := flag.Int("rounds", 10, "rounds; each measures every build and configuration once")
	benchtime := flag.String("benchtime", "500ms", "time per benchmark and run, as go test -benchtime")
	bench := flag.String("bench", ".", "run only the workloads whose Go name matches this regexp")
	out := flag.String("o", "bench.txt", "write the raw results to this file")
	node := flag.String("node", "node", "the node command; empty to leave Node out")
	report := flag.String("report", "", "only print the tables for this file of results")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: benchrun [flags]\n\nRun from the repository's root (make bench).\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(*rounds, *benchtime, *bench, *out, *node, *report); err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
}

func run(rounds int, benchtime, bench, out, node, report string) error {
	if report != "" {
		return printReport(report)
	}
	re, err := regexp.Compile(bench)
	if err != nil {
		return fmt.Errorf("-bench: %w", err)
	}
	opts := benchrun.Options{Rounds: rounds, Benchtime: benchtime, Workloads: re, NodeDir: filepath.Join("bench", "node"), Log: os.Stderr}
	if node != "" {
		if opts.Node, err = exec.LookPath(node); err != nil {
			fmt.Fprintf(os.Stderr, "benchrun: %v: the Node rows are left out\n", err)
			opts.Node = ""
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	work, err := os.MkdirTemp("", "benchrun")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	fmt.Fprintln(os.Stderr, "benchrun: building")
	bins, err := benchrun.Build(ctx, ".", work)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := benchrun.Run(ctx, bins, opts, f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return printReport(out)
}

func printReport(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	return benchrun.Report(f, file, os.Stdout)
}
