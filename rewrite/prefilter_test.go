package rewrite

import (
	"testing"

	"github.com/asyncinstr/asyncinstr/rules"
)

func TestMayRewrite(t *testing.T) {
	afterfunc := []*rules.Rule{rules.Lookup("afterfunc")}
	netRule := []*rules.Rule{rules.Lookup("net")}
	for _, tc := range []struct {
		name, src string
		rs        []*rules.Rule
		want      bool
	}{
		{"go statement", "package p\nfunc f() { go f() }\n", rules.All, true},
		{"no site", "package p\nfunc f() int { return 1 }\n", rules.All, false},
		{"in a comment only", "package p\n// go f() AfterFunc\nfunc f() {}\n", rules.All, false},
		{"in a string only", "package p\nvar s = \"go AfterFunc\"\n", rules.All, false},
		{"matched name", "package p\nimport \"time\"\nvar _ = time.AfterFunc\n", rules.All, true},
		{"timer method", "package p\nfunc f(t interface{ Stop() bool }) { t.Stop() }\n", rules.All, true},
		{"go statement, rule off", "package p\nfunc f() { go f() }\n", afterfunc, false},
		{"channel type", "package p\nvar c = make(chan int)\n", rules.All, true},
		{"channel type, chan rule only", "package p\nvar c = make(chan int)\n", []*rules.Rule{rules.Lookup("chan")}, true},
		{"channel type, rules off", "package p\nvar c = make(chan int)\n", afterfunc, false},
		{"receive, timer rule", "package p\nfunc f(c <-chan int) { <-c }\n", []*rules.Rule{rules.Lookup("timer")}, true},
		{"a timer's channel, timer rule", "package p\nfunc f(t *T) { for range t.C {} }\n", []*rules.Rule{rules.Lookup("timer")}, true},
		{"receive, chan rule only", "package p\nfunc f(c func() int) { c() }\n", []*rules.Rule{rules.Lookup("chan")}, false},
		{"net function with its import", "package p\nimport \"net\"\nvar _, _ = net.Dial(\"tcp\", \"x\")\n", netRule, true},
		{"a ListenTCP of another package", "package p\nimport \"other\"\nvar _ = other.ListenTCP()\n", netRule, false},
		{"net method, no import", "package p\nfunc f(c interface{ Close() error }) { c.Close() }\n", netRule, true},
		{"handler", "package p\nimport \"net/http\"\nfunc h(w http.ResponseWriter, r *http.Request) {}\n", []*rules.Rule{rules.Lookup("http")}, true},
		{"package main, exit rule", "package main\nfunc main() {}\n", []*rules.Rule{rules.Lookup("exit")}, true},
		{"package main, exit rule off", "package main\nfunc main() {}\n", afterfunc, false},
		{"os.Exit, exit rule", "package p\nimport \"os\"\nfunc f() { os.Exit(1) }\n", []*rules.Rule{rules.Lookup("exit")}, true},
		{"no handler, http rule", "package p\nimport \"net/http\"\nvar _ = http.StatusOK\n", []*rules.Rule{rules.Lookup("http")}, false},
	} {
		if got := MayRewrite([]string{"p.go"}, [][]byte{[]byte(tc.src)}, tc.rs); got != tc.want {
			t.Errorf("%s: MayRewrite = %v, want %v", tc.name, got, tc.want)
		}
	}
	if !MayRewrite([]string{"/p/zz_asyncinstr.go"}, [][]byte{[]byte("package p\n")}, rules.All) {
		t.Error("a companion file is not renumbered")
	}
}
