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
# cost of 100 000 logger.info calls in the step's process; and what is
# left when the step is killed with SIGKILL 1 s after its last log call.
#   make compare-python   (CALLS=100000)
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS="${CALLS:-100000}"
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

# collector DIR: the collector on local.yaml, its store in DIR; sets
# $otlp, $ingest and $pid.
collector() {
	local dir=$1
	otlp="127.0.0.1:$(port)"
	ingest="127.0.0.1:$(port)"
	RUNCONTEXT_DATA_DIR="$dir" RUNCONTEXT_INGESTION_ENDPOINT="$ingest" \
		RUNCONTEXT_OTLP_HTTP_ENDPOINT="$otlp" RUNCONTEXT_OTLP_GRPC_ENDPOINT="127.0.0.1:$(port)" \
		RUNCONTEXT_HEALTH_ENDPOINT="127.0.0.1:$(port)" RUNCONTEXT_METRICS_PORT="$(port)" \
		bin/otelcol-runcontext --config config/local.yaml --config "$options" >"$dir.log" 2>&1 &
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

# run PATH SCENARIO [ENV...]: the step on PATH; its store in
# $out/PATH.SCENARIO/appinsights/envelopes.jsonl, its stdout in .stdout.
run() {
	local path=$1 scenario=$2
	shift 2
	local dir="$out/$path.$scenario"
	mkdir -p "$dir"
	# The launcher starts a collector of its own.
	[ "$path" = console ] || collector "$dir"
	local conn="InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://$ingest/"
	# Every path runs in the same Azure ML job, with pipeline.yml's
	# resource attributes: OpenCensus ignores them, the OpenTelemetry
	# paths' runcontext reads them. (opentelemetry-instrument defaults to
	# gRPC: pointed at an OTLP/HTTP port without a protocol it sends
	# nothing, and says nothing.)
	set -- "$@" AZUREML_RUN_ID=prep_7c1d9a AZUREML_ROOT_RUN_ID=931024c2-3720-11ea-b247-c49deda841c1 \
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
		# The launcher's own local store, with its collector on local.yaml.
		env "$@" STEP_HANDLER=logging RUNCONTEXT_DATA_DIR="$dir/launch" OTEL_SERVICE_NAME=sample_step \
			bin/runcontext-launch --local --config config/local.yaml --config "$options" -- .build/venv/current/bin/python "$step" ;;
	esac >"$dir.stdout" 2>"$dir.stderr" || true
	sleep 2 # a background exporter's last send
	stop
	if [ "$path" = console ]; then
		cat "$dir"/launch/appinsights/envelopes.jsonl >"$dir/envelopes.jsonl" 2>/dev/null || : >"$dir/envelopes.jsonl"
	else
		cp "$dir/appinsights/envelopes.jsonl" "$dir/envelopes.jsonl" 2>/dev/null || : >"$dir/envelopes.jsonl"
	fi
}

for path in opencensus distro otel-sdk instrument console; do
	run "$path" items
	run "$path" killed
	run "$path" cost
done
python3 internal/comparison/python/render.py "$out" "$CALLS" >docs/comparison.md
echo "docs/comparison.md written" >&2
