//go:build go1.25

package hooksrt_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/trace"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
)

var (
	recOuterSite = &hooksrt.Site{File: "rec.go", Line: 10, Func: "main.outer"}
	recInnerSite = &hooksrt.Site{File: "rec.go", Line: 20, Func: "main.inner"}
	recTimerSite = &hooksrt.Site{File: "rec.go", Line: 30, Func: "main.tick"}
	recExitSite  = &hooksrt.Site{File: "rec.go", Line: 40}
)

// recScenario runs what the recorder tests look at: an outer goroutine
// that starts an inner one, which blocks on block forever unless it is
// closed, and a timer that fires; it waits for the outer goroutine and the
// timer.
func recScenario(block chan struct{}) {
	outerDone := make(chan struct{})
	innerStarted := make(chan struct{})
	go func(t *hooksrt.Task) {
		t.Begin()
		defer t.End()
		defer close(outerDone)
		go func(t *hooksrt.Task) {
			t.Begin()
			defer t.End()
			close(innerStarted)
			<-block
		}(hooksrt.Go(recInnerSite))
		<-innerStarted
	}(hooksrt.Go(recOuterSite))
	<-outerDone
	fired := make(chan struct{})
	hooksrt.AfterFunc(time.AfterFunc, time.Millisecond, func() { close(fired) }, recTimerSite)
	<-fired
	recWaitLive(1) // the inner goroutine; the others end on their own
}

// recWaitLive waits until at most n resources are live, as the recorder
// sees them: until the goroutines and timers that are done have emitted
// their destroy.
func recWaitLive(n int) {
	for deadline := time.Now().Add(10 * time.Second); len(hooksrt.LiveResources()) > n; {
		if time.Now().After(deadline) {
			fmt.Println("still live after 10s:", hooksrt.LiveResources())
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func init() {
	child("record/trace", func() {
		block := make(chan struct{})
		recScenario(block)
		close(block)
		recWaitLive(0)
		hooksrt.Finish()
	})
	child("record/exit", func() {
		recScenario(make(chan struct{}))
		hooksrt.Exit(os.Exit, 3, recExitSite)
	})
	child("record/watch", func() {
		hooksrt.WatchLeaks()
		block := make(chan struct{})
		recScenario(block)
		for _, r := range hooksrt.LiveResources() {
			fmt.Printf("live %s %s\n", r.Type, r.Site)
			for _, c := range r.Causes {
				fmt.Printf("\tcaused by %s %s\n", c.Type, c.Site)
			}
		}
		hooksrt.Finish() // prints no report: LeaksEnv is not set
		close(block)
		recWaitLive(0)
		fmt.Println("live after close:", len(hooksrt.LiveResources()))
	})
}

// runRecChild runs scenario name with the environment variables env.
func runRecChild(t *testing.T, name string, env ...string) (stdout, stderr string, code int) {
	t.Helper()
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		t.Setenv(k, v)
	}
	return runChildFast(t, name)
}

type traceEvent struct {
	TS   float64 `json:"ts"`
	Name string  `json:"name"`
	Cat  string  `json:"cat"`
	Ph   string  `json:"ph"`
	Tid  uint64  `json:"tid"`
	ID   uint64  `json:"id"`
	Args struct {
		AsyncID   uint64 `json:"async_id"`
		TriggerID uint64 `json:"trigger_async_id"`
		Site      string `json:"site"`
		Name      string `json:"name"`
	} `json:"args"`
}

func readTrace(t *testing.T, path string) []traceEvent {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var evs []traceEvent
	if err := json.Unmarshal(data, &evs); err != nil {
		t.Fatalf("trace is not a closed JSON array: %v\n%s", err, data)
	}
	return evs
}

// TestTraceEnv checks that ASYNCINSTR_TRACE makes the program write every
// event, as docs/trace-format.md says: the trigger tree in the init slices,
// the runs on their goroutines, the flows and the lifetimes.
func TestTraceEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace-%p.json")
	stdout, stderr, code := runRecChild(t, "record/trace", hooksrt.TraceEnv+"="+path)
	if code != 0 || stderr != "" || stdout != "" {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "trace-*.json"))
	if len(matches) != 1 || strings.Contains(matches[0], "%p") {
		t.Fatalf("want one trace file named with the pid, got %v", matches)
	}
	evs := readTrace(t, matches[0])

	type res struct {
		typ, site       string
		trigger, initOn uint64
		runsOn          []uint64
		flows           string
		destroyed       bool
	}
	byID := map[uint64]*res{}
	threads := map[uint64]string{}
	depth := map[uint64]int{}
	var ended bool
	// Lines are in time order per goroutine only (docs/trace-format.md):
	// a resource's run may come before its init in the file. Readers
	// sort by ts; the sort is stable, for the lines of one event, which
	// share their ts.
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].TS < evs[j].TS })
	for _, e := range evs {
		if e.Ph == "X" {
			byID[e.Args.AsyncID] = &res{typ: e.Name, site: e.Args.Site, trigger: e.Args.TriggerID, initOn: e.Tid}
		}
	}
	for _, e := range evs {
		switch e.Ph {
		case "B":
			depth[e.Tid]++
			if r := byID[e.Args.AsyncID]; r != nil {
				r.runsOn = append(r.runsOn, e.Tid)
			}
		case "E":
			if depth[e.Tid]--; depth[e.Tid] < 0 {
				t.Errorf("E without B on tid %d", e.Tid)
			}
		case "s", "t":
			if r := byID[e.ID]; r != nil {
				r.flows += e.Ph
			}
		case "e":
			if r := byID[e.ID]; r != nil {
				r.destroyed = true
			}
		case "M":
			switch e.Name {
			case "thread_name":
				threads[e.Tid] = e.Args.Name
			case "trace_end":
				ended = true
			}
		}
	}
	if !ended {
		t.Error("no trace_end: Finish did not close the trace")
	}
	for tid, d := range depth {
		if d != 0 {
			t.Errorf("tid %d: %d runs never ended", tid, d)
		}
	}
	var outer, inner, timer uint64
	for id, r := range byID {
		switch r.site {
		case "rec.go:10 main.outer":
			outer = id
		case "rec.go:20 main.inner":
			inner = id
		case "rec.go:30 main.tick":
			timer = id
		}
	}
	if outer == 0 || inner == 0 || timer == 0 {
		t.Fatalf("missing inits: outer %d inner %d timer %d in %d events", outer, inner, timer, len(evs))
	}
	o, i, tm := byID[outer], byID[inner], byID[timer]
	if o.typ != "GOROUTINE" || o.trigger != 1 || o.initOn != 1 {
		t.Errorf("outer: %+v, want a GOROUTINE triggered by the root on goroutine 1", o)
	}
	if i.typ != "GOROUTINE" || i.trigger != outer || len(o.runsOn) != 1 || i.initOn != o.runsOn[0] {
		t.Errorf("inner: %+v, want a GOROUTINE created by outer (%+v) on its goroutine", i, o)
	}
	if tm.typ != "Timeout" || tm.trigger != 1 || len(tm.runsOn) != 1 {
		t.Errorf("timer: %+v, want a Timeout of the root that ran once", tm)
	}
	for name, r := range map[string]*res{"outer": o, "inner": i, "timer": tm} {
		if !r.destroyed || r.flows != "st" || len(r.runsOn) != 1 {
			t.Errorf("%s: %+v, want one run, the flow s then t, and a destroy", name, r)
		}
	}
	if got := threads[o.runsOn[0]]; got != fmt.Sprintf("goroutine %d (main.outer)", o.runsOn[0]) {
		t.Errorf("outer's goroutine is named %q", got)
	}
	if threads[1] != "goroutine 1 (main)" {
		t.Errorf("goroutine 1 is named %q", threads[1])
	}
}

// recIDs matches the ids in a leak report, which vary with the runtime.
var recIDs = regexp.MustCompile(`(id|GOROUTINE) [0-9]+`)

// TestExitReportsLeaks checks Exit: the trace is closed, the leak report
// names the goroutine left blocked with its trigger chain, and the exit
// status is the one asked for.
func TestExitReportsLeaks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.json")
	stdout, stderr, code := runRecChild(t, "record/exit", hooksrt.TraceEnv+"="+path, hooksrt.LeaksEnv+"=1")
	if code != 3 || stdout != "" {
		t.Fatalf("exit %d, want 3\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	want := `asyncinstr: at os.Exit(3) (rec.go:40), 1 resource was never destroyed:
1 × GOROUTINE created at rec.go:20 main.inner (id ID)
	caused by GOROUTINE ID created at rec.go:10 main.outer
	caused by ROOT (package initialisation and main)
`
	if got := recIDs.ReplaceAllString(stderr, "$1 ID"); got != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr, want)
	}
	evs := readTrace(t, path)
	if last := evs[len(evs)-1]; last.Name != "trace_end" {
		t.Errorf("last event %+v, want trace_end", last)
	}
}

// TestLeaksEnvBad checks that a variable the runtime cannot use is
// reported, and that the program and the other variables work on.
func TestLeaksEnvBad(t *testing.T) {
	_, stderr, code := runRecChild(t, "record/trace", hooksrt.LeaksEnv+"=yes please")
	if code != 0 || stderr != "asyncinstr: ASYNCINSTR_LEAKS=yes please: want 1 or 0\n" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	// A trace file that cannot be created does not stop the leak report.
	_, stderr, code = runRecChild(t, "record/exit", hooksrt.TraceEnv+"="+filepath.Join(t.TempDir(), "no", "such", "dir"), hooksrt.LeaksEnv+"=1")
	if code != 3 || !strings.HasPrefix(stderr, "asyncinstr: ASYNCINSTR_TRACE: open ") || !strings.Contains(stderr, "\nasyncinstr: at os.Exit(3) (rec.go:40), 1 resource was never destroyed:\n") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestWatchLeaks checks LiveResources after WatchLeaks: the blocked
// goroutine with its causes while it is blocked, nothing once it ends.
func TestWatchLeaks(t *testing.T) {
	want := `live GOROUTINE rec.go:20 main.inner
	caused by GOROUTINE rec.go:10 main.outer
	caused by ROOT unknown site
live after close: 0
`
	checkChild(t, "record/watch", want)
}

// TestTraceCrash checks that a program that dies of a panic leaves a
// trace that reads once "]" is added: the periodic flush wrote it.
func TestTraceCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.json")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=record/crash", hooksrt.TraceEnv+"="+path)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "panic: crash") {
		t.Fatalf("want a crash, got %v:\n%s", err, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var evs []traceEvent
	if err := json.Unmarshal(append(data, ']'), &evs); err != nil {
		t.Fatalf("not a trace once closed: %v\n%s", err, data)
	}
	inits := 0
	for _, e := range evs {
		if e.Ph == "X" {
			inits++
		}
	}
	if inits != 3 {
		t.Errorf("%d inits in the crashed trace, want 3", inits)
	}
}

func init() {
	child("record/crash", func() {
		recScenario(make(chan struct{}))
		time.Sleep(300 * time.Millisecond) // three periodic flushes
		panic("crash")
	})
}

const goTraceOutEnv = "HOOKSRT_TEST_GOTRACE_OUT"

func init() {
	child("record/gotrace", func() {
		f, err := os.Create(os.Getenv(goTraceOutEnv))
		if err != nil {
			panic(err)
		}
		if err := trace.Start(f); err != nil {
			panic(err)
		}
		block := make(chan struct{})
		recScenario(block)
		close(block)
		recWaitLive(0)
		trace.Stop()
		f.Close()
	})
}

// TestGoTraceEnv checks that ASYNCINSTR_GOTRACE makes resources tasks of
// the execution tracer, each the child of its trigger's, with its site
// logged, and their runs regions: what go tool trace shows.
func TestGoTraceEnv(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go tool trace")
	}
	out := filepath.Join(t.TempDir(), "go.trace")
	_, stderr, code := runRecChild(t, "record/gotrace", hooksrt.GoTraceEnv+"=1", goTraceOutEnv+"="+out)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d\nstderr:\n%s", code, stderr)
	}
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	parsed, err := exec.Command(goCmd, "tool", "trace", "-d=parsed", out).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool trace: %v\n%s", err, parsed)
	}
	// Lines such as (Go 1.26)
	//	M=1 P=1 G=29 TaskBegin Time=... ID=2 Parent=1 Type="GOROUTINE"
	//	M=1 P=1 G=29 Log Time=... Task=2 Category="site" Message="rec.go:20 main.inner"
	//	M=1 P=1 G=30 RegionBegin Time=... Task=2 Type="GOROUTINE"
	// where a task with no parent has Parent=2^64-1.
	tasks := map[string]string{} // site -> "task parent"
	taskOf := map[string]string{}
	var regions []string
	taskLine := regexp.MustCompile(` TaskBegin Time=\d+ ID=(\d+) Parent=(\d+) Type="([^"]*)"`)
	logLine := regexp.MustCompile(` Log Time=\d+ Task=(\d+) Category="site" Message="([^"]*)"`)
	regionLine := regexp.MustCompile(` RegionBegin Time=\d+ Task=(\d+) Type="([^"]*)"`)
	parent := map[string]string{}
	for _, line := range strings.Split(string(parsed), "\n") {
		if m := taskLine.FindStringSubmatch(line); m != nil {
			parent[m[1]] = m[2]
		}
		if m := logLine.FindStringSubmatch(line); m != nil {
			tasks[m[2]] = m[1]
			taskOf[m[1]] = m[2]
		}
		if m := regionLine.FindStringSubmatch(line); m != nil {
			regions = append(regions, taskOf[m[1]]+" "+m[2])
		}
	}
	outer, inner, timer := tasks["rec.go:10 main.outer"], tasks["rec.go:20 main.inner"], tasks["rec.go:30 main.tick"]
	if outer == "" || inner == "" || timer == "" {
		t.Fatalf("tasks by site: %v\n%s", tasks, parsed)
	}
	const none = "18446744073709551615"
	if parent[inner] != outer || parent[outer] != none || parent[timer] != none {
		t.Errorf("task parents: inner %s (want outer %s), outer %s, timer %s (want none)", parent[inner], outer, parent[outer], parent[timer])
	}
	slices.Sort(regions)
	want := []string{"rec.go:10 main.outer GOROUTINE", "rec.go:20 main.inner GOROUTINE", "rec.go:30 main.tick Timeout"}
	if !slices.Equal(regions, want) {
		t.Errorf("regions %q, want %q", regions, want)
	}
}
