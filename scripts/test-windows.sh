#!/usr/bin/env bash
# Runs the spool's and the dead letters' tests as windows/amd64 binaries
# under Wine (Debian's wine64 8.0), so that the Windows archive's spool is
# tested for real: its durable writes without a folder sync, its
# LockFileEx lock, its renames over an existing file. Installs wine64 and
# the MinGW compiler from Debian's packages when they are missing.
#
# Wine 8.0 has no bcryptprimitives.dll, which Go's Windows runtime loads at
# start; scripts/wine/bcryptprimitives.c is a stand-in with the one
# function Go calls (ProcessPrng), forwarding to Wine's RtlGenRandom.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
build="$root/.build/wine"
mkdir -p "$build"

need=()
[ -x /usr/lib/wine/wine64 ] || need+=(wine64)
command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(gcc-mingw-w64-x86-64-win32)
# shellcheck source=lib.sh
. scripts/lib.sh
[ ${#need[@]} -eq 0 ] || debian_install "${need[@]}"

export WINEPREFIX="$build/prefix" WINEDEBUG=-all
if [ ! -f "$WINEPREFIX/system.reg" ]; then
	/usr/lib/wine/wine64 wineboot --init >/dev/null 2>&1 || true
fi
dll="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
if [ ! -f "$dll" ] || [ scripts/wine/bcryptprimitives.c -nt "$dll" ]; then
	x86_64-w64-mingw32-gcc -O2 -shared -o "$dll" scripts/wine/bcryptprimitives.c scripts/wine/bcryptprimitives.def
fi

status=0
for pkg in internal/spool internal/deadletter; do
	exe="$build/$(basename "$pkg").test.exe"
	(cd extension/appinsightsdeliveryextension && GOOS=windows GOARCH=amd64 go test -c -o "$exe" "./$pkg")
	echo "== windows/amd64 under Wine: extension/appinsightsdeliveryextension/$pkg"
	# Wine's own temporary folder, inside the prefix.
	if (cd "$build" && /usr/lib/wine/wine64 "$exe" -test.count=1 2>&1 | tee "$exe.log" | tail -n 3); then
		grep -q '^PASS$' "$exe.log" || status=1
	else
		status=1
	fi
done
exit $status
