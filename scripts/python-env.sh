#!/usr/bin/env bash
# Creates the Python environments the e2e tests run their Python clients
# in, from the committed pins (internal/e2e/python/requirements-*.txt, every
# package pinned with its sha256): .build/venv/<name> for each. An
# environment whose pins have not changed is kept, so warm runs cost
# nothing. make test calls it; tests fail, never skip, without it.
set -euo pipefail
cd "$(dirname "$0")/.."
for pins in internal/e2e/python/requirements-*.txt; do
	name="${pins##*/requirements-}"; name="${name%.txt}"
	venv=".build/venv/$name"
	stamp="$venv/.pins.sha256"
	want=$(sha256sum "$pins" | cut -d' ' -f1)
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
		continue
	fi
	echo "python-env: creating $venv from $pins" >&2
	rm -rf "$venv"
	python3 -m venv "$venv"
	"$venv/bin/pip" install -q --require-hashes --no-deps -r "$pins"
	echo "$want" >"$stamp"
done
