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
		{"", "go,chan,waitgroup,errgroup,afterfunc,timer,contextafterfunc", ""},
		{"all", "go,chan,waitgroup,errgroup,afterfunc,timer,contextafterfunc", ""},
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

// TestTable checks the table's own consistency: unique names and runtime
// functions (-strip finds a form by its runtime function), documented
// rules, and runtime functions that package hooksrt really exports.
func TestTable(t *testing.T) {
	exported := runtimeFuncs(t)
	names, runtimes := map[string]bool{}, map[string]bool{}
	for _, r := range All {
		if names[r.Name] || r.Name == "" || r.Doc == "" {
			t.Errorf("rule %q: duplicate, unnamed or undocumented", r.Name)
		}
		names[r.Name] = true
		if !r.GoStmt && !r.Chans && !r.TimerChans && len(r.Funcs) == 0 || r.GoStmt && (r.Chans || len(r.Funcs) > 0) {
			t.Errorf("rule %q must match go statements, channels, or functions (and timers' channels)", r.Name)
		}
		for _, f := range r.Funcs {
			if runtimes[f.Runtime] {
				t.Errorf("runtime function %s used twice", f.Runtime)
			}
			runtimes[f.Runtime] = true
			if !exported[f.Runtime] {
				t.Errorf("rule %q: hooksrt has no function %s", r.Name, f.Runtime)
			}
			if rr, ff := ByRuntime(f.Runtime); rr != r || ff.Name != f.Name {
				t.Errorf("ByRuntime(%s) = %v, %v", f.Runtime, rr, ff)
			}
		}
	}
	if !exported["Go"] {
		t.Error("hooksrt has no function Go")
	}
	if Lookup("go") == nil || Lookup("nope") != nil {
		t.Error("Lookup")
	}
}

func runtimeFuncs(t *testing.T) map[string]bool {
	pkgs, err := parser.ParseDir(token.NewFileSet(), "../runtime/hooksrt", nil, parser.SkipObjectResolution)
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
