//go:build go1.25

package hooksleak_test

import (
	"testing"
	"time"

	"github.com/asyncinstr/asyncinstr/runtime/hooksleak"
)

// A test that starts work it does not wait for fails, in a program that
// asyncinstr rewrote, with the site of each leftover resource and the chain
// of resources that caused it:
//
//	--- FAIL: TestRetry
//	    hooksleak: 1 resource was never destroyed:
//	    1 × Timeout created at retry.go:40 func literal in pkg.(*Client).retry (id 12)
//	    	caused by GOROUTINE 9 created at client.go:88 pkg.(*Client).Send
//	    	caused by UNKNOWN (a goroutine that asyncinstr did not start)
func ExampleCheck() {
	var t *testing.T // the test's
	hooksleak.Check(t, hooksleak.Timeout(time.Second), hooksleak.IgnoreTypes("TCPSERVERWRAP"))
	// ... the test ...
}

// All the tests of a package are checked together, which also works for
// tests that call t.Parallel.
func ExampleVerifyTestMain() {
	var m *testing.M // TestMain's
	hooksleak.VerifyTestMain(m)
}
