#!/bin/sh
# deps.sh [--no-install] SET: make sure the Debian packages that SET (build, check, bench) needs
# are there.  As root the missing ones are installed; otherwise the apt-get line is printed and
# we fail.  With --no-install (plain make and make install: building never changes the system)
# nothing is installed even as root: the apt-get line is printed and we fail.
set -u
install=yes
if [ "${1:-}" = --no-install ]; then
	install=no
	shift
fi
pkgset=${1:-build}
build="gcc make pkg-config libssl-dev libpcre2-dev libjansson-dev libsqlite3-dev libpq-dev"
check="$build libcsv-dev bats bats-support bats-assert bats-file mandoc postgresql python3 python3-cryptography openssl chromium jq"
bench="$build libcsv-dev miller time"
case $pkgset in
build) want=$build ;;
check) want=$check ;;
bench) want=$bench ;;
*) echo "deps.sh: unknown package set $pkgset (build, check or bench)" >&2; exit 64 ;;
esac
missing=
for p in $want; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)
	[ "$s" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$install" = no ]; then
	echo "anon: missing Debian packages (make does not install them; make check and" >&2
	echo "make demo do, as root); install them as root with:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "anon: missing Debian packages; run as root:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi
echo "anon: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A server we started for tests must not be running while packages it uses are upgraded.
apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends $missing >&2
