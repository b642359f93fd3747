# asyncinstr's habitual entry points. The repository holds two modules:
# the tool (.) and the runtime that instrumented programs import
# (./runtime, kept separate so that users do not inherit the tool's
# dependencies). Each target runs in both.

GO        ?= go
MODULES   := . runtime
BENCHSTAT ?= $(GO) run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
COUNT     ?= 10

.PHONY: help test test-short golden lint demo demo-source picture corpus bench

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

# go test -count N runs each sub-benchmark N times in a row, so a slow spell
# on a noisy machine lands on one mode. bench runs the test binary COUNT
# times with -count 1 instead: every round measures every mode in turn.
# The first table puts the modes of each plain-vs-rewritten benchmark side
# by side; the second lists the single-operation benchmarks, which have
# absolute goals (see BENCHMARKS.md).
bench: ## plain vs instrumented benchmarks, side by side, through benchstat
	cd runtime && $(GO) test -c -o ../hooksrt.bench.test ./hooksrt/
	cd runtime && $(GO) test -c -o ../hookshttp.bench.test ./hookshttp/
	cd runtime && $(GO) test -c -o ../tracefile.bench.test ./hooksrt/internal/tracefile/
	rm -f bench.txt
	for i in $$(seq $(COUNT)); do \
		./hooksrt.bench.test -test.run '^$$' -test.bench . -test.benchmem -test.count 1 >> bench.txt || exit 1; \
		./hookshttp.bench.test -test.run '^$$' -test.bench . -test.benchmem -test.count 1 >> bench.txt || exit 1; \
		./tracefile.bench.test -test.run '^$$' -test.bench . -test.benchmem -test.count 1 >> bench.txt || exit 1; \
	done
	$(BENCHSTAT) -col '/mode@(plain off tracking hooks4 als trace)' bench.txt
	$(BENCHSTAT) -filter '.name:(ExecutionAsyncID OR Dispatch OR AsyncLocalStorage OR GoroutineResource OR Event)' bench.txt
