#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Throughput ceiling of tools/apns-sim: h2load with 1 connection and 100 concurrent streams sending
# background pushes with a valid ES256 JWT for DURATION seconds (10), no errors allowed.
# Runs twice in the same invocation: the simulator as tests use it (request log to a file and in
# memory) and, as the baseline, without any request log; prints both and their ratio.
# Usage: bench/apns_sim/run.sh [BUILD_DIR]   (default: $PUSHSYNC_BUILD_DIR or build)
# Env: DURATION (10), STREAMS (100), KEEP=1 keeps the work directory.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-${PUSHSYNC_BUILD_DIR:-build}}"
case "$build" in /*) ;; *) build="$root/$build" ;; esac
sim="$build/tools/apns-sim/apns-sim"
duration="${DURATION:-10}"
streams="${STREAMS:-100}"
[ -x "$sim" ] || { echo "run.sh: $sim not built (cmake --build $build --target apns-sim)" >&2; exit 2; }
command -v h2load >/dev/null || { echo "run.sh: h2load missing (apt-get install nghttp2-client)" >&2; exit 2; }

work="$(mktemp -d)"
sim_pid=""
cleanup() {
  if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  [ "${KEEP:-0}" = 1 ] && echo "run.sh: kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

"$root/tools/devcerts" "$work/certs" 2>/dev/null
# shellcheck disable=SC1091
. "$work/certs/token.env"

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
# ES256 JWT with the raw r||s signature APNs (and the simulator) require.
make_jwt() {
  local header claims rs
  header=$(printf '{"alg":"ES256","kid":"%s"}' "$KEY_ID" | b64url)
  claims=$(printf '{"iss":"%s","iat":%d}' "$TEAM_ID" "$(date +%s)" | b64url)
  rs=$(printf '%s.%s' "$header" "$claims" | openssl dgst -sha256 -sign "$KEY_FILE" |
       openssl asn1parse -inform DER | awk -F: '/INTEGER/ { printf "%064s", $NF }' | tr ' ' 0)
  printf '%s.%s.%s' "$header" "$claims" "$(printf '%s' "$rs" | xxd -r -p | b64url)"
}
jwt=$(make_jwt)
printf '%s' '{"aps":{"content-available":1}}' > "$work/payload.json"
token=$(printf 'a%.0s' $(seq 64))

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# run_one LABEL [extra sim flags...]: prints "LABEL RPS" on success.
run_one() {
  local label="$1"; shift
  local port control out
  port=$(free_port); control=$(free_port)
  "$sim" --listen "127.0.0.1:$port" --control "127.0.0.1:$control" --cert "$work/certs/server.pem" \
    --key "$work/certs/server.key" --ca "$work/certs/ca.pem" \
    --token-key "$KEY_ID:$TEAM_ID:$KEY_FILE:$TOPICS" --quiet "$@" 2> "$work/sim-$label.log" &
  sim_pid=$!
  for _ in $(seq 200); do
    curl -sf "http://127.0.0.1:$control/health" >/dev/null 2>&1 && break
    sleep 0.05
  done
  curl -sf "http://127.0.0.1:$control/health" >/dev/null || { cat "$work/sim-$label.log" >&2; exit 1; }
  local cmd=(h2load -c1 -m"$streams" -D "$duration" -d "$work/payload.json"
    -H "authorization: bearer $jwt" -H "apns-topic: $TOPICS" -H "apns-push-type: background"
    -H "apns-priority: 5" -H "apns-expiration: 0" "https://127.0.0.1:$port/3/device/$token")
  out=$("${cmd[@]}" 2>&1) || { echo "$out" >&2; exit 1; }
  echo "$out" > "$work/h2load-$label.txt"
  local line codes rps
  line=$(grep '^requests:' <<<"$out")
  codes=$(grep '^status codes:' <<<"$out")
  rps=$(grep -o 'finished in [^,]*, [0-9.]* req/s' <<<"$out" | awk '{print $(NF-1)}')
  # every request must have succeeded with 2xx: no failed, errored or timed-out ones
  if ! grep -q ' 0 failed, 0 errored, 0 timeout' <<<"$line" || ! grep -q ' 0 3xx, 0 4xx, 0 5xx' <<<"$codes"; then
    echo "run.sh: $label had errors:" >&2; echo "$out" >&2; exit 1
  fi
  local counters
  counters=$(curl -sf "http://127.0.0.1:$control/counters")
  kill "$sim_pid"; wait "$sim_pid" 2>/dev/null || true; sim_pid=""
  echo "$label: $rps req/s  ($line)" >&2
  echo "$label: simulator counters $counters" >&2
  printf '%s %s\n' "$label" "$rps"
}

echo "command: h2load -c1 -m$streams -D $duration -d payload.json -H 'authorization: bearer <ES256 JWT>' -H 'apns-topic: $TOPICS' -H 'apns-push-type: background' -H 'apns-priority: 5' -H 'apns-expiration: 0' https://127.0.0.1:PORT/3/device/<64 hex>"
baseline=$(run_one no-log --log-memory 0)
logged=$(run_one logged --log "$work/requests.jsonl")
base_rps=${baseline#* }
log_rps=${logged#* }
echo "apns-sim baseline (no request log):       $base_rps req/s"
echo "apns-sim as tested (log file + in memory): $log_rps req/s"
awk -v a="$log_rps" -v b="$base_rps" 'BEGIN { printf "ratio logged/baseline: %.2f\n", a / b }'
