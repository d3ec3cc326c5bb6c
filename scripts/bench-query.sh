#!/usr/bin/env bash
# The local query engine on a store of 1 000 000 traces (storegen): the
# index build (the first query), then the seed's count query through
# runcontext-query RUNS times (median wall time, peak RSS), its three
# queries that return rows 3 times each (every column, as CSV), and the
# count query as jq over the same JSON lines, JQ_RUNS times.
# Prints a Markdown table for docs/benchmarks.md.
#   TRACES (1000000), RUNS (7), JQ_RUNS (3), STORE (.build/bench-query)
set -euo pipefail
cd "$(dirname "$0")/.."
TRACES=${TRACES:-1000000}
RUNS=${RUNS:-7}
JQ_RUNS=${JQ_RUNS:-3}
STORE=${STORE:-.build/bench-query}
command -v jq >/dev/null || { . scripts/lib.sh; debian_install jq; }
go build -o bin/runcontext-query ./cmd/runcontext-query

now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
if [ ! -f "$STORE/envelopes.jsonl" ] || [ "$(cat "$STORE/.traces" 2>/dev/null)" != "$TRACES" ]; then
	echo "bench-query: writing $TRACES traces to $STORE" >&2
	rm -rf "$STORE"
	(cd extension/appinsightsingestionextension && go run ./query/storegen/cmd -out "$OLDPWD/$STORE" -traces "$TRACES" -runs 400 -days 14 -now "$now")
	echo "$TRACES" >"$STORE/.traces"
fi
rm -rf "$STORE/index"

# wall_rss CMD...: "<seconds> <peak KiB>" of one run, its output discarded.
wall_rss() {
	local out
	out=$( { /usr/bin/time -f '%e %M' "$@" >/dev/null; } 2>&1 | tail -1)
	echo "$out"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

seed=(
	"traces | where customDimensions.parent_run_id == '$(head -c 4096 "$STORE/envelopes.jsonl" | grep -o '"parent_run_id":"[^"]*"' | head -1 | cut -d'"' -f4)'"
	"traces | where timestamp > ago(7d) and customDimensions.run_type == 'training'"
	"traces | where timestamp > ago(7d) and customDimensions.Level == 'ERROR'"
	"traces | where timestamp > ago(7d) and customDimensions.Level == 'ERROR' | summarize count()"
)
size=$(du -h "$STORE/envelopes.jsonl" | cut -f1)
read -r build_s build_kb < <(wall_rss bin/runcontext-query --data "$STORE" "${seed[3]}")
index=$(du -sh "$STORE/index" | cut -f1)

echo "| what | time | peak RSS |"
echo "| --- | --- | --- |"
echo "| index build: the first query over $TRACES traces ($size of JSON lines; index $index) | ${build_s} s (one run) | $((build_kb / 1024)) MiB |"
# measure RUNS QUERY ARGS...: "<median seconds> <peak MiB>".
measure() {
	local runs=$1 q=$2 times=() peak=0 s kb
	shift 2
	for _ in $(seq "$runs"); do
		read -r s kb < <(wall_rss bin/runcontext-query --data "$STORE" "$@" "$q")
		times+=("$s")
		[ "$kb" -gt "$peak" ] && peak=$kb
	done
	echo "$(printf '%s\n' "${times[@]}" | median) $((peak / 1024))"
}
read -r count_median count_mib < <(measure "$RUNS" "${seed[3]}")
echo "| \`${seed[3]//|/\\|}\` | ${count_median} s (median of $RUNS) | ${count_mib} MiB |"
for q in "${seed[@]:0:3}"; do
	rows=$(bin/runcontext-query --data "$STORE" "$q | count" | sed -n 3p | tr -d ' ')
	read -r m mib < <(measure 3 "$q" --output csv)
	echo "| \`${q//|/\\|}\`: $rows rows of every column, as CSV | ${m} s (median of 3) | ${mib} MiB |"
done

# jq over the same lines: the seed's count query, its filters as jq's.
since=$(date -u -d '7 days ago' +%Y-%m-%dT%H:%M:%S)
jq_times=()
for _ in $(seq "$JQ_RUNS"); do
	read -r s kb < <(wall_rss sh -c "jq -c 'select(.name == \"Microsoft.ApplicationInsights.Message\" and .time > \"$since\" and .data.baseData.properties.Level == \"ERROR\")' '$STORE/envelopes.jsonl' | wc -l")
	jq_times+=("$s")
done
jq_median=$(printf '%s\n' "${jq_times[@]}" | median)
echo "| jq, the same count (\`select(.name == ... and .time > ... and .data.baseData.properties.Level == \"ERROR\")\`) | ${jq_median} s (median of $JQ_RUNS) | |"
echo
echo "count query: $(awk -v a="$jq_median" -v b="$count_median" 'BEGIN {printf "%.0f", a / b}')x faster than jq, measured in this run"
