// Workerpool feeds jobs to a pool of workers through one channel, and
// checks that each job's handling is attributed to the send that
// submitted it: the Go form of following a request through a queue.
//
// Several submitter goroutines send jobs on a shared channel; workers take
// them in the three forms SEMANTICS.md gives a handling scope (a range
// loop, a select clause, the rest of a for body after a receive), and send
// a result back on a second channel, which main receives. asyncinstr makes
// each send a CHANSEND resource that travels with its value, so:
//
//   - inside a worker's handling of a job, ExecutionAsyncID is the job's
//     CHANSEND resource and TriggerAsyncID is the submitter that sent it,
//     however many submitters and workers run at once;
//   - the result that the worker sends from there is triggered by the
//     job's resource, so main sees the whole chain: submitter, job, result.
//
// The program checks all of it, and the invariants of hook delivery
// (hookstest), and prints one line per submitter. The source is plain Go;
// asyncinstr instruments it:
//
//	asyncinstr go run ./examples/workerpool
//	asyncinstr go run -race ./examples/workerpool -submitters 16 -jobs 200 -workers 8 -buffer 0
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
	"github.com/asyncinstr/asyncinstr/runtime/hooksrt/hookstest"
)

// A job is submitted by one submitter, which records its own execution id
// in it.
type job struct {
	submitter int
	sender    uint64 // ExecutionAsyncID of the submitting goroutine
	n         int
}

// A result is what a worker saw while handling a job.
type result struct {
	job              job
	exec, trigger    uint64 // ExecutionAsyncID and TriggerAsyncID in the worker
	resource         string // the type of ExecutionAsyncResource there
	form             string // how the worker received the job
	recvExec, recvBy uint64 // main's ExecutionAsyncID and TriggerAsyncID when it took the result
}

type config struct {
	submitters, jobs, workers, buffer int
}

func main() {
	var cfg config
	flag.IntVar(&cfg.submitters, "submitters", 3, "goroutines that submit jobs")
	flag.IntVar(&cfg.jobs, "jobs", 4, "jobs per submitter")
	flag.IntVar(&cfg.workers, "workers", 3, "workers taking jobs")
	flag.IntVar(&cfg.buffer, "buffer", 2, "capacity of the jobs channel (0: unbuffered)")
	flag.Parse()
	if err := run(os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "workerpool:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, cfg config) error {
	collector := hookstest.NewCollector(hookstest.Options{}).Enable()
	defer collector.Disable()
	var mu sync.Mutex
	inits := map[uint64]string{} // CHANSEND and GOROUTINE ids -> "TYPE trigger"
	hook := hooksrt.CreateHook(hooksrt.Callbacks{
		Init: func(id uint64, typ string, trigger uint64, _ any) {
			mu.Lock()
			defer mu.Unlock()
			inits[id] = fmt.Sprint(typ, " ", trigger)
		},
	}).Enable()
	defer hook.Disable()

	jobs := make(chan job, cfg.buffer)
	results := make(chan result)
	quit := make(chan struct{})
	var workers sync.WaitGroup
	for i := range cfg.workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			switch i % 3 {
			case 0:
				rangeWorker(jobs, results)
			case 1:
				selectWorker(jobs, results, quit)
			case 2:
				loopWorker(jobs, results)
			}
		}()
	}
	var submitters sync.WaitGroup
	for s := range cfg.submitters {
		submitters.Add(1)
		go submit(s, cfg.jobs, jobs, &submitters)
	}
	go func() {
		submitters.Wait()
		close(jobs)
		close(quit)
	}()

	total := cfg.submitters * cfg.jobs
	var got []result
	for range total {
		r := <-results
		r.recvExec, r.recvBy = hooksrt.ExecutionAsyncID(), hooksrt.TriggerAsyncID()
		got = append(got, r)
	}
	workers.Wait()
	collector.Disable()
	hook.Disable()

	var errs []string
	handoffs := map[uint64]bool{}
	perSubmitter := make([]map[string]int, cfg.submitters)
	for i := range perSubmitter {
		perSubmitter[i] = map[string]int{}
	}
	for _, r := range got {
		j := r.job
		switch {
		case r.resource != "CHANSEND":
			errs = append(errs, fmt.Sprintf("job %d/%d handled in a %s, not its CHANSEND", j.submitter, j.n, r.resource))
		case inits[r.exec] != fmt.Sprint("CHANSEND ", j.sender):
			errs = append(errs, fmt.Sprintf("job %d/%d handled under %d (%s), not a send by its submitter %d", j.submitter, j.n, r.exec, inits[r.exec], j.sender))
		case r.trigger != j.sender:
			errs = append(errs, fmt.Sprintf("job %d/%d: TriggerAsyncID %d, want its submitter %d", j.submitter, j.n, r.trigger, j.sender))
		case handoffs[r.exec]:
			errs = append(errs, fmt.Sprintf("job %d/%d handled under %d, which another job was handled under too", j.submitter, j.n, r.exec))
		case inits[r.recvExec] != fmt.Sprint("CHANSEND ", r.exec) || r.recvBy != r.exec:
			errs = append(errs, fmt.Sprintf("result of job %d/%d taken under %d (%s, trigger %d), not a send from the job's scope %d", j.submitter, j.n, r.recvExec, inits[r.recvExec], r.recvBy, r.exec))
		}
		handoffs[r.exec] = true
		perSubmitter[j.submitter][r.form]++
	}
	errs = append(errs, collector.Violations()...)
	if len(errs) > 0 {
		sort.Strings(errs)
		if len(errs) > 10 {
			errs = append(errs[:10], fmt.Sprintf("... and %d more", len(errs)-10))
		}
		return fmt.Errorf("%d of %d jobs misattributed or hooks misdelivered:\n%s", len(errs), total, joinLines(errs))
	}
	for s, forms := range perSubmitter {
		n := 0
		for _, c := range forms {
			n += c
		}
		fmt.Fprintf(w, "submitter %d: %d jobs, each handled under the CHANSEND of its own send\n", s, n)
	}
	fmt.Fprintf(w, "%d results, each taken by main under the CHANSEND sent from its job's scope\n", total)
	return nil
}

func joinLines(s []string) string {
	out := ""
	for _, l := range s {
		out += "\t" + l + "\n"
	}
	return out
}

// submit sends n jobs, each carrying the submitter's execution id.
func submit(s, n int, jobs chan<- job, done *sync.WaitGroup) {
	defer done.Done()
	for i := range n {
		jobs <- job{submitter: s, sender: hooksrt.ExecutionAsyncID(), n: i}
	}
}

// handle reports what a worker sees while it handles j.
func handle(j job, form string) result {
	return result{job: j, exec: hooksrt.ExecutionAsyncID(), trigger: hooksrt.TriggerAsyncID(),
		resource: fmt.Sprint(resourceType(hooksrt.ExecutionAsyncResource())), form: form}
}

func resourceType(r any) string {
	if t, ok := r.(interface{ Type() string }); ok {
		return t.Type()
	}
	return fmt.Sprintf("%T", r)
}

func rangeWorker(jobs <-chan job, results chan<- result) {
	for j := range jobs {
		results <- handle(j, "range")
	}
}

func selectWorker(jobs <-chan job, results chan<- result, quit <-chan struct{}) {
	for {
		select {
		case j, ok := <-jobs:
			if !ok {
				return
			}
			results <- handle(j, "select")
		case <-quit:
			// The jobs channel is closed too; drain it.
			for j := range jobs {
				results <- handle(j, "range")
			}
			return
		}
	}
}

func loopWorker(jobs <-chan job, results chan<- result) {
	for {
		j, ok := <-jobs
		if !ok {
			return
		}
		results <- handle(j, "for body")
	}
}
