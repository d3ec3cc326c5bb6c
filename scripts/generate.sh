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

# The distribution from builder-config.yaml. The builder writes main and the
# component list to cmd/otelcol-runcontext, with a go.mod of its own that it
# tidies there. The distribution is the root module (its main in
# cmd/otelcol-runcontext, its e2e tests in internal/e2e): lift that go.mod to
# the root, with the local replace paths made relative to the root, then
# tidy the root, which adds what the root's own tests import.
dist=cmd/otelcol-runcontext
rm -f "$dist/go.mod" "$dist/go.sum"
"$BIN/builder" --config builder-config.yaml --skip-compilation >.build-generate.log 2>&1 ||
	{ cat .build-generate.log; rm -f .build-generate.log; exit 1; }
rm -f .build-generate.log
sed -e 's#=> \.\./\.\./#=> ./#' -e '/^\/\/ Code generated/d' "$dist/go.mod" >go.mod
mv "$dist/go.sum" go.sum
rm "$dist/go.mod"
go mod tidy
# The builder does not gofmt what it writes; the repository's Go is gofmt'ed.
gofmt -w "$dist"

# The gateway's configuration, for the recipes that ship it as a ConfigMap:
# kustomize's configMapGenerator and Helm's .Files read only below their
# own folder, so each holds a copy of config/gateway.yaml, the one source.
cp config/gateway.yaml deploy/kubernetes/gateway.yaml
cp config/gateway.yaml deploy/helm/otelcol-runcontext/files/gateway.yaml
