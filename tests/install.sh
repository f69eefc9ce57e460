#!/bin/sh
# The installed copy of lungo, as a user of the package meets it: `make
# install` into a temporary DESTDIR (under a PREFIX of its own), then
# samples/embed built against that copy through pkg-config, once linked with
# liblungo.so (run with LD_LIBRARY_PATH) and once with liblungo.a; the
# installed command runs; `man -l` renders lungo.1 without warnings; `make
# uninstall` leaves nothing behind. Run by `make test` (target test-install)
# from the project root, with CC, SAN (the variant's sanitizer flags),
# SAN_ENV, MAKE, VARIANT and VERSION from the Makefile. Prints one summary
# line, and what failed.
set -u
: "${CC:=cc}" "${SAN:=}" "${SAN_ENV:=}" "${MAKE:=make}" "${VARIANT:=release}" "${VERSION:=}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lungo-install.XXXXXX") || exit 1
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT INT TERM
dest=$tmp/root
prefix=/opt/lungo-test
root=$dest$prefix
passed=0 failed=0

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "install test FAILED: $*" >&2; }
# check NAME COMMAND...: COMMAND's output goes to $tmp/NAME.log, shown on failure
check() {
  name=$1; shift
  if "$@" > "$tmp/$name.log" 2>&1; then ok; else bad "$name"; sed 's/^/  /' "$tmp/$name.log" >&2; fi
}

if ! $MAKE --no-print-directory -s VARIANT="$VARIANT" install DESTDIR="$dest" PREFIX="$prefix" \
     > "$tmp/install.log" 2>&1; then
  bad "make install"; cat "$tmp/install.log" >&2
  echo "install: $passed passed, $failed failed"
  exit 1
fi

files() {
  for f in bin/lungo include/lungo.h lib/liblungo.a lib/liblungo.so.$VERSION lib/liblungo.so.${VERSION%%.*} \
           lib/liblungo.so lib/pkgconfig/lungo.pc share/man/man1/lungo.1; do
    [ -e "$root/$f" ] || { echo "missing: $f"; return 1; }
  done
}
check files files

soname() {
  readelf -d "$root/lib/liblungo.so.$VERSION" | grep -F "Library soname: [liblungo.so.${VERSION%%.*}]"
}
check soname soname

# pkg-config finds the copy under DESTDIR: its paths are the PREFIX's, and
# PKG_CONFIG_SYSROOT_DIR puts DESTDIR in front of them, as a packager's
# staged build does. It does so for Lua's paths too (lungo.pc requires
# lua5.4): DESTDIR/usr leads to the system's /usr while the test builds.
ln -s /usr "$dest/usr"
export PKG_CONFIG_PATH="$root/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest"
check modversion sh -c '[ "$(pkg-config --modversion lungo)" = "$1" ]' - "$VERSION"

run() {   # run BINARY ARGS...: under the variant's sanitizer options
  eval "$SAN_ENV \"\$@\""
}

dynamic() {
  $CC $SAN -o "$tmp/embed-dyn" samples/embed/embed.c $(pkg-config --cflags --libs lungo) || return 1
  readelf -d "$tmp/embed-dyn" | grep -F "[liblungo.so.${VERSION%%.*}]" || { echo "not linked to liblungo.so"; return 1; }
  LD_LIBRARY_PATH="$root/lib" ldd "$tmp/embed-dyn" | grep -F "$root/lib/liblungo.so" ||
    { echo "not the installed liblungo.so"; return 1; }
  LD_LIBRARY_PATH="$root/lib" run "$tmp/embed-dyn" 2 300
}
check embed_shared dynamic

static() {
  $CC $SAN -o "$tmp/embed-static" samples/embed/embed.c $(pkg-config --cflags lungo) \
    $(pkg-config --static --libs lungo | sed 's/-llungo/-l:liblungo.a/') || return 1
  if readelf -d "$tmp/embed-static" | grep -F liblungo; then echo "linked to liblungo.so"; return 1; fi
  run "$tmp/embed-static" 2 300
}
check embed_static static

check command sh -c '[ "$("$1" -W 2 -e "print(go.workers())")" = 2 ]' - "$root/bin/lungo"

manpage() {
  out=$(MANWIDTH=80 man --warnings -l "$root/share/man/man1/lungo.1" 2> "$tmp/man.err") || return 1
  echo "$out" | grep -q "lungo - Lua 5.4 interpreter" || { echo "no NAME line"; return 1; }
  echo "$out" | grep -q "LUNGO_WORKERS" || { echo "no ENVIRONMENT section"; return 1; }
  if [ -s "$tmp/man.err" ]; then cat "$tmp/man.err"; return 1; fi
}
check manpage manpage

uninstall() {
  rm "$dest/usr"
  $MAKE --no-print-directory -s VARIANT="$VARIANT" uninstall DESTDIR="$dest" PREFIX="$prefix" || return 1
  left=$(find "$dest" ! -type d)
  [ -z "$left" ] || { echo "left behind: $left"; return 1; }
}
check uninstall uninstall

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
