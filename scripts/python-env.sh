#!/usr/bin/env bash
# Creates the Python environments the e2e tests run their Python clients
# in, from the committed pins (internal/e2e/python/requirements-*.txt, every
# package pinned with its sha256): .build/venv/<name> for each. An
# environment whose pins have not changed is kept, so warm runs cost
# nothing. make test calls it; tests fail, never skip, without it.
set -euo pipefail
cd "$(dirname "$0")/.."
# The hashes are those of the files pip installs for CPython 3.11 on linux
# x86_64 (internal/e2e/python/lock.sh): another Python gets other wheels.
python=$(python3 -c 'import platform, sys; print(f"{sys.version_info[0]}.{sys.version_info[1]} {platform.machine()}")')
if [ "$python" != "3.11 x86_64" ]; then
	echo "python-env: the pins are locked for CPython 3.11 on x86_64, and python3 here is $python: run internal/e2e/python/lock.sh with this python3 and commit the locks" >&2
	exit 1
fi
python3 -c 'import ensurepip' 2>/dev/null || { echo "python-env: python3 has no venv support (Debian: apt-get install python3-venv)" >&2; exit 1; }
for pins in internal/e2e/python/requirements-*.txt; do
	name="${pins##*/requirements-}"; name="${name%.txt}"
	venv=".build/venv/$name"
	stamp="$venv/.pins.sha256"
	want=$( (python3 --version; cat "$pins") | sha256sum | cut -d' ' -f1)
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
		continue
	fi
	echo "python-env: creating $venv from $pins" >&2
	rm -rf "$venv"
	python3 -m venv "$venv"
	"$venv/bin/pip" install -q --require-hashes --no-deps -r "$pins"
	echo "$want" >"$stamp"
done
