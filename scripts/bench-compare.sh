#!/usr/bin/env bash
# Runs the processor comparison (internal/comparison) and prints, per
# contender, ns, bytes and allocations per record, and how many times more
# each costs than runcontext. All figures come from one run in one process,
# on the same batches of 10 resources x 100 log records.
#   scripts/bench-compare.sh [count]   (default 5 runs of each, medians)
set -euo pipefail
cd "$(dirname "$0")/../internal/comparison"
count="${1:-5}"
records=1000

go test -run '^$' -bench BenchmarkLogs -benchtime 2000x -count "$count" . |
	tee /dev/stderr |
	awk -v records="$records" '
	/^BenchmarkLogs\// {
		name = $1; sub(/^BenchmarkLogs\//, "", name); sub(/-[0-9]+$/, "", name)
		for (i = 2; i <= NF; i++) {
			if ($(i+1) == "ns/op") ns[name] = ns[name] " " $i
			if ($(i+1) == "B/op") bytes[name] = bytes[name] " " $i
			if ($(i+1) == "allocs/op") allocs[name] = allocs[name] " " $i
		}
		if (!(name in seen)) { seen[name] = 1; order[++n] = name }
	}
	function median(list,   a, i, j, m, v) {
		m = split(substr(list, 2), a, " ")
		for (i = 2; i <= m; i++) {   # insertion sort: a handful of runs
			v = a[i] + 0
			for (j = i - 1; j >= 1 && a[j] + 0 > v; j--) a[j + 1] = a[j]
			a[j + 1] = v
		}
		return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
	}
	END {
		base = median(ns["runcontext"])
		printf "\n%-28s %12s %12s %14s %10s\n", "processor", "ns/record", "B/record", "allocs/record", "x runcontext"
		for (i = 1; i <= n; i++) {
			name = order[i]; t = median(ns[name])
			printf "%-28s %12.1f %12.1f %14.2f %10.1f\n", name, t / records, median(bytes[name]) / records, median(allocs[name]) / records, t / base
		}
	}'
