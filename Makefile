# asyncinstr's habitual entry points. `go test ./...` works on its own;
# these targets only add the flags the project always uses.

GO        ?= go
BENCHSTAT ?= $(GO) run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
COUNT     ?= 10

.PHONY: help test test-short lint demo bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

test: ## run every test under the race detector
	$(GO) test -race -count=1 ./...

test-short: ## run the quick tests under the race detector
	$(GO) test -race -short -count=1 ./...

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v testdata/)); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

demo: ## run the bundled example and print its event tree
	$(GO) run ./examples/hooktree

# go test -count N runs each sub-benchmark N times in a row, so a slow spell
# on a noisy machine lands on one mode. bench runs the test binary COUNT
# times with -count 1 instead: every round measures every mode in turn.
# The first table puts the modes of each plain-vs-rewritten benchmark side
# by side; the second lists the single-operation benchmarks, which have
# absolute goals (see BENCHMARKS.md).
bench: ## plain vs instrumented benchmarks, side by side, through benchstat
	$(GO) test -c -o hooksrt.bench.test ./runtime/hooksrt/
	rm -f bench.txt
	for i in $$(seq $(COUNT)); do \
		./hooksrt.bench.test -test.run '^$$' -test.bench . -test.benchmem -test.count 1 >> bench.txt || exit 1; \
	done
	$(BENCHSTAT) -col '/mode@(plain off tracking hooks4)' bench.txt
	$(BENCHSTAT) -filter '.name:(ExecutionAsyncID OR Dispatch)' bench.txt
