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
# and then, after an edit (a comment appended to one file of every package,
# so that both compile the module's packages again), go vet and asyncinstr
# once more. It prints one tab-separated line of wall times in seconds per
# round. Use a copy of the module: the edits stay in it.
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
printf 'round\tvet_cached\tvet_analysing\tasyncinstr\tvet_after_edit\tasyncinstr_after_edit\tasyncinstr -v (warm)\n'
for r in $(seq "$rounds"); do
	a=$(wall go vet ./...)
	b=$(wall go vet -printf.funcs="bust$r$RANDOM" ./...)
	c=$(wall "$bin" -v -l ./...)
	v=$(grep 'files to change' "$err" || true)
	edit
	d=$(wall go vet ./...)
	edit
	e=$(wall "$bin" -l ./...)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$a" "$b" "$c" "$d" "$e" "$v"
done
