package corpus_test

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	corpusFlag = flag.String("corpus", "", "comma-separated short names of the corpus modules to test (sync, ants, yamux, websocket, gocron, clockwork, fasthttp, memberlist), or all; empty skips TestCorpus")
	raceFlag   = flag.Bool("corpus.race", false, "run the corpus modules' tests with -race, plainly and instrumented")
)

// module is one third-party module of the corpus.
type module struct {
	path, version string
	name          string   // short name, for -corpus
	flags         []string // extra go test flags
	raceFlags     []string // extra go test flags under -race only
	// rules, if not empty, is written to the module's asyncinstr.rules:
	// its async APIs are declared, so that the instrumented run wraps
	// every callback passed to them (plain go test ignores the file).
	rules string
}

// modules is group A of ../shared/corpus.md (relative to the repository
// root): the module versions, and the skips that its notes give for
// upstream tests that are flaky or need the network on the 2-core machine
// the baselines come from. Keep the two in step.
var modules = []module{
	{path: "golang.org/x/sync", version: "v0.24.0", name: "sync"},
	{path: "github.com/panjf2000/ants/v2", version: "v2.12.1", name: "ants", rules: antsRules},
	{path: "github.com/hashicorp/yamux", version: "v0.1.2", name: "yamux",
		flags: []string{"-skip", "TestManyStreams$|TestSendData_VeryLarge|TestHalfCloseSessionShutdown"}},
	{path: "github.com/gorilla/websocket", version: "v1.5.3", name: "websocket"},
	{path: "github.com/go-co-op/gocron/v2", version: "v2.21.2", name: "gocron"},
	{path: "github.com/jonboulle/clockwork", version: "v0.5.0", name: "clockwork"},
	{path: "github.com/valyala/fasthttp", version: "v1.73.0", name: "fasthttp",
		flags: []string{"-skip", "TestDialerGetDialFunc"}},
	{path: "github.com/hashicorp/memberlist", version: "v0.7.0", name: "memberlist",
		raceFlags: []string{"-skip", "TestMemberlist_Join_Cancel$"}},
}

// antsRules declares ants's Submit functions async APIs, so that its own
// tests submit every task through a POOLTASK resource.
const antsRules = `# ants's pools run the tasks submitted to them on their own workers.
callback (*github.com/panjf2000/ants/v2.Pool).Submit arg=task type=POOLTASK
callback (*github.com/panjf2000/ants/v2.MultiPool).Submit arg=task type=POOLTASK
callback github.com/panjf2000/ants/v2.Submit arg=task type=POOLTASK
`

// reruns is how many more times a test that passed plainly but not
// instrumented is run on its own, each way, before it counts as a failure.
const reruns = 2

// maxUnitsPerPackage is how many top-level tests of one package are rerun
// one by one; past it, the package is rerun whole.
const maxUnitsPerPackage = 5

// testTimeout is go test's -timeout for every run (per test binary).
const testTimeout = "390s"

func TestCorpus(t *testing.T) {
	if *corpusFlag == "" {
		t.Skip("no corpus modules selected; run with -corpus=all or -corpus=sync,clockwork,... (see doc.go)")
	}
	if testing.Short() {
		t.Skip("the corpus takes minutes; skipped in -short mode")
	}
	selected, err := selectModules(*corpusFlag)
	if err != nil {
		t.Fatal(err)
	}
	bin := buildAsyncinstr(t)
	var summaries []string
	for _, m := range selected {
		t.Run(m.name, func(t *testing.T) {
			s := testModule(t, bin, m)
			if s != "" {
				summaries = append(summaries, s)
			}
		})
	}
	mode := "plain vs instrumented"
	if *raceFlag {
		mode += ", -race"
	}
	t.Logf("corpus summary (%s):\n%s", mode, strings.Join(summaries, "\n"))
}

// selectModules resolves the -corpus list.
func selectModules(list string) ([]module, error) {
	if list == "all" {
		return modules, nil
	}
	var out []module
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		i := slices.IndexFunc(modules, func(m module) bool { return m.name == name || m.path == name })
		if i < 0 {
			var names []string
			for _, m := range modules {
				names = append(names, m.name)
			}
			return nil, fmt.Errorf("-corpus: unknown module %q (known: %s, all)", name, strings.Join(names, ", "))
		}
		if !slices.ContainsFunc(out, func(m module) bool { return m.name == modules[i].name }) {
			out = append(out, modules[i])
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-corpus=%q names no module", list)
	}
	return out, nil
}

// buildAsyncinstr builds the asyncinstr command from this repository's
// current source into a temporary directory, puts that directory first on
// PATH and returns the binary's path.
func buildAsyncinstr(t *testing.T) string {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "asyncinstr")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/asyncinstr/asyncinstr/cmd/asyncinstr")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building asyncinstr: %v\n%s", err, out)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return bin
}

// moduleEnv is the environment of the go commands run in a module copy.
func moduleEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "GOFLAGS", k == "GOWORK", k == "GOTOOLCHAIN", k == "TOOLEXEC_IMPORTPATH",
			strings.HasPrefix(k, "ASYNCINSTR_"):
			continue
		}
		env = append(env, kv)
	}
	return append(env, "GOFLAGS=-mod=mod -buildvcs=false", "GOWORK=off", "GOTOOLCHAIN=local")
}

// copyModule copies m's source from the module cache into a temporary
// directory and returns the copy's directory.
func copyModule(t *testing.T, m module) string {
	mv := m.path + "@" + m.version
	cmd := exec.Command("go", "mod", "download", "-json", mv)
	cmd.Dir = t.TempDir() // outside any module: nothing to update
	cmd.Env = moduleEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); err != nil || jerr != nil || info.Error != "" || info.Dir == "" {
		t.Fatalf("go mod download -json %s: %v %v %s\n%s%s", mv, err, jerr, info.Error, out, stderr.Bytes())
	}
	dst := filepath.Join(t.TempDir(), m.name)
	if err := os.CopyFS(dst, os.DirFS(info.Dir)); err != nil {
		t.Fatalf("copying %s: %v", info.Dir, err)
	}
	// The module cache is read-only; the copy must be writable (go.sum,
	// test output, t.TempDir removal).
	err = filepath.WalkDir(dst, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return os.Chmod(path, fi.Mode().Perm()|0o200)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// event is one test2json event (go doc test2json), with the build events
// that go test -json adds.
type event struct {
	Action      string
	Package     string
	Test        string
	Output      string
	FailedBuild string
	ImportPath  string
}

// key names one test: its package's import path and its name.
type key struct{ pkg, test string }

func (k key) String() string { return k.pkg + "." + k.test }

// pkgResult is what one go test run said about one package.
type pkgResult struct {
	action      string // pass, fail, skip (no test files)
	failedBuild string
	tests       int // test events (pass, fail or skip) seen in the package
	output      strings.Builder
}

// result is one parsed go test -json run.
type result struct {
	tests       map[key]string // last pass/fail/skip of each test
	output      map[key]*strings.Builder
	pkgs        map[string]*pkgResult
	buildOutput map[string]*strings.Builder // by ImportPath
	stderr      string
	instrMsgs   []string // lines that mention "asyncinstr:"
	wall        time.Duration
	exitErr     error
}

func (r *result) counts() (pass, skip, fail int) {
	for _, a := range r.tests {
		switch a {
		case "pass":
			pass++
		case "skip":
			skip++
		case "fail":
			fail++
		}
	}
	return
}

func (r *result) passed() map[key]bool {
	m := make(map[key]bool)
	for k, a := range r.tests {
		if a == "pass" {
			m[k] = true
		}
	}
	return m
}

// goTest runs go test (through asyncinstr go when bin is not empty) in dir
// with the given arguments and parses its -json stream.
func goTest(t *testing.T, dir, bin string, args ...string) *result {
	var cmd *exec.Cmd
	if bin != "" {
		cmd = exec.Command(bin, append([]string{"go", "test"}, args...)...)
	} else {
		cmd = exec.Command("go", append([]string{"test"}, args...)...)
	}
	cmd.Dir = dir
	cmd.Env = moduleEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	r := &result{
		tests:       make(map[key]string),
		output:      make(map[key]*strings.Builder),
		pkgs:        make(map[string]*pkgResult),
		buildOutput: make(map[string]*strings.Builder),
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	var events int
	br := bufio.NewReader(stdout)
	for {
		line, rerr := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var e event
			if json.Unmarshal(line, &e) != nil {
				// Not an event: go test writes some messages as plain text.
				r.addInstrMsg(string(line))
				r.stderr += string(line)
			} else {
				events++
				r.add(e)
			}
		}
		if rerr != nil {
			if rerr != io.EOF {
				t.Errorf("reading %s: %v", cmd, rerr)
			}
			break
		}
	}
	err = cmd.Wait()
	r.wall = time.Since(start)
	r.stderr += stderr.String()
	for _, l := range strings.SplitAfter(stderr.String(), "\n") {
		r.addInstrMsg(l)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("%s: %v\n%s", cmd, err, r.stderr)
	}
	r.exitErr = err
	if events == 0 {
		t.Fatalf("%s (in %s): %v, and no test events; stderr:\n%s", cmd, dir, err, r.stderr)
	}
	return r
}

func (r *result) addInstrMsg(line string) {
	if strings.Contains(line, "asyncinstr:") {
		r.instrMsgs = append(r.instrMsgs, strings.TrimRight(line, "\n"))
	}
}

func (r *result) add(e event) {
	switch e.Action {
	case "build-output":
		b := r.buildOutput[e.ImportPath]
		if b == nil {
			b = new(strings.Builder)
			r.buildOutput[e.ImportPath] = b
		}
		b.WriteString(e.Output)
		r.addInstrMsg(e.Output)
		return
	case "build-fail":
		return
	}
	if e.Package == "" {
		return
	}
	p := r.pkgs[e.Package]
	if p == nil {
		p = new(pkgResult)
		r.pkgs[e.Package] = p
	}
	if e.Test == "" {
		switch e.Action {
		case "output":
			p.output.WriteString(e.Output)
			r.addInstrMsg(e.Output)
		case "pass", "fail", "skip":
			p.action = e.Action
			if e.FailedBuild != "" {
				p.failedBuild = e.FailedBuild
			}
		}
		return
	}
	k := key{e.Package, e.Test}
	switch e.Action {
	case "output":
		b := r.output[k]
		if b == nil {
			b = new(strings.Builder)
			r.output[k] = b
		}
		b.WriteString(e.Output)
		r.addInstrMsg(e.Output)
	case "pass", "fail", "skip":
		if _, seen := r.tests[k]; !seen {
			p.tests++
		}
		r.tests[k] = e.Action
	}
}

// brokenPackage says why package pkg counts as not built (or not run) in r,
// or returns "".
func (r *result) brokenPackage(pkg string) string {
	p := r.pkgs[pkg]
	if p == nil || p.action != "fail" {
		return ""
	}
	if p.failedBuild != "" {
		return "build failed (" + p.failedBuild + ")"
	}
	if p.tests == 0 {
		return "failed with no test run"
	}
	return ""
}

// packageText is everything r holds about package pkg that is not a test's
// own output: build output and the package's output lines.
func (r *result) packageText(pkg string) string {
	var b strings.Builder
	for ip, out := range r.buildOutput {
		if ip == pkg || strings.HasPrefix(ip, pkg+" ") || strings.HasPrefix(ip, pkg+"_test ") {
			b.WriteString(out.String())
		}
	}
	if p := r.pkgs[pkg]; p != nil {
		b.WriteString(p.output.String())
	}
	return b.String()
}

func (r *result) testOutput(k key) string {
	if b := r.output[k]; b != nil {
		return b.String()
	}
	return ""
}

// tail keeps the end of a long text.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "[... " + fmt.Sprint(len(s)-n) + " bytes cut ...]\n" + s[len(s)-n:]
}

func sortedKeys(m map[key]bool) []key {
	return slices.SortedFunc(maps.Keys(m), func(a, b key) int {
		return cmp.Or(strings.Compare(a.pkg, b.pkg), strings.Compare(a.test, b.test))
	})
}

func status(r *result, k key) string {
	if a, ok := r.tests[k]; ok {
		return a
	}
	return "not run"
}

// testModule runs m's tests plainly and instrumented and compares them. It
// returns the module's summary line.
func testModule(t *testing.T, bin string, m module) string {
	dir := copyModule(t, m)
	if m.rules != "" {
		if err := os.WriteFile(filepath.Join(dir, "asyncinstr.rules"), []byte(m.rules), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	return compareModule(t, bin, m, dir)
}

// compareModule runs the tests of m, copied into dir, plainly and
// instrumented and compares them. It returns the module's summary line.
func compareModule(t *testing.T, bin string, m module, dir string) string {
	var flags []string
	if *raceFlag {
		flags = append(flags, "-race")
	}
	flags = append(flags, m.flags...)
	if *raceFlag {
		flags = append(flags, m.raceFlags...)
	}
	args := append([]string{"-count=1", "-json", "-timeout", testTimeout}, flags...)

	t.Logf("%s@%s: go test %s ./...", m.path, m.version, strings.Join(flags, " "))
	plain := goTest(t, dir, "", append(args, "./...")...)
	pp, ps, pf := plain.counts()
	t.Logf("%s: plain run done: %d pass, %d skip, %d fail in %.1fs", m.name, pp, ps, pf, plain.wall.Seconds())
	instr := goTest(t, dir, bin, append(args, "./...")...)
	ip, is, ifl := instr.counts()
	summary := fmt.Sprintf("%-10s plain %4d pass %2d skip %2d fail %6.1fs | instrumented %4d pass %2d skip %2d fail %6.1fs",
		m.name, pp, ps, pf, plain.wall.Seconds(), ip, is, ifl, instr.wall.Seconds())
	t.Log(summary)

	// Upstream failures: left out of the comparison.
	plainFailed := make(map[key]bool)
	for k, a := range plain.tests {
		if a == "fail" {
			plainFailed[k] = true
		}
	}
	for _, k := range sortedKeys(plainFailed) {
		t.Logf("failed plainly (left out of the comparison; instrumented: %s): %s\n%s",
			status(instr, k), k, tail(plain.testOutput(k), 4000))
	}
	var pkgs []string
	for pkg := range plain.pkgs {
		pkgs = append(pkgs, pkg)
	}
	for pkg := range instr.pkgs {
		if plain.pkgs[pkg] == nil {
			pkgs = append(pkgs, pkg)
		}
	}
	slices.Sort(pkgs)
	for _, pkg := range pkgs {
		if why := plain.brokenPackage(pkg); why != "" {
			t.Logf("package %s plainly: %s\n%s", pkg, why, tail(plain.packageText(pkg), 4000))
		}
	}

	// Anything asyncinstr said is a failure.
	if len(instr.instrMsgs) > 0 {
		t.Errorf("instrumented run: asyncinstr reported errors:\n%s", tail(strings.Join(instr.instrMsgs, "\n"), 8000))
	}

	// Packages that do not build (or do not run) instrumented.
	broken := make(map[string]bool)
	for _, pkg := range pkgs {
		why := instr.brokenPackage(pkg)
		if why == "" {
			continue
		}
		broken[pkg] = true
		if plain.brokenPackage(pkg) != "" {
			t.Logf("package %s instrumented: %s, as plainly\n%s", pkg, why, tail(instr.packageText(pkg), 4000))
			continue
		}
		t.Errorf("package %s instrumented: %s\n%s", pkg, why, tail(instr.packageText(pkg)+"\n"+instr.stderr, 8000))
	}

	// The comparison.
	plainPassed, instrPassed := plain.passed(), instr.passed()
	lost := make(map[key]bool) // passed plainly, not instrumented
	for k := range plainPassed {
		if !instrPassed[k] && !broken[k.pkg] {
			lost[k] = true
		}
	}
	for _, k := range sortedKeys(instrPassed) {
		if !plainPassed[k] && !plainFailed[k] {
			t.Errorf("%s passed instrumented but was %s plainly", k, status(plain, k))
		}
	}
	// Package-level failures whose tests all passed (a TestMain check, a
	// race report or a panic between tests, a timeout).
	pkgLost := make(map[string]bool)
	for _, pkg := range pkgs {
		if broken[pkg] || instr.pkgs[pkg] == nil || instr.pkgs[pkg].action != "fail" ||
			plain.pkgs[pkg] == nil || plain.pkgs[pkg].action != "pass" {
			continue
		}
		hasLost := false
		for k := range lost {
			hasLost = hasLost || k.pkg == pkg
		}
		if !hasLost {
			pkgLost[pkg] = true
		}
	}

	// Reruns, one top-level test (or package) at a time.
	type unit struct{ pkg, top string } // top "" is the whole package
	groups := make(map[unit][]key)
	for _, k := range sortedKeys(lost) {
		top, _, _ := strings.Cut(k.test, "/")
		u := unit{k.pkg, top}
		groups[u] = append(groups[u], k)
	}
	// A package with many lost tests (a crash, a timeout) is run again
	// whole rather than test by test.
	perPkg := make(map[string]int)
	for u := range groups {
		perPkg[u.pkg]++
	}
	merged := make(map[unit][]key)
	for u, keys := range groups {
		if perPkg[u.pkg] > maxUnitsPerPackage {
			u = unit{u.pkg, ""}
		}
		merged[u] = append(merged[u], keys...)
	}
	groups = merged
	for pkg := range pkgLost {
		groups[unit{pkg, ""}] = nil
	}
	units := slices.SortedFunc(maps.Keys(groups), func(a, b unit) int {
		return cmp.Or(strings.Compare(a.pkg, b.pkg), strings.Compare(a.top, b.top))
	})
	for _, u := range units {
		keys := groups[u]
		slices.SortFunc(keys, func(a, b key) int { return strings.Compare(a.test, b.test) })
		name := u.pkg
		runArgs := slices.Clone(args)
		if u.top != "" {
			name += "." + u.top
			runArgs = append(runArgs, "-run", "^"+regexp.QuoteMeta(u.top)+"$")
		}
		runArgs = append(runArgs, u.pkg)
		ok := func(r *result) bool {
			if len(keys) == 0 {
				p := r.pkgs[u.pkg]
				return p != nil && p.action == "pass"
			}
			for _, k := range keys {
				if r.tests[k] != "pass" {
					return false
				}
			}
			return true
		}
		var history []string
		passedAgain := false
		for i := 1; i <= reruns && !passedAgain; i++ {
			ri := goTest(t, dir, bin, runArgs...)
			rp := goTest(t, dir, "", runArgs...)
			passedAgain = ok(ri)
			h := fmt.Sprintf("rerun %d: instrumented %s, plain %s", i, passFail(ok(ri)), passFail(ok(rp)))
			history = append(history, h)
			t.Logf("%s: %s", name, h)
			if !passedAgain && i == reruns {
				history = append(history, "last instrumented rerun output:\n"+tail(rerunText(ri, u.pkg), 6000))
			}
		}
		if passedAgain {
			t.Logf("%s: failed instrumented once, then passed: flaky, not counted\n%s", name, tail(firstText(instr, u.pkg, keys), 4000))
			continue
		}
		var what []string
		for _, k := range keys {
			what = append(what, fmt.Sprintf("%s (instrumented: %s)", k.test, status(instr, k)))
		}
		if len(keys) == 0 {
			what = append(what, "package failed with every test passing")
		}
		t.Errorf("%s passed plainly but failed instrumented %d times out of %d: %s\n%s\nfirst instrumented run output:\n%s",
			name, reruns+1, reruns+1, strings.Join(what, ", "), strings.Join(history, "\n"), tail(firstText(instr, u.pkg, keys), 8000))
	}
	return summary
}

func passFail(ok bool) string {
	if ok {
		return "pass"
	}
	return "fail"
}

// firstText is the output of the tests in keys (or of the package, when
// keys is empty) in r.
func firstText(r *result, pkg string, keys []key) string {
	if len(keys) == 0 {
		return r.packageText(pkg)
	}
	var b strings.Builder
	top, _, _ := strings.Cut(keys[0].test, "/")
	if k := (key{pkg, top}); !slices.Contains(keys, k) {
		b.WriteString(r.testOutput(k))
	}
	for _, k := range keys {
		b.WriteString(r.testOutput(k))
	}
	if b.Len() == 0 {
		// Not run at all: the package's output says why (a crash, a timeout).
		b.WriteString(r.packageText(pkg))
	}
	return b.String()
}

// rerunText is everything a rerun printed for package pkg.
func rerunText(r *result, pkg string) string {
	var b strings.Builder
	ks := make(map[key]bool)
	for k := range r.output {
		ks[k] = true
	}
	for _, k := range sortedKeys(ks) {
		b.WriteString(r.testOutput(k))
	}
	b.WriteString(r.packageText(pkg))
	return b.String()
}
