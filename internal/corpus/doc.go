// Package corpus holds no code, only a test: TestCorpus checks that
// asyncinstr's compile-time mode does not change what real third-party
// modules do. For each module of group A in ../shared/corpus.md (relative
// to the repository root) it copies the module's source out of the module
// cache, runs the module's own test suite plainly with
//
//	go test -count=1 -json -timeout 390s [extra flags] ./...
//
// and instrumented with
//
//	asyncinstr go test -count=1 -json -timeout 390s [extra flags] ./...
//
// (asyncinstr built from the current source into a temporary directory),
// and compares the two: every test that passed plainly must pass
// instrumented and the other way round. Tests that fail plainly are logged
// and left out of the comparison; a package that does not build
// instrumented, or any "asyncinstr:" message, is a failure; a test that
// fails only instrumented is run again on its own, up to twice more each
// way, and is a failure only if it fails instrumented every time. Modules
// run one at a time, and each one logs a summary line: pass/skip/fail counts
// and wall seconds, plain and instrumented.
//
// The test is skipped unless modules are named with -corpus, so that
// "go test ./..." does not run it (it takes several minutes per mode).
// "make corpus" runs it (CORPUS=sync,clockwork for some modules, RACE=1
// for -race); CI runs all of it, and part of it under -race. By hand:
//
//	go test ./internal/corpus -run TestCorpus -corpus=all -timeout 3h -v
//	go test ./internal/corpus -run TestCorpus -corpus=sync,clockwork -v
//	go test ./internal/corpus -run TestCorpus -corpus=all -corpus.race -timeout 3h -v
//
// -corpus takes a comma-separated list of short names (sync, ants, yamux,
// websocket, gocron, clockwork, fasthttp, memberlist) or "all";
// -corpus.race adds -race to both runs of every module (and the module's
// race-only skips). The modules come from the Go module proxy, through
// "go mod download"; -short skips the test. A module may come with an
// asyncinstr.rules that declares its async APIs (ants: its Submit
// functions), written into the copy so that the instrumented run wraps
// every callback passed to them.
package corpus
