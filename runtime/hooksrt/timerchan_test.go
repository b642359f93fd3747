//go:build go1.25

package hooksrt_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
)

var (
	instrSiteNewTimer = hooksrt.Site{File: "timerchan_test.go", Line: 1, Func: "time.NewTimer"}
	instrSiteTicker   = hooksrt.Site{File: "timerchan_test.go", Line: 2, Func: "time.NewTicker"}
)

// A timer's value handled in a scope: init at NewTimer, before and after
// around the handling on the receiving goroutine, destroy at its end; no
// promiseResolve.
func TestInstrTimerChannel(t *testing.T) {
	c, rec := instrSetup(&instrSiteNewTimer)
	defer c.Disable()
	defer rec.disable()

	var tm *time.Timer
	var parent uint64
	instrInParent(rec, "P", func(p uint64) {
		parent = p
		tm = hooksrt.NewTimer(time.NewTimer, time.Millisecond, &instrSiteNewTimer)
	})
	var sc hooksrt.Scope
	sc.EnterTime(ptr(tm.C), <-tm.C)
	in := instrObserve()
	rec.mark("handled")
	sc.Exit()
	instrExpect(t, "NewTimer", rec.lines(), []string{
		"init TIMER r1 trigger=P exec=P on T",
		"before r1 exec=r1 on T",
		"handled exec=r1 on T",
		"after r1 exec=r1 on T",
		"destroy r1 on T",
	})
	instrCheckResource(t, rec.resource(t, "r1"), "TIMER", &instrSiteNewTimer, parent, in)
	if hooksrt.StopTimer(tm) {
		t.Errorf("Stop after the value was received returned true")
	}

	// Reset after it fired: a new TIMER, triggered by the caller of Reset;
	// its value received with an empty scope.
	instrInParent(rec, "Q", func(uint64) { hooksrt.ResetTimer(tm, time.Millisecond) })
	<-tm.C
	hooksrt.TimeRecv(ptr(tm.C))
	instrExpect(t, "Reset", rec.lines()[5:], []string{
		"init TIMER r2 trigger=Q exec=Q on T",
		"before r2 exec=r2 on T",
		"after r2 exec=r2 on T",
		"destroy r2 on T",
	})
	c.Check(t)
}

// A Stop that returns true destroys the pending TIMER without before or
// after; time.After is NewTimer(d).C.
func TestInstrTimerChannelStop(t *testing.T) {
	c, rec := instrSetup(&instrSiteNewTimer)
	defer c.Disable()
	defer rec.disable()

	tm := hooksrt.NewTimer(time.NewTimer, time.Hour, &instrSiteNewTimer)
	if !hooksrt.StopTimer(tm) {
		t.Fatalf("Stop of a pending timer returned false")
	}
	hooksrt.StopTimer(tm)
	after := hooksrt.After(time.After, time.Millisecond, &instrSiteNewTimer)
	<-after
	hooksrt.TimeRecv(&after)
	instrExpect(t, "Stop", rec.lines(), []string{
		"init TIMER r1 trigger=0 exec=0 on T",
		"destroy r1 on T",
		"init TIMER r2 trigger=0 exec=0 on T",
		"before r2 exec=r2 on T",
		"after r2 exec=r2 on T",
		"destroy r2 on T",
	})
	c.Check(t)
}

// A ticker: before and after around each handled tick, destroy at its
// first Stop only.
func TestInstrTickerChannel(t *testing.T) {
	c, rec := instrSetup(&instrSiteTicker)
	defer c.Disable()
	defer rec.disable()

	tk := hooksrt.NewTicker(time.NewTicker, time.Millisecond, &instrSiteTicker)
	var sc hooksrt.Scope
	for range 2 {
		sc.EnterTime(ptr(tk.C), <-tk.C)
		rec.mark("tick")
	}
	sc.Exit()
	hooksrt.StopTicker(tk)
	hooksrt.StopTicker(tk)
	instrExpect(t, "ticker", rec.lines(), []string{
		"init TICKER r1 trigger=0 exec=0 on T",
		"before r1 exec=r1 on T",
		"tick exec=r1 on T",
		"after r1 exec=r1 on T",
		"before r1 exec=r1 on T",
		"tick exec=r1 on T",
		"after r1 exec=r1 on T",
		"destroy r1 on T",
	})
	if hooksrt.Tick(time.Tick, 0, &instrSiteTicker) != nil {
		t.Errorf("Tick(0) is not nil")
	}
	c.Check(t)
}

// Receives from timer channels the runtime does not know (created while
// tracking was off, or by code that was not rewritten) emit nothing.
func TestInstrTimerChannelUnknown(t *testing.T) {
	hooksrt.ResetTracking()
	off := hooksrt.NewTimer(time.NewTimer, time.Millisecond, &instrSiteNewTimer)
	c, rec := instrSetup(&instrSiteNewTimer)
	defer c.Disable()
	defer rec.disable()
	plain := time.NewTimer(time.Millisecond)
	<-off.C
	hooksrt.TimeRecv(ptr(off.C))
	var sc hooksrt.Scope
	tmp := hooksrt.TimeChan(plain.C)
	sc.EnterTime(&tmp, <-tmp)
	sc.Exit()
	if got := rec.lines(); len(got) != 0 {
		t.Errorf("events for unknown timers: %q", got)
	}
	c.Check(t)
}

func ptr(c hooksrt.TimeChan) *hooksrt.TimeChan { return &c }

// A timer that fires but whose value nobody receives ends when the
// collector frees it: destroy without before or after, and the table
// forgets it.
func TestInstrTimerChannelCollected(t *testing.T) {
	c, rec := instrSetup(&instrSiteNewTimer)
	defer c.Disable()
	defer rec.disable()
	func() {
		hooksrt.After(time.After, time.Millisecond, &instrSiteNewTimer)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for rec.len() < 2 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	instrExpect(t, "collected", rec.lines(), []string{
		"init TIMER r1 trigger=0 exec=0 on T",
		"destroy r1 on g1",
	})
	c.Check(t)
}
