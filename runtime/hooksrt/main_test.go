//go:build go1.25

package hooksrt_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// Child scenarios run in a fresh copy of the test binary, on its main
// goroutine, so they start in the root context (id 1) of a process whose
// tracking state and hooks are their own, and may end it (fatal errors).
// Register them from init functions in test files:
//
//	func init() { child("name", func() { ... }) }
//
// and run them with runChild.
var children = map[string]func(){}

func child(name string, fn func()) {
	if _, dup := children[name]; dup {
		panic("duplicate child scenario " + name)
	}
	children[name] = fn
}

const childEnv = "HOOKSRT_TEST_CHILD"

func TestMain(m *testing.M) {
	if name := os.Getenv(childEnv); name != "" {
		fn, ok := children[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "no child scenario %q\n", name)
			os.Exit(3)
		}
		fn()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChild runs the child scenario name in a new process and returns its
// standard output, standard error and exit status.
func runChild(t *testing.T, name string) (stdout, stderr string, code int) {
	t.Helper()
	if _, ok := children[name]; !ok {
		t.Fatalf("no child scenario %q", name)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+name)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("running child %s: %v", name, err)
	}
	return out.String(), errb.String(), code
}

// checkChild runs the child scenario name and fails the test unless it
// exits 0, writes nothing to standard error and prints exactly want.
func checkChild(t *testing.T, name, want string) {
	t.Helper()
	stdout, stderr, code := runChild(t, name)
	if code != 0 || stderr != "" || stdout != want {
		t.Errorf("child %s: exit %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s", name, code, stdout, want, stderr)
	}
}
