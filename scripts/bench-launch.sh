#!/usr/bin/env bash
# What runcontext-launch costs a step (docs/benchmarks.md), with the step's
# collector on config/azure.yaml delivering to a local ingestion endpoint
# on loopback (the built collector on config/local.yaml, in a process of
# its own), as a step in CI would to Application Insights:
#   1. start and stop: `runcontext-launch -- true` against `true`, the
#      median of RUNS runs, and every run's step item delivered before the
#      launcher exits;
#   2. a step that prints 2 000 000 lines as fast as it can (Python, with
#      its default buffering), its output to /dev/null: launched against
#      bare, alternating, medians of RUNS runs each, and what the default
#      rate bound let through;
#   3. the same step with its collector stopped (SIGSTOP) while it prints,
#      and no rate bound (--max-lines-per-second 0), so that what is
#      dropped is what the bounded buffer could not hold: the wall time,
#      and the launcher's summary.
#   make bench-launch   (RUNS=5 by default; LAUNCH_FLAGS adds launcher
#   flags; LAUNCHER measures another build's runcontext-launch, its
#   collector beside it, for example an earlier commit's)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-5}"
out=".build/bench-launch"
rm -rf "$out"
mkdir -p "$out"
make --no-print-directory build >/dev/null

# shellcheck source=lib.sh
. scripts/lib.sh
now() { date +%s.%N; }
calc() { awk "BEGIN { print $* }"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
requests() { local n; n=$(grep -c '"Microsoft.ApplicationInsights.Request"' "$out/ingestion/appinsights/envelopes.jsonl" 2>/dev/null) || true; echo "${n:-0}"; }

ingest=$(port)
RUNCONTEXT_DATA_DIR="$out/ingestion" RUNCONTEXT_INGESTION_ENDPOINT="127.0.0.1:$ingest" \
	RUNCONTEXT_HEALTH_ENDPOINT="127.0.0.1:$(port)" RUNCONTEXT_METRICS_PORT="$(port)" \
	RUNCONTEXT_OTLP_GRPC_ENDPOINT="127.0.0.1:$(port)" RUNCONTEXT_OTLP_HTTP_ENDPOINT="127.0.0.1:$(port)" \
	bin/otelcol-runcontext --config config/local.yaml >"$out/ingestion.log" 2>&1 &
ingestion=$!
trap 'kill $ingestion 2>/dev/null; wait $ingestion 2>/dev/null || true' EXIT
wait_ready "$out/ingestion.log"

export APPLICATIONINSIGHTS_CONNECTION_STRING="InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:$ingest/"
export RUNCONTEXT_DATA_DIR="$out/launch"
unset PYTHONUNBUFFERED # the step's own buffering, as Python has it by default
LAUNCHER="${LAUNCHER:-bin/runcontext-launch}"
launch() { "$LAUNCHER" --config config/azure.yaml ${LAUNCH_FLAGS:-} "$@"; }

# 1. Start and stop.
: >"$out/true.bare"
: >"$out/true.launched"
for _ in $(seq 1 "$RUNS"); do
	t=$(now); true; calc "$(now) - $t" >>"$out/true.bare"
	t=$(now); launch -- true; calc "$(now) - $t" >>"$out/true.launched"
done
bare=$(median <"$out/true.bare")
launched=$(median <"$out/true.launched")
delivered=$(requests)
printf '| `true`, bare | %.3f s |\n| `runcontext-launch -- true` | %.3f s |\n| added | %.0f ms |\n| step items delivered before exit | %d of %d |\n' \
	"$bare" "$launched" "$(calc "($launched - $bare) * 1000")" "$delivered" "$RUNS"

# 2. 2 000 000 lines.
cat >"$out/print.py" <<'PY'
import sys
write = sys.stdout.write
for i in range(2_000_000):
    write(f"step {i}: loss 0.{i % 1000:03d}\n")
PY
: >"$out/lines.bare"
: >"$out/lines.launched"
for _ in $(seq 1 "$RUNS"); do
	t=$(now); python3 "$out/print.py" >/dev/null; calc "$(now) - $t" >>"$out/lines.bare"
	t=$(now); launch -- python3 "$out/print.py" >/dev/null 2>"$out/lines.stderr"; calc "$(now) - $t" >>"$out/lines.launched"
done
bare=$(median <"$out/lines.bare")
launched=$(median <"$out/lines.launched")
printf '| 2 000 000 lines, bare | %.2f s |\n| 2 000 000 lines, launched | %.2f s |\n| ratio | %.2f |\n| last run | %s |\n' \
	"$bare" "$launched" "$(calc "$launched / $bare")" "$(sed -n 's/^runcontext-launch: //p' "$out/lines.stderr")"

# 3. The collector stopped while the step prints (a launcher without a
# rate bound to turn off has no such part).
"$LAUNCHER" --help 2>&1 | grep -q max-lines-per-second || exit 0
cat >"$out/stopped.sh" <<'SH'
for pid in $(pgrep -P "$PPID"); do [ "$pid" = $$ ] || kill -STOP "$pid"; done
python3 "$1"
for pid in $(pgrep -P "$PPID"); do [ "$pid" = $$ ] || kill -CONT "$pid"; done
SH
t=$(now)
launch --max-lines-per-second 0 -- sh "$out/stopped.sh" "$out/print.py" >/dev/null 2>"$out/stopped.stderr"
printf '| 2 000 000 lines, collector stopped | %.2f s |\n| its summary | %s |\n' \
	"$(calc "$(now) - $t")" "$(sed -n 's/^runcontext-launch: //p' "$out/stopped.stderr")"
