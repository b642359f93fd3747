package rules

import (
	"go/token"
	"testing"
)

func TestParseDirective(t *testing.T) {
	pos := token.Position{Filename: "p.go", Line: 7, Column: 1}
	for _, tc := range []struct {
		text string
		ok   bool
		want Callback
		err  string
	}{
		{"//asyncinstr:callback arg=task type=POOLTASK", true, Callback{Arg: "task", Type: "POOLTASK"}, ""},
		{"//asyncinstr:callback arg=1 runs=many", true, Callback{Arg: "1", Type: "CALLBACK", Many: true}, ""},
		{"//asyncinstr:callback\targ=f runs=once", true, Callback{Arg: "f", Type: "CALLBACK"}, ""},
		{"//asyncinstr:callbacks arg=f", false, Callback{}, ""},
		{"//asyncinstr:ignore", false, Callback{}, ""},
		{"//asyncinstr:callback", true, Callback{}, "p.go:7:22: missing arg=NAME: which parameter is the callback"},
		{"//asyncinstr:callback arg=f tpye=X", true, Callback{}, `p.go:7:29: unknown option "tpye" (options: arg, type, runs)`},
		{"//asyncinstr:callback arg=f runs=twice", true, Callback{}, "p.go:7:29: runs=twice: want once or many"},
		{"//asyncinstr:callback arg", true, Callback{}, `p.go:7:23: malformed option "arg" (want key=value)`},
		{"//asyncinstr:callback arg=f arg=g", true, Callback{}, "p.go:7:29: option arg given twice"},
		{`//asyncinstr:callback arg=f type=a"b`, true, Callback{}, `p.go:7:29: type "a\"b": want printable characters, no quotes`},
	} {
		c, ok, err := ParseDirective(tc.text, pos)
		if ok != tc.ok {
			t.Errorf("%q: ok %v, want %v", tc.text, ok, tc.ok)
			continue
		}
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: error %v, want %s", tc.text, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.text, err)
			continue
		}
		if ok && (c.Arg != tc.want.Arg || c.Type != tc.want.Type || c.Many != tc.want.Many) {
			t.Errorf("%q: %+v, want %+v", tc.text, c, tc.want)
		}
	}
}

func TestParseFile(t *testing.T) {
	src := `# third-party pools
callback (*github.com/panjf2000/ants/v2.Pool).Submit arg=task type=POOLTASK

  callback github.com/panjf2000/ants/v2.Submit arg=0
callback (gopkg.in/x.v3.Emitter).On arg=handler runs=many
`
	cs, err := ParseFile("asyncinstr.rules", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []Callback{
		{Func: Func{Pkg: "github.com/panjf2000/ants/v2", Recv: "*Pool", Name: "Submit"}, Arg: "task", Type: "POOLTASK",
			Pos: token.Position{Filename: "asyncinstr.rules", Line: 2, Column: 10}},
		{Func: Func{Pkg: "github.com/panjf2000/ants/v2", Name: "Submit"}, Arg: "0", Type: "CALLBACK",
			Pos: token.Position{Filename: "asyncinstr.rules", Line: 4, Column: 12}},
		{Func: Func{Pkg: "gopkg.in/x.v3", Recv: "Emitter", Name: "On"}, Arg: "handler", Type: "CALLBACK", Many: true,
			Pos: token.Position{Filename: "asyncinstr.rules", Line: 5, Column: 10}},
	}
	if len(cs) != len(want) {
		t.Fatalf("%d declarations, want %d: %+v", len(cs), len(want), cs)
	}
	for i := range want {
		if cs[i] != want[i] {
			t.Errorf("line %d: %+v\nwant %+v", i, cs[i], want[i])
		}
	}

	for _, tc := range []struct{ src, err string }{
		{"callbak x.F arg=f\n", `asyncinstr.rules:1:1: unknown declaration "callbak" (want callback)`},
		{"callback\n", "asyncinstr.rules:1:9: callback: missing function name"},
		{"\ncallback F arg=f\n", `asyncinstr.rules:2:10: malformed function "F" (want pkg/path.Func or (*pkg/path.Type).Method)`},
		{"callback (*x.T.M arg=f\n", `asyncinstr.rules:1:10: malformed function "(*x.T.M" (want pkg/path.Func or (*pkg/path.Type).Method)`},
		{"callback x.F\n", "asyncinstr.rules:1:13: missing arg=NAME: which parameter is the callback"},
		{"callback x.F arg=f  runs=2\n", "asyncinstr.rules:1:21: runs=2: want once or many"},
	} {
		if _, err := ParseFile("asyncinstr.rules", []byte(tc.src)); err == nil || err.Error() != tc.err {
			t.Errorf("%q: error %v\nwant %s", tc.src, err, tc.err)
		}
	}
}

func TestCallbackIndex(t *testing.T) {
	names := []string{"ctx", "task", "_"}
	for arg, want := range map[string]int{"task": 1, "0": 0, "2": 2, "3": -1, "_": -1, "nope": -1} {
		c := Callback{Arg: arg}
		if got := c.Index(names); got != want {
			t.Errorf("arg=%s: %d, want %d", arg, got, want)
		}
	}
}
