package toolexec

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	goversion "go/version"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/asyncinstr/asyncinstr/rewrite"
	"github.com/asyncinstr/asyncinstr/rules"
)

// A compileCmd is one compiler invocation, as the go command writes it.
type compileCmd struct {
	args      []string // the tool and its arguments
	files     []int    // indexes in args of the Go files
	pkg       string   // -p
	out       string   // -o
	importcfg int      // index in args of -importcfg's value, or 0
	cfgInline bool     // the value is in the same argument: -importcfg=file
	lang      string   // -lang
	pgo       string   // -pgoprofile
	std       bool     // -std: a standard library package
}

// Compiler flags whose value is a separate argument when given without "=".
var compileValueFlags = set("o", "p", "importcfg", "lang", "pgoprofile", "trimpath", "buildid",
	"goversion", "embedcfg", "asmhdr", "symabis", "D", "I", "installsuffix", "coveragecfg", "c",
	"json", "linkobj", "bench", "cpuprofile", "memprofile", "memprofilerate", "blockprofile",
	"mutexprofile", "traceprofile", "importpath", "plugin")

func parseCompile(args []string) *compileCmd {
	c := &compileCmd{args: args}
	// The Go files come last.
	first := len(args)
	for first > 1 && strings.HasSuffix(args[first-1], ".go") && !strings.HasPrefix(args[first-1], "-") {
		first--
	}
	for i := first; i < len(args); i++ {
		c.files = append(c.files, i)
	}
	for i := 1; i < first; i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		vi := i
		if !hasValue && compileValueFlags[name] && i+1 < first {
			i++
			vi, value = i, args[i]
		}
		switch name {
		case "p":
			c.pkg = value
		case "o":
			c.out = value
		case "importcfg":
			c.importcfg, c.cfgInline = vi, hasValue
		case "lang":
			c.lang = value
		case "pgoprofile":
			c.pgo = value
		case "std":
			c.std = true
		}
	}
	return c
}

func (c *compileCmd) importcfgPath() string {
	if c.cfgInline {
		return strings.TrimPrefix(strings.TrimLeft(c.args[c.importcfg], "-"), "importcfg=")
	}
	return c.args[c.importcfg]
}

func (c *compileCmd) setImportcfg(args []string, path string) {
	if c.cfgInline {
		args[c.importcfg] = "-importcfg=" + path
	} else {
		args[c.importcfg] = path
	}
}

// importPath returns the import path of the package being built, from
// the go command: -p says "main" for every command.
func (c *compileCmd) importPath() string {
	if f := strings.Fields(os.Getenv("TOOLEXEC_IMPORTPATH")); len(f) > 0 {
		return f[0]
	}
	return c.pkg
}

// sourceDir returns the package's source directory: that of its first
// file outside the build's work directory, or that which the //line
// directive of a file generated there (by cover, say) names.
func (c *compileCmd) sourceDir() string {
	work := filepath.Dir(filepath.Dir(c.out))
	var generated []string
	for _, i := range c.files {
		f := c.args[i]
		if rel, err := filepath.Rel(work, f); err == nil && !strings.HasPrefix(rel, "..") {
			generated = append(generated, f)
			continue
		}
		return filepath.Dir(f)
	}
	for _, f := range generated {
		if p := lineDirectiveFile(f); p != "" {
			return filepath.Dir(p)
		}
	}
	wd, _ := os.Getwd()
	return wd
}

// lineDirectiveFile returns the file that the first //line directive in
// the first lines of a generated file names, or "".
func lineDirectiveFile(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 0; n < 20 && sc.Scan(); n++ {
		rest, ok := strings.CutPrefix(sc.Text(), "//line ")
		if !ok {
			continue
		}
		// path:line or path:line:col
		for range 2 {
			if i := strings.LastIndexByte(rest, ':'); i > 0 {
				if _, err := strconv.Atoi(rest[i+1:]); err == nil {
					rest = rest[:i]
				}
			}
		}
		if filepath.IsAbs(rest) {
			return rest
		}
	}
	return ""
}

// skip says why a compilation is left alone, or "".
func (c *compileCmd) skip() string {
	switch {
	case len(c.files) == 0 || c.importcfg == 0 || c.out == "":
		return "not a compilation of Go files"
	case c.std:
		return "standard library"
	case isRuntime(c.pkg):
		return "the asyncinstr runtime"
	}
	return ""
}

// testMain reports whether c compiles the main package that go test
// generates for a test binary. Only the exit rule applies to it: its
// os.Exit(m.Run()) is the test binary's way out, which must complete the
// trace.
func (c *compileCmd) testMain() bool {
	return c.pkg == "main" && strings.HasSuffix(c.importPath(), ".test")
}

func isRuntime(path string) bool {
	return path == rules.RuntimeModule || strings.HasPrefix(path, rules.RuntimeModule+"/")
}

// compile rewrites a package and compiles the rewritten copies.
func compile(args []string, stdout, stderr io.Writer) int {
	c := parseCompile(args)
	if c.skip() != "" {
		if isRuntime(c.pkg) {
			// The build compiles the runtime itself: its module
			// requires it. It must be the runtime this binary goes
			// with.
			if err := sameRuntimeDir(c.pkg, c.sourceDir()); err != nil {
				fmt.Fprintf(stderr, "asyncinstr: %v\n", err)
				return 1
			}
		}
		return run(c.args, stdout, stderr)
	}
	newArgs, err := c.instrument()
	if err != nil {
		// If the package does not compile as written, the compiler's
		// errors say why; otherwise the failure is asyncinstr's, and
		// the build must not go on without instrumenting it.
		var es rewrite.Errors
		if errors.As(err, &es) {
			if code := run(c.args, stdout, stderr); code != 0 {
				return code
			}
		}
		fmt.Fprintf(stderr, "asyncinstr: cannot instrument %s:\n%s\n", c.importPath(), indent(err.Error()))
		return 1
	}
	if newArgs == nil {
		return run(c.args, stdout, stderr)
	}
	return run(newArgs, stdout, stderr)
}

func indent(s string) string {
	return "\t" + strings.ReplaceAll(s, "\n", "\n\t")
}

// instrument rewrites the package into the work directory and returns the
// compiler arguments that compile the rewritten copies, or nil if nothing
// changes.
func (c *compileCmd) instrument() ([]string, error) {
	rs, err := selectedRules()
	if err != nil {
		return nil, err
	}
	if c.testMain() {
		rs = slices.DeleteFunc(slices.Clone(rs), func(r *rules.Rule) bool { return !r.Main })
		if len(rs) == 0 {
			return nil, nil
		}
	}
	g, _ := parentGo() // without it, sites are named by import path, and no rules file is read
	if rs, err = rewrite.WithRulesFiles(rs, g.mainModules()...); err != nil {
		return nil, err
	}
	cfg, err := readImportcfg(c.importcfgPath())
	if err != nil {
		return nil, err
	}
	goarch := os.Getenv("GOARCH")
	if goarch == "" {
		goarch = runtime.GOARCH
	}
	var files []string
	for _, i := range c.files {
		files = append(files, c.args[i])
	}
	srcs := make([][]byte, len(files))
	for i, f := range files {
		if srcs[i], err = os.ReadFile(f); err != nil {
			return nil, err
		}
	}
	if !rewrite.MayRewrite(files, srcs, rs) {
		return nil, nil // nothing to type-check for
	}
	dir := c.sourceDir()
	fset := token.NewFileSet()
	conf := types.Config{GoVersion: c.lang, Importer: cfg.importer(fset), Sizes: types.SizesFor("gc", goarch)}
	p, err := rewrite.CheckPackage(fset, c.pkg, dir, files, conf)
	if err != nil {
		return nil, err
	}
	p.SiteName = siteNamer(c.importPath(), g.mainModules())
	res, err := rewrite.RewritePackage(p, rs)
	if err != nil {
		return nil, err
	}
	if len(res.Changes) == 0 {
		return nil, nil
	}

	work := filepath.Join(filepath.Dir(c.out), "asyncinstr")
	if err := os.MkdirAll(work, 0o777); err != nil {
		return nil, err
	}
	args := slices.Clone(c.args)
	index := map[string]int{}
	for _, i := range c.files {
		index[c.args[i]] = i
	}
	parsed := map[string]*ast.File{}
	for i, path := range p.Paths {
		parsed[path] = p.Files[i]
	}
	upgrade := c.lang != "" && goversion.Compare(c.lang, minLang) < 0
	used := map[string]bool{}
	for _, ch := range res.Changes {
		name := filepath.Base(ch.Path)
		for n := 2; used[name]; n++ {
			name = fmt.Sprintf("%d_%s", n, filepath.Base(ch.Path))
		}
		used[name] = true
		dst := filepath.Join(work, name)
		src := copySource(ch, p.Fset, parsed[ch.Path], upgrade)
		if err := os.WriteFile(dst, src, 0o666); err != nil {
			return nil, err
		}
		if i, ok := index[ch.Path]; ok {
			args[i] = dst
		} else {
			args = append(args, dst)
		}
	}
	// The runtime packages that the rewritten files' companion imports.
	pkgs := runtimePackages(func(name string) bool {
		return slices.ContainsFunc(res.Changes, func(ch rewrite.Change) bool {
			return bytes.Contains(ch.New, []byte(strconv.Quote(rules.RuntimePackages[name])))
		})
	})
	if !cfg.hasRuntime(pkgs) {
		rb, err := runtimeFor(c.args[0], c.pgo == "", cfg, pkgs)
		if err != nil {
			return nil, err
		}
		data, _ := cfg.with(rb.Packages)
		newCfg := filepath.Join(work, "importcfg")
		if err := os.WriteFile(newCfg, data, 0o666); err != nil {
			return nil, err
		}
		c.setImportcfg(args, newCfg)
	}
	return args, nil
}

// minLang is the language version that rewritten code needs: its generic
// helpers need go1.18, and go1.21 is the lowest that a //go:build line can
// raise a file to.
const minLang = "go1.21"

// copySource returns the text of a rewritten file's copy. Its first line is
// a //line directive naming the file it was made from, so that it reports
// that file's positions. In a package whose language version is below
// minLang (a module with an old go line), the copy's //go:build line asks
// for minLang too, which only adds features (generics among them): the
// loop variable semantics change in go1.22. The line is added above the
// //line directive, or an existing one extended in place, so that no line
// of the source moves.
func copySource(ch rewrite.Change, fset *token.FileSet, f *ast.File, upgrade bool) []byte {
	src := ch.New
	head := "//line " + ch.Path + ":1:1\n"
	if upgrade {
		if c, expr := rewrite.GoBuildLine(f); c != nil {
			start, end := fset.Position(c.Pos()).Offset, fset.Position(c.End()).Offset
			src = slices.Concat(src[:start], []byte("//go:build ("+expr.String()+") && "+minLang), src[end:])
		} else {
			head = "//go:build " + minLang + "\n" + head
		}
	}
	return append([]byte(head), src...)
}

// runtimeFor returns the runtime's archives for a compile or link whose
// importcfg is cfg. With a profile, the standard library is built with it,
// and so must the runtime be: the profile is one of those the build may
// use, the one whose standard library archives agree with cfg. noPGO says
// that building without a profile is a candidate.
func runtimeFor(tool string, noPGO bool, cfg *importcfg, pkgs []string) (*runtimeBuild, error) {
	var cands []string
	if noPGO {
		cands = append(cands, "")
	}
	if g, err := parentGo(); err == nil {
		cands = append(cands, g.pgoProfiles()...)
	}
	var errs []error
	for _, pgo := range cands {
		rb, err := resolveRuntime(tool, pgo, pkgs)
		if err != nil {
			return nil, err
		}
		if err := consistent(rb, cfg); err != nil {
			errs = append(errs, err)
			continue
		}
		return rb, nil
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("the build uses a profile (-pgo) that asyncinstr cannot find: name it with -pgo=file")
	}
	return nil, errors.Join(errs...)
}

// consistent checks that the standard library archives the runtime was
// built against are those of the build, where the build has them too: if
// they differ, the go command's flags were not reproduced, and the link
// would fail with a fingerprint mismatch, or worse.
func consistent(rb *runtimeBuild, cfg *importcfg) error {
	for _, p := range rb.Packages {
		if !p.Standard || p.Export == "" {
			continue
		}
		theirs, ok := cfg.files[p.ImportPath]
		if !ok {
			continue
		}
		a, err1 := actionID(p.Export)
		b, err2 := actionID(theirs)
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		if a != b {
			return fmt.Errorf("the runtime was built with other flags than this build, or asyncinstr or the runtime's "+
				"sources changed while it ran (package %s differs): run the build again, through \"asyncinstr go\", "+
				"or report this with the go command's flags", p.ImportPath)
		}
	}
	return nil
}

// selectedRules returns the rules that $ASYNCINSTR_RULES names, or all.
func selectedRules() ([]*rules.Rule, error) {
	s := os.Getenv(RulesEnv)
	if s == "" {
		return rules.All, nil
	}
	rs, err := rules.Select(s)
	if err != nil {
		return nil, fmt.Errorf("$%s: %w", RulesEnv, err)
	}
	return rs, nil
}

// siteNamer names files in the site table as source mode does: by their
// path in the main module, or by import path elsewhere.
func siteNamer(pkg string, mains []string) func(string) string {
	return func(filename string) string {
		for _, root := range mains {
			if rel, err := filepath.Rel(root, filename); err == nil && !strings.HasPrefix(rel, "..") {
				return filepath.ToSlash(rel)
			}
		}
		return strings.TrimSuffix(pkg, "_test") + "/" + filepath.Base(filename)
	}
}
