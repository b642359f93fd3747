//go:build go1.25

package hooksrt

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt/internal/goid"
	"github.com/asyncinstr/asyncinstr/runtime/hooksrt/internal/tracefile"
)

// The environment variables that the runtime reads when the program starts.
const (
	// TraceEnv names a file to write every event to, as a Chrome trace
	// (docs/trace-format.md in the asyncinstr repository): Perfetto and
	// chrome://tracing open it, asyncinstr graph draws it. "%p" in the
	// name stands for the process id, for programs that start copies of
	// themselves.
	TraceEnv = "ASYNCINSTR_TRACE"
	// LeaksEnv set to 1 prints at exit every resource that was created
	// and never destroyed (see LeakReport).
	LeaksEnv = "ASYNCINSTR_LEAKS"
	// GoTraceEnv set to 1 reports resources to the runtime's execution
	// tracer (runtime/trace) too, while it runs (go test -trace, trace.Start,
	// a trace.FlightRecorder): each resource is a task, a child task of its
	// trigger's, and each run a region of its task, so that go tool trace
	// shows them.
	GoTraceEnv = "ASYNCINSTR_GOTRACE"
)

// The recorder is the hook behind TraceEnv, LeaksEnv and WatchLeaks. It
// keeps a record of every live resource (its type and site, which the
// before and destroy events do not carry, and when watching leaks its
// causes) in a table sharded by id, so that its memory is bounded by the
// number of live resources, and it writes each event to the trace.
var rec struct {
	mu       sync.Mutex // serialises starting
	hook     *AsyncHook
	trace    *tracefile.Writer // set before the hook is enabled
	path     string
	goTrace  bool        // report to runtime/trace; set before the hook is enabled
	report   bool        // print the leak report at the end
	watching atomic.Bool // records keep their causes
	finished atomic.Bool
	shards   [64]recShard
}

type recShard struct {
	mu sync.Mutex
	m  map[uint64]*record
	_  [40]byte // keep shards' locks on separate cache lines
}

type record struct {
	id, trigger uint64
	typ         string
	site        *Site
	causes      []Cause
	// The resource's runtime/trace task, when GoTraceEnv is set and the
	// execution tracer ran when the resource was created.
	task    *trace.Task
	taskCtx context.Context
}

// maxCauses bounds the trigger chain a record keeps, so that a long chain
// of goroutines each starting the next costs no more than a short one.
const maxCauses = 8

// A Cause is one link of a resource's trigger chain.
type Cause struct {
	AsyncID uint64
	Type    string // "ROOT" for id 1, "UNKNOWN" for id 0
	Site    *Site  // nil when unknown
}

func (c Cause) String() string {
	switch {
	case c.AsyncID == 1:
		return "ROOT (package initialisation and main)"
	case c.AsyncID == 0:
		return "UNKNOWN (a goroutine that asyncinstr did not start)"
	case c.Site == nil:
		return fmt.Sprintf("%s %d", c.Type, c.AsyncID)
	}
	return fmt.Sprintf("%s %d created at %s", c.Type, c.AsyncID, c.Site)
}

// A LiveResource is a resource that was created while the recorder was on
// and has not been destroyed.
type LiveResource struct {
	AsyncID, TriggerAsyncID uint64
	Type                    string
	Site                    *Site // nil when unknown
	// Causes is the trigger chain as it was when the resource was
	// created: its trigger first, then the trigger's trigger, up to 8
	// links. It is empty unless WatchLeaks was on.
	Causes []Cause
}

func init() { startFromEnv(os.Stderr) }

// startFromEnv starts what TraceEnv, LeaksEnv and GoTraceEnv ask for. A
// variable it cannot use is reported on errs and ignored: the program
// runs as it would without it.
func startFromEnv(errs io.Writer) {
	var tw *tracefile.Writer
	path := os.Getenv(TraceEnv)
	if path != "" {
		path = strings.ReplaceAll(path, "%p", strconv.Itoa(os.Getpid()))
		w, err := tracefile.Create(path, os.Getpid(), filepath.Base(os.Args[0]))
		if err != nil {
			fmt.Fprintf(errs, "asyncinstr: %s: %v\n", TraceEnv, err)
		} else {
			tw = w
			w.Thread(1, "main")
		}
	}
	leaks := boolEnv(errs, LeaksEnv)
	goTrace := boolEnv(errs, GoTraceEnv)
	if tw != nil || leaks || goTrace {
		startRecorder(sinks{trace: tw, path: path, watch: leaks, report: leaks, goTrace: goTrace})
	}
}

// boolEnv reads the environment variable name as a boolean, false when it
// is unset or not one.
func boolEnv(errs io.Writer, name string) bool {
	s := os.Getenv(name)
	if s == "" {
		return false
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		fmt.Fprintf(errs, "asyncinstr: %s=%s: want 1 or 0\n", name, s)
	}
	return b
}

// sinks says what the recorder feeds.
type sinks struct {
	trace   *tracefile.Writer
	path    string // of trace
	watch   bool   // keep trigger chains (LeaksEnv, WatchLeaks)
	report  bool   // print the leak report at the end (LeaksEnv)
	goTrace bool   // report to runtime/trace (GoTraceEnv)
}

// startRecorder enables the recorder's hook, once: with init and destroy,
// and with before and after too when it writes a trace or reports to
// runtime/trace.
func startRecorder(s sinks) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if s.watch {
		rec.watching.Store(true)
	}
	if rec.hook != nil {
		return
	}
	cb := Callbacks{Init: recInit, Destroy: recDestroy}
	rec.report, rec.trace, rec.path, rec.goTrace = s.report, s.trace, s.path, s.goTrace
	if s.trace != nil || s.goTrace {
		cb.Before, cb.After = recBefore, recAfter
	}
	if s.trace != nil {
		cb.PromiseResolve = recResolve
	}
	rec.hook = CreateHook(cb).Enable()
}

// WatchLeaks starts keeping a record of every resource created from now on
// until it is destroyed, with its trigger chain, for LiveResources. It is
// what LeaksEnv and package hooksleak use. It switches tracking on, and
// enables a hook: with it on, a before/after mismatch is fatal, as with any
// hook.
func WatchLeaks() { startRecorder(sinks{watch: true}) }

// LiveResources returns the resources created since WatchLeaks (or since
// the start, with TraceEnv, LeaksEnv or GoTraceEnv set) that are not
// destroyed yet, oldest first.
func LiveResources() []LiveResource {
	var out []LiveResource
	for i := range rec.shards {
		s := &rec.shards[i]
		s.mu.Lock()
		for _, r := range s.m {
			out = append(out, LiveResource{AsyncID: r.id, TriggerAsyncID: r.trigger, Type: r.typ, Site: r.site, Causes: r.causes})
		}
		s.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b LiveResource) int { return cmp.Compare(a.AsyncID, b.AsyncID) })
	return out
}

func recShardOf(id uint64) *recShard { return &rec.shards[id%uint64(len(rec.shards))] }

func recGet(id uint64) *record {
	s := recShardOf(id)
	s.mu.Lock()
	r := s.m[id]
	s.mu.Unlock()
	return r
}

// causeOf returns the link that a resource triggered by id adds to its
// chain, with the causes that follow it.
func causeOf(id uint64) []Cause {
	switch id {
	case 0:
		return []Cause{{AsyncID: 0, Type: "UNKNOWN"}}
	case 1:
		return []Cause{{AsyncID: 1, Type: "ROOT"}}
	}
	p := recGet(id)
	if p == nil {
		return []Cause{{AsyncID: id, Type: "?"}}
	}
	out := make([]Cause, 1, 1+min(len(p.causes), maxCauses-1))
	out[0] = Cause{AsyncID: p.id, Type: p.typ, Site: p.site}
	return append(out, p.causes[:min(len(p.causes), maxCauses-1)]...)
}

// siteOf returns the site of a resource object, if it has one.
func siteOf(obj any) *Site {
	if b, ok := obj.(interface{ Base() *Resource }); ok {
		if r := b.Base(); r != nil {
			return r.Site
		}
	}
	return nil
}

func recInit(id uint64, typ string, trigger uint64, obj any) {
	r := &record{id: id, trigger: trigger, typ: typ, site: siteOf(obj)}
	if rec.watching.Load() {
		r.causes = causeOf(trigger)
	}
	if rec.goTrace && trace.IsEnabled() {
		goTraceTask(r)
	}
	s := recShardOf(id)
	s.mu.Lock()
	if s.m == nil {
		s.m = make(map[uint64]*record)
	}
	s.m[id] = r
	s.mu.Unlock()
	if t := rec.trace; t != nil {
		t.Init(goid.Get(), id, trigger, typ, (*tracefile.Site)(r.site))
	}
}

func recBefore(id uint64) {
	r := recGet(id)
	typ, site := "?", (*Site)(nil)
	if r != nil {
		typ, site = r.typ, r.site
	}
	tid := goid.Get()
	if t := rec.trace; t != nil {
		if typ == typeGoroutine {
			// A GOROUTINE runs once, on the goroutine it started: name it.
			fn := "?"
			if site != nil && site.Func != "" {
				fn = site.Func
			}
			t.Thread(tid, fn)
		}
		t.Before(tid, id, typ)
	}
	if rec.goTrace {
		goTraceBefore(tid, r, typ)
	}
}

func recAfter(uint64) {
	tid := goid.Get()
	if t := rec.trace; t != nil {
		t.After(tid)
	}
	if rec.goTrace {
		goTraceAfter(tid)
	}
}

func recResolve(id uint64) { rec.trace.Resolve(goid.Get(), id) }

func recDestroy(id uint64) {
	s := recShardOf(id)
	s.mu.Lock()
	r := s.m[id]
	if t := rec.trace; t != nil {
		typ := "?"
		if r != nil {
			typ = r.typ
		}
		// Before the record goes, so that once LiveResources no longer
		// lists a resource its destroy is in the trace.
		t.Destroy(goid.Get(), id, typ)
	}
	delete(s.m, id)
	s.mu.Unlock()
	if r != nil && r.task != nil {
		r.task.End()
	}
}

// The runtime/trace sink (GoTraceEnv). A resource created while the
// execution tracer runs is a task, the child of its trigger's task when
// that has one, with its site logged; each run of a resource is a region,
// of its task if it has one, named after its type. Regions must end on the
// goroutine that began them, so each goroutine's open regions are kept in
// a table by goroutine id, as a stack: runs nest.
var goRegions [64]struct {
	mu sync.Mutex
	m  map[uint64][]*trace.Region
}

// goTraceTask makes r's task; r is not published yet.
func goTraceTask(r *record) {
	parent := context.Background()
	if p := recGet(r.trigger); p != nil && p.taskCtx != nil {
		parent = p.taskCtx
	}
	r.taskCtx, r.task = trace.NewTask(parent, r.typ)
	if r.site != nil {
		trace.Log(r.taskCtx, "site", r.site.String())
	}
}

// goTraceBefore begins the region of a run, or pushes nil while the
// tracer is off, so that each after ends its own before's region.
func goTraceBefore(tid uint64, r *record, typ string) {
	var region *trace.Region
	if trace.IsEnabled() {
		ctx := context.Background()
		if r != nil && r.taskCtx != nil {
			ctx = r.taskCtx
		}
		region = trace.StartRegion(ctx, typ)
	}
	g := &goRegions[tid%uint64(len(goRegions))]
	g.mu.Lock()
	if g.m == nil {
		g.m = make(map[uint64][]*trace.Region)
	}
	g.m[tid] = append(g.m[tid], region)
	g.mu.Unlock()
}

// goTraceAfter ends the region that the innermost goTraceBefore on the
// goroutine began, if it began one.
func goTraceAfter(tid uint64) {
	g := &goRegions[tid%uint64(len(goRegions))]
	g.mu.Lock()
	stack := g.m[tid]
	var region *trace.Region
	if n := len(stack); n > 0 {
		region = stack[n-1]
		if n == 1 {
			delete(g.m, tid)
		} else {
			g.m[tid] = stack[:n-1]
		}
	}
	g.mu.Unlock()
	if region != nil {
		region.End()
	}
}

// Finish writes out what TraceEnv and LeaksEnv asked for: it prints the
// leak report and closes the trace. Only its first call does anything, and
// events after it are not traced. The rewriter makes main defer it, and
// calls it before os.Exit (see Exit); a program that uses hooksrt without
// the rewriter can defer it in main itself.
func Finish() { finish("when main returned") }

// Exit is os.Exit for rewritten code: it calls Finish and then exit. The
// rewriter turns os.Exit(code) into Exit(os.Exit, code, &site).
func Exit(exit func(int), code int, site *Site) {
	how := fmt.Sprintf("at os.Exit(%d)", code)
	if site != nil {
		how += " (" + site.String() + ")"
	}
	finish(how)
	exit(code)
}

func finish(how string) {
	if !rec.finished.CompareAndSwap(false, true) {
		return
	}
	rec.mu.Lock()
	report, tw, path := rec.report, rec.trace, rec.path
	rec.mu.Unlock()
	if report {
		settle(nil)
		if rs := LiveResources(); len(rs) > 0 {
			fmt.Fprintf(os.Stderr, "asyncinstr: %s, %s", how, LeakReport(rs))
		}
	}
	if tw != nil {
		if err := tw.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "asyncinstr: %s %s: %v\n", TraceEnv, path, err)
		}
	}
}

// settle gives the resources that end when they are collected (an
// AsyncResource, a conn that nothing closed, a callback that runs many
// times) the chance to be destroyed: it collects garbage and waits, at most
// 100 ms, while the count of live resources that keep reports true keeps
// falling.
func settle(keep func(LiveResource) bool) {
	count := func() int {
		n := 0
		for _, r := range LiveResources() {
			if keep == nil || keep(r) {
				n++
			}
		}
		return n
	}
	prev := -1
	for i := 0; i < 20; i++ {
		runtime.GC()
		n := count()
		if n == 0 || n == prev {
			return
		}
		prev = n
		time.Sleep(5 * time.Millisecond)
	}
}

// LeakReport describes resources that were never destroyed, grouped by
// type and creation site, most frequent first; each group lists its ids
// and the trigger chain of its oldest resource:
//
//	3 resources were never destroyed:
//	2 × GOROUTINE created at main.go:12 main.worker (ids 5, 9)
//		caused by GOROUTINE 4 created at main.go:30 main.serve
//		caused by ROOT (package initialisation and main)
func LeakReport(rs []LiveResource) string {
	type group struct {
		typ  string
		site *Site
		rs   []LiveResource
	}
	var groups []*group
	index := map[string]*group{}
	for _, r := range rs {
		k := r.Type + "\x00" + r.Site.String()
		g := index[k]
		if g == nil {
			g = &group{typ: r.Type, site: r.Site}
			index[k] = g
			groups = append(groups, g)
		}
		g.rs = append(g.rs, r)
	}
	slices.SortStableFunc(groups, func(a, b *group) int { return cmp.Compare(len(b.rs), len(a.rs)) })
	var b strings.Builder
	noun := "resources were"
	if len(rs) == 1 {
		noun = "resource was"
	}
	fmt.Fprintf(&b, "%d %s never destroyed:\n", len(rs), noun)
	for _, g := range groups {
		ids := make([]string, 0, 6)
		for i, r := range g.rs {
			if i == 5 {
				ids = append(ids, "...")
				break
			}
			ids = append(ids, strconv.FormatUint(r.AsyncID, 10))
		}
		label := "id"
		if len(g.rs) > 1 {
			label = "ids"
		}
		where := "at an unknown site"
		if g.site != nil {
			where = "created at " + g.site.String()
		}
		fmt.Fprintf(&b, "%d × %s %s (%s %s)\n", len(g.rs), g.typ, where, label, strings.Join(ids, ", "))
		for _, c := range g.rs[0].Causes {
			fmt.Fprintf(&b, "\tcaused by %s\n", c)
		}
	}
	return b.String()
}
