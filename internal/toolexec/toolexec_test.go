package toolexec

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestIs(t *testing.T) {
	t.Setenv("TOOLEXEC_IMPORTPATH", "")
	os.Unsetenv("TOOLEXEC_IMPORTPATH")
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"/go/pkg/tool/linux_amd64/compile", "-V=full"}, true},
		{[]string{"gcc", "-###", "-x", "c", "-c", "-"}, true},
		{[]string{"./..."}, false},
		{[]string{"-l", "./..."}, false},
		{[]string{"go", "build", "."}, false},
		{nil, false},
	} {
		if got := Is(tc.args); got != tc.want {
			t.Errorf("Is(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
	t.Setenv("TOOLEXEC_IMPORTPATH", "example.com/m")
	if !Is([]string{"/go/pkg/tool/linux_amd64/compile", "-o", "x.a"}) {
		t.Error("Is is false for a compile the go command runs")
	}
}

func TestMarkVersion(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"compile version go1.26.8\n", "compile version go1.26.8 asyncinstr=F"},
		{"compile version go1.26.8 X:nocoverageredesign\n", "compile version go1.26.8 X:nocoverageredesign asyncinstr=F"},
		// A development toolchain's cache key is the buildID field.
		{"compile version devel go1.27-abc buildID=xyz\n", "compile version devel go1.27-abc buildID=xyz-asyncinstrF"},
	} {
		if got := markVersion(tc.in, "F"); got != tc.want {
			t.Errorf("markVersion(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestBuildFlags(t *testing.T) {
	for _, tc := range []struct {
		args  string
		flags []string
		pgo   string
	}{
		{"build -o x .", nil, ""},
		{"build -race -trimpath -tags=a,b -o out ./cmd", []string{"-race", "-trimpath", "-tags=a,b"}, ""},
		{"build -tags a -mod vendor -pgo=off .", []string{"-tags=a", "-mod=vendor"}, "off"},
		// gcflags without a pattern apply to the named packages only.
		{"build -gcflags=-N -gcflags all=-l .", []string{"-gcflags=all=-l"}, ""},
		{"build -asmflags=-D=X .", nil, ""},
		// Cover flags matter only with -coverpkg.
		{"test -cover ./...", nil, ""},
		{"test -cover -coverpkg=all -covermode atomic ./...", []string{"-cover", "-coverpkg=all", "-covermode=atomic"}, ""},
		// go test takes flags after its packages, and values after test flags.
		{"test ./... -run TestX -race -count 1", []string{"-race"}, ""},
		{"test -run -race ./...", nil, ""},
		{"test -test.run=X -v -timeout 10m -race . -args -tags=x", []string{"-race"}, ""},
		// go run stops at the program's arguments.
		{"run . -race", nil, ""},
		{"build -C sub -race .", []string{"-race"}, ""},
		{"build --race --tags=x .", []string{"--race", "-tags=x"}, ""},
	} {
		g := &GoCommand{Args: strings.Fields(tc.args)}
		flags, pgo := g.buildFlags()
		if !reflect.DeepEqual(flags, tc.flags) || pgo != tc.pgo {
			t.Errorf("go %s: flags %q, pgo %q; want %q, %q", tc.args, flags, pgo, tc.flags, tc.pgo)
		}
	}
}

func TestMatchStd(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"all", "sync", true},
		{"std", "internal/abi", true},
		{"cmd", "sync", false},
		{"./...", "sync", false},
		{"sync", "sync", true},
		{"sync", "sync/atomic", false},
		{"sync/...", "sync", true},
		{"sync/...", "sync/atomic", true},
		{"syn...", "syncthing", true},
		{"internal/.../abi", "internal/x/abi", true},
		{"example.com/...", "sync", false},
	} {
		if got := matchStd(tc.pattern, tc.path); got != tc.want {
			t.Errorf("matchStd(%q, %q) = %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
}

func TestParseCompile(t *testing.T) {
	args := strings.Fields("/t/compile -o /w/b001/_pkg_.a -trimpath /w/b001=> -p example.com/m -lang=go1.26 -complete " +
		"-buildid a/a -goversion go1.26.8 -c=2 -race -pgoprofile=/p/default.pgo -nolocalimports -importcfg /w/b001/importcfg " +
		"-pack /src/m/a.go /src/m/b.go")
	c := parseCompile(args)
	if c.pkg != "example.com/m" || c.out != "/w/b001/_pkg_.a" || c.lang != "go1.26" || c.pgo != "/p/default.pgo" || c.std {
		t.Errorf("parsed %+v", c)
	}
	if c.importcfgPath() != "/w/b001/importcfg" {
		t.Errorf("importcfg %q", c.importcfgPath())
	}
	if want := []int{len(args) - 2, len(args) - 1}; !reflect.DeepEqual(c.files, want) {
		t.Errorf("files at %v, want %v", c.files, want)
	}
	if reason := c.skip(); reason != "" {
		t.Errorf("skip: %s", reason)
	}

	c = parseCompile(strings.Fields("/t/compile -o /w/b002/_pkg_.a -p sync -std -importcfg=/w/b002/importcfg -pack /g/src/sync/mutex.go"))
	if c.importcfgPath() != "/w/b002/importcfg" || !c.std || c.skip() != "standard library" {
		t.Errorf("parsed %+v, skip %q", c, c.skip())
	}
	out := append([]string(nil), c.args...)
	c.setImportcfg(out, "/new")
	if out[c.importcfg] != "-importcfg=/new" {
		t.Errorf("setImportcfg wrote %q", out[c.importcfg])
	}

	c = parseCompile(strings.Fields("/t/compile -o /w/b003/_pkg_.a -p github.com/asyncinstr/asyncinstr/runtime/hooksrt -importcfg /w/b003/importcfg /r/hooksrt/core.go"))
	if c.skip() != "the asyncinstr runtime" {
		t.Errorf("runtime: skip %q", c.skip())
	}
}

func TestSourceDir(t *testing.T) {
	work := t.TempDir()
	b := filepath.Join(work, "b001")
	if err := os.MkdirAll(b, 0o777); err != nil {
		t.Fatal(err)
	}
	// Coverage instruments into the work directory; the copy names its
	// source with a //line directive.
	cover := filepath.Join(b, "lib.cover.go")
	src := "/src/m/lib/lib.go"
	if err := os.WriteFile(cover, []byte("//line "+src+":1:1\npackage lib\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	vars := filepath.Join(b, "covervars.go")
	if err := os.WriteFile(vars, []byte("package lib\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	c := parseCompile([]string{"/t/compile", "-o", filepath.Join(b, "_pkg_.a"), "-p", "m/lib", "-importcfg", "cfg", vars, cover})
	if got := c.sourceDir(); got != "/src/m/lib" {
		t.Errorf("sourceDir = %q, want /src/m/lib", got)
	}
	c = parseCompile([]string{"/t/compile", "-o", filepath.Join(b, "_pkg_.a"), "-p", "m/lib", "-importcfg", "cfg", vars, "/src/m/lib/a.go"})
	if got := c.sourceDir(); got != "/src/m/lib" {
		t.Errorf("sourceDir = %q, want /src/m/lib", got)
	}
}

func TestSiteNamer(t *testing.T) {
	name := siteNamer("example.com/dep/sub", []string{"/src/m", "/src/w"})
	for in, want := range map[string]string{
		"/src/m/main.go":                   "main.go",
		"/src/w/lib/lib.go":                "lib/lib.go",
		"/mod/example.com/dep@v1/sub/x.go": "example.com/dep/sub/x.go",
	} {
		if got := name(in); got != want {
			t.Errorf("site name of %s = %q, want %q", in, got, want)
		}
	}
	if got := siteNamer("example.com/m_test", nil)("/src/m/x_test.go"); got != "example.com/m/x_test.go" {
		t.Errorf("external test file named %q", got)
	}
}

func TestFlag(t *testing.T) {
	if got := Flag("/bin/asyncinstr"); got != "-toolexec=/bin/asyncinstr" {
		t.Errorf("Flag = %q", got)
	}
	if got := Flag("/my tools/asyncinstr"); got != `-toolexec="/my tools/asyncinstr"` {
		t.Errorf("Flag = %q", got)
	}
}

// TestFileHashMemo checks that the memoised hash of the binary follows the
// file: a stale one would let a changed asyncinstr reuse cache entries.
func TestFileHashMemo(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	f := filepath.Join(t.TempDir(), "asyncinstr")
	if err := os.WriteFile(f, []byte("version one"), 0o755); err != nil {
		t.Fatal(err)
	}
	h1, err := fileHash(f)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := fileHash(f); again != h1 {
		t.Fatalf("hash changed with the file unchanged: %s, %s", h1, again)
	}
	// Same size, so only the modification time tells them apart.
	if err := os.WriteFile(f, []byte("version two"), 0o755); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(f, later, later); err != nil {
		t.Fatal(err)
	}
	h2, err := fileHash(f)
	if err != nil {
		t.Fatal(err)
	}
	if h2 == h1 {
		t.Fatal("the memoised hash of a changed binary was reused")
	}
}
