#!/usr/bin/env bash
# Builds the otelcol-runcontext image (Containerfile) without pulling any
# base image: the static binaries are built here for each platform, staged
# with the configs, CA certificates and the user's passwd entry, and copied
# onto scratch. Nothing runs inside the image while it is built, so no
# platform needs emulation.
#   IMAGE      the image name (default otelcol-runcontext); tagged :<version>
#   PLATFORMS  comma-separated (default linux/amd64,linux/arm64): one image
#              per platform, :<version>-<os>-<arch>, and :<version> for this
#              machine's; with podman, also an OCI archive holding the
#              multi-platform index of them all (OCI_ARCHIVE, default
#              .build/image/otelcol-runcontext-<version>.oci.tar), which
#              skopeo copy --all or podman load pushes as one tag. No local
#              manifest list is kept: podman 4's `podman images` fails while
#              one exists (containers/podman#19757).
# Prints the tag, then the archive.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${IMAGE:-otelcol-runcontext}
VERSION=$(sed -n 's/^  version: //p' builder-config.yaml)
REVISION=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
engine=$(scripts/container-engine.sh)

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
PLATFORMS=${PLATFORMS:-linux/amd64,linux/arm64}
IFS=, read -r -a platforms <<<"$PLATFORMS"
for platform in "${platforms[@]}"; do
	# Containerfile copies $TARGETOS-$TARGETARCH/, which the build sets
	# for each platform.
	scripts/build-static.sh "${platform%%/*}" "${platform##*/}" "$ctx/${platform%%/*}-${platform##*/}"
done
cp config/*.yaml "$ctx/"
cp /etc/ssl/certs/ca-certificates.crt "$ctx/"
echo 'otelcol:x:10001:10001:otelcol-runcontext:/var/lib/otelcol-runcontext:/sbin/nologin' >"$ctx/passwd"
echo 'otelcol:x:10001:' >"$ctx/group"
mkdir -p "$ctx/dirs/var/lib/otelcol-runcontext" "$ctx/dirs/tmp"
chmod 0700 "$ctx/dirs/var/lib/otelcol-runcontext"
chmod 1777 "$ctx/dirs/tmp"

native=linux/$(go env GOARCH)
archive=${OCI_ARCHIVE:-.build/image/otelcol-runcontext-$VERSION.oci.tar}
tags=()
for platform in "${platforms[@]}"; do
	tag="$IMAGE:$VERSION-${platform%%/*}-${platform##*/}"
	"$engine" build --quiet -f Containerfile --platform "$platform" \
		--build-arg VERSION="$VERSION" --build-arg REVISION="$REVISION" \
		--build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		-t "$tag" "$ctx" >/dev/null
	tags+=("$tag")
	[ "$platform" = "$native" ] && "$engine" tag "$tag" "$IMAGE:$VERSION"
done
if [ "$engine" = podman ]; then
	mkdir -p "$(dirname "$archive")"
	rm -f "$archive"
	# podman stores a name without a registry under localhost/.
	local_name=$IMAGE
	case "${IMAGE%%/*}" in *.* | *:* | localhost) ;; *) local_name="localhost/$IMAGE" ;; esac
	list="$local_name:$VERSION-index"
	podman manifest rm "$list" >/dev/null 2>&1 || true
	trap 'podman manifest rm "$list" >/dev/null 2>&1 || true; rm -rf "$ctx"' EXIT
	podman manifest create "$list" >/dev/null
	for tag in "${tags[@]}"; do podman manifest add "$list" "containers-storage:$local_name:${tag##*:}" >/dev/null; done
	podman manifest push --quiet --all "$list" "oci-archive:$archive" >/dev/null
else
	archive="(none: docker keeps one platform per tag; use podman for the multi-platform archive)"
fi
# The tag for this machine, else the first platform's.
if [[ ",$PLATFORMS," == *",$native,"* ]]; then
	echo "$IMAGE:$VERSION"
else
	echo "${tags[0]}"
fi
echo "$archive"
