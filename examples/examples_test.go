// Package examples_test instruments each example with asyncinstr, in
// source mode and in compile-time mode, and runs it, checking the events it
// prints.
package examples_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/asyncinstr/asyncinstr/rewrite"
)

func TestExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs programs")
	}
	for _, tc := range []struct{ name, want string }{
		{"hooktree", `GOROUTINE(2): trigger: 1 execution: 1
before:  2
  Timeout(3): trigger: 2 execution: 2
after:   2
destroy: 2
before:  3
>>> 3
after:   3
destroy: 3
`},
		{"workerpool", `submitter 0: 4 jobs, each handled under the CHANSEND of its own send
submitter 1: 4 jobs, each handled under the CHANSEND of its own send
submitter 2: 4 jobs, each handled under the CHANSEND of its own send
12 results, each taken by main under the CHANSEND sent from its job's scope
`},
		{"requestid", `req-00: goroutine, handler, handoff receiver, pool task, timer
req-01: goroutine, handler, handoff receiver, pool task, timer
req-02: goroutine, handler, handoff receiver, pool task, timer
req-03: goroutine, handler, handoff receiver, pool task, timer
req-04: goroutine, handler, handoff receiver, pool task, timer
req-05: goroutine, handler, handoff receiver, pool task, timer
req-06: goroutine, handler, handoff receiver, pool task, timer
req-07: goroutine, handler, handoff receiver, pool task, timer
`},
		{"triggerid", `GOROUTINE(2): trigger: 1 execution: 1
CHANSEND(3): trigger: 1 execution: 1
GOROUTINE(4): trigger: 3 execution: 3
CHANSEND(5): trigger: 1 execution: 1
GOROUTINE(6): trigger: 5 execution: 5
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := instrumentAndRun(t, tc.name, nil, nil); got != tc.want {
				t.Errorf("instrumented %s printed:\n%s\nwant:\n%s", tc.name, got, tc.want)
			}
		})
		t.Run(tc.name+"/toolexec", func(t *testing.T) {
			cmd := exec.Command(asyncinstr(t), "go", "run", "./"+tc.name)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("asyncinstr go run: %v\n%s", err, stderr(err))
			}
			if got := string(out); got != tc.want {
				t.Errorf("%s built by asyncinstr go run printed:\n%s\nwant:\n%s", tc.name, got, tc.want)
			}
		})
	}
}

// TestWorkerpoolStress runs the worker pool with many submitters and
// workers on an unbuffered and a buffered channel, under the race
// detector, in both modes: the program fails if any job's handling, or any
// result's receipt, is attributed to another send than the one that
// produced its value, or if hook delivery breaks an invariant.
func TestWorkerpoolStress(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs programs")
	}
	for _, buffer := range []string{"0", "64"} {
		args := []string{"-submitters", "16", "-jobs", "200", "-workers", "8", "-buffer", buffer}
		want := "3200 results, each taken by main under the CHANSEND sent from its job's scope\n"
		t.Run("buffer="+buffer, func(t *testing.T) {
			t.Parallel()
			if got := instrumentAndRun(t, "workerpool", []string{"-race"}, args); !strings.HasSuffix(got, want) {
				t.Errorf("source mode printed:\n%s", got)
			}
		})
		t.Run("buffer="+buffer+"/toolexec", func(t *testing.T) {
			cmd := exec.Command(asyncinstr(t), append([]string{"go", "run", "-race", "./workerpool"}, args...)...)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("asyncinstr go run: %v\n%s%s", err, out, stderr(err))
			}
			if !strings.HasSuffix(string(out), want) {
				t.Errorf("compile-time mode printed:\n%s", out)
			}
		})
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if asyncinstrBin.path != "" {
		os.RemoveAll(filepath.Dir(asyncinstrBin.path))
	}
	os.Exit(code)
}

var asyncinstrBin struct {
	once sync.Once
	path string
	err  error
}

// asyncinstr builds the command once, for compile-time mode.
func asyncinstr(t *testing.T) string {
	asyncinstrBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "asyncinstr-examples")
		if err != nil {
			asyncinstrBin.err = err
			return
		}
		asyncinstrBin.path = filepath.Join(dir, "asyncinstr")
		out, err := exec.Command("go", "build", "-o", asyncinstrBin.path, "../cmd/asyncinstr").CombinedOutput()
		if err != nil {
			asyncinstrBin.err = fmt.Errorf("building asyncinstr: %v\n%s", err, out)
		}
	})
	if asyncinstrBin.err != nil {
		t.Fatal(asyncinstrBin.err)
	}
	return asyncinstrBin.path
}

func stderr(err error) []byte {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.Stderr
	}
	return nil
}

// instrumentAndRun copies an example into a module of its own that requires
// the runtime from this checkout, instruments it, and runs it.
// flags go to go run, before the package; args, after it.
func instrumentAndRun(t *testing.T, name string, flags, args []string) string {
	dir := instrumentCopy(t, name)
	cmd := exec.Command("go", append(append(append([]string{"run"}, flags...), "."), args...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, out)
	}
	return string(out)
}

// instrumentCopy copies an example into a module of its own that requires
// the runtime from this checkout, instruments it in source mode, and
// returns the module's directory.
func instrumentCopy(t *testing.T, name string) string {
	dir := t.TempDir()
	srcs, err := filepath.Glob(filepath.Join(name, "*.go"))
	if err != nil || len(srcs) == 0 {
		t.Fatalf("no sources for %s: %v", name, err)
	}
	for _, src := range srcs {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, filepath.Base(src)), data)
	}
	rt, err := filepath.Abs("../runtime")
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "go.mod"), []byte("module example.com/"+name+
		"\n\ngo 1.25\n\nrequire github.com/asyncinstr/asyncinstr/runtime v0.0.0\n\nreplace github.com/asyncinstr/asyncinstr/runtime => "+rt+"\n"))
	res, err := rewrite.Instrument(rewrite.Config{Dir: dir}, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) == 0 {
		t.Fatal("nothing was instrumented")
	}
	for _, c := range res.Changes {
		write(t, c.Path, c.New)
	}
	return dir
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o666); err != nil {
		t.Fatal(err)
	}
}

// TestRequestidRace runs requestid with 32 concurrent requests under the
// race detector, in both modes: every line that every request causes must
// carry that request's id, and no other.
func TestRequestidRace(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs programs")
	}
	var want strings.Builder
	for i := range 32 {
		fmt.Fprintf(&want, "req-%02d: goroutine, handler, handoff receiver, pool task, timer\n", i)
	}
	args := []string{"-requests", "32"}
	t.Run("source", func(t *testing.T) {
		t.Parallel()
		if got := instrumentAndRun(t, "requestid", []string{"-race"}, args); got != want.String() {
			t.Errorf("source mode printed:\n%s", got)
		}
	})
	t.Run("toolexec", func(t *testing.T) {
		cmd := exec.Command(asyncinstr(t), append([]string{"go", "run", "-race", "./requestid"}, args...)...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("asyncinstr go run: %v\n%s%s", err, out, stderr(err))
		}
		if string(out) != want.String() {
			t.Errorf("compile-time mode printed:\n%s", out)
		}
	})
}
