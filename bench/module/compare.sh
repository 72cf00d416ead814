#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The module benchmarks of two trees in the same run (bench/compare.sh): BEFORE_TREE and this tree,
# alternately PAIRS times, module_bench SECONDS CONNECTIONS ROUNDS on each side.
# usage: bench/module/compare.sh BEFORE_TREE [SECONDS=5] [CONNECTIONS=32] [ROUNDS=3] [PAIRS=2]
set -euo pipefail
exec "$(dirname "$0")/../compare.sh" "${1:?usage: bench/module/compare.sh BEFORE_TREE [SECONDS] [CONNECTIONS] [ROUNDS] [PAIRS]}" \
    module "${5:-2}" "${2:-5}" "${3:-32}" "${4:-3}"
