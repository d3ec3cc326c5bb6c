#!/usr/bin/env bash
# Prints the container engine that can build images here: podman, else a
# docker whose daemon answers. With neither, installs podman from Debian's
# packages (reachable from every machine of the project) and prints it.
set -euo pipefail
if command -v podman >/dev/null 2>&1; then
	echo podman
	exit 0
fi
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
	echo docker
	exit 0
fi
cd "$(dirname "$0")/.."
# shellcheck source=lib.sh
. scripts/lib.sh
debian_install podman
echo podman
