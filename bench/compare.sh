#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# One benchmark of two trees in the same run: BEFORE_TREE (a checkout of the code before a change)
# and this tree, each built into its own build folder, run alternately PAIRS times so both see the
# same machine (odd pairs run before first, even pairs after first, so a drift in the machine's
# load favours neither). Prints the benchmark's Markdown rows, each labelled before/after; changes
# no file. BENCH is the folder under bench/ whose program runs: module (module_bench) or e2e
# (e2e_bench); ARGS go to it on both sides.
# usage: bench/compare.sh BEFORE_TREE BENCH [PAIRS=2] [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: bench/compare.sh BEFORE_TREE module|e2e [PAIRS] [ARGS...]"
before="$(cd "${1:?$usage}" && pwd)"
bench="${2:?$usage}"
pairs="${3:-2}"
shift $(($# >= 3 ? 3 : 2))
case "$bench" in
    module | e2e) program="bench/$bench/${bench}_bench" ;;
    *) echo "$usage" >&2; exit 2 ;;
esac
after="$(pwd)"
for tree in "$before" "$after"; do
    cmake -S "$tree" -B "$tree/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$tree/build" --target "${bench}_bench" -j"$(nproc)" >/dev/null
done
echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((pair = 1; pair <= pairs; ++pair)); do
    order="before after"
    ((pair % 2 == 0)) && order="after before"
    for side in $order; do
        tree="$before"
        [ "$side" = after ] && tree="$after"
        echo "== $side $pair: $(git -C "$tree" rev-parse --short HEAD)"
        "$tree/build/$program" "$@" | sed "s/^| /| $side $pair: /"
    done
done
