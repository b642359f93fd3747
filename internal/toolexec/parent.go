package toolexec

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"

	"github.com/asyncinstr/asyncinstr/rules"
)

// A GoCommand is the go command that runs a build: its working directory
// (after -C) and its arguments, starting with the subcommand.
type GoCommand struct {
	Dir  string
	Args []string
}

// parentGo returns the go command that runs this tool: from $ASYNCINSTR_GO
// when "asyncinstr go" started it, else from the parent process, which
// the go command is (Linux only).
func parentGo() (*GoCommand, error) {
	if s := os.Getenv(GoEnv); s != "" {
		var g GoCommand
		if err := json.Unmarshal([]byte(s), &g); err != nil {
			return nil, fmt.Errorf("bad $%s: %w", GoEnv, err)
		}
		return &g, nil
	}
	if runtime.GOOS != "linux" {
		return nil, fmt.Errorf("cannot read the go command's flags on %s: run the build through \"asyncinstr go ...\"", runtime.GOOS)
	}
	ppid := os.Getppid()
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", ppid))
	if err != nil {
		return nil, fmt.Errorf("reading the go command's flags: %w (run the build through \"asyncinstr go ...\")", err)
	}
	dir, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", ppid))
	if err != nil {
		return nil, fmt.Errorf("reading the go command's directory: %w (run the build through \"asyncinstr go ...\")", err)
	}
	args := strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")
	if len(args) < 2 {
		return nil, fmt.Errorf("the parent process (%q) is not a go command: run the build through \"asyncinstr go ...\"", args)
	}
	return &GoCommand{Dir: dir, Args: args[1:]}, nil
}

// Build flags of the go command, by what a flag does to the runtime's
// build. forwarded: the same value builds the standard library and the
// runtime as the build does. perPattern: forwarded only in the pattern=
// form, since without a pattern they apply to the packages named on the
// command line, never to the runtime or the standard library. cover:
// forwarded only with -coverpkg, for the same reason.
var (
	forwardedBool  = set("race", "msan", "asan", "trimpath", "linkshared")
	forwardedValue = set("tags", "buildmode", "compiler", "installsuffix", "mod", "modfile", "overlay")
	perPattern     = set("gcflags", "asmflags")
	coverFlags     = set("cover", "covermode", "coverpkg")
	// Other flags that take a value, whose value must be skipped.
	otherValue = set("o", "p", "C", "toolexec", "exec", "ldflags", "gccgoflags", "pgo", "f", "vet",
		"run", "bench", "benchtime", "count", "coverprofile", "cpu", "parallel", "timeout", "skip", "list",
		"blockprofile", "blockprofilerate", "cpuprofile", "memprofile", "memprofilerate", "mutexprofile",
		"mutexprofilefraction", "outputdir", "trace", "shuffle", "fuzz", "fuzztime", "fuzzminimizetime")
)

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// buildFlags returns the flags of g that change how the runtime and the
// standard library are built, and the value of -pgo ("" if absent).
func (g *GoCommand) buildFlags() (flags []string, pgo string) {
	if len(g.Args) == 0 {
		return nil, ""
	}
	sub, args := g.Args[0], g.Args[1:]
	var cover []string
	hasCoverpkg := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || a == "-args" || a == "--args" {
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			if sub == "test" {
				continue // go test takes flags after its packages too
			}
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		name = strings.TrimPrefix(name, "test.")
		takesValue := forwardedValue[name] || perPattern[name] || otherValue[name] ||
			name == "covermode" || name == "coverpkg"
		if takesValue && !hasValue && i+1 < len(args) {
			i++
			value, hasValue = args[i], true
		}
		switch {
		case forwardedBool[name]:
			flags = append(flags, a)
		case forwardedValue[name]:
			flags = append(flags, "-"+name+"="+value)
		case perPattern[name]:
			if pat, _, ok := strings.Cut(value, "="); ok && !strings.HasPrefix(pat, "-") {
				flags = append(flags, "-"+name+"="+value)
			}
		case coverFlags[name]:
			if name == "coverpkg" {
				hasCoverpkg = true
			}
			if hasValue {
				cover = append(cover, "-"+name+"="+value)
			} else {
				cover = append(cover, "-"+name)
			}
		case name == "pgo":
			pgo = value
		}
	}
	if hasCoverpkg {
		flags = append(flags, cover...)
	}
	return flags, pgo
}

// pgoProfiles returns the profiles that the build may compile with: the
// one -pgo names, or, with -pgo=auto (the default), the default.pgo files
// of the go command's directory and of the package directories named on
// its command line.
func (g *GoCommand) pgoProfiles() []string {
	_, pgo := g.buildFlags()
	switch pgo {
	case "off":
		return nil
	case "", "auto":
	default:
		if !filepath.IsAbs(pgo) {
			pgo = filepath.Join(g.Dir, pgo)
		}
		return []string{pgo}
	}
	dirs := []string{g.Dir}
	for _, a := range g.Args[1:] {
		if a == "--" || a == "-args" {
			break
		}
		if strings.HasPrefix(a, ".") || filepath.IsAbs(a) {
			d := strings.TrimSuffix(strings.TrimSuffix(a, "..."), "/")
			if !filepath.IsAbs(d) {
				d = filepath.Join(g.Dir, d)
			}
			dirs = append(dirs, d)
		}
	}
	var profiles []string
	for _, d := range dirs {
		p := filepath.Join(d, "default.pgo")
		if st, err := os.Stat(p); err == nil && !st.IsDir() && !slices.Contains(profiles, p) {
			profiles = append(profiles, p)
		}
	}
	return profiles
}

// mainModules returns the root directories of the build's main modules:
// the module that holds g.Dir, or the modules of the workspace.
func (g *GoCommand) mainModules() []string {
	if g == nil || g.Dir == "" {
		return nil
	}
	work := os.Getenv("GOWORK")
	if work == "" {
		work = findUp(g.Dir, "go.work")
	}
	if work != "" && work != "off" {
		data, err := os.ReadFile(work)
		if err == nil {
			if wf, err := modfile.ParseWork(work, data, nil); err == nil {
				var roots []string
				for _, u := range wf.Use {
					d := u.Path
					if !filepath.IsAbs(d) {
						d = filepath.Join(filepath.Dir(work), d)
					}
					roots = append(roots, filepath.Clean(d))
				}
				return roots
			}
		}
	}
	if mod := findUp(g.Dir, "go.mod"); mod != "" {
		return []string{filepath.Dir(mod)}
	}
	return nil
}

// providesRuntime reports whether a main module of the build requires the
// runtime module, so that the build itself may compile the runtime.
func (g *GoCommand) providesRuntime() bool {
	for _, root := range g.mainModules() {
		data, err := os.ReadFile(filepath.Join(root, "go.mod"))
		if err != nil {
			continue
		}
		f, err := modfile.ParseLax("go.mod", data, nil)
		if err != nil {
			continue
		}
		for _, r := range f.Require {
			if r.Mod.Path == rules.RuntimeModule {
				return true
			}
		}
		if f.Module != nil && f.Module.Mod.Path == "github.com/asyncinstr/asyncinstr" {
			return true // this repository, whose commands use the runtime
		}
	}
	return false
}

// findUp returns the path of the first file named name in dir or above.
func findUp(dir, name string) string {
	for {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
