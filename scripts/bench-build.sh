#!/usr/bin/env bash
# bench-build.sh runs build-time.sh and instrument-time.sh on fresh copies
# of the two corpus modules that BENCHMARKS.md reports ("Instrumenting a
# module", "Building in compile-time mode") and summarises their rounds.
#
# usage: scripts/bench-build.sh [ROUNDS]        (default 3)
#
# Modules: github.com/valyala/fasthttp@v1.73.0 and
# github.com/hashicorp/memberlist@v0.7.0, fetched with `go mod download` and
# copied (writable) into a temporary directory, one copy for each script,
# since both append comments to the module's files. The scripts run from a
# snapshot of this checkout taken at the start (the files git tracks plus
# untracked, unignored ones, as they are in the working tree; with
# BENCH_REV=REV, `git archive REV` instead), so that an edit made to the
# checkout during the run changes neither the asyncinstr binary nor the
# runtime module that compile-time mode builds in.
#
# It prints each script's per-round lines as they come, then for each
# module the medians [min-max] of every column and the medians [min-max]
# of the per-round ratios:
#   build-time.sh        instrumented / plain for cold, warm and edit
#   instrument-time.sh   asyncinstr after an edit / go vet after an edit,
#                        asyncinstr warm / analysing vet,
#                        asyncinstr warm / vet from its cache,
#                        and the split that `asyncinstr -v` prints (loading,
#                        rewriting) with rewriting's share of that run's wall
#                        time and of loading + rewriting
# and the goals: cold ≤ 1.5x, warm ≤ 1.1x plain; asyncinstr ≤ 1.5x go vet
# after an edit, rewriting ≤ 25% of asyncinstr's time.
#
# No package in either corpus module's build graph outside the standard
# library uses cgo (only net and runtime/cgo, which build without a C
# compiler when there is none: the go command turns cgo off by itself), so
# gcc is not needed; the script checks this again before timing.
# Temporary directories (TMPDIR of both scripts included) go on exit.
set -euo pipefail
rounds=${1:-3}
case $rounds in '' | *[!0-9]* | 0) echo "usage: $0 [ROUNDS]" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")/.." && pwd)
mods=(github.com/valyala/fasthttp@v1.73.0 github.com/hashicorp/memberlist@v0.7.0)
start=$(date +%s)

tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null || true; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/tmpdir" "$tmp/raw"

# Snapshot the checkout.
snap=$tmp/asyncinstr
mkdir -p "$snap"
rev=unknown
if git -C "$here" rev-parse --git-dir >/dev/null 2>&1; then
	rev=$(git -C "$here" rev-parse --short HEAD)
	if [ -n "${BENCH_REV:-}" ]; then
		rev=$(git -C "$here" rev-parse --short "$BENCH_REV")
		git -C "$here" archive "$rev" | tar -C "$snap" -xf -
	else
		dirty=$(git -C "$here" status --porcelain --untracked-files=normal | wc -l)
		[ "$dirty" -gt 0 ] && rev="$rev + $dirty uncommitted or untracked paths"
		(cd "$here" && git ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
			tar --null -T - -cf -) | tar -C "$snap" -xf -
	fi
elif [ -f "$here/go.mod" ] && [ -d "$here/cmd/asyncinstr" ] && [ -d "$here/runtime" ]; then
	cp -a "$here/." "$snap"
else
	echo "$here is not an asyncinstr checkout" >&2
	exit 1
fi

echo "bench-build.sh: $rounds rounds, asyncinstr $rev, $(go version | cut -d' ' -f3-)"
echo "CGO_ENABLED=$(go env CGO_ENABLED), GOFLAGS=${GOFLAGS:--mod=mod -buildvcs=false}, $(nproc) CPUs, started $(date -u '+%Y-%m-%d %H:%M:%S UTC')"

# fetch MOD@VER DEST copies the module into DEST, writable.
fetch() {
	local json dir
	json=$(cd "$tmp" && GOFLAGS= GOWORK=off go mod download -json "$1")
	if grep -q '"Error"' <<<"$json"; then echo "$json" >&2; exit 1; fi
	dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p' <<<"$json")
	[ -d "$dir" ] || { echo "go mod download $1: no Dir" >&2; exit 1; }
	mkdir -p "$2"
	cp -R "$dir/." "$2"
	chmod -R u+w "$2"
}

# stats FORMAT [UNIT] reads numbers, one a line, and prints
# "median[UNIT] [min-max]", each number with FORMAT (the median of an even
# count is the mean of the middle two). ASCII only, so that printf pads it.
stats() {
	sort -g | awk -v f="$1" -v u="${2:-}" '{ v[NR] = $1 }
		END {
			if (NR == 0) { print "n/a"; exit }
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf f "%s [" f "-" f "]\n", m, u, v[1], v[NR]
		}'
}
# median reads numbers, one a line, and prints their median.
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR) print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# col FILE EXPR prints awk EXPR for every data line (not the header) of a
# tab-separated FILE; ratio FILE A B prints \$A / \$B where \$B > 0.
col() { awk -F'\t' "NR > 1 { print $2 }" "$1"; }
ratio() { awk -F'\t' -v a="$2" -v b="$3" 'NR > 1 && $b > 0 { print $a / $b }' "$1"; }
# secs turns the durations of asyncinstr -v (Go's time.Duration: 1.945s,
# 322ms, 1m2.5s, 0s; rounded to milliseconds) into seconds, appended to
# every line of instrument-time.sh's output FILE as fields 8 and 9
# (loading, rewriting; n/a when the -v line is missing).
secs() {
	awk -F'\t' '
		function d(s,   t) {
			t = 0
			if (s ~ /m[0-9]/) { t += 60 * substr(s, 1, index(s, "m") - 1); s = substr(s, index(s, "m") + 1) }
			if (s ~ /ms$/) return t + substr(s, 1, length(s) - 2) / 1000
			if (s ~ /s$/) return t + substr(s, 1, length(s) - 1)
			return -1
		}
		NR == 1 { print $0 "\tloading\trewriting"; next }
		{
			load = rew = "n/a"
			if (match($7, /loading took [^,]+, rewriting .+$/)) {
				split(substr($7, RSTART, RLENGTH), w, /[ ,]+/)
				load = d(w[3]); rew = d(w[5])
			}
			print $0 "\t" load "\t" rew
		}' "$1"
}

for mod in "${mods[@]}"; do
	name=${mod%@*}; name=${name##*/}
	fetch "$mod" "$tmp/$name-build"
	fetch "$mod" "$tmp/$name-instr"
	cgo=$(cd "$tmp/$name-build" && GOFLAGS=-mod=mod go list -deps -test \
		-f '{{if and .CgoFiles (not .Standard)}}{{.ImportPath}}{{end}}' ./... | sort -u)
	if [ -n "$cgo" ] && [ "$(go env CGO_ENABLED)" != 1 ]; then
		echo "$mod: these packages need cgo, which is off (no C compiler?):" >&2
		echo "$cgo" >&2
		exit 1
	fi
	echo
	echo "== $mod: scripts/build-time.sh $rounds"
	TMPDIR=$tmp/tmpdir "$snap/scripts/build-time.sh" "$tmp/$name-build" "$rounds" | tee "$tmp/raw/$name-build.tsv"
	echo
	echo "== $mod: scripts/instrument-time.sh $rounds"
	TMPDIR=$tmp/tmpdir "$snap/scripts/instrument-time.sh" "$tmp/$name-instr" "$rounds" | tee "$tmp/raw/$name-instr.tsv"
done

echo
echo "==== Summary: medians [min-max] over $rounds rounds, wall seconds; ratios are medians of the per-round ratios"
verdicts=()
for mod in "${mods[@]}"; do
	name=${mod%@*}; name=${name##*/}
	b=$tmp/raw/$name-build.tsv
	i=$tmp/raw/$name-instr.tsv
	secs "$i" >"$tmp/raw/$name-instr-split.tsv"
	s=$tmp/raw/$name-instr-split.tsv
	echo
	echo "-- $mod"
	echo "build-time.sh (go test -vet=off -count=1 -run '^\$' ./...):"
	printf '  %-6s %-24s %-24s %s\n' "" plain asyncinstr "asyncinstr / plain"
	k=1
	declare -A med=()
	for phase in cold warm edit; do
		p=$(col "$b" "\$$k" | stats %.2f)
		a=$(col "$b" "\$$((k + 1))" | stats %.2f)
		r=$(ratio "$b" $((k + 1)) $k | stats %.2f x)
		printf '  %-6s %-24s %-24s %s\n' "$phase" "$p" "$a" "$r"
		med[$phase]=$(ratio "$b" $((k + 1)) $k | median)
		k=$((k + 2))
	done
	echo "instrument-time.sh:"
	printf '  %-40s %s\n' \
		"go vet, after an edit" "$(col "$i" '$2' | stats %.2f)" \
		"go vet, from its cache" "$(col "$i" '$3' | stats %.2f)" \
		"go vet, analysing" "$(col "$i" '$4' | stats %.2f)" \
		"asyncinstr -l, after an edit" "$(col "$i" '$5' | stats %.2f)" \
		"asyncinstr -v -l, warm" "$(col "$i" '$6' | stats %.2f)"
	nv=$(col "$s" '$9' | grep -vc n/a || true)
	if [ "$nv" -gt 0 ]; then
		vsplit() { awk -F'\t' "NR > 1 && \$9 != \"n/a\" $1" "$s"; }
		printf '  %-40s %s\n' \
			"  of which loading (-v)" "$(vsplit '{ print $8 }' | stats %.3f)" \
			"  of which rewriting (-v)" "$(vsplit '{ print $9 }' | stats %.3f)" \
			"rewriting share of the -v run's wall" "$(vsplit '&& $6 > 0 { print 100 * $9 / $6 }' | stats %.1f %)" \
			"rewriting share of loading + rewriting" "$(vsplit '&& $8 + $9 > 0 { print 100 * $9 / ($8 + $9) }' | stats %.1f %)"
		share=$(vsplit '&& $6 > 0 { print 100 * $9 / $6 }' | median)
		sites=$(awk -F'\t' 'NR == 2 { sub(/^asyncinstr: /, "", $7); sub(/;.*/, "", $7); print $7 }' "$i")
		printf '  %-40s %s\n' "sites (-v)" "$sites"
	else
		share=
		echo "  asyncinstr -v printed no split (did it fail?); raw lines above"
	fi
	[ "$nv" -lt "$rounds" ] && echo "  warning: $((rounds - nv)) of $rounds asyncinstr -v runs printed no split"
	printf '  %-40s %s\n' \
		"asyncinstr / vet, after an edit" "$(ratio "$i" 5 2 | stats %.2f x)" \
		"asyncinstr warm / analysing vet" "$(ratio "$i" 6 4 | stats %.2f x)" \
		"asyncinstr warm / vet from its cache" "$(ratio "$i" 6 3 | stats %.2f x)"
	verdicts+=("$(awk -v n="$name" -v c="${med[cold]}" -v w="${med[warm]}" -v v="$(ratio "$i" 5 2 | median)" -v s="${share:-}" '
		function g(x, lim, f) { return sprintf(f " (goal ≤ " f ") %s", x, lim, x <= lim ? "met" : sprintf("MISSED by " f, x - lim)) }
		BEGIN {
			printf "  %-11s cold %s; warm %s; asyncinstr/vet %s; rewriting %s\n", n,
				g(c, 1.5, "%.2fx"), g(w, 1.1, "%.2fx"), g(v, 1.5, "%.2fx"),
				s == "" ? "n/a" : g(s, 25, "%.1f%%")
		}')")
done
echo
echo "Goals (medians of the per-round ratios; rewriting as a share of the asyncinstr -v run's wall time):"
printf '%s\n' "${verdicts[@]}"
echo
echo "Total wall time: $(($(date +%s) - start)) s"
