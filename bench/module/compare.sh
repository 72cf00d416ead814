#!/usr/bin/env bash
# The module benchmarks of two trees in the same run: BEFORE_TREE (a checkout of the code before a
# change) and this tree, each built into its own build folder, run alternately PAIRS times so both
# see the same machine (odd pairs run before first, even pairs after first, so a drift in the
# machine's load favours neither). Prints module_bench's rows, each labelled before/after; changes
# no file.
# usage: bench/module/compare.sh BEFORE_TREE [SECONDS=5] [CONNECTIONS=32] [ROUNDS=3] [PAIRS=2]
set -euo pipefail
cd "$(dirname "$0")/../.."
before="$(cd "${1:?usage: bench/module/compare.sh BEFORE_TREE [SECONDS] [CONNECTIONS] [ROUNDS] [PAIRS]}" && pwd)"
seconds="${2:-5}"
connections="${3:-32}"
rounds="${4:-3}"
pairs="${5:-2}"
after="$(pwd)"
for tree in "$before" "$after"; do
    cmake -S "$tree" -B "$tree/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$tree/build" --target module_bench -j"$(nproc)" >/dev/null
done
echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((pair = 1; pair <= pairs; ++pair)); do
    order="before after"
    ((pair % 2 == 0)) && order="after before"
    for side in $order; do
        tree="$before"
        [ "$side" = after ] && tree="$after"
        "$tree/build/bench/module/module_bench" "$seconds" "$connections" "$rounds" | sed "s/^| /| $side $pair: /"
    done
done
