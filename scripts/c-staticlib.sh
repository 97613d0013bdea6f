#!/usr/bin/env bash
# Makes the static libmemacct a C program can link next to anything else:
#   scripts/c-staticlib.sh IN.a OUT.a
# IN.a is cargo's staticlib (target/release/libmemacct.a). Besides the
# memacct_* functions it exports every global symbol of what it bundles:
# zstd's C functions unprefixed (ZSTD_*, HUF_*, POOL_*, ERR_*, ...) and the
# Rust runtime's. A program that also links another zstd, or a second Rust
# static library, then fails to link or silently mixes versions. OUT.a holds
# the same code as one relocatable object in which only memacct_* stays
# global: everything else is made local, so nothing can clash with it.
# The LLVM bitcode sections thin LTO leaves in the objects are dropped
# (the final link never reads them, and gcc's LTO plugin cannot), and so
# are the COMDAT group sections (see below).
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 IN.a OUT.a" >&2; exit 2; }
in="$1"
out="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# One object holding every member (ld resolves the references between them).
ld -r --whole-archive -o "$work/all.o" "$in"
# The C API: the defined global and weak memacct_* symbols.
readelf -Ws --wide "$work/all.o" |
    awk '($5 == "GLOBAL" || $5 == "WEAK") && $7 != "UND" && $8 ~ /^memacct_/ { print $8 }' |
    sort -u >"$work/api.txt"
if [ ! -s "$work/api.txt" ]; then
    echo "$0: no memacct_* symbol defined in $in" >&2
    exit 1
fi
# COMDAT groups go too: ld -r kept one of each, and a group left in the
# object would still make the final link discard another library's copy of
# it (e.g. DW.ref.rust_eh_personality of a second Rust library) in favour
# of ours, whose symbols are now local.
objcopy --keep-global-symbols="$work/api.txt" \
    --remove-section=.llvmbc --remove-section=.llvmcmd --remove-section=.group \
    "$work/all.o" "$work/memacct.o"
rm -f "$work/out.a"
ar rcsD "$work/out.a" "$work/memacct.o"
mkdir -p "$(dirname "$out")"
mv -f "$work/out.a" "$out"
echo "$out: $(wc -l <"$work/api.txt") global symbols, all memacct_*"
