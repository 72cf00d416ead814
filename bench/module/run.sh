#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Module benchmarks: wrk (keep-alive, 2 threads) against a real nginx with the module, each figure
# against a `return 204` location of the same server in the same run. Updates the "## Module"
# section of BENCHMARKS.md.   usage: bench/module/run.sh [SECONDS=5] [CONNECTIONS=32] [ROUNDS=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-5}"
connections="${2:-32}"
rounds="${3:-3}"
build="${PUSHSYNC_BUILD_DIR:-build}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target module_bench -j"$(nproc)" >/dev/null

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
rows="$("$build/bench/module/module_bench" "$seconds" "$connections" "$rounds")"
echo "$rows"

section="$(cat <<MD
## Module

nginx 1.22 (Debian), 2 workers, the module from this tree, \`thread_pool default threads=2\`,
wrk -t2 -d${seconds}s keep-alive over HTTP/1.1 on 127.0.0.1, $(nproc) cores shared by nginx, wrk
and the drain (load average before the run: ${load_before}). Ratio = throughput of the figure /
throughput of \`location = /baseline { return 204; }\` on the same server with the same number of
connections, measured just before it; baseline and figure alternate ${rounds} times and the pair with
the median ratio is shown (the cores are shared with other work). Registrations are all new tokens (one LMDB write each, group
committed per worker); \`sync: always\` fsyncs each commit. Notify: a 3-device group, an origin, one
LMDB read and one queue entry per request, with \`pushsync_bench_drain\` (Queue::read + commit,
polling every 2 ms) emptying the queue. Measured $(date -u +%Y-%m-%dT%H:%MZ).

| figure | throughput | baseline (return 204) | ratio | p50 / p99 | baseline p50 / p99 | command |
|---|---|---|---|---|---|---|
${rows}
MD
)"

file=BENCHMARKS.md
[ -f "$file" ] || printf '# Benchmarks\n\n' > "$file"
python3 - "$file" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2].rstrip() + "\n"
text = open(path).read()
pattern = re.compile(r"^## Module\n.*?(?=^## |\Z)", re.S | re.M)
if pattern.search(text):
    text = pattern.sub(lambda _: section + "\n", text, count=1)
else:
    text = text.rstrip() + "\n\n" + section
open(path, "w").write(text.rstrip() + "\n")
PY
echo "updated $file (## Module)"
