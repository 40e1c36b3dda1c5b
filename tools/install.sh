#!/bin/sh
# The install step: builds rthread in release mode and installs, under PREFIX (default
# /usr/local), everything a C, C++ or CMake user needs:
#
#   LIBDIR/librthread.so.X.Y.Z, .so.SONAME-VERSION and .so   the shared library and its links
#   LIBDIR/librthread.a                                        the static archive
#   INCLUDEDIR/rthread.h, rthread.hpp                          the C and C++ headers
#   LIBDIR/pkgconfig/rthread.pc                                for pkg-config
#   LIBDIR/cmake/rthread/rthreadConfig.cmake, ...Version.cmake for find_package(rthread)
#   MANDIR/man3/rt_*.3, rthread.3                              one man page per function
#   DOCDIR/LICENSE-MIT, LICENSE-APACHE, README.md, CHANGELOG.md, docs/
#
# Usage: tools/install.sh [--prefix DIR] [--libdir DIR] [--includedir DIR] [--mandir DIR]
#                         [--docdir DIR] [--destdir DIR]
# LIBDIR defaults to PREFIX/lib, INCLUDEDIR to PREFIX/include, MANDIR to PREFIX/share/man,
# DOCDIR to PREFIX/share/doc/rthread. --destdir (or $DESTDIR) stages the files under another
# root, for packaging; the installed files still name PREFIX. $CARGO picks cargo;
# $CARGO_TARGET_DIR the build directory (default target/). Linux (ELF) only for now.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
prefix=/usr/local
libdir=
includedir=
mandir=
docdir=
destdir=${DESTDIR:-}
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#*=}; shift ;;
        --libdir) libdir=$2; shift 2 ;;
        --libdir=*) libdir=${1#*=}; shift ;;
        --includedir) includedir=$2; shift 2 ;;
        --includedir=*) includedir=${1#*=}; shift ;;
        --mandir) mandir=$2; shift 2 ;;
        --mandir=*) mandir=${1#*=}; shift ;;
        --docdir) docdir=$2; shift 2 ;;
        --docdir=*) docdir=${1#*=}; shift ;;
        --destdir) destdir=$2; shift 2 ;;
        --destdir=*) destdir=${1#*=}; shift ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done
case "$prefix" in /*) ;; *) echo "install.sh: --prefix must be absolute" >&2; exit 2 ;; esac
libdir=${libdir:-$prefix/lib}
includedir=${includedir:-$prefix/include}
mandir=${mandir:-$prefix/share/man}
docdir=${docdir:-$prefix/share/doc/rthread}

cargo=${CARGO:-cargo}
target=${CARGO_TARGET_DIR:-$here/target}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$here/Cargo.toml" | head -n 1)
major=${version%%.*}
rest=${version#*.}
minor=${rest%%.*}
if [ "$major" = 0 ]; then abi=0.$minor; else abi=$major; fi
soname=librthread.so.$abi
real=librthread.so.$version

echo "== building rthread $version (release)"
(cd "$here" && CARGO_TARGET_DIR="$target" "$cargo" build --release --locked --lib)
built=$target/release
# What a static link needs besides the archive (as rustc reports it for this target).
static_libs="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"

dest() { printf '%s%s' "$destdir" "$1"; }
put() { # put MODE SRC DIR [NAME]
    mkdir -p "$(dest "$3")"
    cp "$2" "$(dest "$3")/${4:-$(basename "$2")}"
    chmod "$1" "$(dest "$3")/${4:-$(basename "$2")}"
}

echo "== installing under ${destdir}${prefix}"
put 755 "$built/librthread.so" "$libdir" "$real"
ln -sf "$real" "$(dest "$libdir")/$soname"
ln -sf "$soname" "$(dest "$libdir")/librthread.so"
put 644 "$built/librthread.a" "$libdir"
put 644 "$here/include/rthread.h" "$includedir"
put 644 "$here/include/rthread.hpp" "$includedir"

mkdir -p "$(dest "$libdir")/pkgconfig"
cat > "$(dest "$libdir")/pkgconfig/rthread.pc" <<PC
prefix=$prefix
libdir=$libdir
includedir=$includedir

Name: rthread
Description: Python's threading model (_thread, threading, queue) as a C library
Version: $version
Libs: -L\${libdir} -lrthread
Libs.private: $static_libs
Cflags: -I\${includedir}
PC

cmakedir=$libdir/cmake/rthread
rel() { realpath -m --relative-to="$1" "$2"; }
mkdir -p "$(dest "$cmakedir")"
sed -e "s|@PREFIX_FROM_HERE@|$(rel "$cmakedir" "$prefix")|" \
    -e "s|@LIBDIR_REL@|$(rel "$prefix" "$libdir")|" \
    -e "s|@INCLUDEDIR_REL@|$(rel "$prefix" "$includedir")|" \
    -e "s|@SHARED_REAL@|$real|" -e "s|@SONAME@|$soname|" \
    -e "s|@STATIC_LIBS@|$(echo "$static_libs" | sed 's/-l//g; s/ /;/g')|" \
    "$here/cmake/rthreadConfig.cmake.in" > "$(dest "$cmakedir")/rthreadConfig.cmake"
sed -e "s|@VERSION@|$version|g" -e "s|@VERSION_MAJOR@|$major|g" \
    -e "s|@VERSION_MINOR@|$minor|g" -e "s|@SIZEOF_VOID_P@|$(getconf LONG_BIT | awk '{print $1/8}')|g" \
    "$here/cmake/rthreadConfigVersion.cmake.in" > "$(dest "$cmakedir")/rthreadConfigVersion.cmake"

for page in "$here"/man/man3/*.3; do
    put 644 "$page" "$mandir/man3"
done

for doc in LICENSE-MIT LICENSE-APACHE README.md CHANGELOG.md; do
    [ -f "$here/$doc" ] && put 644 "$here/$doc" "$docdir"
done
for doc in "$here"/docs/*.md; do
    put 644 "$doc" "$docdir/docs"
done

echo "== installed rthread $version: $soname in $libdir, headers in $includedir"
