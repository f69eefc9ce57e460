#!/bin/sh
# Installs the Debian packages lungo needs when some are missing (as root),
# or prints the exact apt-get line to run (otherwise).
missing=""
for p in "$@" gcc make; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "lungo needs these Debian packages; install them as root with:" >&2
  echo "  apt-get install -y$missing" >&2
  exit 1
fi
echo "installing:$missing"
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$missing
