#!/usr/bin/env bash
# Regenerates the golden tracebacks from real interpreters: each *.txt is
# what the program of the same name printed on stderr.
#   python3 (3.11+ for the carets and ExceptionGroup), go, java (11+).
set -uo pipefail
cd "$(dirname "$0")"
for f in python_*.py; do python3 "$f" 2>"${f%.py}.txt"; done
tmp=$(mktemp -d)
cp go_panic.go.txt "$tmp/main.go"
(cd "$tmp" && go mod init panicstep >/dev/null 2>&1 && go build -o panicstep . ) && "$tmp/panicstep" 2>go_panic.txt
rm -rf "$tmp"
java JvmTrace.java 2>jvm_trace.txt
exit 0
