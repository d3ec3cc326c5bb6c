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
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing podman from Debian's packages" >&2
$sudo apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq podman >&2
echo podman
