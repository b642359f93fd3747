//go:build go1.25

package hookstest

import (
	"strings"
	"sync"
	"testing"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
)

// recorder is a TB that records what it is told.
type recorder struct{ errs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, format)
}

// The checker must report each kind of violation. These feed the
// collector's callbacks directly, in orders the runtime never produces.
func TestViolations(t *testing.T) {
	res := &hooksrt.Root{}
	for _, tc := range []struct {
		name string
		run  func(c *Collector)
		want string
	}{
		{"init twice", func(c *Collector) {
			c.init(10, "X", 1, res)
			c.init(10, "X", 1, res)
		}, "init called twice"},
		{"destroy twice", func(c *Collector) {
			c.init(10, "X", 1, res)
			c.event("destroy", 10)
			c.event("destroy", 10)
		}, "destroy called 2 times"},
		{"no init", func(c *Collector) {
			c.event("destroy", 10)
		}, "whose destroy hook was invoked but not its init hook"},
		{"after without before", func(c *Collector) {
			c.init(10, "X", 1, res)
			c.after(10)
		}, "after without before"},
		{"improper nesting", func(c *Collector) {
			c.init(10, "X", 1, res)
			c.init(11, "X", 1, res)
			c.before(10)
			c.before(11)
			c.after(10)
		}, "improper nesting"},
		{"before after destroy", func(c *Collector) {
			c.init(10, "X", 1, res)
			c.event("destroy", 10)
			c.before(10)
		}, "before after destroy"},
		{"unknown trigger", func(c *Collector) {
			c.init(10, "X", 9, res)
		}, "trigger 9 was never initialised"},
		{"no resource", func(c *Collector) {
			c.init(10, "X", 1, nil)
		}, "init received no resource object"},
		{"wrong identity", func(c *Collector) {
			// The test goroutine's context is 0, not 10.
			c.init(10, "X", 1, res)
			c.before(10)
		}, "ExecutionAsyncID() is 0 inside before"},
		{"promiseResolve before init", func(c *Collector) {
			c.init(10, "X", 1, res)
			c.mu.Lock()
			c.acts[10].PromiseResolve = []uint64{0}
			c.mu.Unlock()
		}, "promiseResolve came before init"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCollector(Options{})
			c.floor = 1 // as if enabled when the counter was at 1
			tc.run(c)
			v := strings.Join(c.Violations(), "\n")
			if !strings.Contains(v, tc.want) {
				t.Errorf("violations %q do not mention %q", v, tc.want)
			}
		})
	}
}

// Events the runtime delivers for real resources raise no violation, and
// resources from before the collector are ignored.
func TestCleanRun(t *testing.T) {
	before := hooksrt.NewAsyncResource("OLD", hooksrt.AsyncResourceOptions{RequireManualDestroy: true})
	c := NewCollector(Options{}).Enable()
	defer c.Disable()
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := hooksrt.NewAsyncResource("JOB", hooksrt.AsyncResourceOptions{})
			r.RunInAsyncScope(func() {
				inner := hooksrt.NewAsyncResource("INNER", hooksrt.AsyncResourceOptions{})
				inner.RunInAsyncScope(func() {})
				inner.EmitDestroy()
			})
			r.EmitDestroy()
		}()
	}
	wg.Wait()
	before.RunInAsyncScope(func() {})
	before.EmitDestroy()
	c.Check(t)
	if n := len(c.Activities("JOB")); n != 10 {
		t.Errorf("%d JOB activities, want 10", n)
	}
	if n := len(c.Activities("OLD")); n != 0 {
		t.Errorf("resource from before the collector was recorded")
	}
	for _, a := range c.Activities("JOB", "INNER") {
		CheckInvocations(t, a, Counts{"init": 1, "before": 1, "after": 1, "destroy": 1}, "end")
	}
}

func TestCheckInvocations(t *testing.T) {
	var r recorder
	CheckInvocations(&r, Activity{Init: []uint64{1}}, Counts{"init": 1, "destroy": 1}, "x")
	if len(r.errs) != 1 {
		t.Errorf("got %d errors, want 1 (destroy missing)", len(r.errs))
	}
	r = recorder{}
	CheckInvocations(&r, Activity{Init: []uint64{1}, Before: []uint64{2}}, Counts{"init": 1}, "x")
	if len(r.errs) != 1 {
		t.Errorf("got %d errors, want 1 (an unexpected before; zero is expressible)", len(r.errs))
	}
}

func TestVerifyGraph(t *testing.T) {
	c := NewCollector(Options{}).Enable()
	defer c.Disable()
	outer := hooksrt.NewAsyncResource("SERVER", hooksrt.AsyncResourceOptions{})
	outer.RunInAsyncScope(func() {
		tick := hooksrt.NewAsyncResource("TICK", hooksrt.AsyncResourceOptions{})
		tick.RunInAsyncScope(func() {
			hooksrt.NewAsyncResource("CONN", hooksrt.AsyncResourceOptions{}).EmitDestroy()
		})
		tick.EmitDestroy()
		hooksrt.NewAsyncResource("CONN", hooksrt.AsyncResourceOptions{}).EmitDestroy()
	})
	outer.EmitDestroy()

	good := []Node{
		{Type: "SERVER", ID: "server"},
		{Type: "CONN", ID: "conn:1", Trigger: "server"},
		{Type: "CONN", ID: "conn:2", Trigger: "server"},
	}
	var r recorder
	VerifyGraph(&r, c, good, "TICK")
	if len(r.errs) != 0 {
		t.Errorf("VerifyGraph reported %d errors for the right graph", len(r.errs))
	}
	r = recorder{}
	VerifyGraph(&r, c, good) // TICK not transparent: conn:1's trigger is TICK
	if len(r.errs) != 1 {
		t.Errorf("VerifyGraph reported %d errors, want 1 for the wrong trigger", len(r.errs))
	}
	r = recorder{}
	VerifyGraph(&r, c, append(good, Node{Type: "CONN", ID: "conn:3"}), "TICK")
	if len(r.errs) != 1 {
		t.Errorf("VerifyGraph reported %d errors, want 1 for a missing activity", len(r.errs))
	}
}
