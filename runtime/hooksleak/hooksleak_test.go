//go:build go1.25

package hooksleak_test

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/asyncinstr/asyncinstr/runtime/hooksleak"
	"github.com/asyncinstr/asyncinstr/runtime/hooksrt"
)

const childEnv = "HOOKSLEAK_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		hooksleak.VerifyTestMain(m, hooksleak.Timeout(50*time.Millisecond))
	}
	os.Exit(m.Run())
}

var (
	outerSite = &hooksrt.Site{File: "leak.go", Line: 10, Func: "pkg.serve"}
	innerSite = &hooksrt.Site{File: "leak.go", Line: 20, Func: "pkg.handle"}
	timerSite = &hooksrt.Site{File: "leak.go", Line: 30, Func: "pkg.retry"}
)

// spawn starts f as a rewritten go statement at site does.
func spawn(site *hooksrt.Site, f func()) {
	go func(t *hooksrt.Task) {
		t.Begin()
		defer t.End()
		f()
	}(hooksrt.Go(site))
}

// leak starts a goroutine that starts n goroutines blocked on block.
func leak(n int, block chan struct{}) {
	started := make(chan struct{}, n)
	spawn(outerSite, func() {
		for range n {
			spawn(innerSite, func() {
				started <- struct{}{}
				<-block
			})
		}
	})
	for range n {
		<-started
	}
}

// fakeT records what a check reports, and runs its cleanups when asked.
type fakeT struct {
	testing.TB
	errors   []string
	cleanups []func()
}

func (f *fakeT) Helper()                      {}
func (f *fakeT) Cleanup(fn func())            { f.cleanups = append(f.cleanups, fn) }
func (f *fakeT) Errorf(s string, args ...any) { f.errors = append(f.errors, fmt.Sprintf(s, args...)) }
func (f *fakeT) end() string {
	for _, fn := range f.cleanups {
		fn()
	}
	return strings.Join(f.errors, "\n")
}

var ids = regexp.MustCompile(`(id|ids|GOROUTINE) [0-9, ]*[0-9]`)

func TestCheckReportsLeak(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	f := &fakeT{TB: t}
	hooksleak.Check(f, hooksleak.Timeout(20*time.Millisecond))
	leak(2, block)
	got := ids.ReplaceAllString(f.end(), "$1 N")
	want := `hooksleak: 2 resources were never destroyed:
2 × GOROUTINE created at leak.go:20 pkg.handle (ids N)
	caused by GOROUTINE N created at leak.go:10 pkg.serve
	caused by UNKNOWN (a goroutine that asyncinstr did not start)
`
	if got != want {
		t.Errorf("report:\n%s\nwant:\n%s", got, want)
	}
}

// TestCheckWaits checks that resources that end a little after the test
// are not leaks, and that those live before Check are not the test's.
func TestCheckWaits(t *testing.T) {
	before := make(chan struct{})
	leak(1, before)
	defer close(before)
	f := &fakeT{TB: t}
	hooksleak.Check(f)
	block := make(chan struct{})
	leak(3, block)
	fired := make(chan struct{})
	hooksrt.AfterFunc(time.AfterFunc, 30*time.Millisecond, func() { close(fired) }, timerSite)
	time.AfterFunc(50*time.Millisecond, func() { close(block) })
	if got := f.end(); got != "" {
		t.Errorf("reported resources that ended within the timeout:\n%s", got)
	}
	<-fired
}

func TestIgnore(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	f := &fakeT{TB: t}
	hooksleak.Check(f, hooksleak.Timeout(10*time.Millisecond), hooksleak.IgnoreTypes("GOROUTINE"))
	leak(1, block)
	f2 := &fakeT{TB: t}
	hooksleak.Check(f2, hooksleak.Timeout(10*time.Millisecond), hooksleak.Ignore(func(r hooksrt.LiveResource) bool { return r.Site == innerSite }))
	leak(1, block)
	if got := f.end(); got != "" {
		t.Errorf("IgnoreTypes: reported\n%s", got)
	}
	if got := f2.end(); got != "" {
		t.Errorf("Ignore: reported\n%s", got)
	}
}

// TestVerifyTestMain runs this package's tests again, in a child whose
// TestMain is VerifyTestMain, with a test that leaks.
func TestVerifyTestMain(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestLeakyChild$")
	cmd.Env = append(os.Environ(), childEnv+"=1", "GORACE=atexit_sleep_ms=0")
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("want exit status 1, got %v:\n%s", err, out)
	}
	want := "hooksleak: after the tests passed, 1 resource was never destroyed:\n1 × GOROUTINE created at leak.go:20 pkg.handle"
	if !strings.Contains(string(out), want) {
		t.Errorf("output:\n%s\nwant it to contain:\n%s", out, want)
	}
}

func TestLeakyChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("runs in TestVerifyTestMain's child")
	}
	leak(1, make(chan struct{}))
}
