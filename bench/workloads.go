package bench

import (
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// The workloads are ordinary Go, written the way a program would write
// them: asyncinstr rewrites this file like any other, and the benchmarks
// in bench_test.go compare its plain and rewritten builds. Each function
// performs n operations. Joins use sync.WaitGroup, which no rule
// instruments, wherever a channel would add a handoff of its own: the
// go statement and the timer are measured alone.

// SpawnJoin starts n goroutines one after the other, each joined before
// the next starts: the cost of one go statement and its goroutine.
func SpawnJoin(n int) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go done(&wg)
		wg.Wait()
	}
}

// FanOutSize is the number of goroutines one FanOut operation starts.
const FanOutSize = 1000

// FanOut starts FanOutSize goroutines at once and waits for them all, n
// times over: one operation is a whole fan-out.
func FanOut(n int) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(FanOutSize)
		for j := 0; j < FanOutSize; j++ {
			go done(&wg)
		}
		wg.Wait()
	}
}

func done(wg *sync.WaitGroup) { wg.Done() }

// AfterFunc arms n timers of zero duration with time.AfterFunc, one after
// the other, and waits for each function to run.
func AfterFunc(n int) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		time.AfterFunc(0, wg.Done)
		wg.Wait()
	}
}

// Handoff sends n integers from a producer goroutine to a consumer
// goroutine over a channel with the given capacity (0: unbuffered), and
// returns their sum. One operation is one value handed over.
func Handoff(n, capacity int) int {
	ch := make(chan int, capacity)
	var sum int
	var wg sync.WaitGroup
	wg.Add(2)
	go produce(ch, n, &wg)
	go consume(ch, &sum, &wg)
	wg.Wait()
	return sum
}

func produce(ch chan<- int, n int, wg *sync.WaitGroup) {
	defer wg.Done()
	for i := 0; i < n; i++ {
		ch <- i
	}
	close(ch)
}

func consume(ch <-chan int, sum *int, wg *sync.WaitGroup) {
	defer wg.Done()
	for v := range ch {
		*sum += v
	}
}

// Pool sizes: each WorkerPool operation starts PoolWorkers workers and
// feeds them PoolJobs jobs through a channel of capacity PoolQueue.
const (
	PoolWorkers = 4
	PoolJobs    = 64
	PoolQueue   = 8
)

// WorkerPool runs n batches: each starts PoolWorkers goroutines that take
// jobs from a buffered channel until it is closed, sends PoolJobs jobs (a
// sum of 100 integers each), closes the channel and waits for the
// workers. It returns the grand total.
func WorkerPool(n int) int64 {
	var total atomic.Int64
	for i := 0; i < n; i++ {
		jobs := make(chan int, PoolQueue)
		var wg sync.WaitGroup
		wg.Add(PoolWorkers)
		for w := 0; w < PoolWorkers; w++ {
			go worker(jobs, &total, &wg)
		}
		for j := 0; j < PoolJobs; j++ {
			jobs <- j
		}
		close(jobs)
		wg.Wait()
	}
	return total.Load()
}

func worker(jobs <-chan int, total *atomic.Int64, wg *sync.WaitGroup) {
	defer wg.Done()
	for j := range jobs {
		s := 0
		for k := 0; k < 100; k++ {
			s += j + k
		}
		total.Add(int64(s))
	}
}

// Server is a loopback HTTP server whose handler answers "ok".
type Server struct {
	URL string
	srv *http.Server
	ln  net.Listener
}

// StartServer starts a Server on a free loopback port.
func StartServer() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + ln.Addr().String() + "/", ln: ln}
	s.srv = &http.Server{Handler: http.HandlerFunc(hello)}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

func hello(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, "ok")
}

// Get makes n requests to url one after the other through client, reading
// each body to the end, as a keep-alive client does.
func Get(client *http.Client, url string, n int) error {
	for i := 0; i < n; i++ {
		resp, err := client.Get(url)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
