#!/usr/bin/env bash
# Builds libmemacct (release; a no-op when fresh), compiles tests/c/test_memacct.c
# (sizing), tests/c/test_codec.c (compact state), tests/c/test_pool.c (state
# pool; its temporary checkpoint files go to tests/c/build) and
# tests/c/test_decompose.c (memory decomposition of tests/vectors/snapshots)
# and tests/c/test_link.c (a program defining zstd's symbols itself) twice:
# against target/c/libmemacct.a (cargo's staticlib with only memacct_* left
# global, made by scripts/c-staticlib.sh) and against libmemacct.so.
#  - static: each test runs under valgrind: any memory error or leak (of any
#    kind) fails, as does any failed check; tests/c/valgrind.supp names the one
#    process-lifetime cache allowed to be still reachable at exit.
#  - shared: each test runs natively (the same code, so no second valgrind
#    pass: seconds instead of minutes), which checks that the .so exports what
#    the header declares and gives the thread tests real parallelism, which
#    valgrind serializes.
#   tests/c/run.sh [vectors dir]       (default: tests/vectors)
# MEMACCT_SKIP_CARGO=1 skips the cargo build (when the caller just built it).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
vectors="${1:-$root/tests/vectors}"
out="$root/tests/c/build"
tests=(test_memacct test_codec test_pool test_decompose test_link)

if [ "${MEMACCT_SKIP_CARGO:-0}" != 1 ]; then
    (cd "$root" && cargo build --release --locked -p memacct-ffi)
fi
libdir="$root/target/release"
for f in libmemacct.a libmemacct.so; do
    [ -f "$libdir/$f" ] || { echo "run.sh: $libdir/$f is missing" >&2; exit 1; }
done
static="$root/target/c/libmemacct.a"
"$root/scripts/c-staticlib.sh" "$libdir/libmemacct.a" "$static"

mkdir -p "$out"
cflags=(-std=c11 -Wall -Wextra -Wpedantic -Werror -g -O1 -pthread -I "$root/include")
for t in "${tests[@]}"; do
    gcc "${cflags[@]}" "$root/tests/c/$t.c" "$static" \
        -lpthread -ldl -lm -o "$out/$t"
    # -L + -l with an rpath: links (and loads) exactly this build's .so.
    gcc "${cflags[@]}" "$root/tests/c/$t.c" -L "$libdir" -lmemacct \
        -Wl,-rpath,"$libdir" -lm -o "$out/$t.shared"
done

arg_of() { if [ "$1" = test_pool ]; then echo "$out"; else echo "$vectors"; fi; }

for t in "${tests[@]}"; do
    echo "== $t (static, valgrind)"
    # --fair-sched: valgrind runs one thread at a time, and its default lock
    # lets busy threads starve the others. One CI run hit test_pool's 60 s
    # race alarm; 40 native runs and 4 more under valgrind passed, so the
    # likely cause is the main thread starved by the three racing threads.
    valgrind --quiet --fair-sched=try --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=all \
        --suppressions="$root/tests/c/valgrind.supp" \
        --show-leak-kinds=all "$out/$t" "$(arg_of "$t")"
done

for t in "${tests[@]}"; do
    echo "== $t (shared)"
    if ! ldd "$out/$t.shared" | grep -F "$libdir/libmemacct.so" >/dev/null; then
        echo "run.sh: $t.shared does not load $libdir/libmemacct.so" >&2
        exit 1
    fi
    "$out/$t.shared" "$(arg_of "$t")"
done
# A second Rust static library next to target/c/libmemacct.a, in both link
# orders: the two Rust runtimes must not clash.
rustc --edition 2021 --crate-type staticlib -C opt-level=1 -C panic=unwind \
    -o "$out/libother_rust.a" "$root/tests/c/other_rust.rs"
for order in "$static $out/libother_rust.a" "$out/libother_rust.a $static"; do
    echo "== test_link with another Rust library ($(basename "${order%% *}") first)"
    # shellcheck disable=SC2086 # $order is two paths
    gcc "${cflags[@]}" -DWITH_OTHER_RUST "$root/tests/c/test_link.c" $order \
        -lpthread -ldl -lm -o "$out/test_link_rust"
    "$out/test_link_rust"
done
echo "run.sh: all C tests passed (static under valgrind, shared natively)"
