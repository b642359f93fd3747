package toolexec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/rogpeppe/go-internal/lockedfile"

	"github.com/asyncinstr/asyncinstr/internal/runtimesrc"
	"github.com/asyncinstr/asyncinstr/rules"
)

// An rtPackage is the runtime or one of its dependencies, as go list
// -export reports it.
type rtPackage struct {
	ImportPath string
	Export     string
	Standard   bool
	Dir        string
	Error      *struct{ Err string }
}

// A runtimeBuild is the runtime's archives for one build configuration.
type runtimeBuild struct {
	Packages []rtPackage // dependencies first
}

// resolveRuntime returns the runtime's archives as the build that runs tool
// makes them, with the profile pgo ("" for none).
//
// They come from "go list -deps -export" of the runtime, run where the
// build's go command runs and with its build flags, and with this binary
// as -toolexec (in a mode that changes nothing), so that the standard
// library packages it lists are the very cache entries of the build: a
// package compiled against the runtime's export data then links with the
// archives the build links. If the build's module does not provide the
// runtime (the usual case), the list runs in a module of its own that
// requires the runtime this binary goes with.
//
// Results are kept in the user's cache directory, keyed by everything that
// goes into them, so that one build lists the runtime once and a rebuild
// does not list it again.
func resolveRuntime(tool, pgo string, pkgs []string) (*runtimeBuild, error) {
	g, err := parentGo()
	if err != nil {
		return nil, err
	}
	flags, _ := g.buildFlags()
	if pgo != "" {
		flags = append(flags, "-pgo="+pgo)
	} else {
		flags = append(flags, "-pgo=off")
	}
	fp, err := Fingerprint()
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	goBin := goCommandFor(tool)

	h := sha256.New()
	fmt.Fprintf(h, "asyncinstr runtime list\n%s\n%s\n%s\n%q\n%q\n", fp, goBin, g.Dir, flags, pkgs)
	env := os.Environ()
	sort.Strings(env)
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "GO") || strings.HasPrefix(k, "CGO_") ||
			k == "CC" || k == "CXX" || k == "AR" || k == "PKG_CONFIG" || k == "PATH" {
			fmt.Fprintf(h, "%s\n", kv)
		}
	}
	for _, name := range []string{"go.mod", "go.work"} {
		if p := findUp(g.Dir, name); p != "" {
			data, _ := os.ReadFile(p)
			fmt.Fprintf(h, "%s %d\n%s", p, len(data), data)
		}
	}
	key := hex.EncodeToString(h.Sum(nil))[:32]
	dir := cacheDir()
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "runtime-"+key+".json")
	if rb := readRuntimeBuild(file); rb != nil {
		return rb, nil
	}
	unlock, err := lockedfile.MutexAt(file + ".lock").Lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if rb := readRuntimeBuild(file); rb != nil {
		return rb, nil // listed by another tool of the build meanwhile
	}
	rb, err := listRuntime(goBin, exe, g, flags, pkgs)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(rb)
	if err != nil {
		return nil, err
	}
	tmp := fmt.Sprintf("%s.%d.tmp", file, os.Getpid())
	if err := os.WriteFile(tmp, data, 0o666); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, file); err != nil {
		return nil, err
	}
	return rb, nil
}

// readRuntimeBuild returns a stored result whose archives all still exist
// (go clean -cache may have removed them), or nil.
func readRuntimeBuild(file string) *runtimeBuild {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	var rb runtimeBuild
	if json.Unmarshal(data, &rb) != nil || len(rb.Packages) == 0 {
		return nil
	}
	for _, p := range rb.Packages {
		if p.Export == "" {
			continue
		}
		if _, err := os.Stat(p.Export); err != nil {
			return nil
		}
	}
	return &rb
}

func cacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "asyncinstr", "toolexec")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("asyncinstr-toolexec-%d", os.Getuid()))
}

// goCommandFor returns the go command of the toolchain that tool belongs
// to ($GOROOT/pkg/tool/GOOS_GOARCH/tool).
func goCommandFor(tool string) string {
	goroot := filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(tool))))
	for _, name := range []string{"go", "go.exe"} {
		p := filepath.Join(goroot, "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}

func listRuntime(goBin, exe string, g *GoCommand, flags, pkgs []string) (*runtimeBuild, error) {
	args := []string{"list", "-deps", "-export", "-json=ImportPath,Export,Standard,Dir,Error",
		Flag(exe)}
	env := append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "TOOLEXEC_IMPORTPATH=")
	}), nestedEnv+"=1")

	if g.providesRuntime() {
		// The build's module requires the runtime: list that one, never
		// changing go.mod or looking modules up.
		var own []string
		for _, f := range flags {
			if f == "-mod=mod" {
				f = "-mod=readonly"
			}
			own = append(own, f)
		}
		env := append(env, "GOFLAGS="+strings.ReplaceAll(os.Getenv("GOFLAGS"), "-mod=mod", "-mod=readonly"))
		rb, stderr, err := goList(goBin, g.Dir, env, append(append(slices.Clone(args), own...), pkgs...), pkgs)
		if err != nil {
			return nil, fmt.Errorf("building the asyncinstr runtime that the module requires: %v\n%s", err, stderr)
		}
		if err := checkSameRuntime(rb); err != nil {
			return nil, err
		}
		return rb, nil
	}
	// The build's modules do not provide the runtime: list it from a
	// module of its own, with the flags that do not depend on the build's
	// module.
	rtDir, err := runtimesrc.Dir()
	if err != nil {
		return nil, err
	}
	rtHash, err := runtimesrc.Hash(rtDir)
	if err != nil {
		return nil, err
	}
	mod := filepath.Join(cacheDir(), "host-"+rtHash[:16])
	gomod := fmt.Sprintf("module asyncinstr.invalid/runtimehost\n\ngo 1.21\n\nrequire %s v0.0.0\n\nreplace %s => %s\n",
		rules.RuntimeModule, rules.RuntimeModule, rtDir)
	if err := os.MkdirAll(mod, 0o777); err != nil {
		return nil, err
	}
	if old, _ := os.ReadFile(filepath.Join(mod, "go.mod")); !bytes.Equal(old, []byte(gomod)) {
		if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte(gomod), 0o666); err != nil {
			return nil, err
		}
	}
	var hostFlags, coverpkg []string
	for _, f := range flags {
		switch name, value, _ := strings.Cut(strings.TrimLeft(f, "-"), "="); name {
		case "mod", "modfile", "overlay", "cover", "covermode":
		case "coverpkg":
			coverpkg = append(coverpkg, strings.Split(value, ",")...)
		default:
			hostFlags = append(hostFlags, f)
		}
	}
	env = append(env, "GOWORK=off", "GOFLAGS="+hostGoflags(os.Getenv("GOFLAGS")))
	args = append(append(args, "-mod=mod"), hostFlags...)
	if len(coverpkg) > 0 {
		// The build covers the standard library packages that its
		// -coverpkg patterns match, and never the runtime, which is not
		// in its package graph: cover exactly those here.
		cover, err := coveredStd(goBin, mod, env, hostFlags, coverpkg, pkgs)
		if err != nil {
			return nil, err
		}
		if len(cover) > 0 {
			for _, f := range flags {
				if strings.HasPrefix(f, "-covermode") {
					args = append(args, f)
				}
			}
			args = append(args, "-coverpkg="+strings.Join(cover, ","))
		}
	}
	rb, stderr2, err := goList(goBin, mod, env, append(args, pkgs...), pkgs)
	if err != nil {
		return nil, fmt.Errorf("building the asyncinstr runtime: %v\n%s", err, stderr2)
	}
	return rb, nil
}

// coveredStd returns the standard library packages among the runtime's
// dependencies that the -coverpkg patterns match.
func coveredStd(goBin, dir string, env, flags, patterns, pkgs []string) ([]string, error) {
	args := append(append([]string{"list", "-deps", "-mod=mod", "-f", "{{if .Standard}}{{.ImportPath}}{{end}}"}, flags...), pkgs...)
	cmd := exec.Command(goBin, args...)
	cmd.Dir, cmd.Env = dir, env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing the asyncinstr runtime: %v\n%s", err, stderr.String())
	}
	var cover []string
	for _, path := range strings.Fields(string(out)) {
		for _, pat := range patterns {
			if matchStd(pat, path) {
				cover = append(cover, path)
				break
			}
		}
	}
	return cover, nil
}

// matchStd reports whether a package pattern of the go command matches
// the standard library package path.
func matchStd(pattern, path string) bool {
	switch {
	case pattern == "all" || pattern == "std":
		return true
	case pattern == "cmd" || strings.HasPrefix(pattern, ".") || filepath.IsAbs(pattern):
		return false
	case strings.Contains(pattern, "..."):
		re := "^" + strings.ReplaceAll(regexp.QuoteMeta(pattern), `\.\.\.`, `.*`) + "$"
		if strings.HasSuffix(pattern, "/...") {
			// "net/..." matches "net" too.
			re = "^" + regexp.QuoteMeta(strings.TrimSuffix(pattern, "/...")) + "(/.*)?$"
		}
		ok, _ := regexp.MatchString(re, path)
		return ok
	}
	return pattern == path
}

// hostGoflags drops from $GOFLAGS what belongs to the build's module.
func hostGoflags(goflags string) string {
	var keep []string
	for _, f := range strings.Fields(goflags) {
		name, _, _ := strings.Cut(strings.TrimLeft(f, "-"), "=")
		if name != "mod" && name != "modfile" && name != "overlay" {
			keep = append(keep, f)
		}
	}
	return strings.Join(keep, " ")
}

func goList(goBin, dir string, env, args, pkgs []string) (*runtimeBuild, string, error) {
	cmd := exec.Command(goBin, args...)
	cmd.Dir, cmd.Env = dir, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, stderr.String(), err
	}
	rb := &runtimeBuild{}
	dec := json.NewDecoder(&stdout)
	for dec.More() {
		var p rtPackage
		if err := dec.Decode(&p); err != nil {
			return nil, "", fmt.Errorf("reading go list output: %w", err)
		}
		if p.Error != nil {
			return nil, p.Error.Err, errors.New(p.Error.Err)
		}
		rb.Packages = append(rb.Packages, p)
	}
	for _, path := range pkgs {
		if !slices.ContainsFunc(rb.Packages, func(p rtPackage) bool { return p.ImportPath == path }) {
			return nil, "", fmt.Errorf("go list did not list %s", path)
		}
	}
	return rb, "", nil
}

// runtimePackages returns the runtime packages that a compile or a link
// needs, in a fixed order: hooksrt always; hooksnet and hookshttp where
// uses says that net or net/http is used (a rewritten call of theirs
// goes with a use of its package). Listing hookshttp only where needed
// keeps a build without net/http from compiling it for the runtime.
func runtimePackages(uses func(name string) bool) []string {
	var pkgs []string
	for _, name := range slices.Sorted(maps.Keys(rules.RuntimePackages)) {
		if name == "hooksrt" || uses(name) {
			pkgs = append(pkgs, rules.RuntimePackages[name])
		}
	}
	return pkgs
}

// checkSameRuntime makes sure that a runtime the build's module provides is
// the one this binary goes with: rewritten code calls it, and an archive
// from another version would not link or, worse, would behave otherwise.
func checkSameRuntime(rb *runtimeBuild) error {
	for _, p := range rb.Packages {
		if strings.HasPrefix(p.ImportPath, rules.RuntimeModule+"/") {
			if err := sameRuntimeDir(p.ImportPath, p.Dir); err != nil {
				return err
			}
		}
	}
	return nil
}

// sameRuntimeDir reports an error unless dir, which holds the runtime
// package path, has the files of this binary's runtime: the same Go and
// assembly files (tests aside), byte for byte.
func sameRuntimeDir(path, dir string) error {
	rtDir, err := runtimesrc.Dir()
	if err != nil {
		return err
	}
	ours := filepath.Join(rtDir, filepath.FromSlash(strings.TrimPrefix(path, rules.RuntimeModule+"/")))
	if filepath.Clean(dir) == ours {
		return nil
	}
	a, err1 := sourceFiles(dir)
	b, err2 := sourceFiles(ours)
	if err1 == nil && err2 == nil && len(a) == len(b) {
		same := true
		for name, data := range a {
			if !bytes.Equal(data, b[name]) {
				same = false
				break
			}
		}
		if same {
			return nil
		}
	}
	v := runtimesrc.ToolVersion()
	if v == "" {
		v = "a local build, runtime at " + rtDir
	}
	return fmt.Errorf("the build uses %s from %s, which is not the runtime this asyncinstr goes with (%s): "+
		"require the runtime version that matches asyncinstr, or drop the requirement and let asyncinstr provide it",
		rules.RuntimeModule, dir, v)
}

// sourceFiles returns the Go (tests aside) and assembly files of dir.
func sourceFiles(dir string) (map[string][]byte, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	m := map[string][]byte{}
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !(strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") || strings.HasSuffix(n, ".s")) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		m[n] = data
	}
	return m, nil
}
