#!/bin/sh
# The ABI check (see docs/abi.md): builds librthread.so in release mode with full debug
# information, describes its ABI with libabigail's abidw, and compares it with abidiff to the
# committed description of the current release, abi/librthread.abi.
#
#   tools/abi-check.sh                    fails on an incompatible change (a function or type
#                                         removed or changed), or a soname other than the
#                                         baseline's; additions pass, and are listed.
#   tools/abi-check.sh --update           rewrites abi/librthread.abi (on purpose: at a
#                                         release, or with a version bump that changes the
#                                         soname).
#   tools/abi-check.sh --baseline FILE    compares with FILE instead.
#
# Needs abidw and abidiff (Debian: abigail-tools). Builds in target/abi (or $CARGO_TARGET_DIR).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
baseline=$here/abi/librthread.abi
update=
while [ $# -gt 0 ]; do
    case "$1" in
        --update) update=1; shift ;;
        --baseline) baseline=$2; shift 2 ;;
        *) echo "abi-check.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done
for tool in abidw abidiff; do
    command -v "$tool" > /dev/null || { echo "abi-check.sh: $tool is required (abigail-tools)" >&2; exit 2; }
done

target=${CARGO_TARGET_DIR:-$here/target/abi}
(cd "$here" && CARGO_TARGET_DIR="$target" CARGO_PROFILE_RELEASE_DEBUG=2 \
    "${CARGO:-cargo}" build --release --locked --lib --quiet)
lib=$target/release/librthread.so
current=$target/librthread.abi
abidw --no-corpus-path --no-comp-dir-path "$lib" > "$current"

if [ -n "$update" ]; then
    mkdir -p "$(dirname "$baseline")"
    cp "$current" "$baseline"
    echo "abi-check.sh: wrote $baseline"
    exit 0
fi

soname() { sed -n "s/^<abi-corpus .*soname='\([^']*\)'.*/\1/p" "$1" | head -n 1; }
if [ "$(soname "$baseline")" != "$(soname "$current")" ]; then
    echo "abi-check.sh: the soname is $(soname "$current"), the baseline's $(soname "$baseline"):"
    echo "a new ABI needs a new baseline: tools/abi-check.sh --update, and commit it"
    exit 1
fi

set +e
abidiff --no-unreferenced-symbols "$baseline" "$current"
status=$?
set -e
# abidiff's status is a bit mask: 1 error, 2 usage error, 4 ABI change, 8 incompatible change.
if [ $((status & 3)) -ne 0 ]; then
    echo "abi-check.sh: abidiff failed (status $status)"
    exit 1
fi
if [ $((status & 8)) -ne 0 ]; then
    echo "abi-check.sh: INCOMPATIBLE ABI change against $(basename "$baseline") (abidiff status $status)."
    echo "Either keep the ABI, or bump the version (the major; the minor while it is 0), which"
    echo "changes the soname, and record the new ABI: tools/abi-check.sh --update."
    exit 1
fi
if [ $((status & 4)) -ne 0 ]; then
    echo "abi-check.sh: compatible ABI change (additions); record it at the next release with --update"
else
    echo "abi-check.sh: the ABI is the baseline's ($(soname "$current"))"
fi
