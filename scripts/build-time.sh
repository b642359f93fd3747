#!/usr/bin/env bash
# build-time.sh times plain builds against compile-time mode builds of a
# module's packages and tests, in interleaved rounds, as BENCHMARKS.md
# reports them.
#
# usage: scripts/build-time.sh MODULE_DIR [ROUNDS]
#
# Each round, in MODULE_DIR, runs for plain (go) and then instrumented
# (asyncinstr go) builds of `test -vet=off -count=1 -run ^$ ./...` (every
# package and test binary compiled and linked, no test run):
#   cold   an empty build cache (and an empty asyncinstr cache)
#   warm   the same build again: nothing to compile
#   edit   after a comment is appended to one file of every package
# and prints one tab-separated line of wall times in seconds:
#   cold-plain cold-instr warm-plain warm-instr edit-plain edit-instr
# Use a copy of the module: the edits stay in it.
set -euo pipefail
dir=$(cd "$1" && pwd)
rounds=${2:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
bin=$tmp/bin/asyncinstr
(cd "$here" && go build -o "$bin" ./cmd/asyncinstr)
cd "$dir"
export GOFLAGS="${GOFLAGS:--mod=mod -buildvcs=false}"
err=$tmp/err
wall() {
	local t0 t1
	t0=$(date +%s.%N)
	if ! "$@" >/dev/null 2>"$err"; then cat "$err" >&2; exit 1; fi
	t1=$(date +%s.%N)
	awk "BEGIN { printf \"%.2f\", $t1 - $t0 }"
}
build=(test -vet=off -count=1 -run '^$' ./...)
dirs=$(go list -f '{{.Dir}}' ./...)
edit() {
	for d in $dirs; do
		f=$(ls "$d"/*.go | grep -v _test.go | head -1)
		[ -n "$f" ] && echo "// edit $RANDOM" >> "$f"
	done
}
echo -e "cold-plain\tcold-instr\twarm-plain\twarm-instr\tedit-plain\tedit-instr"
# both times the build plainly and instrumented, each with its own caches,
# emptied first with "cold".
both() {
	for mode in plain instr; do
		if [ "${1:-}" = cold ]; then
			rm -rf "$tmp/cache-$mode" "$tmp/xdg-$mode"
			mkdir -p "$tmp/cache-$mode" "$tmp/xdg-$mode"
		fi
		if [ $mode = plain ]; then cmd=(go "${build[@]}"); else cmd=("$bin" go "${build[@]}"); fi
		export GOCACHE=$tmp/cache-$mode XDG_CACHE_HOME=$tmp/xdg-$mode
		row+=("$(wall "${cmd[@]}")")
	done
}
for i in $(seq "$rounds"); do
	row=()
	both cold
	both
	edit
	both
	(IFS=$'\t'; echo "${row[*]}")
done
rm -rf "$tmp"
