#!/usr/bin/env bash
# instrument-time.sh times asyncinstr against go vet on the packages of a
# module, in interleaved rounds, as BENCHMARKS.md reports them.
#
# usage: scripts/instrument-time.sh MODULE_DIR [ROUNDS]
#
# Each round runs, in MODULE_DIR:
#   go vet ./...                            vet answering from its result cache
#   go vet -printf.funcs=bustN ./...        vet analysing (a new flag defeats that cache)
#   asyncinstr -v -l ./...                  -v prints the load/rewrite split
# and prints one tab-separated line of wall times in seconds. The module is
# only read (-l writes nothing).
set -euo pipefail
dir=$(cd "$1" && pwd)
rounds=${2:-7}
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$(mktemp -d)/asyncinstr
(cd "$here" && go build -o "$bin" ./cmd/asyncinstr)
cd "$dir"
export GOFLAGS="${GOFLAGS:--mod=mod -buildvcs=false}"
wall() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>"$err" || true; t1=$(date +%s.%N); awk "BEGIN { printf \"%.2f\", $t1 - $t0 }"; }
err=$(mktemp)
# Warm up the build, module and vet caches.
go vet ./... >/dev/null 2>&1 || true
"$bin" -l ./... >/dev/null 2>&1 || true
printf 'round\tvet_cached\tvet_analysing\tasyncinstr\tasyncinstr -v\n'
for r in $(seq "$rounds"); do
	a=$(wall go vet ./...)
	b=$(wall go vet -printf.funcs="bust$r$RANDOM" ./...)
	c=$(wall "$bin" -v -l ./...)
	printf '%s\t%s\t%s\t%s\t%s\n' "$r" "$a" "$b" "$c" "$(grep 'files to change' "$err")"
done
