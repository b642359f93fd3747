package benchrun

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"regexp"

	"github.com/asyncinstr/asyncinstr/bench"
)

// Options say what Run measures and for how long.
type Options struct {
	Rounds    int            // each round measures every build and configuration once
	Benchtime string         // per benchmark and run, as go test's -benchtime
	Workloads *regexp.Regexp // selects from Workloads by Go name; nil: all
	Node      string         // the node command; "" leaves Node out
	NodeDir   string         // bench/node, holding bench.js
	Log       io.Writer      // one line per measurement, for progress; may be nil
}

// A measurement is one process run: one build in one configuration.
type measurement struct {
	runtime, build, config string
	dir                    string
	env                    []string
	args                   []string
}

// Run measures, Rounds times, every build of package bench in every
// configuration, the runtime's single operations and, with Node, the
// counterparts in bench.js under the same configurations, and writes the
// results to out in the Go benchmark format. Each result is preceded by
// configuration lines (round, runtime, build, config) that Report and
// benchstat read.
//
// A round measures one workload at a time: every build and configuration
// of it, Node's included, one process each, back to back, so that the
// runs a ratio compares are seconds apart, not minutes. Their order
// rotates from round to round, so no configuration always runs first.
func Run(ctx context.Context, bins *Binaries, opts Options, out io.Writer) error {
	goArgs := func(bin, pattern string) []string {
		return []string{bin, "-test.run", "^$", "-test.bench", pattern, "-test.benchtime", opts.Benchtime, "-test.count", "1", "-test.benchmem"}
	}
	script := ""
	if opts.Node != "" {
		var err error
		if script, err = filepath.Abs(filepath.Join(opts.NodeDir, "bench.js")); err != nil {
			return err
		}
	}
	type group struct {
		name string
		ms   []measurement
	}
	var groups []group
	for _, w := range Workloads {
		if opts.Workloads != nil && !opts.Workloads.MatchString(w.Go) {
			continue
		}
		var ms []measurement
		for _, build := range Builds {
			configs := Configs
			if build == "plain" {
				configs = []string{"plain"}
			}
			for _, c := range configs {
				ms = append(ms, measurement{"go", build, c, "", []string{bench.ConfigEnv + "=" + c}, goArgs(bins.Bench[build], "^Benchmark"+w.Go+"$")})
			}
		}
		if script != "" {
			for _, c := range append([]string{"plain"}, Configs...) {
				if c == "tracking" {
					continue
				}
				ms = append(ms, measurement{"node", "node", c, opts.NodeDir, nil, []string{
					opts.Node, "--expose-gc", script,
					"-config=" + c, "-bench=^" + w.Node + "$", "-benchtime=" + opts.Benchtime,
				}})
			}
		}
		groups = append(groups, group{w.Go, ms})
	}
	if len(groups) == 0 {
		return fmt.Errorf("no workload matches %s", opts.Workloads)
	}
	groups = append(groups, group{"single operations", []measurement{{"go", "micro", "-", "", nil, goArgs(bins.Micro, microBench)}}})
	for r := 1; r <= opts.Rounds; r++ {
		for _, g := range groups {
			for i := range g.ms {
				m := g.ms[(i+r-1)%len(g.ms)]
				if opts.Log != nil {
					fmt.Fprintf(opts.Log, "round %d/%d: %s: %s %s %s\n", r, opts.Rounds, g.name, m.runtime, m.build, m.config)
				}
				res, err := command(ctx, m.dir, m.env, m.args...)
				if err != nil {
					return err
				}
				if _, err := fmt.Fprintf(out, "round: %d\nruntime: %s\nbuild: %s\nconfig: %s\n%s", r, m.runtime, m.build, m.config, res); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
