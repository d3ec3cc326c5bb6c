#!/usr/bin/env bash
# Release archives: the collector, runcontext-launch and runcontext-query,
# static (CGO off), with the shipped configurations, for each platform, and
# SHA256SUMS.
#   DIST_PLATFORMS  os/arch list (default: the four released ones)
#   DIST_DIR        output folder (default: dist)
# The binaries are scripts/build-static.sh's, versioned from
# builder-config.yaml's dist.version.
set -euo pipefail
cd "$(dirname "$0")/.."
PLATFORMS=${DIST_PLATFORMS:-linux/amd64 linux/arm64 darwin/arm64 windows/amd64}
OUT=${DIST_DIR:-dist}
VERSION=$(sed -n 's/^  version: //p' builder-config.yaml)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

archives=()
for platform in $PLATFORMS; do
	os=${platform%/*} arch=${platform#*/}
	name="otelcol-runcontext_${VERSION}_${os}_${arch}"
	dir="$work/$name"
	mkdir -p "$dir/config"
	echo "building $name" >&2
	scripts/build-static.sh "$os" "$arch" "$dir"
	cp config/*.yaml "$dir/config/"
	cp README.md "$dir/"
	if [ "$os" = windows ]; then
		if command -v zip >/dev/null; then
			(cd "$work" && zip -qr "$OUT/$name.zip" "$name")
		else
			(cd "$work" && python3 -m zipfile -c "$OUT/$name.zip" "$name")
		fi
		archives+=("$name.zip")
	else
		tar -C "$work" -czf "$OUT/$name.tar.gz" "$name"
		archives+=("$name.tar.gz")
	fi
done
(cd "$OUT" && sha256sum "${archives[@]}" >SHA256SUMS)
echo "$OUT"
