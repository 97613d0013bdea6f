#!/usr/bin/env bash
# Builds libmemacct (release; a no-op when fresh), compiles tests/c/test_memacct.c
# (sizing), tests/c/test_codec.c (compact state) and tests/c/test_pool.c (state
# pool; its temporary checkpoint files go to tests/c/build) and
# tests/c/test_decompose.c (memory decomposition of tests/vectors/snapshots) against
# target/release/libmemacct.a and runs each under valgrind: any memory error or
# leak (of any kind) fails, as does any failed check; tests/c/valgrind.supp
# names the one process-lifetime cache allowed to be still reachable at exit.
#   tests/c/run.sh [vectors dir]       (default: tests/vectors)
# MEMACCT_SKIP_CARGO=1 skips the cargo build (when the caller just built it).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
vectors="${1:-$root/tests/vectors}"
out="$root/tests/c/build"

if [ "${MEMACCT_SKIP_CARGO:-0}" != 1 ]; then
    (cd "$root" && cargo build --release --locked -p memacct-ffi)
fi
lib="$root/target/release/libmemacct.a"
[ -f "$lib" ] || { echo "run.sh: $lib is missing" >&2; exit 1; }

mkdir -p "$out"
for t in test_memacct test_codec test_pool test_decompose; do
    gcc -std=c11 -Wall -Wextra -Wpedantic -Werror -g -O1 -pthread \
        -I "$root/include" "$root/tests/c/$t.c" "$lib" \
        -lpthread -ldl -lm -o "$out/$t"
done

for t in test_memacct test_codec test_pool test_decompose; do
    echo "== $t"
    arg="$vectors"
    [ "$t" = test_pool ] && arg="$out"
    valgrind --quiet --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=all \
        --suppressions="$root/tests/c/valgrind.supp" \
        --show-leak-kinds=all "$out/$t" "$arg"
done
