//go:build go1.25

package hooksrt_test

import (
	"context"
	"testing"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
	"github.com/asyncinstr/asyncinstr/runtime/hooksrt/hookstest"
)

// A library that the rewriter did not see: it runs callbacks on a goroutine
// of its own, started with a plain go statement, so they run in the unknown
// context and carry no store.
func bridgeLibrary(ctx context.Context, f func(context.Context)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(ctx)
	}()
	<-done
}

// The bridge carries the execution context and the stores through code the
// rewriter cannot see: RunContext enters the captured context, and the
// *Context readers use ctx's context where the goroutine's is unknown.
func TestBridgeThroughUnseenCode(t *testing.T) {
	c := hookstest.NewCollector(hookstest.Options{Types: []string{"CONTEXT"}}).Enable()
	defer c.Disable()
	als := hooksrt.NewAsyncLocalStorage[string]()
	var captured uint64
	var plain, run, runExec, viaCtx, viaCtxExec string
	var ctx context.Context
	alsGo(func() {
		als.Run("request-7", func() {
			captured = hooksrt.ExecutionAsyncID()
			ctx = hooksrt.WithContext(context.Background())
		})
	})
	r, ok := hooksrt.FromContext(ctx)
	if !ok || r.TriggerAsyncID() != captured {
		t.Fatalf("FromContext: %v %v, want a resource triggered by %d", r, ok, captured)
	}
	bridgeLibrary(ctx, func(ctx context.Context) {
		plain = alsStore(als)
		if v, ok := als.GetStoreContext(ctx); ok {
			viaCtx = v
		}
		if hooksrt.ExecutionAsyncIDContext(ctx) == r.AsyncID() && hooksrt.TriggerAsyncIDContext(ctx) == captured {
			viaCtxExec = "ctx's"
		}
		hooksrt.RunContext(ctx, func() {
			run = alsStore(als)
			if hooksrt.ExecutionAsyncID() == r.AsyncID() {
				runExec = "ctx's"
			}
		})
	})
	if plain != "-" || viaCtx != "request-7" || run != "request-7" || viaCtxExec != "ctx's" || runExec != "ctx's" {
		t.Errorf("in unseen code: GetStore %s, GetStoreContext %s, ids via ctx %q, RunContext store %s and id %q",
			plain, viaCtx, viaCtxExec, run, runExec)
	}
	c.Check(t)
}

// Where the goroutine's own context is known, it wins over ctx's for the
// readers; RunContext still enters ctx's. A ctx without a capture leaves
// everything as it is.
func TestBridgeOwnContextWins(t *testing.T) {
	als := hooksrt.NewAsyncLocalStorage[string]()
	var ctx context.Context
	als.Run("old", func() { ctx = hooksrt.WithContext(context.Background()) })
	var own, ownID, inRun string
	alsGo(func() {
		als.Run("new", func() {
			if v, _ := als.GetStoreContext(ctx); v == "new" {
				own = "own"
			}
			if hooksrt.ExecutionAsyncIDContext(ctx) == hooksrt.ExecutionAsyncID() {
				ownID = "own"
			}
			hooksrt.RunContext(ctx, func() { inRun = alsStore(als) })
		})
	})
	if own != "own" || ownID != "own" || inRun != "old" {
		t.Errorf("store %q, id %q, inside RunContext %s; want own, own, old", own, ownID, inRun)
	}

	called := false
	hooksrt.RunContext(context.Background(), func() { called = true })
	if !called {
		t.Error("RunContext without a capture did not call fn")
	}
	if _, ok := hooksrt.FromContext(context.Background()); ok {
		t.Error("FromContext found a capture in context.Background()")
	}
}
