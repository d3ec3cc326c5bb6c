#!/usr/bin/env bash
# Builds the three shipped binaries, static (CGO off), for one platform:
#   scripts/build-static.sh OS ARCH OUTDIR
# The image (scripts/image.sh) and the release archives (scripts/dist.sh)
# ship what this builds. The collector's version comes from
# builder-config.yaml through the builder; runcontext-launch gets it with -X.
set -euo pipefail
cd "$(dirname "$0")/.."
os=$1 arch=$2 out=$3
version=$(sed -n 's/^  version: //p' builder-config.yaml)
ext=""
[ "$os" = windows ] && ext=".exe"
mkdir -p "$out"
export CGO_ENABLED=0 GOOS=$os GOARCH=$arch
go build -trimpath -ldflags "-s -w" -o "$out/otelcol-runcontext$ext" ./cmd/otelcol-runcontext
go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$out/runcontext-launch$ext" ./cmd/runcontext-launch
go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$out/runcontext-query$ext" ./cmd/runcontext-query
