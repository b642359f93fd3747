//go:build go1.25

package hooksslog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
	"github.com/asyncinstr/asyncinstr/runtime/hooksslog"
)

var site = &hooksrt.Site{File: "hooksslog_test.go", Func: "test"}

// lockedBuffer is an io.Writer for loggers used by several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines(t *testing.T) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		m := map[string]any{}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		out = append(out, m)
	}
	return out
}

// Every line logged by the work a Run caused carries the store and the ids
// of the context it was logged in: a goroutine, a timer, a handoff
// receiver's scope, and code the rewriter did not see that has a ctx from
// hooksrt.WithContext.
func TestHandlerAddsContext(t *testing.T) {
	var buf lockedBuffer
	req := hooksrt.NewAsyncLocalStorage[string]()
	log := slog.New(hooksslog.NewHandler(slog.NewJSONHandler(&buf, nil), &hooksslog.Options{
		Stores: []hooksslog.Store{hooksslog.StoreOf("request", req)},
	}))
	type msg struct{ h *hooksrt.Handoff }
	ch := make(chan msg, 1)
	ids := make(chan [2]uint64, 4) // what each context reports about itself
	done := make(chan struct{}, 4)
	logHere := func(where string) {
		ids <- [2]uint64{hooksrt.ExecutionAsyncID(), hooksrt.TriggerAsyncID()}
		log.Info(where)
		done <- struct{}{}
	}
	var ctx context.Context
	req.Run("r-1", func() {
		go func(t *hooksrt.Task) {
			t.Begin()
			defer t.End()
			logHere("goroutine")
		}(hooksrt.Go(site))
		hooksrt.AfterFunc(time.AfterFunc, time.Millisecond, func() { logHere("timer") }, site)
		ch <- msg{hooksrt.Send(site)}
		ctx = hooksrt.WithContext(context.Background())
	})
	go func() { // a receiver of its own, in no context
		var sc hooksrt.Scope
		defer sc.Exit()
		m := <-ch
		sc.Enter(m.h)
		logHere("receiver")
	}()
	go func() { // code the rewriter did not see, with a ctx
		r, _ := hooksrt.FromContext(ctx)
		ids <- [2]uint64{r.AsyncID(), r.TriggerAsyncID()}
		log.InfoContext(ctx, "unseen")
		done <- struct{}{}
	}()
	want := map[[2]uint64]bool{}
	for range 4 {
		<-done
		want[<-ids] = true
	}
	log.Info("outside")
	lines := buf.lines(t)
	if len(lines) != 5 {
		t.Fatalf("%d lines, want 5", len(lines))
	}
	for _, l := range lines {
		msg := l["msg"]
		exec, trig := uint64(l["async_id"].(float64)), uint64(l["trigger_async_id"].(float64))
		if msg == "outside" {
			if _, ok := l["request"]; ok || exec != 0 {
				t.Errorf("a line outside the Run: %v", l)
			}
			continue
		}
		if l["request"] != "r-1" {
			t.Errorf("%s: request %v, want r-1", msg, l["request"])
		}
		if exec == 0 || !want[[2]uint64{exec, trig}] {
			t.Errorf("%s: ids %d/%d are not those of the context it ran in (%v)", msg, exec, trig, want)
		}
		delete(want, [2]uint64{exec, trig})
	}
}

// Options rename or drop the ids; WithAttrs and WithGroup keep wrapping.
func TestHandlerOptions(t *testing.T) {
	var buf lockedBuffer
	log := slog.New(hooksslog.NewHandler(slog.NewJSONHandler(&buf, nil), &hooksslog.Options{
		ExecutionKey: "eid", TriggerKey: "-",
	})).With("a", 1).WithGroup("g")
	log.Info("m", "b", 2)
	l := buf.lines(t)[0]
	g, _ := l["g"].(map[string]any)
	if l["a"] != 1.0 || g == nil || g["b"] != 2.0 || g["eid"] == nil || g["trigger_async_id"] != nil {
		t.Errorf("line %v", l)
	}
}

// With both ids dropped the handler passes records through unchanged, and
// must then satisfy the standard library's handler conformance tests.
func TestHandlerSlogtest(t *testing.T) {
	var buf bytes.Buffer
	h := hooksslog.NewHandler(slog.NewJSONHandler(&buf, nil), &hooksslog.Options{ExecutionKey: "-", TriggerKey: "-"})
	results := func() []map[string]any {
		var ms []map[string]any
		for _, line := range bytes.Split(buf.Bytes(), []byte{'\n'}) {
			if len(line) == 0 {
				continue
			}
			m := map[string]any{}
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatal(err)
			}
			ms = append(ms, m)
		}
		return ms
	}
	if err := slogtest.TestHandler(h, results); err != nil {
		t.Error(err)
	}
}
