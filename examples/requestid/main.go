// Requestid shows AsyncLocalStorage doing what Node's documentation
// recommends it for: a request id stored with Run at the top of an HTTP
// handler is visible in every goroutine, timer, handoff receiver and pool
// task that the request causes, and in every line they log.
//
// The program serves requests on a loopback port and sends itself
// -requests of them at once, each with its own id. The handler stores the
// id, logs, and fans out: a goroutine, a time.AfterFunc timer, a job sent
// to a long-lived worker goroutine over a channel, and a task submitted to
// a pool whose Submit is declared an async API with a directive. Every
// line goes through a log/slog handler wrapped by hooksslog, which adds
// the id (and the execution and trigger ids) to each record. At the end
// the program prints, per request, where its id was seen; a line logged
// with no id, or with another request's, is an error.
//
// The source is plain Go; asyncinstr instruments it:
//
//	asyncinstr go run ./examples/requestid
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
	"github.com/asyncinstr/asyncinstr/runtime/hooksslog"
)

// requestID holds the id of the request being served.
var requestID = hooksrt.NewAsyncLocalStorage[string]()

// logs collects every log line, as JSON.
var logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

type logWriter struct{}

func (logWriter) Write(p []byte) (int, error) {
	logs.mu.Lock()
	defer logs.mu.Unlock()
	return logs.buf.Write(p)
}

var log = slog.New(hooksslog.NewHandler(slog.NewJSONHandler(logWriter{}, nil), &hooksslog.Options{
	Stores: []hooksslog.Store{hooksslog.StoreOf("request", requestID)},
}))

// A Pool runs tasks on a fixed set of workers. Its queue is a slice under
// a lock, as in most pools, so no channel carries a task's context: the
// directive on Submit makes each task a resource created where it is
// submitted.
type Pool struct {
	mu    sync.Mutex
	cond  *sync.Cond
	queue []func()
}

func NewPool(workers int) *Pool {
	p := &Pool{}
	p.cond = sync.NewCond(&p.mu)
	for range workers {
		go p.work()
	}
	return p
}

func (p *Pool) work() {
	for {
		p.mu.Lock()
		for len(p.queue) == 0 {
			p.cond.Wait()
		}
		task := p.queue[0]
		p.queue = p.queue[1:]
		p.mu.Unlock()
		task()
	}
}

// Submit queues task to run on one of the pool's workers.
//
//asyncinstr:callback arg=task type=POOLTASK
func (p *Pool) Submit(task func()) {
	p.mu.Lock()
	p.queue = append(p.queue, task)
	p.mu.Unlock()
	p.cond.Signal()
}

var (
	pool = NewPool(2)
	jobs = make(chan func())
)

// handle serves one request: everything it causes logs the request's id.
func handle(w http.ResponseWriter, r *http.Request) {
	requestID.Run(r.URL.Query().Get("id"), func() {
		log.Info("handler")
		var wg sync.WaitGroup
		wg.Add(4)
		go func() {
			defer wg.Done()
			log.Info("goroutine")
		}()
		time.AfterFunc(time.Millisecond, func() {
			defer wg.Done()
			log.Info("timer")
		})
		jobs <- func() {
			defer wg.Done()
			log.Info("handoff receiver")
		}
		pool.Submit(func() {
			defer wg.Done()
			log.Info("pool task")
		})
		wg.Wait()
		id, _ := requestID.GetStore()
		io.WriteString(w, id)
	})
}

func main() {
	requests := flag.Int("requests", 8, "concurrent requests to send")
	flag.Parse()
	go func() {
		for job := range jobs {
			job()
		}
	}()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	go http.Serve(l, http.HandlerFunc(handle))

	var wg sync.WaitGroup
	for i := range *requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("req-%02d", i)
			resp, err := http.Get("http://" + l.Addr().String() + "/?id=" + id)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			defer resp.Body.Close()
			if body, _ := io.ReadAll(resp.Body); string(body) != id {
				fmt.Fprintf(os.Stderr, "request %s answered %q\n", id, body)
				os.Exit(1)
			}
		}()
	}
	wg.Wait()
	os.Exit(report())
}

// report prints, per request id, the places its lines were logged from,
// and returns 1 if a line had no id.
func report() int {
	logs.mu.Lock()
	defer logs.mu.Unlock()
	seen := map[string][]string{}
	status := 0
	for _, line := range strings.Split(strings.TrimSpace(logs.buf.String()), "\n") {
		var rec struct {
			Msg     string
			Request *string
			AsyncID uint64 `json:"async_id"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			fmt.Println("bad log line:", line)
			return 1
		}
		if rec.Request == nil {
			fmt.Printf("no request id: %s\n", line)
			status = 1
			continue
		}
		seen[*rec.Request] = append(seen[*rec.Request], rec.Msg)
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		slices.Sort(seen[id])
		fmt.Printf("%s: %s\n", id, strings.Join(seen[id], ", "))
	}
	return status
}
