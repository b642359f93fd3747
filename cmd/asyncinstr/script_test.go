package main

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/asyncinstr/asyncinstr/internal/cli"
)

// TestMain lets the test binary act as the asyncinstr command: testscript
// puts a program of that name on $PATH that re-executes this binary, which
// then runs the same entry point as main.go.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"asyncinstr": func() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScript runs the command-line tests in testdata/script, one txtar
// archive per topic. Scripts call the tool as `exec asyncinstr ...` and the
// go command as `exec go ...`.
//
// Besides what testscript sets, scripts see:
//
//	RUNTIME      the absolute directory of this checkout's runtime module,
//	             which -w and -o make instrumented modules require
//	TOOLDIR      the go command's tool directory (compile, link, ...)
//	HOME, GOPATH, GOMODCACHE, GOCACHE, GOPROXY
//	             as `go env` reports them here, so that the go command
//	             shares the caches (and needs no network for what they hold)
//	GOFLAGS=-mod=mod, GOSUMDB=off, GONOSUMDB, GOWORK=off, GOTOOLCHAIN=local
//	             so that no setting of the caller's changes how modules load
//
// and these commands:
//
//	exitcode N PROG ARGS... runs PROG as exec does and requires that it
//	                        exit with status N; `! exec` accepts any failure,
//	                        and asyncinstr's 1 (changes found) and 2 (error)
//	                        mean different things
//	checkmode PERM FILE...  each FILE has the permission bits PERM (octal)
var updateScripts = flag.Bool("update", false, "rewrite the files that cmp compares in testdata/script with the actual output")

func TestScript(t *testing.T) {
	runtimeDir, err := filepath.Abs(filepath.Join("..", "..", "runtime"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(runtimeDir, "go.mod")); err != nil {
		t.Fatalf("cannot find the runtime module: %v", err)
	}
	goEnv := goEnv(t, "GOPATH", "GOMODCACHE", "GOCACHE", "GOPROXY", "GONOSUMDB", "GOTOOLDIR")
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *updateScripts,
		Setup: func(env *testscript.Env) error {
			env.Setenv("RUNTIME", runtimeDir)
			env.Setenv("HOME", home)
			for k, v := range goEnv {
				if k == "GOTOOLDIR" {
					k = "TOOLDIR" // for scripts; the go command finds its own
				}
				env.Setenv(k, v)
			}
			env.Setenv("GOFLAGS", "-mod=mod")
			env.Setenv("GOSUMDB", "off")
			env.Setenv("GOWORK", "off")
			env.Setenv("GOTOOLCHAIN", "local")
			// The tool finds the runtime from its own source location;
			// a value inherited from the caller would hide that.
			env.Setenv("ASYNCINSTR_RUNTIME", "")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":  exitCode,
			"checkmode": checkMode,
		},
	})
}

// goEnv returns the values of the named go environment variables.
func goEnv(t *testing.T, names ...string) map[string]string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"env", "-json"}, names...)...).Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	env := map[string]string{}
	if err := json.Unmarshal(out, &env); err != nil {
		t.Fatalf("go env: %v", err)
	}
	return env
}

// checkMode implements `checkmode PERM FILE...`: each file's permission bits
// must be PERM, an octal number. Permissions are Unix ones: scripts guard
// the command with [unix].
func checkMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: checkmode PERM FILE...")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	if err != nil {
		ts.Fatalf("checkmode: bad mode %q: %v", args[0], err)
	}
	for _, file := range args[1:] {
		fi, err := os.Stat(ts.MkAbs(file))
		ts.Check(err)
		got := fi.Mode().Perm()
		switch {
		case neg && got == os.FileMode(want):
			ts.Fatalf("%s has mode %#o, want any other", file, got)
		case !neg && got != os.FileMode(want):
			ts.Fatalf("%s has mode %#o, want %#o", file, got, want)
		}
	}
}

// exitCode implements `exitcode N PROG ARGS...`: it runs PROG with ARGS,
// keeping its stdout and stderr for the commands that follow, and fails
// unless PROG exits with status N.
func exitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exitcode")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N PROG ARGS...")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: bad status %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}
