#!/usr/bin/env bash
# Every collector module stays at one release: core v0.161.0 / v1.67.0 and
# contrib v0.161.0. A `go get` or `go mod tidy` that pulls a newer one in
# breaks the build in ways that show up far from the cause; fail here.
set -euo pipefail
# internal/tools is exempt: it pins the generators, and mdatagen v0.161.0
# needs schemagen v0.159.0 (v0.161.0 is not served by the module proxy).
cd "$(dirname "$0")/.."

bad=$(git ls-files --cached --others --exclude-standard -- '*go.mod' |
	grep -v '^internal/tools/' | xargs grep -HnE '(go\.opentelemetry\.io/collector|github\.com/open-telemetry/opentelemetry-collector-contrib)[^ ]* v' |
	grep -vE ' (v0\.161\.0|v1\.67\.0)( |$)' || true)
if [ -n "$bad" ]; then
	echo "collector modules off the v0.161.0 / v1.67.0 release:" >&2
	echo "$bad" >&2
	exit 1
fi
echo "collector modules: all at v0.161.0 / v1.67.0"
