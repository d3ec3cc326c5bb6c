#!/usr/bin/env bash
# Runs every test of every Go module in the repository, then builds the
# composed collector of examples/compose. This is the README's test command
# and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/check-versions.sh

unformatted="$(git ls-files --cached --others --exclude-standard -- '*.go' | xargs gofmt -l)"
if [ -n "$unformatted" ]; then
	echo "not gofmt'ed:" >&2
	echo "$unformatted" >&2
	exit 1
fi

# Tests that start the real binary need it built from this checkout.
make --no-print-directory build

status=0
while IFS= read -r mod; do
	dir="$(dirname "$mod")"
	echo "== $dir"
	if ! (cd "$dir" && go vet ./... && go test -count=1 ./...); then
		status=1
	fi
done < <(git ls-files --cached --others --exclude-standard -- '*go.mod' | grep -v '^internal/tools/' | sort)

make --no-print-directory compose || status=1
exit $status
