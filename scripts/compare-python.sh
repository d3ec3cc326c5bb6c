#!/usr/bin/env bash
# The seed's step on each path to Application Insights, side by side
# (docs/comparison.md): OpenCensus' AzureLogHandler (what users have), the
# Azure Monitor distro (configure_azure_monitor, no collector), the
# OpenTelemetry SDK to a collector, opentelemetry-instrument, and
# runcontext-launch's capture of the console. Each path runs the seed's
# step (internal/e2e/testdata/steps/sample_step.py) against the built
# collector on config/local.yaml (with the runcontext's opencensus option),
# whose local ingestion endpoint stores what Application Insights would.
# It records each item's customDimensions, message, severity, exception,
# operation_Id and cloud_RoleName; the seed's queries over each store; the
# cost of 100 000 logger.info calls in the step's process; what is left
# when the step is killed with SIGKILL 1 s after its last log call; and what
# arrives when ingestion is down for OUTAGE seconds from the step's start,
# on the configuration each path has against a real resource (the
# collector paths on config/azure.yaml, with its spool).
#   make compare-python   (CALLS=100000 OUTAGE=300; about 8 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS="${CALLS:-100000}"
OUTAGE="${OUTAGE:-300}"
# Every path sends to the local endpoints below, never to a resource of
# the caller's environment.
unset APPLICATIONINSIGHTS_CONNECTION_STRING RUNCONTEXT_ENTRA_CREDENTIAL RUNCONTEXT_ENTRA_CLIENT_ID
out=".build/compare-python"
rm -rf "$out"
mkdir -p "$out"
make --no-print-directory build >/dev/null
./scripts/python-env.sh
step="$PWD/internal/e2e/testdata/steps/sample_step.py"
options="$out/opencensus.yaml"
printf 'processors:\n  runcontext:\n    opencensus: true\n' >"$options"

# shellcheck source=lib.sh
. scripts/lib.sh

# collector DIR [CONFIG]: the collector on CONFIG (config/local.yaml), its
# store or spool in DIR; sets $otlp, $ingest and $pid.
collector() {
	local dir=$1 config=${2:-config/local.yaml}
	otlp="127.0.0.1:$(port)"
	ingest="127.0.0.1:$(port)"
	RUNCONTEXT_DATA_DIR="$dir" RUNCONTEXT_INGESTION_ENDPOINT="$ingest" \
		RUNCONTEXT_OTLP_HTTP_ENDPOINT="$otlp" RUNCONTEXT_OTLP_GRPC_ENDPOINT="127.0.0.1:$(port)" \
		RUNCONTEXT_HEALTH_ENDPOINT="127.0.0.1:$(port)" RUNCONTEXT_METRICS_PORT="$(port)" \
		bin/otelcol-runcontext --config "$config" --config "$options" >"$dir.log" 2>&1 &
	pid=$!
	wait_ready "$dir.log"
}
stop() {
	[ -n "${pid:-}" ] || return 0
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=
}
trap stop EXIT

# run PATH SCENARIO: the step on PATH; the items that arrived in
# $out/PATH.SCENARIO/envelopes.jsonl, its stdout and stderr next to it.
# Scenarios: items, killed, cost, and with ingestion down for OUTAGE seconds
# from the step's start: outage (the step outlives it by 60 s) and
# outage-ends (the step ends 60 s into it).
run() {
	local path=$1 scenario=$2
	local dir="$out/$path.$scenario"
	# Each run its own temporary folder: OpenCensus and the distro keep
	# their retry files under it, and must not find another run's.
	mkdir -p "$dir/tmp"
	local config=config/local.yaml hold=0 ingestion= started=$SECONDS
	local store="$dir/appinsights/envelopes.jsonl"
	[ "$path" = console ] && store="$dir/launch/appinsights/envelopes.jsonl"
	case "$scenario" in
	outage | outage-ends)
		# Ingestion of its own, in its own process, not listening until
		# OUTAGE seconds have passed; every path sends to it as it would
		# to a real resource.
		local down="127.0.0.1:$(port)"
		(
			sleep "$OUTAGE"
			exec env BENCH_INGESTION_ENDPOINT="$down" BENCH_DATA_DIR="$dir/ingestion" BENCH_IDLE_ENDPOINT="127.0.0.1:$(port)" \
				bin/otelcol-runcontext --config internal/comparison/throughput/ingestion.yaml
		) >"$dir.ingestion.log" 2>&1 &
		ingestion=$!
		export APPLICATIONINSIGHTS_CONNECTION_STRING="InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://$down/"
		config=config/azure.yaml
		store="$dir/ingestion/envelopes.jsonl"
		hold=60
		[ "$scenario" = outage ] && hold=$((OUTAGE + 60))
		;;
	esac
	# The launcher starts a collector of its own; in an outage, OpenCensus
	# and the distro need none.
	case "$path.$config" in
	console.* | opencensus.config/azure.yaml | distro.config/azure.yaml) ;;
	*) collector "$dir" "$config" ;;
	esac
	local conn=${APPLICATIONINSIGHTS_CONNECTION_STRING:-"InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://$ingest/"}
	# Every path runs in the same Azure ML job, with pipeline.yml's
	# resource attributes: OpenCensus ignores them, the OpenTelemetry
	# paths' runcontext reads them. (opentelemetry-instrument defaults to
	# gRPC: pointed at an OTLP/HTTP port without a protocol it sends
	# nothing, and says nothing.)
	set -- TMPDIR="$dir/tmp" STEP_HOLD="$hold" \
		AZUREML_RUN_ID=prep_7c1d9a AZUREML_ROOT_RUN_ID=931024c2-3720-11ea-b247-c49deda841c1 \
		AZUREML_ARM_PROJECT_NAME=train-pipeline AZUREML_ARM_SUBSCRIPTION=3f2e1d0c-sub \
		AZUREML_ARM_RESOURCEGROUP=ml-rg AZUREML_ARM_WORKSPACE_NAME=ml-ws \
		OTEL_RESOURCE_ATTRIBUTES=cicd.pipeline.task.name=prep,run_type=training # as examples/azureml/pipeline.yml sets them
	[ "$scenario" = cost ] && set -- "$@" STEP_CALLS="$CALLS"
	[ "$scenario" = killed ] && set -- "$@" STEP_KILL=1
	case "$path" in
	opencensus)
		env "$@" APPLICATIONINSIGHTS_CONNECTION_STRING="$conn" .build/venv/opencensus/bin/python "$step" ;;
	distro)
		env "$@" STEP_HANDLER=distro APPLICATIONINSIGHTS_CONNECTION_STRING="$conn" OTEL_SERVICE_NAME=sample_step .build/venv/distro/bin/python "$step" ;;
	otel-sdk)
		env "$@" STEP_HANDLER=opentelemetry OTEL_EXPORTER_OTLP_ENDPOINT="http://$otlp" OTEL_SERVICE_NAME=sample_step .build/venv/current/bin/python "$step" ;;
	instrument)
		env "$@" STEP_HANDLER=logging OTEL_EXPORTER_OTLP_ENDPOINT="http://$otlp" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_SERVICE_NAME=sample_step OTEL_LOGS_EXPORTER=otlp OTEL_TRACES_EXPORTER=none OTEL_METRICS_EXPORTER=none \
			.build/venv/current/bin/opentelemetry-instrument .build/venv/current/bin/python "$step" ;;
	console)
		local local_store=--local
		[ "$config" = config/local.yaml ] || local_store=
		env "$@" STEP_HANDLER=logging RUNCONTEXT_DATA_DIR="$dir/launch" OTEL_SERVICE_NAME=sample_step \
			bin/runcontext-launch $local_store --config "$config" --config "$options" -- .build/venv/current/bin/python "$step" ;;
	esac >"$dir.stdout" 2>"$dir.stderr" || true
	sleep 2 # a background exporter's last send
	if [ -n "$ingestion" ]; then
		# What reaches ingestion in the 90 s after it is back: a
		# collector that outlives the step (a gateway, a sidecar) keeps
		# delivering; the launcher's stops with the step.
		while [ $((SECONDS - started)) -lt $((OUTAGE + 90)) ]; do sleep 1; done
	fi
	stop
	if [ -n "$ingestion" ]; then
		kill "$ingestion" 2>/dev/null || true
		wait "$ingestion" 2>/dev/null || true
	fi
	cp "$store" "$dir/envelopes.jsonl" 2>/dev/null || : >"$dir/envelopes.jsonl"
}

# The outage runs mostly wait: all at once, before the others, which are
# timed and run alone.
pids=()
for path in opencensus distro otel-sdk instrument console; do
	run "$path" outage &
	pids+=($!)
	run "$path" outage-ends &
	pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=1; done
if [ "$failed" -ne 0 ]; then
	echo "compare-python: an outage run failed (its logs are in $out): no table written" >&2
	exit 1
fi
for path in opencensus distro otel-sdk instrument console; do
	run "$path" items
	run "$path" killed
	run "$path" cost
done
python3 internal/comparison/python/render.py "$out" "$CALLS" "$OUTAGE" >docs/comparison.md
echo "docs/comparison.md written" >&2
