#!/usr/bin/env bash
# Runs the fault-injection scenarios (internal/e2e/delivery_test.go)
# through the real binary twice: with the appinsights_delivery spool
# (config/azure.yaml as shipped) and with the contrib exporter alone (the
# middleware removed), and prints sent / delivered / duplicated / lost per
# scenario. The outage lasts RUNCONTEXT_FAULT_OUTAGE (default 5m, the
# issue's figure; `make test` runs the scenarios with 5s).
set -euo pipefail
cd "$(dirname "$0")/.."
make build >/dev/null
export RUNCONTEXT_FAULT_OUTAGE="${RUNCONTEXT_FAULT_OUTAGE:-5m}"
AUTH_OUTAGE="${AUTH_OUTAGE:-20s}"
scenarios='TestFault(Outage|OutageWithSelfTracing|InvalidInstrumentationKey|ServiceUnavailableBursts|ThrottledWithRetryAfter|PartialSuccess|KilledWhileDown|StoppedWhileDown)$'
cd internal/e2e
echo "outage: $RUNCONTEXT_FAULT_OUTAGE; 401/403/404 for $AUTH_OUTAGE"
echo "== with the spool"
go test -count=1 -v -timeout 60m -run 'TestFault' -skip 'TestFaultAuthLikeAnswers' ./ | grep -E 'FAULT|^(--- FAIL|FAIL|ok)'
RUNCONTEXT_FAULT_OUTAGE="$AUTH_OUTAGE" go test -count=1 -v -timeout 60m -run 'TestFaultAuthLikeAnswers' ./ | grep -E 'FAULT|^(--- FAIL|FAIL|ok)'
echo "== contrib exporter alone"
RUNCONTEXT_FAULT_BASELINE=1 go test -count=1 -v -timeout 60m -run "$scenarios" ./ | grep -E 'FAULT|^(--- FAIL|FAIL|ok)'
RUNCONTEXT_FAULT_BASELINE=1 RUNCONTEXT_FAULT_OUTAGE="$AUTH_OUTAGE" go test -count=1 -v -timeout 60m -run 'TestFaultAuthLikeAnswers' ./ | grep -E 'FAULT|^(--- FAIL|FAIL|ok)'
