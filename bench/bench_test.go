package bench

import (
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
)

// als is the AsyncLocalStorage of the "als" configuration, nil otherwise.
var als *hooksrt.AsyncLocalStorage[int]

// TestMain sets the process up in the configuration ConfigEnv names:
//
//	plain, nohook  nothing: a plain build runs as written, a rewritten one
//	               with the runtime's API unused (tracking off)
//	tracking       tracking on (hooksrt.Track), no hook
//	als            every benchmark runs inside AsyncLocalStorage.Run, so
//	               every resource carries its store; nothing reads it
//	hooks4         four hooks enabled, each with five no-op callbacks
func TestMain(m *testing.M) {
	if err := configure(os.Getenv(ConfigEnv)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

func configure(config string) error {
	switch config {
	case "", "plain", "nohook":
	case "tracking":
		hooksrt.Track()
	case "als":
		als = hooksrt.NewAsyncLocalStorage[int]()
	case "hooks4":
		for i := 0; i < 4; i++ {
			hooksrt.CreateHook(hooksrt.Callbacks{
				Init:           func(id uint64, typ string, trigger uint64, resource any) {},
				Before:         func(id uint64) {},
				After:          func(id uint64) {},
				Destroy:        func(id uint64) {},
				PromiseResolve: func(id uint64) {},
			}).Enable()
		}
	default:
		return fmt.Errorf("%s=%q: want plain, nohook, tracking, als or hooks4", ConfigEnv, config)
	}
	return nil
}

// inConfig runs f as the configuration asks: inside als.Run in the als
// configuration, so that setup and workload alike carry the store.
func inConfig(f func()) {
	if als != nil {
		als.Run(1, f)
		return
	}
	f()
}

func BenchmarkSpawnJoin(b *testing.B) {
	inConfig(func() { SpawnJoin(b.N) })
}

func BenchmarkFanOut1000(b *testing.B) {
	inConfig(func() { FanOut(b.N) })
}

func BenchmarkAfterFunc(b *testing.B) {
	inConfig(func() { AfterFunc(b.N) })
}

func BenchmarkHandoffUnbuffered(b *testing.B) {
	inConfig(func() { Handoff(b.N, 0) })
}

func BenchmarkHandoffBuffered(b *testing.B) {
	inConfig(func() { Handoff(b.N, 64) })
}

func BenchmarkWorkerPool(b *testing.B) {
	inConfig(func() { WorkerPool(b.N) })
}

func BenchmarkHTTP(b *testing.B) {
	inConfig(func() {
		s, err := StartServer()
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
		defer client.CloseIdleConnections()
		if err := Get(client, s.URL, 1); err != nil { // the connection
			b.Fatal(err)
		}
		b.ResetTimer()
		if err := Get(client, s.URL, b.N); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
	})
}
