#!/usr/bin/env bash
# Builds the otelcol-runcontext image (Containerfile) without pulling any
# base image: the static binaries are built here, staged with the configs,
# CA certificates and the user's passwd entry, and copied onto scratch.
#   IMAGE   the image name (default otelcol-runcontext); tagged :<version>
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${IMAGE:-otelcol-runcontext}
VERSION=$(sed -n 's/^  version: //p' builder-config.yaml)
REVISION=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
engine=$(scripts/container-engine.sh)

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
scripts/build-static.sh linux "$(go env GOARCH)" "$ctx"
cp config/*.yaml "$ctx/"
cp /etc/ssl/certs/ca-certificates.crt "$ctx/"
echo 'otelcol:x:10001:10001:otelcol-runcontext:/var/lib/otelcol-runcontext:/sbin/nologin' >"$ctx/passwd"
echo 'otelcol:x:10001:' >"$ctx/group"
mkdir -p "$ctx/dirs/var/lib/otelcol-runcontext" "$ctx/dirs/tmp"
chmod 0700 "$ctx/dirs/var/lib/otelcol-runcontext"
chmod 1777 "$ctx/dirs/tmp"

"$engine" build --quiet -f Containerfile \
	--build-arg VERSION="$VERSION" --build-arg REVISION="$REVISION" \
	--build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	-t "$IMAGE:$VERSION" "$ctx" >/dev/null
echo "$IMAGE:$VERSION"
