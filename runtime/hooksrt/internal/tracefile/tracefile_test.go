package tracefile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type jsonEvent struct {
	Name string         `json:"name"`
	Cat  string         `json:"cat"`
	Ph   string         `json:"ph"`
	TS   float64        `json:"ts"`
	Pid  int            `json:"pid"`
	Tid  uint64         `json:"tid"`
	ID   uint64         `json:"id"`
	Args map[string]any `json:"args"`
}

func decode(t *testing.T, data []byte) []jsonEvent {
	t.Helper()
	var evs []jsonEvent
	if err := json.Unmarshal(data, &evs); err != nil {
		t.Fatalf("trace is not a JSON array of events: %v\n%s", err, data)
	}
	return evs
}

func TestEvents(t *testing.T) {
	var buf bytes.Buffer
	w := New(&buf, 42, "prog")
	w.Init(1, 2, 1, "GOROUTINE", &Site{File: "main.go", Line: 12, Func: "main.worker"})
	w.Thread(7, "main.worker")
	w.Before(7, 2, "GOROUTINE")
	w.Resolve(7, 2)
	w.After(7)
	w.Destroy(7, 2, "GOROUTINE")
	w.Init(7, 3, 2, "Timeout", nil)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w.After(7) // dropped: closed
	evs := decode(t, buf.Bytes())
	var got []string
	for _, e := range evs {
		s := fmt.Sprintf("%s %s/%s tid=%d", e.Ph, e.Cat, e.Name, e.Tid)
		if e.ID != 0 {
			s += fmt.Sprintf(" id=%d", e.ID)
		}
		for _, k := range []string{"async_id", "trigger_async_id", "site", "name"} {
			if v, ok := e.Args[k]; ok {
				s += fmt.Sprintf(" %s=%v", k, v)
			}
		}
		if e.Pid != 42 {
			t.Errorf("pid %d in %s", e.Pid, s)
		}
		got = append(got, s)
	}
	want := []string{
		"M /process_name tid=0 name=prog",
		"X init/GOROUTINE tid=1 async_id=2 trigger_async_id=1 site=main.go:12 main.worker",
		"s flow/trigger tid=1 id=2",
		"b resource/GOROUTINE tid=1 id=2 trigger_async_id=1",
		"M /thread_name tid=7 name=goroutine 7 (main.worker)",
		"B run/GOROUTINE tid=7 async_id=2",
		"t flow/trigger tid=7 id=2",
		"i resolve/promiseResolve tid=7 async_id=2",
		"E / tid=7",
		"e resource/GOROUTINE tid=7 id=2",
		"X init/Timeout tid=7 async_id=3 trigger_async_id=2",
		"s flow/trigger tid=7 id=3",
		"b resource/Timeout tid=7 id=3 trigger_async_id=2",
		"M /trace_end tid=0",
	}
	// Only each goroutine's lines are in order: a slow run may write one
	// goroutine's buffer out before another's.
	if g, w := byTid(got), byTid(want); !reflect.DeepEqual(g, w) || got[0] != want[0] || got[len(got)-1] != want[len(want)-1] {
		t.Errorf("events:\n%s\nwant, in this order for each tid:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := evs[len(evs)-1].Args["events"]; n != float64(len(evs)-2) {
		t.Errorf("trace_end counts %v events, want %d", n, len(evs)-2)
	}
}

// byTid groups lines that say "tid=N" by N, in order.
func byTid(lines []string) map[string][]string {
	m := map[string][]string{}
	for _, l := range lines {
		_, rest, _ := strings.Cut(l, " tid=")
		tid, _, _ := strings.Cut(rest, " ")
		m[tid] = append(m[tid], l)
	}
	return m
}

// TestStrings checks the JSON escaping against encoding/json's reading.
func TestStrings(t *testing.T) {
	for _, s := range []string{"", `a"b\c`, "tab\tnl\n\x00\x1f\x7f", "héllo, 世界", "bad\xffutf8", "</script>"} {
		b := appendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("%q: %s does not decode: %v", s, b, err)
			continue
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if got != want {
			t.Errorf("%q: round trip gives %q", s, got)
		}
	}
}

// TestConcurrent checks that events from many goroutines interleave into a
// valid file in which each goroutine's events keep their order, and that
// the buffers are written out as they fill.
func TestConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.json")
	w, err := Create(path, 1, "concurrent")
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, runs = 8, 2000
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			tid := uint64(100 + g)
			for i := 0; i < runs; i++ {
				id := uint64(g*runs + i + 2)
				w.Init(tid, id, 1, "GOROUTINE", &Site{File: "f.go", Line: i})
				w.Before(tid, id, "GOROUTINE")
				w.After(tid)
				w.Destroy(tid, id, "GOROUTINE")
			}
		}(g)
	}
	wg.Wait()
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Errorf("nothing written before Close (size %v, %v): buffers must stay bounded", fi.Size(), err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	evs := decode(t, data)
	if want := 2 + goroutines*runs*7; len(evs) != want {
		t.Fatalf("%d events, want %d", len(evs), want)
	}
	last := map[uint64]float64{}
	depth := map[uint64]int{}
	for _, e := range evs {
		if e.TS < last[e.Tid] {
			t.Fatalf("tid %d goes back in time: %v after %v", e.Tid, e.TS, last[e.Tid])
		}
		last[e.Tid] = e.TS
		switch e.Ph {
		case "B":
			depth[e.Tid]++
		case "E":
			if depth[e.Tid]--; depth[e.Tid] < 0 {
				t.Fatalf("tid %d: E without B", e.Tid)
			}
		}
	}
}

// TestPeriodicFlush checks that a trace that is never closed (a program
// that dies) holds its events after FlushEvery and reads as a trace.
func TestPeriodicFlush(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.json")
	w, err := Create(path, 1, "crash")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Init(1, 2, 1, "GOROUTINE", nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(path)
		if bytes.Contains(data, []byte(`"b"`)) {
			// A reader that allows the missing "]" (as Perfetto does).
			evs := decode(t, append(data, ']'))
			if len(evs) != 4 {
				t.Errorf("%d events, want 4", len(evs))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("events not written within 10s of FlushEvery:\n%s", data)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkEvent measures recording one hook event into a trace written
// to io.Discard, from all Ps at once: a goroutine's life (init, before,
// after, destroy) is four such events, written as seven lines.
func BenchmarkEvent(b *testing.B) {
	w := New(io.Discard, 1, "bench")
	site := &Site{File: "main.go", Line: 12, Func: "main.worker"}
	var next atomic.Uint64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		tid := next.Add(1)
		id := tid << 32
		for pb.Next() {
			id++
			switch id % 4 {
			case 0:
				w.Init(tid, id, 1, "GOROUTINE", site)
			case 1:
				w.Before(tid, id, "GOROUTINE")
			case 2:
				w.After(tid)
			default:
				w.Destroy(tid, id, "GOROUTINE")
			}
		}
	})
	b.StopTimer()
	w.Close()
}
