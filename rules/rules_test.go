package rules

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	for _, tc := range []struct {
		list string
		want string
		err  string
	}{
		{"", "go,chan,waitgroup,errgroup,afterfunc,timer,contextafterfunc,net,http,callback,exit", ""},
		{"all", "go,chan,waitgroup,errgroup,afterfunc,timer,contextafterfunc,net,http,callback,exit", ""},
		{"afterfunc,go", "go,afterfunc", ""}, // table order, not list order
		{" go , waitgroup", "go,waitgroup", ""},
		{"go,nope", "", `unknown rule "nope"`},
	} {
		rs, err := Select(tc.list)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Select(%q) error = %v, want %q", tc.list, err, tc.err)
			}
			continue
		}
		var names []string
		for _, r := range rs {
			names = append(names, r.Name)
		}
		if got := strings.Join(names, ","); err != nil || got != tc.want {
			t.Errorf("Select(%q) = %s, %v; want %s", tc.list, got, err, tc.want)
		}
	}
}

// TestTable checks the table's own consistency: unique names, documented
// rules, runtime functions that the runtime packages really export, and
// functions that share a runtime function only where -strip, which finds a
// form by its runtime function, cannot tell them apart.
func TestTable(t *testing.T) {
	names := map[string]bool{}
	shared := map[string]Func{}
	for _, r := range All {
		if names[r.Name] || r.Name == "" || r.Doc == "" {
			t.Errorf("rule %q: duplicate, unnamed or undocumented", r.Name)
		}
		names[r.Name] = true
		if !r.GoStmt && !r.Chans && !r.TimerChans && !r.Callbacks && len(r.Funcs) == 0 || r.GoStmt && (r.Chans || len(r.Funcs) > 0) {
			t.Errorf("rule %q must match go statements, channels, declared callbacks, or functions (and timers' channels)", r.Name)
		}
		for _, f := range r.Funcs {
			exported := runtimeFuncs(t, f.Package())
			if !exported[f.Runtime] {
				t.Errorf("rule %q: %s has no function %s", r.Name, f.Package(), f.Runtime)
			}
			if f.Scoped && !exported[f.Runtime+"In"] {
				t.Errorf("rule %q: %s has no function %sIn", r.Name, f.Package(), f.Runtime)
			}
			if RuntimePackages[f.Package()] == "" {
				t.Errorf("rule %q: unknown runtime package %s", r.Name, f.Package())
			}
			if g, ok := shared[f.Runtime]; ok && (g.Name != f.Name || g.Form != f.Form || g.In != f.In || g.Site != f.Site || g.Scoped != f.Scoped) {
				t.Errorf("runtime function %s serves %s and %s, which -strip must undo differently", f.Runtime, g, f)
			}
			shared[f.Runtime] = f
			if rr, ff := ByRuntime(f.Runtime); rr != r || ff.Name != f.Name {
				t.Errorf("ByRuntime(%s) = %v, %v", f.Runtime, rr, ff)
			}
		}
	}
	if !runtimeFuncs(t, "hooksrt")["Go"] {
		t.Error("hooksrt has no function Go")
	}
	if Lookup("go") == nil || Lookup("nope") != nil {
		t.Error("Lookup")
	}
}

var exportedFuncs = map[string]map[string]bool{}

func runtimeFuncs(t *testing.T, pkg string) map[string]bool {
	if funcs, ok := exportedFuncs[pkg]; ok {
		return funcs
	}
	pkgs, err := parser.ParseDir(token.NewFileSet(), "../runtime/"+pkg, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	funcs := map[string]bool{}
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.IsExported() {
					funcs[fd.Name.Name] = true
				}
			}
		}
	}
	exportedFuncs[pkg] = funcs
	return funcs
}

func TestFuncString(t *testing.T) {
	for _, tc := range []struct {
		f    Func
		want string
	}{
		{Func{Pkg: "time", Name: "AfterFunc"}, "time.AfterFunc"},
		{Func{Pkg: "sync", Recv: "*WaitGroup", Name: "Go"}, "(*sync.WaitGroup).Go"},
		{Func{Pkg: "golang.org/x/sync/errgroup", Recv: "Group", Name: "Go"}, "errgroup.Group.Go"},
	} {
		if got := tc.f.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.f, got, tc.want)
		}
	}
}

// WithDeclared gives the callback rule the declarations of a rules file
// without changing the table.
func TestWithDeclared(t *testing.T) {
	decls := []Callback{{Func: Func{Pkg: "p", Name: "Submit"}, Arg: "f", Type: "T"}}
	rs := WithDeclared(All, decls)
	cb := Lookup("callback")
	if len(cb.Declared) != 0 {
		t.Error("WithDeclared changed the table")
	}
	for i, r := range rs {
		switch {
		case r.Callbacks && (r == cb || len(r.Declared) != 1 || r.Name != "callback"):
			t.Errorf("callback rule not replaced: %+v", r)
		case !r.Callbacks && r != All[i]:
			t.Errorf("rule %s replaced", r.Name)
		}
	}
}
