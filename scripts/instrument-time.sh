#!/usr/bin/env bash
# instrument-time.sh times asyncinstr against go vet on the packages of a
# module, in interleaved rounds, as BENCHMARKS.md reports them.
#
# usage: scripts/instrument-time.sh MODULE_DIR [ROUNDS]
#
# Each round, in MODULE_DIR, appends a comment to one file of every package
# (an edit, so that the module's packages must be compiled again) and runs
#   go vet ./...                            after the edit
#   go vet ./...                            again: vet answers from its result cache
#   go vet -printf.funcs=bustN ./...        vet analysing (a new flag defeats that cache)
# then edits again and runs
#   asyncinstr -l ./...                     after the edit
#   asyncinstr -v -l ./...                  again, warm; -v prints the load/rewrite split
# and prints one tab-separated line of wall times in seconds. Use a copy of
# the module: the edits stay in it (-l writes nothing).
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
dirs=$(go list -f '{{.Dir}}' ./...)
edit() {
	local d f
	for d in $dirs; do
		f=$(ls "$d"/*.go | grep -v '_test\.go$' | head -1 || true)
		[ -n "$f" ] && echo "// instrument-time.sh edit $RANDOM" >> "$f"
	done
}
printf 'round\tvet_after_edit\tvet_cached\tvet_analysing\tasyncinstr_after_edit\tasyncinstr\tasyncinstr -v\n'
for r in $(seq "$rounds"); do
	edit
	a=$(wall go vet ./...)
	b=$(wall go vet ./...)
	c=$(wall go vet -printf.funcs="bust$r$RANDOM" ./...)
	edit
	d=$(wall "$bin" -l ./...)
	e=$(wall "$bin" -v -l ./...)
	v=$(grep 'files to change' "$err" || true)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$a" "$b" "$c" "$d" "$e" "$v"
done
