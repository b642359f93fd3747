# asyncinstr's habitual entry points. The repository holds two modules:
# the tool (.) and the runtime that instrumented programs import
# (./runtime, kept separate so that users do not inherit the tool's
# dependencies). Each target runs in both.

GO        ?= go
MODULES   := . runtime
BENCHSTAT ?= $(GO) run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
COUNT     ?= 10

.PHONY: help test test-short golden lint demo demo-source picture corpus bench bench-runtime bench-build

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# The compile-time mode scripts build the standard library once for each
# build configuration they use (-race, -cover, a profile, ...) under the
# test binary's fingerprint: on a cold cache that is longer than go test's
# default timeout of 10 minutes.
TIMEOUT   ?= 40m

test: ## run every test under the race detector
	./scripts/install-chromium
	for m in $(MODULES); do (cd $$m && ASYNCINSTR_REQUIRE_CHROMIUM=1 $(GO) test -race -count=1 -timeout $(TIMEOUT) ./...) || exit 1; done

test-short: ## run the quick tests under the race detector
	for m in $(MODULES); do (cd $$m && $(GO) test -race -short -count=1 -timeout $(TIMEOUT) ./...) || exit 1; done

golden: ## regenerate testdata/golden from the rewriter's current output
	$(GO) test ./rewrite -run 'TestGolden' -update

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v testdata/)); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	for m in $(MODULES); do (cd $$m && $(GO) vet ./...) || exit 1; done

# demo is the main job end to end: asyncinstr is built, and runs the
# example through the go command in compile-time mode (the sources stay
# untouched), which prints its event tree and, through ASYNCINSTR_TRACE,
# writes its trace; asyncinstr graph draws the trace. demo-source does the
# same through an instrumented copy of this module written by source mode.
DEMO_DIR  ?= $${TMPDIR:-/tmp}/asyncinstr-demo

demo: ## build asyncinstr and run the bundled example through it: its event tree, trace and picture
	$(GO) build -o $(DEMO_DIR)-bin/asyncinstr ./cmd/asyncinstr
	ASYNCINSTR_TRACE=$(DEMO_DIR)-bin/hooktree.json $(DEMO_DIR)-bin/asyncinstr go run ./examples/hooktree
	cd $(DEMO_DIR)-bin && ./asyncinstr graph -o hooktree.svg hooktree.json
	@echo "trace: $(DEMO_DIR)-bin/hooktree.json (open it in https://ui.perfetto.dev)"
	@echo "trigger tree: $(DEMO_DIR)-bin/hooktree.svg"

picture: ## redraw the README's picture, the trigger tree of examples/requestid
	$(GO) build -o $(DEMO_DIR)-bin/asyncinstr ./cmd/asyncinstr
	ASYNCINSTR_TRACE=$(DEMO_DIR)-bin/requestid.json $(DEMO_DIR)-bin/asyncinstr go run ./examples/requestid -requests 3 >/dev/null
	cd $(DEMO_DIR)-bin && ./asyncinstr graph -o $(CURDIR)/docs/requestid.svg requestid.json

demo-source: ## the same through an instrumented copy of the module (source mode)
	rm -rf $(DEMO_DIR)
	$(GO) run ./cmd/asyncinstr -o $(DEMO_DIR) ./examples/hooktree
	cd $(DEMO_DIR) && $(GO) run ./examples/hooktree

# corpus runs the own test suites of the third-party modules listed in
# internal/corpus, plainly and in compile-time mode, and fails unless the
# same tests pass. CORPUS names some (sync,clockwork,...; default all);
# RACE=1 adds -race.
CORPUS ?= all
corpus: ## the corpus's test suites, plain vs instrumented (long)
	$(GO) test ./internal/corpus -run TestCorpus -corpus=$(CORPUS) $(if $(RACE),-corpus.race) -timeout 3h -v

# bench is BENCHMARKS.md's main table. bench/cmd/benchrun builds package
# bench (bench/workloads.go) plainly, through source mode and through
# -toolexec, and runs its workloads in every configuration (no hook,
# tracking, AsyncLocalStorage only, four no-op hooks), the runtime's
# single operations, and bench/node's Node counterparts under the same
# configurations, in ROUNDS interleaved rounds: every round measures every
# build and configuration once, so the ratios are taken within a round. It
# writes the raw results to bench.txt and prints the ratios with
# benchstat's confidence intervals (golang.org/x/perf/benchmath) and every
# goal's verdict. benchstat reads bench.txt too: BENCHMARKS.md says how.
ROUNDS    ?= 10
BENCHTIME ?= 500ms
bench: ## plain vs instrumented Go (both modes) vs Node, side by side: BENCHMARKS.md's tables
	$(GO) run ./bench/cmd/benchrun -rounds $(ROUNDS) -benchtime $(BENCHTIME) -o bench.txt

# bench-runtime runs the runtime's own benchmarks: each rewritten shape
# written by hand beside its plain construct (/mode=plain, off, tracking,
# hooks4, als, trace), the single operations and the trace writer, COUNT
# times with -count 1 so that every round measures every mode in turn.
bench-runtime: ## the runtime's benchmarks of each rewritten shape, through benchstat
	cd runtime && $(GO) test -c -o ../hooksrt.bench.test ./hooksrt/
	cd runtime && $(GO) test -c -o ../hookshttp.bench.test ./hookshttp/
	cd runtime && $(GO) test -c -o ../tracefile.bench.test ./hooksrt/internal/tracefile/
	rm -f bench-runtime.txt
	for i in $$(seq $(COUNT)); do \
		./hooksrt.bench.test -test.run '^$$' -test.bench . -test.benchmem -test.count 1 >> bench-runtime.txt || exit 1; \
		./hookshttp.bench.test -test.run '^$$' -test.bench . -test.benchmem -test.count 1 >> bench-runtime.txt || exit 1; \
		./tracefile.bench.test -test.run '^$$' -test.bench . -test.benchmem -test.count 1 >> bench-runtime.txt || exit 1; \
	done
	$(BENCHSTAT) -col '/mode@(plain off tracking hooks4 als trace)' bench-runtime.txt
	$(BENCHSTAT) -filter '.name:(ExecutionAsyncID OR Dispatch OR AsyncLocalStorage OR GoroutineResource OR Event)' bench-runtime.txt

# bench-build is the build-time side: cold, warm and edited builds of two
# corpus modules, plain vs compile-time mode, and source mode's rewriting
# against go vet (scripts/bench-build.sh; BROUNDS rounds, long).
BROUNDS   ?= 3
bench-build: ## build times: compile-time mode vs plain, source mode vs go vet, on two corpus modules (long)
	./scripts/bench-build.sh $(BROUNDS)
