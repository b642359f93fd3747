package rewrite

import (
	"testing"

	"golang.org/x/tools/go/packages"

	"github.com/asyncinstr/asyncinstr/rules"
)

// TestSkipPackage checks what is never rewritten: the standard library,
// the runtime, vendored code and the generated test main.
func TestSkipPackage(t *testing.T) {
	mod := &packages.Module{Path: "example.com/m", Dir: "/src/m", Main: true}
	for _, tc := range []struct {
		pkg  *packages.Package
		want string
	}{
		{&packages.Package{PkgPath: "fmt", GoFiles: []string{"/go/src/fmt/print.go"}}, "standard library"},
		{&packages.Package{PkgPath: rules.RuntimePath, Module: &packages.Module{Path: rules.RuntimeModule}, GoFiles: []string{"/rt/hooksrt/core.go"}}, "the asyncinstr runtime"},
		{&packages.Package{PkgPath: rules.RuntimePath + "/hookstest", Module: mod, GoFiles: []string{"/rt/x.go"}}, "the asyncinstr runtime"},
		{&packages.Package{PkgPath: "example.com/m/vendor/x", Module: mod, GoFiles: []string{"/src/m/vendor/x/x.go"}}, "vendored"},
		{&packages.Package{Name: "main", PkgPath: "example.com/m.test", Module: mod, GoFiles: []string{"/cache/testmain.go"}}, "generated test main"},
		{&packages.Package{PkgPath: "example.com/m", Module: mod, GoFiles: []string{"/src/m/m.go"}}, ""},
	} {
		if got := skipPackage(tc.pkg); got != tc.want {
			t.Errorf("skipPackage(%s) = %q, want %q", tc.pkg.PkgPath, got, tc.want)
		}
	}
}
