#!/usr/bin/env bash
# Runs every test of every Go module in the repository (the root module is
# the distribution, with its e2e tests; the components, the track protocol
# and the example step are modules of their own), then builds the composed
# collector of examples/compose, and runs the spool's tests as Windows
# binaries under Wine. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/check-versions.sh

unformatted="$(git ls-files --cached --others --exclude-standard -- '*.go' | xargs gofmt -l)"
if [ -n "$unformatted" ]; then
	echo "not gofmt'ed:" >&2
	echo "$unformatted" >&2
	exit 1
fi

# The tools the tests run as a workflow's steps do (the keyless recipe's
# token step pipes curl into jq, as on GitHub's runners).
# shellcheck source=lib.sh
. scripts/lib.sh
command -v jq >/dev/null || debian_install jq
# Debian's chromium, which the query page's test drives (never a
# downloaded browser).
command -v chromium >/dev/null || debian_install chromium

# The Python environments of the e2e tests' Python clients, from the
# committed pins (kept when the pins have not changed).
./scripts/python-env.sh

# The Node packages of the KQL conformance check and the query page's
# browser test, from the committed lock (kept when it has not changed).
./scripts/node-env.sh

# Compile the distribution first: the e2e tests build it from this checkout,
# and a cold build inside a test would eat into go test's timeout.
make --no-print-directory build

status=0
while IFS= read -r mod; do
	dir="$(dirname "$mod")"
	echo "== $dir"
	if ! (cd "$dir" && go vet ./... && go test -count=1 -timeout 20m ./...); then
		status=1
	fi
done < <(git ls-files --cached --others --exclude-standard -- '*go.mod' | grep -v '^internal/tools/' | sort)

# The Windows archive's spool, as windows/amd64 binaries under Wine.
./scripts/test-windows.sh || status=1

make --no-print-directory compose || status=1
exit $status
