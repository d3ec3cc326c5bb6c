#!/usr/bin/env bash
# Installs the Node packages the tests run (internal/tools/node: Microsoft's
# KQL parser for the conformance corpus, playwright-core for the query page)
# into .build/node from the committed lock, with npm ci. Kept while the
# lock has not changed. make test calls it; tests fail, never skip,
# without it.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib.sh
. scripts/lib.sh
command -v node >/dev/null || debian_install nodejs npm
dir=.build/node
stamp="$dir/.lock.sha256"
want=$( (node --version; cat internal/tools/node/package.json internal/tools/node/package-lock.json) | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	exit 0
fi
echo "node-env: installing $dir from internal/tools/node/package-lock.json" >&2
rm -rf "$dir"
mkdir -p "$dir"
cp internal/tools/node/package.json internal/tools/node/package-lock.json "$dir/"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
echo "$want" >"$stamp"
