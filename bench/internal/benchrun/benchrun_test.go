package benchrun

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// synthetic writes rounds of results in Run's format in which every
// instrumented series is its plain series times a fixed factor, so that
// every per-round ratio, and so every median and interval, is exact.
//
// With tracking, ALS or hooks, a workload allocates one more object than
// plain; with no hook, only the workload named extraAlloc does.
func synthetic(rounds int, factor map[string]float64, node bool, extraAlloc string) string {
	var b strings.Builder
	for r := 1; r <= rounds; r++ {
		drift := 1 + 0.05*float64(r%3) // the machine's speed, round to round
		write := func(runtime, build, config string) {
			fmt.Fprintf(&b, "round: %d\nruntime: %s\nbuild: %s\nconfig: %s\n", r, runtime, build, config)
		}
		write("go", "plain", "plain")
		for _, w := range Workloads {
			fmt.Fprintf(&b, "Benchmark%s-2 \t 1000\t %.4f ns/op\t 16 B/op\t 2 allocs/op\n", w.Go, 100*drift)
		}
		for _, build := range Builds[1:] {
			for _, c := range Configs {
				write("go", build, c)
				for _, w := range Workloads {
					allocs := 3
					if c == "nohook" && w.Go != extraAlloc {
						allocs = 2
					}
					fmt.Fprintf(&b, "Benchmark%s-2 \t 1000\t %.4f ns/op\t 16 B/op\t %d allocs/op\n", w.Go, 100*drift*factor[w.Go+"/"+c], allocs)
				}
			}
		}
		write("go", "micro", "-")
		fmt.Fprintf(&b, "BenchmarkExecutionAsyncID/ctx=no-scope-2 \t 1000\t %.4f ns/op\t 0 B/op\t 0 allocs/op\n", 8*drift)
		fmt.Fprintf(&b, "BenchmarkExecutionAsyncID/ctx=in-scope-2 \t 1000\t 8 ns/op\t 0 B/op\t 0 allocs/op\n")
		fmt.Fprintf(&b, "BenchmarkAsyncLocalStorage/op=GetStore-2 \t 1000\t 12 ns/op\t 0 B/op\t 0 allocs/op\n")
		if node {
			for _, c := range []string{"plain", "nohook", "als", "hooks4"} {
				write("node", "node", c)
				for _, w := range Workloads {
					f := 1.0
					if c == "hooks4" {
						f = 3
					}
					fmt.Fprintf(&b, "Benchmark%s \t 1000\t %.4f ns/op\n", w.Node, 200*drift*f)
				}
			}
		}
	}
	return b.String()
}

// checkReport fails t unless the report got has every line of want and
// none of lack.
func checkReport(t *testing.T, got string, want, lack []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("report lacks %q", w)
		}
	}
	for _, l := range lack {
		if strings.Contains(got, l) {
			t.Errorf("report has %q", l)
		}
	}
	if t.Failed() {
		t.Logf("the report:\n%s", got)
	}
}

func TestReport(t *testing.T) {
	factor := map[string]float64{}
	for _, w := range Workloads {
		factor[w.Go+"/nohook"] = 1.01
		factor[w.Go+"/tracking"] = 1.1
		factor[w.Go+"/als"] = 1.15
		factor[w.Go+"/hooks4"] = 1.25
	}
	factor["SpawnJoin/hooks4"] = 1.5 // misses [1/8]'s 1.3x
	var out bytes.Buffer
	if err := Report(strings.NewReader(synthetic(8, factor, true, "")), "bench.txt", &out); err != nil {
		t.Fatal(err)
	}
	checkReport(t, out.String(), []string{
		// Ratios are per round, so the drift cancels exactly.
		"| spawn+join: one goroutine, started and joined | Go, source mode | 105 ns ±5% | 1.01x [1.01–1.01] | 1.10x [1.10–1.10] | 1.15x [1.15–1.15] | 1.50x [1.50–1.50] |",
		"|  | Go, compile-time mode | 105 ns ±5% | 1.01x [1.01–1.01] |",
		"|  | Node: setImmediate | 210 ns ±5% | 1.00x [1.00–1.00] |  | 1.00x [1.00–1.00] | 3.00x [3.00–3.00] |",
		"| SpawnJoin | 2 | 2 | 3 | 3 | 3 |",
		"| ExecutionAsyncID, outside any scope | 8.4 ns ±5% | 0 | [1/8] ≤ 10 ns |",
		"| [1/8] | spawn+join, instrumented, API never used ≤ 1.05x | 1.01x [1.01–1.01] | 1.01x [1.01–1.01] | met |",
		"| [1/8] | spawn+join, four no-op hooks ≤ 1.3x | 1.50x [1.50–1.50] | 1.50x [1.50–1.50] | **missed** |",
		"| [4/8] | buffered handoff, four no-op hooks ≤ 2x | 1.25x [1.25–1.25] | 1.25x [1.25–1.25] | met |",
		"| [6/8] | AsyncLocalStorage.GetStore, a store set ≤ 10 ns | 12.0 ns | (the runtime alone) | **missed** |",
		"| [1/8] | no allocation added with no hook (allocs/op as plain) | none added |  | met |",
	}, []string{"Node: not measured"})
}

func TestReportWithoutNode(t *testing.T) {
	factor := map[string]float64{}
	for _, w := range Workloads {
		for _, c := range Configs {
			factor[w.Go+"/"+c] = 1
		}
	}
	var out bytes.Buffer
	if err := Report(strings.NewReader(synthetic(2, factor, false, "WorkerPool")), "bench.txt", &out); err != nil {
		t.Fatal(err)
	}
	checkReport(t, out.String(), []string{
		"Node: not measured",
		"| 1.00x [n=2] |", // too few rounds for an interval
		"| WorkerPool | 2 | 3 | 3 | 3 | 3 |",
		"| [1/8] | no allocation added with no hook (allocs/op as plain) | WorkerPool source +1, WorkerPool toolexec +1 |  | **missed** |",
	}, []string{"Node: setImmediate"})
}

func TestReportErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "no benchmark results"},
		{"no round", "BenchmarkSpawnJoin-2 1 100 ns/op\n", "bench.txt:1: result without a round"},
		{"syntax", "round: 1\nBenchmarkSpawnJoin-2 1 x ns/op\n", "bench.txt:2: parsing measurement"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Report(strings.NewReader(tc.in), "bench.txt", &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Report: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestBuildAndRun is make bench in miniature: every workload in every
// build, one round of one iteration, Node included when it is installed. Build itself fails
// unless the instrumented binaries create the resources each workload
// measures (bench's TestResources).
func TestBuildAndRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds asyncinstr and compiles package bench three ways")
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	bins, err := Build(ctx, root, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Rounds: 1, Benchtime: "1x", NodeDir: filepath.Join("..", "..", "node")} // relative, as make bench gives it
	if node, err := exec.LookPath("node"); err == nil {
		opts.Node = node
	} else if os.Getenv("ASYNCINSTR_REQUIRE_NODE") != "" {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	if err := Run(ctx, bins, opts, &raw); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Report(bytes.NewReader(raw.Bytes()), "raw", &out); err != nil {
		t.Fatal(err)
	}
	// Every workload ran in every build, and every Node counterpart.
	want := []string{
		"| ExecutionAsyncID, outside any scope |",
		"| [5/8] | loopback HTTP request, four no-op hooks ≤ 1.1x |",
	}
	for _, w := range Workloads {
		want = append(want, "| "+w.Title+" | Go, source mode |", "| "+w.Go+" | ")
		if opts.Node != "" {
			want = append(want, "|  | Node: "+w.NodeTitle+" |")
		}
	}
	checkReport(t, out.String(), want, []string{"| — |"}) // no cell without its measurements
}

// TestRunOrder checks what Run measures, with a stand-in for every
// binary: -bench selects workloads, each round measures one workload at a
// time, every build and configuration of it, and the order rotates from
// round to round.
func TestRunOrder(t *testing.T) {
	stand, err := exec.LookPath("true")
	if err != nil {
		t.Skip(err)
	}
	bins := &Binaries{Bench: map[string]string{}, Micro: stand}
	for _, b := range Builds {
		bins.Bench[b] = stand
	}
	var log, raw bytes.Buffer
	opts := Options{Rounds: 2, Benchtime: "1x", Workloads: regexp.MustCompile("^HTTP$"), Log: &log}
	if err := Run(context.Background(), bins, opts, &raw); err != nil {
		t.Fatal(err)
	}
	want := `round 1/2: HTTP: go plain plain
round 1/2: HTTP: go source nohook
round 1/2: HTTP: go source tracking
round 1/2: HTTP: go source als
round 1/2: HTTP: go source hooks4
round 1/2: HTTP: go toolexec nohook
round 1/2: HTTP: go toolexec tracking
round 1/2: HTTP: go toolexec als
round 1/2: HTTP: go toolexec hooks4
round 1/2: single operations: go micro -
round 2/2: HTTP: go source nohook
round 2/2: HTTP: go source tracking
round 2/2: HTTP: go source als
round 2/2: HTTP: go source hooks4
round 2/2: HTTP: go toolexec nohook
round 2/2: HTTP: go toolexec tracking
round 2/2: HTTP: go toolexec als
round 2/2: HTTP: go toolexec hooks4
round 2/2: HTTP: go plain plain
round 2/2: single operations: go micro -
`
	if log.String() != want {
		t.Errorf("Run measured\n%s\nwant\n%s", log.String(), want)
	}
	if n := strings.Count(raw.String(), "round: "); n != 20 {
		t.Errorf("%d results headed by a round line, want 20:\n%s", n, raw.String())
	}
	opts.Workloads = regexp.MustCompile("^none$")
	if err := Run(context.Background(), bins, opts, &raw); err == nil || !strings.Contains(err.Error(), "no workload matches ^none$") {
		t.Errorf("Run with no workload selected: %v", err)
	}
}
