//go:build go1.25

// Package hooksleak fails tests that leave asynchronous work behind:
// goroutines still running, timers still armed, connections and requests
// still open, handed-off values nobody received. It is go.uber.org/goleak
// for the resources that asyncinstr tracks, and it says more than a stack
// can: where each leftover resource was created, and the chain of
// resources that caused it.
//
//	func TestServer(t *testing.T) {
//		hooksleak.Check(t)
//		...
//	}
//
// or, for every test of a package at once,
//
//	func TestMain(m *testing.M) { hooksleak.VerifyTestMain(m) }
//
// It sees the resources of rewritten code only (see hooksrt.WatchLeaks),
// and a resource that a test created but that ends a little after the
// test is not a leak: the check waits for it, up to a timeout. Like goleak,
// Check cannot tell parallel tests' resources apart; use VerifyTestMain in
// packages whose tests call t.Parallel.
package hooksleak

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
)

// An Option changes what a check reports.
type Option func(*config)

type config struct {
	timeout time.Duration
	ignore  []func(hooksrt.LiveResource) bool
}

// Timeout sets how long a check waits for the resources a test created to
// end before it reports them (default 2s).
func Timeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// IgnoreTypes leaves resources of the given types ("TCPSERVERWRAP",
// "TICKER", ...) out of the check.
func IgnoreTypes(types ...string) Option {
	return Ignore(func(r hooksrt.LiveResource) bool { return slices.Contains(types, r.Type) })
}

// Ignore leaves the resources for which ignore returns true out of the
// check.
func Ignore(ignore func(hooksrt.LiveResource) bool) Option {
	return func(c *config) { c.ignore = append(c.ignore, ignore) }
}

// A checker remembers the resources that were live when the check began.
type checker struct {
	config
	before map[uint64]bool
}

func start(opts []Option) *checker {
	hooksrt.WatchLeaks()
	c := &checker{config: config{timeout: 2 * time.Second}, before: map[uint64]bool{}}
	for _, o := range opts {
		o(&c.config)
	}
	for _, r := range hooksrt.LiveResources() {
		c.before[r.AsyncID] = true
	}
	return c
}

// left returns the resources created since the check began that are
// still live and not ignored.
func (c *checker) left() []hooksrt.LiveResource {
	var out []hooksrt.LiveResource
	for _, r := range hooksrt.LiveResources() {
		if !c.before[r.AsyncID] && !slices.ContainsFunc(c.ignore, func(f func(hooksrt.LiveResource) bool) bool { return f(r) }) {
			out = append(out, r)
		}
	}
	return out
}

// wait returns the resources still left once the timeout has passed, or
// none as soon as there are none. Between looks it collects garbage, which
// destroys the resources that end when collected.
func (c *checker) wait() []hooksrt.LiveResource {
	deadline := time.Now().Add(c.timeout)
	for pause := time.Millisecond; ; pause = min(2*pause, 100*time.Millisecond) {
		left := c.left()
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		runtime.GC()
		time.Sleep(pause)
	}
}

// Check makes t fail, when it and its subtests end, if resources that were
// created after Check and are not ignored are still live Timeout later.
// Call it first thing in the test.
func Check(t testing.TB, opts ...Option) {
	t.Helper()
	c := start(opts)
	t.Cleanup(func() {
		if left := c.wait(); len(left) > 0 {
			t.Errorf("hooksleak: %s", hooksrt.LeakReport(left))
		}
	})
}

// VerifyTestMain runs m's tests and exits the process. When they pass but
// left resources live, it prints the report and the status is 1. It ends
// through hooksrt.Exit, so a trace that ASYNCINSTR_TRACE asked for is
// complete.
func VerifyTestMain(m *testing.M, opts ...Option) {
	c := start(opts)
	code := m.Run()
	if code == 0 {
		if left := c.wait(); len(left) > 0 {
			fmt.Fprintf(os.Stderr, "hooksleak: after the tests passed, %s", hooksrt.LeakReport(left))
			code = 1
		}
	}
	hooksrt.Exit(os.Exit, code, nil)
}
