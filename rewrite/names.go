package rewrite

import (
	"fmt"
	"go/types"
	"strconv"
	"strings"
)

// Every identifier the rewriter adds to a user's file starts with prefix, is
// declared in the package's companion file, and is what -strip and a
// second run recognise.
const prefix = "_asyncinstr"

// Names of what the companion file declares.
const (
	sitesVar = prefix + "Sites" // [...]hooksrt.Site, indexed by site number
	goHelper = prefix + "Go"    // hooksrt.Go

	// serveHTTPHelper is hookshttp.ServeHTTP, which a handler's first
	// statement calls: defer _asyncinstrServeHTTP(r, &site).Done().
	serveHTTPHelper = prefix + "ServeHTTP"
	// finishHelper is hooksrt.Finish, which main defers first thing:
	// defer _asyncinstrFinish().
	finishHelper = prefix + "Finish"
	// reqParam names a handler's request parameter that was "_"; and
	// reqParamUnnamed one that had no name, in a list of unnamed
	// parameters (the others become "_").
	reqParam        = prefix + "Req"
	reqParamUnnamed = prefix + "ReqU"
)

// helperFor returns the name under which the companion file declares the
// runtime function fn ("AfterFunc" -> "_asyncinstrAfterFunc").
func helperFor(fn string) string { return prefix + fn }

// A goShape describes one of the generic functions that run a go
// statement's call in its resource's scope: Run<params><S|V>R<results>,
// called as Run(f, args..., task), or Wrap<...>, called as
// Wrap(f)(args..., task). Run infers its type parameters from f and the
// arguments together, so it serves when every argument has exactly its
// parameter's type; Wrap infers them from f alone, so its arguments are
// converted implicitly, as the go statement converted them, at the cost of
// one more allocation.
//
// A variadic function called with separate arguments whose evaluation may
// have effects (a call, a receive) takes the P form, as if spread: the
// arguments are packed into a slice by Pack<params>R<results>(f)(x, y),
// which types them from f, so that the task is still created after them:
//
//	go f(a, g(), h())  =>  go _asyncinstrRun2P(f, a, _asyncinstrPack2(f)(g(), h()), task)
type goShape struct {
	params, results int
	// kind is "" (not variadic), "S" (spread: f(a, s...)), "V" (separate
	// variadic arguments, the task before them) or "P" (separate
	// variadic arguments, packed).
	kind string
	wrap bool // the Wrap form
	pack bool // not a runner: the Pack function of a P form
}

// The largest shapes the rewriter emits. A go statement beyond them stays
// uninstrumented, and -explain says so.
const (
	maxParams  = 8
	maxResults = 4
)

func (s goShape) name() string {
	verb := "Run"
	switch {
	case s.pack:
		verb = "Pack"
	case s.wrap:
		verb = "Wrap"
	}
	n := fmt.Sprintf("%s%s%d%s", prefix, verb, s.params, s.kind)
	if s.results > 0 {
		n += fmt.Sprintf("R%d", s.results)
	}
	return n
}

// parseShape is the inverse of goShape.name.
func parseShape(name string) (goShape, bool) {
	var s goShape
	rest, ok := strings.CutPrefix(name, prefix+"Run")
	if !ok {
		if rest, ok = strings.CutPrefix(name, prefix+"Wrap"); ok {
			s.wrap = true
		} else if rest, ok = strings.CutPrefix(name, prefix+"Pack"); ok {
			s.pack = true
		} else {
			return goShape{}, false
		}
	}
	n, rest, ok := cutCount(rest)
	if !ok {
		return goShape{}, false
	}
	s.params = n
	if r, ok := strings.CutPrefix(rest, "S"); ok {
		s.kind, rest = "S", r
	} else if r, ok := strings.CutPrefix(rest, "V"); ok {
		s.kind, rest = "V", r
	} else if r, ok := strings.CutPrefix(rest, "P"); ok {
		s.kind, rest = "P", r
	}
	if r, ok := strings.CutPrefix(rest, "R"); ok {
		if s.results, rest, ok = cutCount(r); !ok {
			return goShape{}, false
		}
	}
	if rest != "" || s.params > maxParams || s.results > maxResults || (s.kind != "" && s.params == 0) ||
		(s.pack && (s.kind != "" || s.params == 0)) {
		return goShape{}, false
	}
	return s, true
}

// decl returns the Go declaration of the shape's function.
func (s goShape) decl() string {
	var tparams, fparams, params, args, results []string
	for i := 0; i < s.params; i++ {
		a := fmt.Sprintf("A%d", i)
		tparams = append(tparams, a)
		p, arg := fmt.Sprintf("a%d %s", i, a), fmt.Sprintf("a%d", i)
		if (s.kind != "" || s.pack) && i == s.params-1 {
			fparams = append(fparams, "..."+a)
			if s.kind == "S" || s.kind == "P" {
				p = fmt.Sprintf("a%d []%s", i, a)
			} else {
				p = fmt.Sprintf("a%d ...%s", i, a)
			}
			arg += "..."
		} else {
			fparams = append(fparams, a)
		}
		params = append(params, p)
		args = append(args, arg)
	}
	for i := 0; i < s.results; i++ {
		r := fmt.Sprintf("R%d", i)
		tparams = append(tparams, r)
		results = append(results, r)
	}
	// The task is created after the arguments are evaluated, so it comes
	// last; a V shape cannot put it after its variadic arguments, so it
	// comes just before them.
	if s.kind == "V" {
		params = append(params[:s.params-1:s.params-1], "t *hooksrt.Task", params[s.params-1])
	} else {
		params = append(params, "t *hooksrt.Task")
	}
	ftype := "func(" + strings.Join(fparams, ", ") + ")" + resultList(results)
	if s.pack {
		last := fmt.Sprintf("A%d", s.params-1)
		return fmt.Sprintf("func %s[%s any](f %s) func(...%s) []%s {\n\treturn func(a ...%s) []%s { return a }\n}\n",
			s.name(), strings.Join(tparams, ", "), ftype, last, last, last, last)
	}
	tp := ""
	if len(tparams) > 0 {
		tp = "[" + strings.Join(tparams, ", ") + " any]"
	}
	body := fmt.Sprintf("\tt.Begin()\n\tdefer t.End()\n\tf(%s)\n", strings.Join(args, ", "))
	if !s.wrap {
		return fmt.Sprintf("func %s%s(f %s, %s) {\n%s}\n", s.name(), tp, ftype, strings.Join(params, ", "), body)
	}
	var ptypes []string
	for _, p := range params {
		ptypes = append(ptypes, p[strings.IndexByte(p, ' ')+1:])
	}
	return fmt.Sprintf("func %s%s(f %s) func(%s) {\n\treturn func(%s) {\n%s\t}\n}\n",
		s.name(), tp, ftype, strings.Join(ptypes, ", "), strings.Join(params, ", "), strings.ReplaceAll(body, "\t", "\t\t"))
}

// Builtins a go statement may call, and the generic functions that run them.
// The others (print, println, copy, clear, recover) are left alone: a
// generic wrapper would change what print shows or what copy accepts.
var builtinHelpers = map[string]struct{ builtin, decl string }{
	prefix + "RunClose": {"close", `func _asyncinstrRunClose[C ~chan E, E any](c C, t *hooksrt.Task) {
	t.Begin()
	defer t.End()
	close(c)
}
`},
	prefix + "RunCloseSend": {"close", `func _asyncinstrRunCloseSend[C ~chan<- E, E any](c C, t *hooksrt.Task) {
	t.Begin()
	defer t.End()
	close(c)
}
`},
	prefix + "RunDelete": {"delete", `func _asyncinstrRunDelete[M ~map[K]V, K comparable, V any](m M, k K, t *hooksrt.Task) {
	t.Begin()
	defer t.End()
	delete(m, k)
}
`},
	prefix + "RunPanic": {"panic", `func _asyncinstrRunPanic(v any, t *hooksrt.Task) {
	t.Begin()
	defer t.End()
	panic(v)
}
`},
}

// A cbShape describes the generic function that wraps a callback of a
// declared async API (see hooksrt.Callback): Cb<params>[V][R<results>],
// called as Cb(f, "TYPE", many, &site). It creates f's resource
// (hooksrt.NewCallback) and returns f wrapped to run in it, of f's own
// type, named or not; a nil f stays nil and makes no resource:
//
//	func _asyncinstrCb1R1[F ~func(A0) R0, A0, R0 any](f F, typ string, many bool, site *hooksrt.Site) F
type cbShape struct {
	params, results int
	variadic        bool
}

func (s cbShape) name() string {
	n := fmt.Sprintf("%sCb%d", prefix, s.params)
	if s.variadic {
		n += "V"
	}
	if s.results > 0 {
		n += fmt.Sprintf("R%d", s.results)
	}
	return n
}

// parseCbShape is the inverse of cbShape.name.
func parseCbShape(name string) (cbShape, bool) {
	rest, ok := strings.CutPrefix(name, prefix+"Cb")
	if !ok {
		return cbShape{}, false
	}
	var s cbShape
	n, rest, ok := cutCount(rest)
	if !ok {
		return cbShape{}, false
	}
	s.params = n
	if r, ok := strings.CutPrefix(rest, "V"); ok {
		s.variadic, rest = true, r
	}
	if r, ok := strings.CutPrefix(rest, "R"); ok {
		if s.results, rest, ok = cutCount(r); !ok {
			return cbShape{}, false
		}
	}
	if rest != "" || s.params > maxParams || s.results > maxResults || (s.variadic && s.params == 0) || s.name() != name {
		return cbShape{}, false
	}
	return s, true
}

// decl returns the Go declaration of the shape's function.
func (s cbShape) decl() string {
	var tparams, fparams, params, args, results []string
	for i := 0; i < s.params; i++ {
		a := fmt.Sprintf("A%d", i)
		tparams = append(tparams, a)
		if s.variadic && i == s.params-1 {
			fparams = append(fparams, "..."+a)
			params = append(params, fmt.Sprintf("a%d ...%s", i, a))
			args = append(args, fmt.Sprintf("a%d...", i))
			continue
		}
		fparams = append(fparams, a)
		params = append(params, fmt.Sprintf("a%d %s", i, a))
		args = append(args, fmt.Sprintf("a%d", i))
	}
	for i := 0; i < s.results; i++ {
		tparams = append(tparams, fmt.Sprintf("R%d", i))
		results = append(results, fmt.Sprintf("R%d", i))
	}
	res := resultList(results)
	ftype := "func(" + strings.Join(fparams, ", ") + ")" + res
	tp := "[F ~" + ftype
	if len(tparams) > 0 {
		tp += ", " + strings.Join(tparams, ", ") + " any"
	}
	tp += "]"
	ret := ""
	if s.results > 0 {
		ret = "return "
	}
	return fmt.Sprintf("func %s%s(f F, typ string, many bool, site *hooksrt.Site) F {\n\tif f == nil {\n\t\treturn f\n\t}\n"+
		"\tc := hooksrt.NewCallback(typ, many, site)\n\tif c == nil {\n\t\treturn f\n\t}\n"+
		"\treturn func(%s)%s {\n\t\tdefer c.End(c.Begin())\n\t\t%sf(%s)\n\t}\n}\n",
		s.name(), tp, strings.Join(params, ", "), res, ret, strings.Join(args, ", "))
}

// cbShapeOf returns the shape of a callback of type sig, and whether the
// rewriter has one that large.
func cbShapeOf(sig *types.Signature) (cbShape, bool) {
	s := cbShape{params: sig.Params().Len(), results: sig.Results().Len(), variadic: sig.Variadic()}
	return s, s.params <= maxParams && s.results <= maxResults
}

// cutCount returns the decimal number that s starts with, and the rest.
func cutCount(s string) (n int, rest string, ok bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.Atoi(s[:i])
	return n, s[i:], err == nil
}

// resultList returns the result list of a function type with results
// (" R0", " (R0, R1)"), or "" for none.
func resultList(results []string) string {
	switch len(results) {
	case 0:
		return ""
	case 1:
		return " " + results[0]
	}
	return " (" + strings.Join(results, ", ") + ")"
}
