# Shell functions the scripts share; source it.

# debian_install PKG...: installs Debian's packages (as root, or through
# sudo), for the tools a script needs and a fresh machine lacks.
debian_install() {
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "installing $* from Debian's packages" >&2
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# port prints a loopback TCP port nobody listens on now.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# wait_ready waits until the collector logging to $1 is ready to receive.
wait_ready() {
	for _ in $(seq 1 200); do grep -qs "Everything is ready" "$1" && return 0; sleep 0.05; done
	cat "$1" >&2
	return 1
}
