package graph

import "time"

// A Kind says what a Node stands for.
type Kind uint8

const (
	// Resource is a resource that the trace saw created (it has an init).
	Resource Kind = iota
	// Root is the synthetic node for id 1: package initialisation and main.
	Root
	// Unknown is the synthetic node for id 0: goroutines that rewritten
	// code did not start.
	Unknown
	// BeforeTrace is a resource created before tracing started: it has
	// runs, a destroy or children in the trace, but no init.
	BeforeTrace
)

// A Node is one resource of the trigger tree, or, after Merge, a group of
// sibling resources drawn as one.
type Node struct {
	ID      uint64
	Trigger uint64 // the ID of the parent
	Kind    Kind
	Type    string // "GOROUTINE", "Timeout", ...; "?" when the trace never says
	Site    string // "main.go:12 main.worker", or "" when unknown

	Init      time.Duration // creation time since tracing started (0 unless Kind is Resource)
	Destroy   time.Duration // destroy time, when Destroyed
	Destroyed bool
	Run       time.Duration // total time of its runs (before to after)
	Runs      int           // number of runs

	Children []*Node // ordered by Init, then ID

	// Members holds the resources that a merged node stands for (two or
	// more), in order; nil for a node that stands for itself.
	Members []*Node

	line int // line of the init, for error messages
}

// Synthetic reports whether n is the root or the unknown context rather
// than a resource.
func (n *Node) Synthetic() bool { return n.Kind == Root || n.Kind == Unknown }

// Leaked reports whether n is a resource that was never destroyed: still
// alive when the trace ended, a leak or a resource that outlives the run.
func (n *Node) Leaked() bool { return !n.Synthetic() && !n.Destroyed }

// Count returns the number of resources n stands for.
func (n *Node) Count() int { return max(1, len(n.Members)) }

// Lifetime returns how long n lived, from init to destroy, and whether
// that is known (it is not for the synthetic nodes, for resources never
// destroyed, and for those created before the trace).
func (n *Node) Lifetime() (time.Duration, bool) {
	if n.Kind != Resource || !n.Destroyed {
		return 0, false
	}
	return n.Destroy - n.Init, true
}

// A Trace is the trigger tree of one recorded run.
type Trace struct {
	Name    string // the file name, for titles
	Process string // the process name that the trace gives, if any
	// Roots are the trees: the root (id 1), then the unknown context (id
	// 0) when anything hangs under it or ran in it.
	Roots []*Node
	// End is the time of the last event; Complete says that the trace
	// ended with its trace_end line rather than being cut short.
	End      time.Duration
	Complete bool
}

// Stats counts what a summary line shows.
type Stats struct {
	Resources int // resources, not counting the root and the unknown context
	Types     int // distinct types among them
	Leaked    int // resources never destroyed
}

// Stats returns the counts of t's resources, merged nodes counted for all
// their members.
func (t *Trace) Stats() Stats {
	var s Stats
	types := map[string]bool{}
	walk(t.Roots, func(n *Node) {
		if n.Synthetic() {
			return
		}
		s.Resources += n.Count()
		types[n.Type] = true
		if n.Leaked() {
			s.Leaked += n.Count()
		}
	})
	s.Types = len(types)
	return s
}

// walk calls f for every node of the trees, parents before children.
func walk(roots []*Node, f func(*Node)) {
	stack := make([]*Node, 0, len(roots))
	for i := len(roots) - 1; i >= 0; i-- {
		stack = append(stack, roots[i])
	}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		f(n)
		for i := len(n.Children) - 1; i >= 0; i-- {
			stack = append(stack, n.Children[i])
		}
	}
}
