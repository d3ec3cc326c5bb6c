#!/usr/bin/env bash
# End-to-end throughput of the built collector: telemetrygen (contrib
# cmd/telemetrygen v0.161.0, installed here) sends N log records over
# OTLP/gRPC; the collector runs them through [variant processors, batch]
# into the azure_monitor exporter, which delivers to the local ingestion
# endpoint in a process of its own. For each variant (no processor,
# runcontext, the transform equivalent) it measures records/s from the
# first send to the last envelope stored, the collector's CPU seconds per
# million records, and its peak RSS; and takes a CPU profile of the
# runcontext run. A fourth variant, step_sends_dims, has no processor but a
# step that sends the dimensions and Level itself: its envelopes equal
# runcontext's, so the two differ by the processor's cost alone, while
# "none" also sends fewer properties (the exporter's JSON encoding of
# properties dominates the cost, see the profile). runcontext_spool is
# runcontext with appinsights_delivery's disk spool on (config/azure.yaml's
# default): its cost is fsync'ing each track request and delivering them
# one at a time. gateway_tls is runcontext_spool behind config/gateway.yaml's
# front door: OTLP over TLS, each request's bearer token checked. Variants
# alternate over ROUNDS rounds, so that a noisy
# neighbour hits all of them alike; the report gives medians.
#   make bench-e2e   (N=200000 ROUNDS=3 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-200000}"
ROUNDS="${ROUNDS:-3}"
WORKERS=4
out=".build/bench-e2e"
mkdir -p "$out" bin
GOBIN="$PWD/bin" go install github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen@v0.161.0
make --no-print-directory build >/dev/null
dir=internal/comparison/throughput
ticks=$(getconf CLK_TCK)

# shellcheck source=lib.sh
. scripts/lib.sh
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

ingest_port=$(port)
data="$out/ingestion"
rm -rf "$data"
BENCH_INGESTION_ENDPOINT="127.0.0.1:$ingest_port" BENCH_DATA_DIR="$data" BENCH_IDLE_ENDPOINT="127.0.0.1:$(port)" \
	bin/otelcol-runcontext --config "$dir/ingestion.yaml" >"$out/ingestion.log" 2>&1 &
ingest_pid=$!
trap 'kill $ingest_pid 2>/dev/null || true' EXIT
wait_ready "$out/ingestion.log"
envelopes="$data/envelopes.jsonl"

# The gateway's TLS certificate (for 127.0.0.1) and token.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$out/tls.key" -out "$out/tls.crt" 2>/dev/null
token=$(openssl rand -hex 24)
echo "$token" >"$out/token"

declare -A processors=([none]="[batch]" [step_sends_dims]="[batch]" [runcontext]="[runcontext, batch]" [transform]="[transform, batch]" [runcontext_spool]="[runcontext, batch]" [gateway_tls]="[runcontext, batch]")
variants="none step_sends_dims runcontext transform runcontext_spool gateway_tls"
spool="extensions::appinsights_delivery::spool::directory=$out/spool"
# Each variant's --set arguments, separated by spaces.
declare -A settings=(
	[runcontext_spool]="$spool"
	[gateway_tls]="$spool receivers::otlp::protocols::grpc::tls::cert_file=$out/tls.crt receivers::otlp::protocols::grpc::tls::key_file=$out/tls.key receivers::otlp::protocols::grpc::auth::authenticator=bearertokenauth extensions::bearertokenauth::filename=$out/token service::extensions=[pprof,appinsights_delivery,bearertokenauth]"
)
run_context=(
	--otlp-attributes 'cicd.pipeline.run.id="931024c2-3720-11ea-b247-c49deda841c1"'
	--otlp-attributes 'cicd.pipeline.task.run.id="step-1"'
	--otlp-attributes 'cicd.pipeline.task.name="prep"'
	--otlp-attributes 'cicd.pipeline.name="train-pipeline"'
	--otlp-attributes 'cicd.pipeline.run.url.full="https://ml.azure.com/runs/931024c2"'
	--otlp-attributes 'vcs.ref.head.revision="4f3c2a1b"'
)
# What runcontext adds, sent by the step itself.
dimensions=(
	--otlp-attributes 'parent_run_id="931024c2-3720-11ea-b247-c49deda841c1"'
	--otlp-attributes 'step_id="step-1"'
	--otlp-attributes 'step_name="prep"'
	--otlp-attributes 'experiment_name="train-pipeline"'
	--otlp-attributes 'run_url="https://ml.azure.com/runs/931024c2"'
	--otlp-attributes 'build_version="4f3c2a1b"'
	--telemetry-attributes 'Level="ERROR"'
)
results="$out/results.tsv"
: >"$results"
for round in $(seq 1 "$ROUNDS"); do
	for variant in $variants; do
		extra=()
		[ "$variant" != step_sends_dims ] || extra=("${dimensions[@]}")
		otlp_port=$(port)
		pprof_port=$(port)
		log="$out/collector-$variant.log"
		sets=(--set "service::pipelines::logs::processors=${processors[$variant]}")
		for setting in ${settings[$variant]:-}; do
			sets+=(--set "$setting")
		done
		client=(--otlp-insecure)
		[ "$variant" != gateway_tls ] || client=(--ca-cert "$out/tls.crt" --otlp-header "Authorization=\"Bearer $token\"")
		rm -rf "$out/spool"
		BENCH_OTLP_ENDPOINT="127.0.0.1:$otlp_port" BENCH_PPROF_ENDPOINT="127.0.0.1:$pprof_port" \
			BENCH_INGESTION_ENDPOINT="127.0.0.1:$ingest_port" \
			bin/otelcol-runcontext --config "$dir/base.yaml" "${sets[@]}" >"$log" 2>&1 &
		pid=$!
		wait_ready "$log"
		before=$(lines "$envelopes")
		cpu0=$(cpu_ticks $pid)
		t0=$(date +%s.%N)
		profiler=""
		if [ "$variant" = runcontext ] && [ "$round" = 1 ]; then
			curl -s -o "$out/runcontext.cpu.pprof" "http://127.0.0.1:$pprof_port/debug/pprof/profile?seconds=4" &
			profiler=$!
		fi
		bin/telemetrygen logs "${client[@]}" --otlp-endpoint "127.0.0.1:$otlp_port" \
			--workers $WORKERS --logs $((N / WORKERS)) --rate 0 --severity-number 17 --severity-text ERROR \
			"${run_context[@]}" ${extra[@]+"${extra[@]}"} >"$out/telemetrygen.log" 2>&1
		want=$((before + N))
		for _ in $(seq 1 1200); do
			[ "$(lines "$envelopes")" -ge "$want" ] && break
			sleep 0.1
		done
		t1=$(date +%s.%N)
		cpu1=$(cpu_ticks $pid)
		rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
		got=$(($(lines "$envelopes") - before))
		[ -z "$profiler" ] || wait "$profiler" || true
		kill -TERM $pid
		wait $pid || true
		awk -v v="$variant" -v n="$got" -v t0="$t0" -v t1="$t1" -v c0="$cpu0" -v c1="$cpu1" -v hz="$ticks" -v rss="$rss_kb" -v want="$N" \
			'BEGIN { printf "%s\t%d\t%d\t%.0f\t%.2f\t%.0f\n", v, want, n, n / (t1 - t0), (c1 - c0) / hz / (n / 1e6), rss / 1024 }' | tee -a "$results"
	done
done

echo
awk -F'\t' '
	{ rate[$1] = rate[$1] " " $4; cpu[$1] = cpu[$1] " " $5; rss[$1] = ($6 > rss[$1]) ? $6 : rss[$1]; lost[$1] += $2 - $3 }
	function median(list,   a, i, j, m, v) {
		m = split(substr(list, 2), a, " ")
		for (i = 2; i <= m; i++) { v = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > v; j--) a[j + 1] = a[j]; a[j + 1] = v }
		return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
	}
	END {
		printf "%-16s %10s %12s %13s %6s %18s\n", "variant", "records/s", "CPU s/M rec", "peak RSS MiB", "lost", "vs step_sends_dims"
		base = median(rate["step_sends_dims"])
		n = split("none step_sends_dims runcontext transform runcontext_spool gateway_tls", order, " ")
		for (i = 1; i <= n; i++) { v = order[i]
			printf "%-16s %10.0f %12.2f %13.0f %6d %+17.1f%%\n", v, median(rate[v]), median(cpu[v]), rss[v], lost[v], (median(rate[v]) / base - 1) * 100 }
	}' "$results"
if [ -f "$out/runcontext.cpu.pprof" ]; then
	echo
	echo "CPU profile of the runcontext run (top 15 by cumulative time): $out/runcontext.cpu.pprof"
	go tool pprof -top -cum -nodecount 15 bin/otelcol-runcontext "$out/runcontext.cpu.pprof" 2>/dev/null | tail -n 16
fi
