#!/usr/bin/env bash
# A long outage under load: 2 000 records a second through the real binary
# on config/azure.yaml while ingestion is down for RUNCONTEXT_SOAK_OUTAGE
# (default 10m), then ingestion comes back. Prints the records sent, the
# seconds the spool took to catch up, the collector's peak RSS and the most
# disk the spool used (internal/e2e BenchmarkLongOutage).
#   make delivery-soak   (about 15 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
export RUNCONTEXT_SOAK_OUTAGE="${RUNCONTEXT_SOAK_OUTAGE:-10m}"
echo "outage: $RUNCONTEXT_SOAK_OUTAGE at 2000 records/s"
go test -run '^$' -bench 'BenchmarkLongOutage' -benchtime 1x -timeout 90m ./internal/e2e/ | grep -E '^(Benchmark|FAIL|ok)|Error'
