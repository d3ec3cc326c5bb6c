#!/usr/bin/env bash
# Proves that the runcontext processor composes into another collector
# build: builds examples/compose/builder-config.yaml (the processor by path),
# starts the result, sends one OTLP/HTTP log record and checks that the
# debug exporter prints it with the run context attached.
set -euo pipefail
cd "$(dirname "$0")/.."

mkdir -p .build/compose
bin/builder --config examples/compose/builder-config.yaml >.build-compose.log 2>&1 ||
	{ cat .build-compose.log; rm -f .build-compose.log; exit 1; }
rm -f .build-compose.log

port=$((20000 + RANDOM % 20000))
out="$(mktemp)"
trap 'kill "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
COMPOSE_OTLP_HTTP_ENDPOINT="127.0.0.1:$port" \
	.build/compose/mycollector --config examples/compose/config.yaml >"$out" 2>&1 &
pid=$!

for _ in $(seq 1 100); do
	curl -fs -o /dev/null -X POST "http://127.0.0.1:$port/v1/logs" \
		-H 'Content-Type: application/json' \
		-d '{"resourceLogs":[{"resource":{"attributes":[{"key":"cicd.pipeline.run.id","value":{"stringValue":"run-42"}}]},"scopeLogs":[{"logRecords":[{"severityNumber":17,"body":{"stringValue":"composed"}}]}]}]}' &&
		break
	sleep 0.2
done

for _ in $(seq 1 50); do
	if grep -q 'parent_run_id: Str(run-42)' "$out" && grep -q 'Level: Str(ERROR)' "$out"; then
		echo "compose: the composed collector attached the run context"
		exit 0
	fi
	sleep 0.2
done
cat "$out"
echo "compose: the composed collector did not print the run context" >&2
exit 1
