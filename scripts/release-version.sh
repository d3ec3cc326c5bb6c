#!/usr/bin/env bash
# Checks that a release tag names the version the binaries carry
# (builder-config.yaml's dist.version, which runcontext-launch takes too):
#   scripts/release-version.sh v0.1.0
# release.yml runs it first, so that a tag and its archives never disagree
# (actions/setup installs the archives of the tag it is used at).
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:?usage: release-version.sh v<version>}
version=$(sed -n 's/^  version: //p' builder-config.yaml)
if [ "$tag" != "v$version" ]; then
	echo "release-version: the tag $tag is not v$version, the version in builder-config.yaml: set dist.version there (and make generate), or tag v$version" >&2
	exit 1
fi
echo "$version"
