package rules

import (
	"fmt"
	"strings"
)

// RuntimeModule is the module of the runtime package, which instrumented
// programs require; RuntimePath is the package that rewritten code calls.
const (
	RuntimeModule = "github.com/asyncinstr/asyncinstr/runtime"
	RuntimePath   = RuntimeModule + "/hooksrt"
)

// A Rule selects one kind of construct and says what it becomes. Rules are
// values: the rewriter interprets them, -rules selects them by name, and
// -strip reverses them from the same table.
type Rule struct {
	Name string // what -rules and -explain call it
	Doc  string // one sentence for asyncinstr -help and -explain

	// GoStmt makes the rule match go statements. Otherwise it matches the
	// calls of Funcs.
	GoStmt bool
	// Chans makes the rule match the channels whose every flow the
	// rewriter sees: their values carry their senders' contexts.
	Chans bool
	// TimerChans makes receives from the channels of timers and tickers
	// run in their resources' scopes.
	TimerChans bool
	// Handlers makes every function of type
	// func(http.ResponseWriter, *http.Request) open the scope of the
	// request it serves, when net/http calls it.
	Handlers bool
	// Callbacks makes the rule wrap the callbacks of declared async APIs
	// (see Callback): the functions whose declaration carries the
	// directive, and the calls of the functions in Declared.
	Callbacks bool
	// Declared are the async APIs of the rules file; WithDeclared sets
	// them.
	Declared []Callback
	// Main makes func main of package main defer the runtime's Finish,
	// which completes the trace and prints the leak report that the
	// program's environment asks for.
	Main  bool
	Funcs []Func
}

// A Func is a function or method, matched by its resolved object (never by
// the name it is written with), and what a call of it becomes.
type Func struct {
	Pkg  string // import path of the declaring package
	Recv string // receiver type name for a method ("*Timer"), "" for a function
	Name string

	Form    Form   // the shape of the rewritten call
	Runtime string // the runtime function the rewritten call goes through
	// In is the runtime package that declares Runtime: "" for hooksrt,
	// or "hooksnet" or "hookshttp", which only programs that use net or
	// net/http link.
	In string
	// Site makes a Method call pass its site too, as the other forms do.
	Site bool
	// Iface says that the runtime takes a Method's receiver as an
	// interface: the receiver goes as it is, so a method promoted from an
	// embedded field matches too.
	Iface bool
	// Scoped says that a call that is a statement directly in a for
	// loop's body opens a handling scope for the rest of the iteration,
	// as a channel receive does: it goes through Runtime+"In", which takes
	// the scope first.
	Scoped bool
}

// RuntimePackages are the packages that rewritten code may call, by the
// name that Func.In gives them.
var RuntimePackages = map[string]string{
	"hooksrt":   RuntimePath,
	"hooksnet":  RuntimeModule + "/hooksnet",
	"hookshttp": RuntimeModule + "/hookshttp",
}

// Package returns the name of the runtime package that declares f's
// runtime function.
func (f Func) Package() string {
	if f.In == "" {
		return "hooksrt"
	}
	return f.In
}

// String returns the function as Go documentation writes it:
// "time.AfterFunc", "(*sync.WaitGroup).Go".
func (f Func) String() string {
	pkg := f.Pkg[strings.LastIndex(f.Pkg, "/")+1:]
	if f.Recv == "" {
		return pkg + "." + f.Name
	}
	if r, ok := strings.CutPrefix(f.Recv, "*"); ok {
		return "(*" + pkg + "." + r + ")." + f.Name
	}
	return pkg + "." + f.Recv + "." + f.Name
}

// A Form is the shape of a rewritten call. Each one is reversible, which is
// what -strip relies on.
type Form int

const (
	// WrapArg wraps the call's only argument, a function:
	//	wg.Go(f)  =>  wg.Go(hooksrt.GoFunc(f, &site))
	WrapArg Form = iota + 1

	// CallThrough passes the called function to the runtime, which calls it:
	//	time.AfterFunc(d, f)  =>  hooksrt.AfterFunc(time.AfterFunc, d, f, &site)
	CallThrough

	// Method passes the receiver to the runtime as its first argument:
	//	t.Stop()  =>  hooksrt.StopTimer(t)
	//	l.Accept()  =>  hooksnet.Accept(l, &site)  (with Site)
	Method
)

// All is every rule, in the order the rewriter tries them and -explain
// lists them.
var All = []*Rule{
	{
		Name:   "go",
		Doc:    "go statements become GOROUTINE resources: init at the statement, before and after around the goroutine",
		GoStmt: true,
	},
	{
		Name:  "chan",
		Doc:   "a send on a tracked channel makes a CHANSEND resource; the receiver that takes the value runs its handling scope in it (a channel that reaches code asyncinstr does not rewrite stays untracked; -explain says where)",
		Chans: true,
	},
	{
		Name: "waitgroup",
		Doc:  "sync.WaitGroup.Go starts a GOROUTINE resource",
		Funcs: []Func{
			{Pkg: "sync", Recv: "*WaitGroup", Name: "Go", Form: WrapArg, Runtime: "GoFunc"},
		},
	},
	{
		Name: "errgroup",
		Doc:  "errgroup.Group.Go and TryGo start GOROUTINE resources; a TryGo that does not start its function destroys it",
		Funcs: []Func{
			{Pkg: "golang.org/x/sync/errgroup", Recv: "*Group", Name: "Go", Form: WrapArg, Runtime: "GoFuncErr"},
			{Pkg: "golang.org/x/sync/errgroup", Recv: "*Group", Name: "TryGo", Form: CallThrough, Runtime: "TryGo"},
		},
	},
	{
		Name: "afterfunc",
		Doc:  "time.AfterFunc makes a Timeout resource per arming; Stop and Reset on *time.Timer keep it exact",
		Funcs: []Func{
			{Pkg: "time", Name: "AfterFunc", Form: CallThrough, Runtime: "AfterFunc"},
			{Pkg: "time", Recv: "*Timer", Name: "Stop", Form: Method, Runtime: "StopTimer"},
			{Pkg: "time", Recv: "*Timer", Name: "Reset", Form: Method, Runtime: "ResetTimer"},
		},
	},
	{
		Name:       "timer",
		Doc:        "time.NewTimer and time.After make TIMER resources, time.NewTicker and time.Tick TICKER ones; each handled receive from their channels runs in the resource's scope",
		TimerChans: true,
		Funcs: []Func{
			{Pkg: "time", Name: "NewTimer", Form: CallThrough, Runtime: "NewTimer"},
			{Pkg: "time", Name: "After", Form: CallThrough, Runtime: "After"},
			{Pkg: "time", Name: "NewTicker", Form: CallThrough, Runtime: "NewTicker"},
			{Pkg: "time", Name: "Tick", Form: CallThrough, Runtime: "Tick"},
			{Pkg: "time", Recv: "*Ticker", Name: "Stop", Form: Method, Runtime: "StopTicker"},
		},
	},
	{
		Name: "contextafterfunc",
		Doc:  "context.AfterFunc makes a CONTEXTAFTERFUNC resource, destroyed after f or by a stop that returns true",
		Funcs: []Func{
			{Pkg: "context", Name: "AfterFunc", Form: CallThrough, Runtime: "ContextAfterFunc"},
		},
	},
	{
		Name:  "net",
		Doc:   "package net: listeners are TCPSERVERWRAP (PIPESERVERWRAP) resources whose scope covers the handling of each accepted conn, conns TCPWRAP (PIPEWRAP, UDPWRAP) triggered by their listener or connect request, dials TCPCONNECTWRAP and lookups GETADDRINFOREQWRAP; Close destroys",
		Funcs: netFuncs(),
	},
	{
		Name:     "http",
		Doc:      "package net/http: a handler that a server calls runs in an HTTPINCOMINGMESSAGE triggered by the server's listener; client requests are HTTPCLIENTREQUEST resources, destroyed when the response body is closed",
		Handlers: true,
		Funcs:    httpFuncs(),
	},
	{
		Name:      "callback",
		Doc:       "a callback passed to an async API declared by a //asyncinstr:callback directive or in asyncinstr.rules becomes a resource of the declared type: init at the call, before and after around each run, destroy after its run (runs=many: when collected)",
		Callbacks: true,
	},
	{
		Name:  "exit",
		Doc:   "main defers hooksrt.Finish and os.Exit goes through hooksrt.Exit, so that the trace that ASYNCINSTR_TRACE asks for is complete and the report of ASYNCINSTR_LEAKS is printed when the program ends",
		Main:  true,
		Funcs: []Func{{Pkg: "os", Name: "Exit", Form: CallThrough, Runtime: "Exit"}},
	},
}

// WithDeclared returns rs with the callback rule, if rs has it, replaced by
// a copy whose Declared is decls. The table itself never changes.
func WithDeclared(rs []*Rule, decls []Callback) []*Rule {
	out := make([]*Rule, len(rs))
	for i, r := range rs {
		if r.Callbacks {
			c := *r
			c.Declared = decls
			r = &c
		}
		out[i] = r
	}
	return out
}

// Select returns the rules named in list, a comma-separated list of rule
// names, in table order. "all" (or "") selects every rule.
func Select(list string) ([]*Rule, error) {
	if list == "" || list == "all" {
		return All, nil
	}
	want := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if Lookup(name) == nil {
			return nil, fmt.Errorf("unknown rule %q (rules: %s)", name, strings.Join(Names(), ", "))
		}
		want[name] = true
	}
	var rs []*Rule
	for _, r := range All {
		if want[r.Name] {
			rs = append(rs, r)
		}
	}
	return rs, nil
}

// Lookup returns the rule called name, or nil.
func Lookup(name string) *Rule {
	for _, r := range All {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Names returns the names of all rules, in table order.
func Names() []string {
	var names []string
	for _, r := range All {
		names = append(names, r.Name)
	}
	return names
}

// ByRuntime returns the Func whose rewritten calls go through the runtime
// function name, and its rule; -strip uses it to undo a call.
func ByRuntime(name string) (*Rule, *Func) {
	for _, r := range All {
		for i := range r.Funcs {
			if r.Funcs[i].Runtime == name {
				return r, &r.Funcs[i]
			}
		}
	}
	return nil, nil
}
