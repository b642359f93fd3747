package examples_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The server examples run in both modes with real clients over loopback:
// each is built (with -race), started on a free port of 127.0.0.1, and
// talked to by this test.

// buildServer builds an example into an executable, instrumented in
// source mode or in compile-time mode.
func buildServer(t *testing.T, name string, toolexec bool) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	var cmd *exec.Cmd
	if toolexec {
		cmd = exec.Command(asyncinstr(t), "go", "build", "-race", "-o", bin, "./"+name)
	} else {
		cmd = exec.Command("go", "build", "-race", "-o", bin, ".")
		cmd.Dir = instrumentCopy(t, name)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", name, err, out)
	}
	return bin
}

// startServer starts bin and returns the address it listens on and a
// function that waits for it to exit and returns its standard output.
func startServer(t *testing.T, bin string, args ...string) (addr string, wait func() string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	t.Cleanup(func() { timer.Stop(); cmd.Process.Kill() })
	r := bufio.NewReader(stderr)
	line, err := r.ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		t.Fatalf("%s printed %q (%v) instead of its address", bin, line, err)
	}
	var rest bytes.Buffer
	var copied sync.WaitGroup
	copied.Go(func() { io.Copy(&rest, r) })
	return addr, func() string {
		copied.Wait()
		if err := cmd.Wait(); err != nil {
			t.Fatalf("%s: %v\n%s", bin, err, rest.String())
		}
		return stdout.String()
	}
}

func TestTCPServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs programs")
	}
	for _, mode := range []string{"source", "toolexec"} {
		t.Run(mode, func(t *testing.T) {
			addr, wait := startServer(t, buildServer(t, "tcpserver", mode == "toolexec"), "-conns", "2")
			// One client at a time, so that the ids are the same each run.
			for range 2 {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(c)
				c.Close()
				if err != nil || string(b) != "hello from "+addr+"\n" {
					t.Errorf("the server said %q (%v)", b, err)
				}
			}
			want := `TCPSERVERWRAP(2): trigger: 1 execution: 1
TCPWRAP(3): trigger: 2 execution: 1
GOROUTINE(4): trigger: 2 execution: 2
TCPWRAP(5): trigger: 2 execution: 1
GOROUTINE(6): trigger: 2 execution: 2
`
			if got := wait(); got != want {
				t.Errorf("tcpserver printed:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestHTTPState(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs programs")
	}
	const requests = 16
	for _, mode := range []string{"source", "toolexec"} {
		t.Run(mode, func(t *testing.T) {
			addr, wait := startServer(t, buildServer(t, "httpstate", mode == "toolexec"), "-requests", fmt.Sprint(requests))
			// All at once: each timer must find its own request's state.
			var wg sync.WaitGroup
			for i := range requests {
				wg.Go(func() {
					path := fmt.Sprintf("/request/%d", i)
					resp, err := http.Get("http://" + addr + path)
					if err != nil {
						t.Error(err)
						return
					}
					defer resp.Body.Close()
					var got struct{ State string }
					if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || got.State != path {
						t.Errorf("GET %s: state %q (%v)", path, got.State, err)
					}
				})
			}
			wg.Wait()
			wait()
		})
	}
}
