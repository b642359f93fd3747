package benchrun

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/asyncinstr/asyncinstr/bench"
)

// Binaries are the programs one run measures.
type Binaries struct {
	Bench map[string]string // test binary of package bench, by build
	Micro string            // test binary of runtime/hooksrt
}

// Build compiles, in work, asyncinstr from the repository at root and the
// test binary of package bench three times: as written, from the
// instrumented copy that source mode writes, and through -toolexec; and
// the runtime's test binary. It then runs each bench binary's
// TestResources, which fails unless the instrumented builds create the
// resources each workload is meant to measure and the plain build none.
func Build(ctx context.Context, root, work string) (*Binaries, error) {
	tool := filepath.Join(work, "asyncinstr")
	src := filepath.Join(work, "src")
	b := &Binaries{
		Bench: map[string]string{},
		Micro: filepath.Join(work, "hooksrt.test"),
	}
	for _, build := range Builds {
		b.Bench[build] = filepath.Join(work, build+".test")
	}
	steps := []struct {
		dir  string
		args []string
	}{
		{root, []string{"go", "build", "-o", tool, "./cmd/asyncinstr"}},
		{root, []string{"go", "test", "-c", "-o", b.Bench["plain"], "./bench"}},
		{root, []string{tool, "-o", src, "./bench"}},
		{src, []string{"go", "test", "-c", "-o", b.Bench["source"], "./bench"}},
		{root, []string{tool, "go", "test", "-c", "-o", b.Bench["toolexec"], "./bench"}},
		{filepath.Join(root, "runtime"), []string{"go", "test", "-c", "-o", b.Micro, "./hooksrt"}},
	}
	if err := os.RemoveAll(src); err != nil {
		return nil, err
	}
	for _, s := range steps {
		if _, err := command(ctx, s.dir, nil, s.args...); err != nil {
			return nil, err
		}
	}
	for _, build := range Builds {
		env := []string{bench.BuildEnv + "=" + build}
		if _, err := command(ctx, root, env, b.Bench[build], "-test.run", "^TestResources$", "-test.count", "1"); err != nil {
			return nil, fmt.Errorf("the %s build does not create the resources it should measure: %w", build, err)
		}
	}
	return b, nil
}

// command runs args in dir with env added to the environment and returns
// its standard output; an error carries the command and its standard
// error.
func command(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		return nil, fmt.Errorf("%s (in %s): %v\n%s", strings.Join(args, " "), dir, err, msg)
	}
	return stdout.Bytes(), nil
}
