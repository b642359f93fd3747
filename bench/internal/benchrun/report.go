package benchrun

import (
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
)

// confidence is the level of every interval in the tables, benchstat's
// default.
const confidence = 0.95

// key identifies a series of measurements: one benchmark of one build in
// one configuration, a value per round.
type key struct {
	runtime, build, config, name, unit string
}

// results holds what Run wrote: for each series, its value in each round.
type results map[key]map[int]float64

var procsSuffix = regexp.MustCompile(`-\d+$`)

// read parses results in the Go benchmark format, as Run writes them.
func read(r io.Reader, fileName string) (results, error) {
	res := results{}
	br := benchfmt.NewReader(r, fileName)
	for br.Scan() {
		rec, ok := br.Result().(*benchfmt.Result)
		if !ok {
			if err, ok := br.Result().(*benchfmt.SyntaxError); ok {
				return nil, err
			}
			continue
		}
		round, err := strconv.Atoi(rec.GetConfig("round"))
		if err != nil {
			file, line := rec.Pos()
			return nil, fmt.Errorf("%s:%d: result without a round", file, line)
		}
		name := procsSuffix.ReplaceAllString(rec.Name.String(), "")
		for _, v := range rec.Values {
			k := key{rec.GetConfig("runtime"), rec.GetConfig("build"), rec.GetConfig("config"), name, v.Unit}
			if res[k] == nil {
				res[k] = map[int]float64{}
			}
			res[k][round] = v.Value
		}
	}
	if err := br.Err(); err != nil {
		return nil, err
	}
	if len(res) == 0 {
		return nil, errors.New("no benchmark results")
	}
	return res, nil
}

// summary is benchstat's summary of a sample: its median and the 95%
// confidence interval of the median.
func summary(values []float64) (benchmath.Summary, int) {
	s := benchmath.NewSample(values, &benchmath.DefaultThresholds)
	return benchmath.AssumeNothing.Summary(s, confidence), len(values)
}

// absolute summarises a series.
func (res results) absolute(k key) (benchmath.Summary, int, bool) {
	var vs []float64
	for _, v := range res[k] {
		vs = append(vs, v)
	}
	if len(vs) == 0 {
		return benchmath.Summary{}, 0, false
	}
	s, n := summary(vs)
	return s, n, true
}

// ratio summarises the per-round ratios of series k to series base: the
// rounds interleave every build and configuration, so a ratio within one
// round cancels most of the machine's drift from round to round.
func (res results) ratio(k, base key) (benchmath.Summary, int, bool) {
	var vs []float64
	for round, v := range res[k] {
		if b, ok := res[base][round]; ok && b > 0 {
			vs = append(vs, v/b)
		}
	}
	if len(vs) == 0 {
		return benchmath.Summary{}, 0, false
	}
	s, n := summary(vs)
	return s, n, true
}

// Report reads what Run wrote and prints, as Markdown tables, the time per
// operation of every workload (plain Go and Node's plain run absolute,
// every other cell a ratio to them), the allocations, the single
// operations and the verdict on every goal.
func Report(r io.Reader, fileName string, w io.Writer) error {
	res, err := read(r, fileName)
	if err != nil {
		return err
	}
	p := &printer{w: w}
	p.workloads(res)
	p.allocs(res)
	p.micro(res)
	p.goals(res)
	return p.err
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) row(cells ...string) {
	p.printf("| %s |\n", strings.Join(cells, " | "))
}

func (p *printer) header(cells ...string) {
	p.row(cells...)
	p.printf("|%s\n", strings.Repeat("---|", len(cells)))
}

func goKey(build, config, name, unit string) key { return key{"go", build, config, name, unit} }

func (p *printer) workloads(res results) {
	p.printf("Time per operation. Base: plain Go, or Node without async_hooks, median ± the 95%% confidence interval of the median. Other columns: the median of the per-round ratios to the base [95%% confidence interval].\n\n")
	cells := []string{"workload", "build", "base"}
	for _, c := range Configs {
		cells = append(cells, configTitle[c])
	}
	p.header(cells...)
	hasNode := false
	for k := range res {
		hasNode = hasNode || k.runtime == "node"
	}
	for _, wl := range Workloads {
		base := goKey("plain", "plain", wl.Go, "sec/op")
		if _, ok := res[base]; !ok {
			continue
		}
		title := wl.Title
		for _, build := range Builds[1:] {
			cells := []string{title, buildTitle[build], duration(res.absolute(base))}
			for _, c := range Configs {
				cells = append(cells, ratioCell(res.ratio(goKey(build, c, wl.Go, "sec/op"), base)))
			}
			p.row(cells...)
			title = ""
		}
		if hasNode {
			nbase := key{"node", "node", "plain", wl.Node, "sec/op"}
			cells := []string{"", "Node: " + wl.NodeTitle, duration(res.absolute(nbase))}
			for _, c := range Configs {
				if c == "tracking" {
					cells = append(cells, "")
					continue
				}
				cells = append(cells, ratioCell(res.ratio(key{"node", "node", c, wl.Node, "sec/op"}, nbase)))
			}
			p.row(cells...)
		}
	}
	if !hasNode {
		p.printf("\nNode: not measured (no node command was found).\n")
	}
	p.printf("\n")
}

func (p *printer) allocs(res results) {
	p.printf("Allocations per operation (Go, medians; source mode, and compile-time mode where it differs).\n\n")
	cells := []string{"workload", "plain"}
	for _, c := range Configs {
		cells = append(cells, configTitle[c])
	}
	p.header(cells...)
	for _, wl := range Workloads {
		name := wl.Go
		base, _, ok := res.absolute(goKey("plain", "plain", name, "allocs/op"))
		if !ok {
			continue
		}
		cells := []string{wl.Go, count(base.Center)}
		for _, c := range Configs {
			src, _, _ := res.absolute(goKey("source", c, name, "allocs/op"))
			cell := count(src.Center)
			if te, _, ok := res.absolute(goKey("toolexec", c, name, "allocs/op")); ok && te.Center != src.Center {
				cell += " (" + count(te.Center) + ")"
			}
			cells = append(cells, cell)
		}
		p.row(cells...)
	}
	p.printf("\n")
}

func (p *printer) micro(res results) {
	p.printf("Single operations (runtime/hooksrt's benchmarks).\n\n")
	p.header("operation", "time", "allocs", "goal")
	for _, m := range Micro {
		s, n, ok := res.absolute(goKey("micro", "-", m.Name, "sec/op"))
		if !ok {
			continue
		}
		a, _, _ := res.absolute(goKey("micro", "-", m.Name, "allocs/op"))
		p.row(m.Title, duration(s, n, true), count(a.Center), fmt.Sprintf("%s ≤ %g ns", m.Issue, m.Goal))
	}
	p.printf("\n")
}

func (p *printer) goals(res results) {
	p.printf("Goals. A goal is met when the median is within it in both modes.\n\n")
	p.header("issue", "goal", "source mode", "compile-time mode", "verdict")
	for _, g := range Goals {
		base := goKey("plain", "plain", g.Workload, "sec/op")
		cells := []string{g.Issue, fmt.Sprintf("%s ≤ %gx", g.What, g.Max)}
		met, seen := true, false
		for _, build := range Builds[1:] {
			s, n, ok := res.ratio(goKey(build, g.Config, g.Workload, "sec/op"), base)
			cells = append(cells, ratioCell(s, n, ok))
			if ok {
				seen = true
				met = met && s.Center <= g.Max
			}
		}
		if seen {
			p.row(append(cells, verdict(met))...)
		}
	}
	for _, m := range Micro {
		s, _, ok := res.absolute(goKey("micro", "-", m.Name, "sec/op"))
		if ok {
			ns := s.Center * 1e9
			p.row(m.Issue, fmt.Sprintf("%s ≤ %g ns", m.Title, m.Goal), fmt.Sprintf("%.1f ns", ns), "(the runtime alone)", verdict(ns <= m.Goal))
		}
	}
	// [1/8]: the disabled path allocates nothing: with no hook, a
	// rewritten workload allocates what the plain one does.
	var extra []string
	seen := false
	for _, wl := range Workloads {
		name := wl.Go
		base, _, ok := res.absolute(goKey("plain", "plain", name, "allocs/op"))
		if !ok {
			continue
		}
		for _, build := range Builds[1:] {
			s, _, ok := res.absolute(goKey(build, "nohook", name, "allocs/op"))
			if !ok {
				continue
			}
			seen = true
			// A run's allocs/op also counts what the rest of the process
			// allocated meanwhile: a difference under 1% is noise.
			if d := s.Center - base.Center; d >= math.Max(1, base.Center/100) {
				extra = append(extra, fmt.Sprintf("%s %s +%s", wl.Go, build, count(d)))
			}
		}
	}
	if seen {
		measured := "none added"
		if len(extra) > 0 {
			sort.Strings(extra)
			measured = strings.Join(extra, ", ")
		}
		p.row("[1/8]", "no allocation added with no hook (allocs/op as plain)", measured, "", verdict(len(extra) == 0))
	}
	p.printf("\n")
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "**missed**"
}

// duration formats an absolute summary: median ± half-width of its
// confidence interval, as benchstat prints it.
func duration(s benchmath.Summary, n int, ok bool) string {
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%s ±%s", seconds(s.Center), s.PctRangeString())
}

// ratioCell formats a ratio summary as "1.23x [1.10–1.40]".
func ratioCell(s benchmath.Summary, n int, ok bool) string {
	if !ok {
		return "—"
	}
	if math.IsInf(s.Lo, 0) || math.IsInf(s.Hi, 0) {
		return fmt.Sprintf("%.2fx [n=%d]", s.Center, n)
	}
	return fmt.Sprintf("%.2fx [%.2f–%.2f]", s.Center, s.Lo, s.Hi)
}

func seconds(v float64) string {
	switch ns := v * 1e9; {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	case ns >= 100:
		return fmt.Sprintf("%.0f ns", ns)
	default:
		return fmt.Sprintf("%.1f ns", ns)
	}
}

func count(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}
