//go:build go1.25

// Package hookstest checks that the events delivered to async hooks obey
// the rules of Node's async_hooks, for use in tests. It is a Go port of
// Node's own test harness: the ActivityCollector and sanityCheck of
// test/async-hooks/init-hooks.js, checkInvocations of hook-checks.js and
// verifyGraph of verify-graph.js, extended with what concurrency adds.
//
// A Collector is a hook that records every event. Its Violations method
// reports each broken rule:
//
//   - init delivered more than once for an id, or destroy more than once;
//   - before, after, destroy or promiseResolve for an id that had no init
//     (resources created before the collector was enabled are ignored, or
//     recorded as "Unknown" with Options.AllowNoInit);
//   - an after without a matching before, or a before[i] later than after[i];
//   - a before, after or promiseResolve after the id's destroy;
//   - improper nesting on a goroutine: an after that does not close the
//     innermost open before on the same goroutine;
//   - a trigger id that was never initialised (ids allocated before the
//     collector was enabled, including 0 and the root 1, are accepted);
//   - wrong resource identity: init without a resource object, or, inside
//     before and after, an ExecutionAsyncID or ExecutionAsyncResource that
//     is not the resource's own.
//
// Use it from any test:
//
//	c := hookstest.NewCollector(hookstest.Options{}).Enable()
//	defer c.Disable()
//	... run the code under test ...
//	c.Check(t)
package hookstest

import (
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
	"github.com/asyncinstr/asyncinstr/runtime/hooksrt/internal/goid"
)

// TB is the part of testing.TB that this package uses.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
}

// Options configures a Collector.
type Options struct {
	// AllowNoInit records events for ids without an init as activities of
	// type "Unknown" instead of reporting them, as Node's allowNoInit does.
	AllowNoInit bool
	// Types, if not empty, restricts recording to resources of these types.
	// Events for ids of other types are ignored.
	Types []string
}

// An Activity is what a Collector recorded about one resource. The event
// slices hold sequence numbers: a total order of all events the collector
// saw, consistent with the order of events on each goroutine.
type Activity struct {
	ID      uint64
	Type    string
	Trigger uint64
	// ResourceType is the dynamic type of the resource object init
	// received, such as "*hooksrt.AsyncResource"; empty without an init.
	// The collector keeps only the object's identity, never the object:
	// holding it would stop the garbage collector from destroying it, as
	// Node's collector keeps only handleIsObject.
	ResourceType string
	resource     uintptr // the object's address, for identity checks
	// Site is where instrumented code created the resource (the Site of a
	// *hooksrt.Resource); nil for other resources.
	Site *hooksrt.Site

	Init, Before, After, Destroy, PromiseResolve []uint64
}

// A Collector records the events of every resource while it is enabled.
// Its methods are safe for concurrent use.
type Collector struct {
	opts Options
	hook *hooksrt.AsyncHook

	mu         sync.Mutex
	seq        uint64
	floor      uint64 // ids up to floor were allocated before Enable
	acts       map[uint64]*Activity
	order      []*Activity         // in init order
	stacks     map[uint64][]uint64 // goroutine id -> open befores
	ignored    map[uint64]bool     // ids of types outside Options.Types
	violations []string
}

// NewCollector returns a disabled collector.
func NewCollector(opts Options) *Collector {
	c := &Collector{
		opts:    opts,
		acts:    map[uint64]*Activity{},
		stacks:  map[uint64][]uint64{},
		ignored: map[uint64]bool{},
	}
	c.hook = hooksrt.CreateHook(hooksrt.Callbacks{
		Init:           c.init,
		Before:         c.before,
		After:          c.after,
		Destroy:        func(id uint64) { c.event("destroy", id) },
		PromiseResolve: func(id uint64) { c.event("promiseResolve", id) },
	})
	return c
}

// Enable enables the collector's hook and returns c. Resources whose ids
// were allocated before the first Enable are not the collector's: their
// events are ignored, or with Options.AllowNoInit recorded as "Unknown".
func (c *Collector) Enable() *Collector {
	c.mu.Lock()
	if c.floor == 0 {
		// The id counter is not exported; a throwaway resource reads it.
		r := hooksrt.NewAsyncResource("hookstest.floor", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
		c.floor = r.AsyncID()
		r.EmitDestroy()
	}
	c.mu.Unlock()
	c.hook.Enable()
	return c
}

// Disable disables the collector's hook and returns c.
func (c *Collector) Disable() *Collector { c.hook.Disable(); return c }

// Hook returns the collector's hook.
func (c *Collector) Hook() *hooksrt.AsyncHook { return c.hook }

func (c *Collector) violate(format string, args ...any) {
	c.violations = append(c.violations, fmt.Sprintf(format, args...))
}

func (c *Collector) wanted(typ string) bool {
	return len(c.opts.Types) == 0 || slices.Contains(c.opts.Types, typ)
}

func (c *Collector) init(id uint64, typ string, trigger uint64, resource any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.wanted(typ) {
		c.ignored[id] = true
		return
	}
	c.seq++
	if a, ok := c.acts[id]; ok {
		a.Init = append(a.Init, c.seq)
		c.violate("%s(%d): init called twice", typ, id)
		return
	}
	if resource == nil {
		c.violate("%s(%d): init received no resource object", typ, id)
	}
	if trigger > c.floor && c.acts[trigger] == nil && !c.ignored[trigger] {
		c.violate("%s(%d): trigger %d was never initialised", typ, id, trigger)
	}
	a := &Activity{ID: id, Type: typ, Trigger: trigger, Init: []uint64{c.seq}}
	if resource != nil {
		a.ResourceType = fmt.Sprintf("%T", resource)
		a.resource = identity(resource)
		if r, ok := resource.(interface{ Base() *hooksrt.Resource }); ok {
			a.Site = r.Base().Site
		}
	}
	c.acts[id] = a
	c.order = append(c.order, a)
}

// activity returns the activity of id for event, or nil if the event is to
// be ignored. c.mu must be held.
func (c *Collector) activity(event string, id uint64) *Activity {
	if c.ignored[id] {
		return nil
	}
	a := c.acts[id]
	if a == nil {
		if id <= c.floor && !c.opts.AllowNoInit {
			return nil // a resource from before the collector
		}
		if !c.opts.AllowNoInit {
			c.violate("found a handle (%d) whose %s hook was invoked but not its init hook", id, event)
		}
		a = &Activity{ID: id, Type: "Unknown"}
		c.acts[id] = a
		c.order = append(c.order, a)
	}
	c.seq++
	if len(a.Destroy) > 0 && event != "destroy" {
		c.violate("%s(%d): %s after destroy", a.Type, id, event)
	}
	return a
}

func (c *Collector) event(event string, id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.activity(event, id)
	if a == nil {
		return
	}
	switch event {
	case "destroy":
		a.Destroy = append(a.Destroy, c.seq)
	case "promiseResolve":
		a.PromiseResolve = append(a.PromiseResolve, c.seq)
	}
}

// scope records a before or after event for id, with the context the
// runtime reports inside it, and returns the activity (nil if ignored) and
// the calling goroutine's id. c.mu is held when it returns; release it with
// the returned unlock.
func (c *Collector) scope(event string, id uint64) (a *Activity, g uint64, unlock func()) {
	exec, res := hooksrt.ExecutionAsyncID(), hooksrt.ExecutionAsyncResource()
	g = goid.Get()
	c.mu.Lock()
	a = c.activity(event, id)
	if a != nil {
		c.checkContext(event, a, exec, res)
	}
	return a, g, c.mu.Unlock
}

func (c *Collector) before(id uint64) {
	a, g, unlock := c.scope("before", id)
	defer unlock()
	if a == nil {
		return
	}
	a.Before = append(a.Before, c.seq)
	c.stacks[g] = append(c.stacks[g], id)
}

func (c *Collector) after(id uint64) {
	a, g, unlock := c.scope("after", id)
	defer unlock()
	if a == nil {
		return
	}
	a.After = append(a.After, c.seq)
	st := c.stacks[g]
	switch {
	case len(st) == 0:
		c.violate("%s(%d): after without before on goroutine %d", a.Type, id, g)
	case st[len(st)-1] != id:
		c.violate("%s(%d): improper nesting on goroutine %d: after %d while %d is the innermost before", a.Type, id, g, id, st[len(st)-1])
		if i := slices.Index(st, id); i >= 0 {
			st = slices.Delete(st, i, i+1)
		}
	default:
		st = st[:len(st)-1]
	}
	if len(st) == 0 {
		delete(c.stacks, g)
	} else {
		c.stacks[g] = st
	}
}

// identity returns the address of the object that v points to, or 0 if v
// is not a pointer. While a resource's before or after runs, the resource is
// alive, so its address identifies it.
func identity(v any) uintptr {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer {
		return rv.Pointer()
	}
	return 0
}

func (c *Collector) checkContext(event string, a *Activity, exec uint64, res any) {
	if a.ResourceType == "" {
		return // no init seen
	}
	if exec != a.ID {
		c.violate("%s(%d): ExecutionAsyncID() is %d inside %s", a.Type, a.ID, exec, event)
	}
	if identity(res) != a.resource {
		c.violate("%s(%d): ExecutionAsyncResource() inside %s is not the object init received", a.Type, a.ID, event)
	}
}

// Activities returns the recorded activities in init order (activities
// without an init last), restricted to types if any are given. The
// activities are copies.
func (c *Collector) Activities(types ...string) []Activity {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Activity
	for _, a := range c.order {
		if len(types) == 0 || slices.Contains(types, a.Type) {
			cp := *a
			cp.Init = slices.Clone(a.Init)
			cp.Before = slices.Clone(a.Before)
			cp.After = slices.Clone(a.After)
			cp.Destroy = slices.Clone(a.Destroy)
			cp.PromiseResolve = slices.Clone(a.PromiseResolve)
			out = append(out, cp)
		}
	}
	return out
}

// Activity returns the activity of id, and whether there is one.
func (c *Collector) Activity(id uint64) (Activity, bool) {
	for _, a := range c.Activities() {
		if a.ID == id {
			return a, true
		}
	}
	return Activity{}, false
}

// Violations returns every broken rule: those found as events arrived, then
// those of Node's sanityCheck over the recorded activities. An empty result
// means the events were consistent.
func (c *Collector) Violations() []string {
	c.mu.Lock()
	out := slices.Clone(c.violations)
	c.mu.Unlock()
	for _, a := range c.Activities() {
		out = append(out, sanity(a)...)
	}
	return out
}

// sanity is Node's sanityCheck for one activity.
func sanity(a Activity) []string {
	var v []string
	bad := func(format string, args ...any) {
		v = append(v, fmt.Sprintf("%s(%d): ", a.Type, a.ID)+fmt.Sprintf(format, args...))
	}
	if len(a.Destroy) > 1 {
		bad("destroy called %d times", len(a.Destroy))
	}
	if len(a.Before) < len(a.After) {
		bad("%d afters for %d befores", len(a.After), len(a.Before))
	}
	for i := range min(len(a.Before), len(a.After)) {
		if a.Before[i] > a.After[i] {
			bad("before %d came after after %d", i, i)
		}
	}
	if len(a.Destroy) > 0 {
		d := a.Destroy[0]
		if len(a.Before) > 0 && a.Before[0] > d {
			bad("before came after destroy")
		}
		if len(a.After) > 0 && a.After[0] > d {
			bad("after came after destroy")
		}
		if len(a.Init) > 0 && a.Init[0] > d {
			bad("init came after destroy")
		}
	}
	for _, p := range a.PromiseResolve {
		if len(a.Init) > 0 && p < a.Init[0] {
			bad("promiseResolve came before init")
		}
	}
	return v
}

// Check reports every violation to t.
func (c *Collector) Check(t TB) {
	t.Helper()
	for _, v := range c.Violations() {
		t.Errorf("async hooks: %s", v)
	}
}

// Settle waits until every recorded activity whose destroy depends on the
// garbage collector has been destroyed, running the collector as Node's
// harness does before its exit checks, for at most timeout. It reports
// whether nothing is left waiting.
func (c *Collector) Settle(timeout time.Duration, types ...string) bool {
	deadline := time.Now().Add(timeout)
	for {
		waiting := false
		for _, a := range c.Activities(types...) {
			if len(a.Destroy) == 0 {
				waiting = true
				break
			}
		}
		if !waiting {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}

// Counts are the expected number of each event for an activity, keyed by
// "init", "before", "after", "destroy" and "promiseResolve". A missing key
// expects zero (Node's checkInvocations cannot express zero; this can).
type Counts map[string]int

// CheckInvocations reports, for activity a at the named stage of a test,
// every event whose count differs from want.
func CheckInvocations(t TB, a Activity, want Counts, stage string) {
	t.Helper()
	got := Counts{
		"init":           len(a.Init),
		"before":         len(a.Before),
		"after":          len(a.After),
		"destroy":        len(a.Destroy),
		"promiseResolve": len(a.PromiseResolve),
	}
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("%s: %s(%d): unknown event %q in expected counts", stage, a.Type, a.ID, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if got[k] != want[k] {
			t.Errorf("%s: %s(%d): %s called %d times, want %d", stage, a.Type, a.ID, k, got[k], want[k])
		}
	}
}

// A Node is one node of an expected trigger graph: a resource of type Type,
// named ID so that other nodes can name it as Trigger. An empty Trigger is
// not checked. The special trigger "root" is the root context, id 1.
type Node struct {
	Type    string
	ID      string
	Trigger string
}

// VerifyGraph checks the trigger graph of c's activities against graph, as
// Node's verifyGraph does: the n-th activity of each type is paired with the
// n-th node of that type, in init order, and its trigger must be the id of
// the activity paired with the node its Trigger names. Each type must occur
// at least as often as in graph; extra activities are fine. Activities of
// the transparent types are removed first, their children re-pointed to
// their own trigger (Node does this for TickObject).
func VerifyGraph(t TB, c *Collector, graph []Node, transparent ...string) {
	t.Helper()
	acts := c.Activities()
	parent := map[uint64]uint64{}
	for _, a := range acts {
		parent[a.ID] = a.Trigger
	}
	skip := map[uint64]bool{}
	for _, a := range acts {
		if slices.Contains(transparent, a.Type) {
			skip[a.ID] = true
		}
	}
	resolve := func(id uint64) uint64 {
		for skip[id] {
			id = parent[id]
		}
		return id
	}
	byType := map[string][]Activity{}
	for _, a := range acts {
		if !skip[a.ID] {
			byType[a.Type] = append(byType[a.Type], a)
		}
	}
	ids := map[string]uint64{"root": 1}
	seen := map[string]int{}
	type pair struct {
		n Node
		a Activity
	}
	var pairs []pair
	for _, n := range graph {
		i := seen[n.Type]
		seen[n.Type]++
		if i >= len(byType[n.Type]) {
			t.Errorf("verify graph: want at least %d %s activities, got %d", seen[n.Type], n.Type, len(byType[n.Type]))
			continue
		}
		a := byType[n.Type][i]
		ids[n.ID] = a.ID
		pairs = append(pairs, pair{n, a})
	}
	for _, p := range pairs {
		if p.n.Trigger == "" {
			continue
		}
		want, ok := ids[p.n.Trigger]
		if !ok {
			t.Errorf("verify graph: node %s names unknown trigger %s", p.n.ID, p.n.Trigger)
			continue
		}
		if got := resolve(p.a.Trigger); got != want {
			t.Errorf("verify graph: %s (%s(%d)) has trigger %d, want %d (%s)", p.n.ID, p.a.Type, p.a.ID, got, want, p.n.Trigger)
		}
	}
}

// String renders the activities as a tree of triggers, for failure
// messages.
func (c *Collector) String() string {
	var b strings.Builder
	for _, a := range c.Activities() {
		fmt.Fprintf(&b, "%s(%d) trigger %d: init %d before %d after %d destroy %d promiseResolve %d\n",
			a.Type, a.ID, a.Trigger, len(a.Init), len(a.Before), len(a.After), len(a.Destroy), len(a.PromiseResolve))
	}
	return b.String()
}

// Tree renders the activities as a tree of triggers that does not depend on
// ids or on the order in which goroutines ran: each line is a resource's
// type, its creation site and its event counts, children are indented under
// the resource that triggered them, and siblings are sorted. Resources
// triggered from outside the recorded ones (the root context, or code that
// ran before Enable) are at the top level. Golden tests compare it.
func (c *Collector) Tree() string {
	acts := c.Activities()
	byID := map[uint64]bool{}
	for _, a := range acts {
		byID[a.ID] = true
	}
	children := map[uint64][]Activity{}
	var roots []Activity
	for _, a := range acts {
		if byID[a.Trigger] && a.Trigger != a.ID {
			children[a.Trigger] = append(children[a.Trigger], a)
		} else {
			roots = append(roots, a)
		}
	}
	var render func(as []Activity, depth int) []string
	render = func(as []Activity, depth int) []string {
		var blocks []string
		for _, a := range as {
			site := "unknown site"
			if a.Site != nil {
				site = fmt.Sprintf("%s:%d %s", a.Site.File, a.Site.Line, a.Site.Func)
			}
			line := fmt.Sprintf("%s%s %s: before %d, after %d, destroy %d",
				strings.Repeat("  ", depth), a.Type, site, len(a.Before), len(a.After), len(a.Destroy))
			if n := len(a.PromiseResolve); n > 0 {
				line += fmt.Sprintf(", promiseResolve %d", n)
			}
			blocks = append(blocks, line+"\n"+strings.Join(render(children[a.ID], depth+1), ""))
		}
		sort.Strings(blocks)
		return blocks
	}
	return strings.Join(render(roots, 0), "")
}
