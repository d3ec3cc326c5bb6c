#!/usr/bin/env bash
# Delivery under ingestion latency: 20 000 records through the real binary
# on config/azure.yaml, with the appinsights_delivery spool and with the
# contrib exporter alone, at 0, 100 and 500 ms per ingestion round trip
# (internal/e2e BenchmarkDeliveryLatency). Prints seconds to deliver them
# all, per case, and the spool / exporter-alone ratio. About 2 minutes.
#   make bench-delivery   (COUNT=1 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT="${COUNT:-1}"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
go test -run '^$' -bench 'BenchmarkDeliveryLatency' -benchtime 1x -count "$COUNT" -timeout 60m ./internal/e2e/ | tee "$out" | grep -E '^Benchmark'
awk '/^BenchmarkDeliveryLatency/ {
	split($1, p, "/"); lat = p[2]; mode = p[3]; sub(/-[0-9]+$/, "", mode)
	for (i = 1; i <= NF; i++) if ($(i+1) == "s_to_deliver") { sum[lat, mode] += $i; n[lat, mode]++ }
	lats[lat] = 1
}
END {
	printf "%-16s %10s %16s %8s\n", "latency", "spool s", "exporter alone s", "ratio"
	for (l in lats) {
		s = sum[l, "spool"] / n[l, "spool"]; a = sum[l, "exporter_alone"] / n[l, "exporter_alone"]
		printf "%-16s %10.2f %16.2f %8.2f\n", l, s, a, s / a
	}
}' "$out"
