package graph

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// title is the first line of a node's label: "GOROUTINE #12", or
// "GOROUTINE ×10000" for a merged node.
func title(n *Node) string {
	if n.Members != nil {
		return fmt.Sprintf("%s ×%d", n.Type, len(n.Members))
	}
	return fmt.Sprintf("%s #%d", n.Type, n.ID)
}

// siteLine is the second line: where the resource was created.
func siteLine(n *Node) string {
	switch {
	case n.Kind == Root:
		return "package initialisation and main"
	case n.Kind == Unknown:
		return "goroutines not started by rewritten code"
	case n.Kind == BeforeTrace:
		return "created before the trace"
	case n.Site == "":
		return "site unknown"
	}
	return n.Site
}

// timesLine is the third line: how long the resource lived and ran.
func timesLine(n *Node) string {
	var parts []string
	switch {
	case n.Synthetic():
	case n.Members != nil:
		if lo, hi, ok := lifetimes(n.Members); ok {
			life := "lived " + duration(lo)
			if hi != lo {
				life += "–" + duration(hi)
			}
			parts = append(parts, life)
		} else if n.Leaked() {
			parts = append(parts, "never destroyed")
		}
	case n.Leaked():
		parts = append(parts, "never destroyed")
	default:
		if d, ok := n.Lifetime(); ok {
			parts = append(parts, "lived "+duration(d))
		}
	}
	if n.Runs > 0 {
		parts = append(parts, fmt.Sprintf("ran %s in %s", duration(n.Run), plural(n.Runs, "run")))
	} else if !n.Synthetic() {
		parts = append(parts, "never ran")
	}
	return strings.Join(parts, " · ")
}

// lifetimes returns the shortest and longest lifetime among ns, and
// whether any is known.
func lifetimes(ns []*Node) (lo, hi time.Duration, ok bool) {
	for _, n := range ns {
		d, known := n.Lifetime()
		if !known {
			continue
		}
		if !ok || d < lo {
			lo = d
		}
		if !ok || d > hi {
			hi = d
		}
		ok = true
	}
	return lo, hi, ok
}

// label returns the lines of n's label.
func label(n *Node) []string {
	lines := []string{title(n), siteLine(n)}
	if s := timesLine(n); s != "" {
		lines = append(lines, s)
	}
	return lines
}

// duration formats d with three significant digits: 850ns, 12.3µs,
// 1.25ms, 2.50s.
func duration(d time.Duration) string {
	units := []struct {
		name string
		size time.Duration
	}{{"s", time.Second}, {"ms", time.Millisecond}, {"µs", time.Microsecond}}
	for _, u := range units {
		if d >= u.size {
			v := float64(d) / float64(u.size)
			prec := 2
			switch {
			case v >= 100:
				prec = 0
			case v >= 10:
				prec = 1
			}
			return strconv.FormatFloat(v, 'f', prec, 64) + u.name
		}
	}
	return strconv.FormatInt(int64(d), 10) + "ns"
}

// plural returns "1 run" or "3 runs".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
