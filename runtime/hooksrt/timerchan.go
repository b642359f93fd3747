//go:build go1.25

package hooksrt

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
	"weak"
)

// Timer and ticker channels. A time.Timer or time.Ticker created by
// instrumented code is a TIMER or TICKER resource; a receive from its
// channel is handled in the resource's scope, by the rules of a channel
// handoff (SEMANTICS.md §4). The channel belongs to package time, so its
// values cannot carry their resource as a tracked channel's do: the
// resource is found from the channel itself, in a table keyed by the
// channel's address and checked against a weak pointer to its timer, so
// that the table never keeps a timer alive and an address reused by a new
// channel is never taken for the old one. A TIMER is destroyed when its
// value has been handled, or by a Stop that returns true; a TICKER by its
// first Stop. A receive from a timer channel emits no promiseResolve: that
// event belongs to handoffs, the counterpart of promises.

const (
	typeTimer  = "TIMER"
	typeTicker = "TICKER"
)

// A chanTimer is the state of one timer or ticker created while tracking.
type chanTimer struct {
	mu     sync.Mutex
	res    *Resource // the pending resource; nil once a TIMER is destroyed
	ticker bool
	site   *Site
	timer  weak.Pointer[time.Timer]
	tick   weak.Pointer[time.Ticker]
}

var (
	chanTimers  sync.Map // channel address (uintptr) -> *chanTimer
	chanTimersN atomic.Int64
)

func chanKey(c <-chan time.Time) uintptr { return *(*uintptr)(unsafe.Pointer(&c)) }

// owns reports whether ct is the state of the timer whose channel is c:
// the timer is alive and c is its channel.
func (ct *chanTimer) owns(c <-chan time.Time) bool {
	if t := ct.timer.Value(); t != nil {
		return t.C == c
	}
	if t := ct.tick.Value(); t != nil {
		return t.C == c
	}
	return false
}

func lookupChanTimer(c <-chan time.Time) *chanTimer {
	if c == nil || chanTimersN.Load() == 0 {
		return nil
	}
	v, ok := chanTimers.Load(chanKey(c))
	if !ok {
		return nil
	}
	ct := v.(*chanTimer)
	if !ct.owns(c) {
		return nil
	}
	return ct
}

func newTimerResource(typ string, site *Site) *Resource {
	r := &Resource{Site: site}
	initCore(&r.core, typ, 0, r)
	return r
}

func registerChanTimer(c <-chan time.Time, ct *chanTimer, owner any) {
	key := chanKey(c)
	chanTimers.Store(key, ct)
	chanTimersN.Add(1)
	forget := func(key uintptr) {
		if chanTimers.CompareAndDelete(key, ct) {
			chanTimersN.Add(-1)
		}
		// A resource still pending when its timer is collected was never
		// handled nor stopped: it ends here, as an AsyncResource that
		// only the collector sees end.
		ct.end()
	}
	switch o := owner.(type) {
	case *time.Timer:
		runtime.AddCleanup(o, forget, key)
	case *time.Ticker:
		runtime.AddCleanup(o, forget, key)
	}
}

// NewTimer reports time.NewTimer: a TIMER resource is created at the call.
//
//	time.NewTimer(d)  =>  hooksrt.NewTimer(time.NewTimer, d, &site)
//
// Called by instrumented code.
func NewTimer(newTimer func(time.Duration) *time.Timer, d time.Duration, site *Site) *time.Timer {
	if !tracking.Load() {
		return newTimer(d)
	}
	res := newTimerResource(typeTimer, site)
	t := newTimer(d)
	ct := &chanTimer{res: res, site: site, timer: weak.Make(t)}
	registerChanTimer(t.C, ct, t)
	return t
}

// After reports time.After, which is time.NewTimer(d).C: a TIMER resource
// is created at the call.
//
//	time.After(d)  =>  hooksrt.After(time.After, d, &site)
//
// Called by instrumented code.
func After(after func(time.Duration) <-chan time.Time, d time.Duration, site *Site) <-chan time.Time {
	if !tracking.Load() {
		return after(d)
	}
	return NewTimer(time.NewTimer, d, site).C
}

// NewTicker reports time.NewTicker: a TICKER resource is created at the
// call and destroyed by the ticker's first Stop.
//
//	time.NewTicker(d)  =>  hooksrt.NewTicker(time.NewTicker, d, &site)
//
// Called by instrumented code.
func NewTicker(newTicker func(time.Duration) *time.Ticker, d time.Duration, site *Site) *time.Ticker {
	if !tracking.Load() {
		return newTicker(d)
	}
	t := newTicker(d) // panics on d <= 0, before any resource exists
	ct := &chanTimer{res: newTimerResource(typeTicker, site), ticker: true, site: site, tick: weak.Make(t)}
	registerChanTimer(t.C, ct, t)
	return t
}

// Tick reports time.Tick, which is time.NewTicker(d).C for d > 0 and nil
// otherwise.
//
//	time.Tick(d)  =>  hooksrt.Tick(time.Tick, d, &site)
//
// Called by instrumented code.
func Tick(tick func(time.Duration) <-chan time.Time, d time.Duration, site *Site) <-chan time.Time {
	if !tracking.Load() || d <= 0 {
		return tick(d)
	}
	return NewTicker(time.NewTicker, d, site).C
}

// StopTicker reports (*time.Ticker).Stop: the first Stop of a ticker
// created while tracking destroys its TICKER resource.
//
//	t.Stop()  =>  hooksrt.StopTicker(t)
//
// Called by instrumented code.
func StopTicker(t *time.Ticker) {
	t.Stop()
	if ct := lookupChanTimer(t.C); ct != nil {
		ct.end()
	}
}

// end destroys ct's pending resource, if any, without before or after.
func (ct *chanTimer) end() {
	ct.mu.Lock()
	r := ct.res
	ct.res = nil
	ct.mu.Unlock()
	if r != nil {
		destroy(&r.core)
	}
}

// stopChanTimer is StopTimer for a channel timer: a Stop that returns true
// cancels the pending TIMER, which is destroyed without before or after.
func stopChanTimer(t *time.Timer, ct *chanTimer) bool {
	ct.mu.Lock()
	stopped := t.Stop()
	var r *Resource
	if stopped {
		r, ct.res = ct.res, nil
	}
	ct.mu.Unlock()
	if r != nil {
		destroy(&r.core)
	}
	return stopped
}

// resetChanTimer is ResetTimer for a channel timer. A Reset of a timer
// that had expired or been stopped arms it anew: a new TIMER resource,
// triggered by the caller. (Since Go 1.23 such a Reset also discards a
// value not yet received, so the old resource, if still pending, is
// destroyed unhandled.)
func resetChanTimer(t *time.Timer, ct *chanTimer, d time.Duration) bool {
	ct.mu.Lock()
	pending := t.Reset(d)
	var old *Resource
	if !pending {
		old = ct.res
		ct.res = nil
		if tracking.Load() {
			ct.res = newTimerResource(typeTimer, ct.site)
		}
	}
	ct.mu.Unlock()
	if old != nil {
		destroy(&old.core)
	}
	return pending
}

// take returns the resource whose scope a receive of ct's value opens, and
// whether that scope's end destroys it (a TIMER's does: its value is
// handled; a TICKER lives on).
func (ct *chanTimer) take() (*Resource, bool) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	r := ct.res
	if r != nil && !ct.ticker {
		ct.res = nil
	}
	return r, !ct.ticker
}

// TimeChan is the type of a timer's or ticker's channel.
type TimeChan = <-chan time.Time

// TimeRecv reports a receive from the timer or ticker channel *p whose
// handling scope is empty: before and after at once (and destroy, for a
// TIMER). The rewriter keeps the channel of the receive in a variable, so
// that it is evaluated once:
//
//	<-c  =>  timeRecv(&tmp, <-keep(&tmp, c))
//
// where keep stores c in tmp and returns it, and timeRecv calls TimeRecv
// and returns the value received; both are declared in the companion
// file, as direct calls, so that tmp stays on the stack.
//
// Called by instrumented code.
func TimeRecv(p *TimeChan) {
	if ct := lookupChanTimer(*p); ct != nil {
		if r, once := ct.take(); r != nil {
			gs := before(&r.core)
			endScope(gs, r.id, once && r.destroyed.CompareAndSwap(false, true))
		}
	}
}

// EnterTime opens the handling scope of a value v received from a timer or
// ticker channel *p (see TimeRecv), as Enter does for a handoff, and
// returns v.
//
// Called by instrumented code.
func (s *Scope) EnterTime(p *TimeChan, v time.Time) time.Time {
	s.Exit()
	if ct := lookupChanTimer(*p); ct != nil {
		if r, once := ct.take(); r != nil {
			s.open(&r.core, once)
		}
	}
	return v
}
