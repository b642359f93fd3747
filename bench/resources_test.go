package bench

import (
	"net/http"
	"os"
	"sync"
	"testing"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
)

// TestResources checks that each workload creates the resources it is
// meant to measure when the package is rewritten, and none when it is
// not: a benchmark of code the rewriter missed would measure nothing.
func TestResources(t *testing.T) {
	instrumented := false
	switch b := os.Getenv(BuildEnv); b {
	case "", "plain":
	case "source", "toolexec":
		instrumented = true
	default:
		t.Fatalf("%s=%q: want plain, source or toolexec", BuildEnv, b)
	}
	var mu sync.Mutex
	var counts map[string]int
	h := hooksrt.CreateHook(hooksrt.Callbacks{
		Init: func(id uint64, typ string, trigger uint64, resource any) {
			mu.Lock()
			counts[typ]++
			mu.Unlock()
		},
	})
	h.Enable()
	defer h.Disable()
	for _, w := range []struct {
		name string
		run  func(t *testing.T)
		want map[string]int // at least this many inits of each type
	}{
		{"SpawnJoin", func(*testing.T) { SpawnJoin(10) }, map[string]int{"GOROUTINE": 10}},
		{"FanOut", func(*testing.T) { FanOut(1) }, map[string]int{"GOROUTINE": FanOutSize}},
		{"AfterFunc", func(*testing.T) { AfterFunc(10) }, map[string]int{"Timeout": 10}},
		{"HandoffUnbuffered", func(*testing.T) { Handoff(10, 0) }, map[string]int{"GOROUTINE": 2, "CHANSEND": 10}},
		{"HandoffBuffered", func(*testing.T) { Handoff(10, 64) }, map[string]int{"GOROUTINE": 2, "CHANSEND": 10}},
		{"WorkerPool", func(*testing.T) { WorkerPool(1) }, map[string]int{"GOROUTINE": PoolWorkers, "CHANSEND": PoolJobs}},
		{"HTTP", func(t *testing.T) {
			s, err := StartServer()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			if err := Get(client, s.URL, 3); err != nil {
				t.Fatal(err)
			}
		}, map[string]int{"TCPSERVERWRAP": 1, "HTTPINCOMINGMESSAGE": 3, "HTTPCLIENTREQUEST": 3}},
	} {
		t.Run(w.name, func(t *testing.T) {
			mu.Lock()
			counts = map[string]int{}
			mu.Unlock()
			w.run(t)
			mu.Lock()
			defer mu.Unlock()
			if !instrumented {
				if len(counts) != 0 {
					t.Errorf("plain build created resources: %v", counts)
				}
				return
			}
			for typ, n := range w.want {
				if counts[typ] < n {
					t.Errorf("%d %s resources, want at least %d (all: %v)", counts[typ], typ, n, counts)
				}
			}
		})
	}
}
