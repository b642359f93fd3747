// Package toolexec is asyncinstr's compile-time mode. Given
// -toolexec=asyncinstr, the go command runs every tool of a build as
// "asyncinstr /path/to/tool args...": this package answers those
// invocations.
//
//   - compile of a package outside the standard library and the runtime
//     module: the package is type-checked against the export data its
//     importcfg names, rewritten by package rewrite with the same rules
//     as source mode, and compiled from copies in the build's work
//     directory. Each copy starts with a //line directive naming the file
//     it was made from, and no rewrite moves a line, so every position
//     (compiler errors, panics, runtime.Caller, coverage) is the
//     original's. The companion file is added to the compile, and the
//     runtime package to its importcfg.
//   - link: the runtime and its dependencies are added to importcfg.link.
//   - compile -V=full and link -V=full: the tool's answer, with a
//     fingerprint of everything that changes the output appended, so that
//     the build cache keeps instrumented and plain builds apart and
//     rebuilds when asyncinstr, its rules or its runtime change.
//   - everything else runs unchanged.
//
// The runtime archives come from one "go list -export" of the runtime,
// run with the flags of the go command that started the build (see
// runtime.go), so that they are the very cache entries the build itself
// would produce.
package toolexec

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/asyncinstr/asyncinstr/internal/runtimesrc"
	"github.com/asyncinstr/asyncinstr/rules"
)

// Environment variables that asyncinstr reads in compile-time mode.
const (
	// RulesEnv selects the rules, as -rules does in source mode.
	RulesEnv = "ASYNCINSTR_RULES"
	// GoEnv describes the go command that runs the build (its working
	// directory and arguments, as JSON); "asyncinstr go" sets it. Without
	// it, they are read from the parent process.
	GoEnv = "ASYNCINSTR_GO"
	// nestedEnv marks the go list that builds the runtime: its tools run
	// unchanged, apart from the -V=full fingerprint that lets it share the
	// build's cache entries.
	nestedEnv = "ASYNCINSTR_NESTED"
)

// Is reports whether args (the command's arguments) are a toolexec
// invocation: the go command sets TOOLEXEC_IMPORTPATH for the tools of a
// package, asks each tool (and the C compiler) for its version without it,
// and names its own tools by absolute path.
func Is(args []string) bool {
	if len(args) == 0 {
		return false
	}
	if _, ok := os.LookupEnv("TOOLEXEC_IMPORTPATH"); ok {
		return true
	}
	if len(args) >= 2 && (args[1] == "-V=full" || args[1] == "-###") {
		return true
	}
	// Some tools (preprofile, say) run without TOOLEXEC_IMPORTPATH; they
	// are named by absolute path, which no package pattern is.
	st, err := os.Stat(args[0])
	return filepath.IsAbs(args[0]) && err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// Main answers one toolexec invocation and returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	tool := toolName(args[0])
	var err error
	switch {
	case len(args) == 2 && args[1] == "-V=full" && (tool == "compile" || tool == "link"):
		err = version(args, stdout, stderr)
	case os.Getenv(nestedEnv) != "":
		return run(args, stdout, stderr)
	case tool == "compile":
		return compile(args, stdout, stderr)
	case tool == "link":
		return link(args, stdout, stderr)
	default:
		return run(args, stdout, stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "asyncinstr: %v\n", err)
		return 1
	}
	return 0
}

// Flag returns the go command's -toolexec flag that runs exe, quoted as the
// go command splits it when the path has spaces.
func Flag(exe string) string {
	if strings.ContainsAny(exe, " \t'\"") {
		return "-toolexec=" + strconv.Quote(exe)
	}
	return "-toolexec=" + exe
}

func toolName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), ".exe")
}

// run runs a tool as given and returns its exit status.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.Exited() {
			return ee.ExitCode()
		}
		fmt.Fprintf(stderr, "asyncinstr: %v\n", err)
		return 1
	}
	return 0
}

// version answers "tool -V=full". The go command keys the build cache on
// this line (the whole line for a release toolchain, the content part of
// the buildID field for a development one), so the fingerprint goes where
// it will be read.
func version(args []string, stdout, stderr io.Writer) error {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%s -V=full: %w", args[0], err)
	}
	fp, err := Fingerprint()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, markVersion(string(out), fp))
	return err
}

// markVersion adds the fingerprint fp to a -V=full answer.
func markVersion(out, fp string) string {
	line := strings.TrimRight(out, "\n")
	f := strings.Fields(line)
	if len(f) >= 3 && f[2] == "devel" && strings.HasPrefix(f[len(f)-1], "buildID=") {
		return line + "-asyncinstr" + fp // extends the buildID field
	}
	return line + " asyncinstr=" + fp
}

var fingerprint = sync.OnceValues(func() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding the asyncinstr binary: %w", err)
	}
	exeHash, err := fileHash(exe)
	if err != nil {
		return "", fmt.Errorf("fingerprinting the asyncinstr binary: %w", err)
	}
	dir, err := runtimesrc.Dir()
	if err != nil {
		return "", err
	}
	rt, err := runtimesrc.Hash(dir)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "asyncinstr %s\nruntime %s\nrules %s\n", exeHash, rt, os.Getenv(RulesEnv))
	// The rules files of the main modules change what compiles produce,
	// so they are part of the fingerprint: an edit rebuilds.
	if g, err := parentGo(); err == nil {
		for _, root := range g.mainModules() {
			if src, err := os.ReadFile(filepath.Join(root, rules.FileName)); err == nil {
				fmt.Fprintf(h, "%s %x\n", root, sha256.Sum256(src))
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
})

// fileHash returns the SHA-256 of a file. The go command asks for -V=full
// once per tool per build, and hashing the binary is most of the cost of
// the answer, so the hash is kept in the cache directory under the file's
// path, size, modification time and inode.
func fileHash(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	key := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d\x00%s", path, st.Size(), st.ModTime().UnixNano(), fileID(st)))
	memo := filepath.Join(cacheDir(), "exe-"+hex.EncodeToString(key[:16]))
	if data, err := os.ReadFile(memo); err == nil && len(data) == 64 {
		return string(data), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if os.MkdirAll(cacheDir(), 0o777) == nil {
		tmp := fmt.Sprintf("%s.%d.tmp", memo, os.Getpid())
		if os.WriteFile(tmp, []byte(sum), 0o666) == nil {
			os.Rename(tmp, memo)
		}
	}
	return sum, nil
}

// Fingerprint identifies what makes an instrumented build's output: this
// binary, the runtime's sources and the selected rules. The -V=full
// answers carry it.
func Fingerprint() (string, error) { return fingerprint() }
