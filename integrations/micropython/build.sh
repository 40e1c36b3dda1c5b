#!/usr/bin/env bash
# Builds MicroPython's unix port with its thread layer on rthread.
#
#   integrations/micropython/build.sh <micropython-source> <build-dir> [--gil] [--stock]
#
# Copies <micropython-source> into <build-dir> (once; later runs reuse the copy and rebuild
# only what changed), puts rthread's thread layer (mpthreadport.c and mpthreadport.h, beside
# this script) in place of the pthread one, applies patches/sigint.patch (the only change to
# MicroPython outside its thread layer: the SIGINT handler's path), builds the unix port
# linked against librthread.so, and leaves the interpreter at <build-dir>/micropython.
#
#   --gil    the GIL build (MICROPY_PY_THREAD_GIL=1; sys.implementation._thread == 'GIL');
#            without it, the default build ('unsafe': no GIL).
#   --stock  MicroPython's own pthread layer and no patch, built the same way (to compare).
#
# librthread: the directory holding librthread.so is $RTHREAD_LIB_DIR, by default this
# checkout's target/release (built with `cargo build --release` if it is not there). The
# interpreter finds it at run time through an rpath to that directory. The header is this
# checkout's include/rthread.h.
#
# One <build-dir> holds one source copy; each configuration builds into its own directory in
# it (ports/unix/build-rthread, build-rthread-gil, build-stock, build-stock-gil), so one copy
# can serve several, but <build-dir>/micropython is the one built last.
set -euo pipefail

usage() {
    echo "usage: $0 <micropython-source> <build-dir> [--gil] [--stock]" >&2
    exit 2
}

[ $# -ge 2 ] || usage
src=$1
dest=$2
shift 2
gil=0
layer=rthread
for arg in "$@"; do
    case $arg in
        --gil) gil=1 ;;
        --stock) layer=stock ;;
        *) usage ;;
    esac
done

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
[ -f "$src/py/mpthread.h" ] && [ -f "$src/ports/unix/Makefile" ] || {
    echo "$src: not a MicroPython source tree (no py/mpthread.h or ports/unix/Makefile)" >&2
    exit 1
}
src=$(cd "$src" && pwd)
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

# The source copy, made once (the marker names the source it came from).
marker="$dest/.rthread-micropython-source"
if [ ! -f "$marker" ] || [ "$(cat "$marker")" != "$src" ]; then
    if [ -n "$(ls -A "$dest")" ] && [ ! -f "$marker" ]; then
        echo "$dest is not empty and was not made by this script: refusing to copy into it" >&2
        exit 1
    fi
    echo "build.sh: copying $src to $dest"
    cp -a "$src/." "$dest/"
    chmod -R u+w "$dest"
    echo "$src" > "$marker"
fi

# Puts $2 at $1 only if its content differs, so that make rebuilds only what changed.
# (A new file replaces the old one, so that a running interpreter keeps its own copy.)
install_if_changed() {
    if ! cmp -s "$2" "$1"; then
        cp "$2" "$1.new"
        mv -f "$1.new" "$1"
    fi
}

unix="$dest/ports/unix"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
patched=(ports/unix/unix_mphal.c ports/unix/variants/mpconfigvariant_common.h)
for f in "${patched[@]}"; do
    mkdir -p "$tmp/$(dirname "$f")"
    cp "$src/$f" "$tmp/$f"
done
if [ "$layer" = rthread ]; then
    (cd "$tmp" && patch -s -p1 < "$here/patches/sigint.patch")
    install_if_changed "$unix/mpthreadport.c" "$here/mpthreadport.c"
    install_if_changed "$unix/mpthreadport.h" "$here/mpthreadport.h"
else
    install_if_changed "$unix/mpthreadport.c" "$src/ports/unix/mpthreadport.c"
    install_if_changed "$unix/mpthreadport.h" "$src/ports/unix/mpthreadport.h"
fi
for f in "${patched[@]}"; do
    install_if_changed "$dest/$f" "$tmp/$f"
done

build="build-$layer"
[ $gil = 1 ] && build="$build-gil"
make_flags=(
    BUILD="$build"
    FROZEN_MANIFEST=
    MICROPY_PY_BTREE=0 MICROPY_PY_SSL=0 MICROPY_SSL_AXTLS=0 MICROPY_SSL_MBEDTLS=0
    MICROPY_PY_FFI=0 MICROPY_PY_BLUETOOTH=0
    MICROPY_PY_THREAD_GIL=$gil
)
if [ "$layer" = rthread ]; then
    lib=${RTHREAD_LIB_DIR:-$repo/target/release}
    if [ ! -f "$lib/librthread.so" ] && [ -z "${RTHREAD_LIB_DIR:-}" ]; then
        echo "build.sh: building librthread (cargo build --release)"
        (cd "$repo" && cargo build --release --quiet)
    fi
    [ -f "$lib/librthread.so" ] || { echo "no librthread.so in $lib" >&2; exit 1; }
    lib=$(cd "$lib" && pwd)
    make_flags+=(
        CFLAGS_EXTRA="-DMICROPY_PY_THREAD_RTHREAD=1 -I$repo/include"
        LDFLAGS_EXTRA="-L$lib -lrthread -Wl,-rpath,$lib"
    )
fi

# make does not see flag changes: a configuration built with other flags is relinked (the
# library's directory) or rebuilt (anything else).
stamp="$unix/$build/.rthread-flags"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" != "${make_flags[*]}" ]; then
    rm -rf "${unix:?}/$build"
fi

jobs=$(nproc 2> /dev/null || echo 2)
make -s -C "$dest/mpy-cross" -j"$jobs" > /dev/null
make -s -C "$unix" -j"$jobs" "${make_flags[@]}" > /dev/null
echo "${make_flags[*]}" > "$stamp"

prog="$unix/$build/micropython"
[ -x "$prog" ] || prog="$unix/micropython"
[ -x "$prog" ] || { echo "build.sh: no interpreter was built" >&2; exit 1; }
install_if_changed "$dest/micropython" "$prog"
chmod +x "$dest/micropython"
echo "build.sh: $dest/micropython ($layer layer, $([ $gil = 1 ] && echo GIL || echo no GIL))"
