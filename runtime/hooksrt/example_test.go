//go:build go1.25

package hooksrt_test

import (
	"fmt"
	"sync"

	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
)

// A hook that prints the type of each resource and whether the root caused
// it. Examples run on the main goroutine, in the root context.
func ExampleCreateHook() {
	hook := hooksrt.CreateHook(hooksrt.Callbacks{
		Init: func(id uint64, typ string, trigger uint64, _ any) {
			fmt.Printf("init %s, trigger is root: %v\n", typ, trigger == 1)
		},
		Before: func(id uint64) { fmt.Println("before") },
		After:  func(id uint64) { fmt.Println("after") },
		Destroy: func(id uint64) {
			fmt.Println("destroy")
		},
	}).Enable()
	defer hook.Disable()

	r := hooksrt.NewAsyncResource("JOB", hooksrt.AsyncResourceOptions{})
	r.RunInAsyncScope(func() { fmt.Println("running the job") })
	r.EmitDestroy()
	// Output:
	// init JOB, trigger is root: true
	// before
	// running the job
	// after
	// destroy
}

// The main goroutine and package initialisation run in the root context.
func ExampleExecutionAsyncID() {
	fmt.Println(hooksrt.ExecutionAsyncID(), hooksrt.TriggerAsyncID())
	// Output: 1 0
}

// Inside RunInAsyncScope the resource's context is current, and the
// previous one comes back afterwards.
func ExampleAsyncResource_RunInAsyncScope() {
	r := hooksrt.NewAsyncResource("QUERY", hooksrt.AsyncResourceOptions{})
	defer r.EmitDestroy()
	r.RunInAsyncScope(func() {
		fmt.Println("inside:", hooksrt.ExecutionAsyncID() == r.AsyncID(), hooksrt.TriggerAsyncID())
	})
	fmt.Println("after:", hooksrt.ExecutionAsyncID())
	// Output:
	// inside: true 1
	// after: 1
}

// A worker pool reports each job as an AsyncResource, so that the code a
// worker runs is attributed to whoever submitted the job, not to the
// worker.
func ExampleAsyncResource_pool() {
	type job struct {
		res *hooksrt.AsyncResource
		fn  func()
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a worker that no instrumented code started: context 0
		defer wg.Done()
		for j := range jobs {
			j.res.RunInAsyncScope(j.fn)
			j.res.EmitDestroy()
		}
	}()

	submit := func(fn func()) {
		jobs <- job{hooksrt.NewAsyncResource("POOLJOB", hooksrt.AsyncResourceOptions{}), fn}
	}
	submitter := hooksrt.NewAsyncResource("REQUEST", hooksrt.AsyncResourceOptions{})
	submitter.RunInAsyncScope(func() {
		submit(func() {
			fmt.Println("job caused by the request:", hooksrt.TriggerAsyncID() == submitter.AsyncID())
		})
	})
	close(jobs)
	wg.Wait()
	submitter.EmitDestroy()
	// Output: job caused by the request: true
}

// Bind fixes a function's context when it is bound, like Node's static
// AsyncResource.bind.
func ExampleBind() {
	var bound func()
	r := hooksrt.NewAsyncResource("SETUP", hooksrt.AsyncResourceOptions{})
	r.RunInAsyncScope(func() {
		bound = hooksrt.Bind(func() {
			fmt.Println("bound in SETUP:", hooksrt.TriggerAsyncID() == r.AsyncID())
		})
	})
	bound() // called from the root context
	// Output: bound in SETUP: true
}

type requestKey struct{}

// State attached to the current resource with Set is read back in the
// resources it causes: the Go form of Node's
// executionAsyncResource()[symbol] = state pattern, used by hooks that
// propagate context.
func ExampleExecutionAsyncResource() {
	hook := hooksrt.CreateHook(hooksrt.Callbacks{
		Init: func(_ uint64, _ string, _ uint64, resource any) {
			parent := hooksrt.ExecutionAsyncResource().(hooksrt.Object)
			if v := parent.Get(requestKey{}); v != nil {
				resource.(hooksrt.Object).Set(requestKey{}, v)
			}
		},
	}).Enable()
	defer hook.Disable()

	req := hooksrt.NewAsyncResource("REQUEST", hooksrt.AsyncResourceOptions{})
	req.Set(requestKey{}, "GET /users")
	req.RunInAsyncScope(func() {
		job := hooksrt.NewAsyncResource("DBQUERY", hooksrt.AsyncResourceOptions{})
		job.RunInAsyncScope(func() {
			cur := hooksrt.ExecutionAsyncResource().(hooksrt.Object)
			fmt.Println("query for", cur.Get(requestKey{}))
		})
		job.EmitDestroy()
	})
	req.EmitDestroy()
	// Output: query for GET /users
}
