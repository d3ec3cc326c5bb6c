#!/usr/bin/env bash
# Regenerates every generated file from its source of truth.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/bin"

# Component metadata (status, telemetry, lifecycle tests) from metadata.yaml.
for meta in processor/*/metadata.yaml extension/*/metadata.yaml; do
	[ -f "$meta" ] || continue
	(cd "$(dirname "$meta")" && "$BIN/mdatagen" metadata.yaml)
done

# The distribution from builder-config.yaml; `make build` compiles it.
mkdir -p cmd/otelcol-runcontext
"$BIN/builder" --config builder-config.yaml --skip-compilation
# The builder does not gofmt what it writes; the repository's Go is gofmt'ed.
gofmt -w cmd/otelcol-runcontext
