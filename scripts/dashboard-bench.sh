#!/usr/bin/env bash
# The dashboard's executions list on a daemon holding 10,000 executions (issue 20): the median
# answer time of the list page over 20 requests, first page, a deep page and filtered.
#
#   scripts/dashboard-bench.sh                       # build (release) and measure
#   BENCH_PROFILE=debug scripts/dashboard-bench.sh   # a debug build instead
#   BENCH_NO_BUILD=1 scripts/dashboard-bench.sh      # reuse target/PROFILE/do as it is
#   BENCH_EXECUTIONS=2000 BENCH_REQUESTS=50 scripts/dashboard-bench.sh
#
# The executions are queued through the HTTP API by one curl process (one keep-alive connection,
# BENCH_EXECUTIONS POSTs) and run by a trivial agent (/bin/true), so the store holds what a
# daemon that ran them holds: steps, attempts, events. Needs bash, curl, coreutils.
# Performance is never asserted here: the script prints figures and the target (100 ms).

set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROFILE=${BENCH_PROFILE:-release}
N=${BENCH_EXECUTIONS:-10000}
REQUESTS=${BENCH_REQUESTS:-20}

log() { printf '%s\n' "$*" >&2; }
die() { log "dashboard-bench.sh: $*"; exit 1; }

[[ $N =~ ^[1-9][0-9]*$ ]] || die "BENCH_EXECUTIONS must be a positive integer"
[[ $REQUESTS =~ ^[1-9][0-9]*$ ]] || die "BENCH_REQUESTS must be a positive integer"
[[ $PROFILE == release || $PROFILE == debug ]] || die "BENCH_PROFILE is release or debug"
command -v curl >/dev/null || die "needs curl"

TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
if [[ -z ${BENCH_NO_BUILD:-} ]]; then
    flag=()
    [[ $PROFILE == release ]] && flag=(--release)
    log "== cargo build ${flag[*]} -p do-cli"
    (cd "$ROOT" && cargo build "${flag[@]}" -p do-cli)
fi
DO=$TARGET_DIR/$PROFILE/do
[[ -x $DO ]] || die "no binary at $DO (build it, or unset BENCH_NO_BUILD)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/do-dashboard-bench.XXXXXX")
export HOME=$TMP/home DO_DATA_DIR=$TMP/data DO_SOCKET=$TMP/do.sock
mkdir -p "$HOME"
cleanup() {
    "$DO" daemon stop --now >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

"$DO" daemon start --http 127.0.0.1:0 >/dev/null
ADDR=$(cat "$DO_DATA_DIR/http.addr")
KEY=$("$DO" daemon api-key)
"$DO" agent add t -- /bin/true >/dev/null
printf '{"name": "bench", "steps": [{"id": "only", "agent": "t", "task": "t"}]}\n' >"$TMP/wf.json"
WF=$("$DO" workflow create "$TMP/wf.json" -q)

since() { awk -v now="$EPOCHREALTIME" -v then="$1" 'BEGIN { printf "%.1f", now - then }'; }

log "== queueing $N executions through POST /agents/workflows/$WF/execute"
start=$EPOCHREALTIME
{
    for ((i = 0; i < N; i++)); do
        ((i == 0)) || printf 'next\n'
        printf 'url = "http://%s/agents/workflows/%s/execute"\n' "$ADDR" "$WF"
        printf 'header = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\n' "$KEY"
        printf 'data = "{\\"input\\": {\\"n\\": %d}}"\noutput = "/dev/null"\n' "$i"
    done
} >"$TMP/curl.conf"
curl -sS --fail --config "$TMP/curl.conf"
log "   queued in $(since "$start") s; waiting for them to run"
deadline=$((SECONDS + 600))
until [[ -n $("$DO" workflow executions --status completed --limit 1 --offset $((N - 1)) -q) ]]; do
    ((SECONDS < deadline)) || die "the $N executions did not complete within 600 s"
    sleep 1
done
log "   all $N completed after $(since "$start") s"

# Median of REQUESTS answer times (curl's time_total, ms) of one dashboard path.
median_ms() {
    local path=$1 i
    for ((i = 0; i < REQUESTS; i++)); do
        curl -sS --fail -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $KEY" "http://$ADDR$path"
    done | sort -n | awk '{ t[NR] = $1 } END { printf "%.1f", 1000 * t[int((NR + 1) / 2)] }'
}

bytes=$(curl -sS --fail -H "Authorization: Bearer $KEY" "http://$ADDR/" | wc -c)
printf '\n%s build, %d executions, median of %d requests (target: under 100 ms)\n\n' "$PROFILE" "$N" "$REQUESTS"
printf '| page | rows | median ms |\n|---|---|---|\n'
for path in "/" "/?page=100" "/?status=completed" "/?workflow=$WF&page=200"; do
    rows=$(curl -sS --fail -H "Authorization: Bearer $KEY" "http://$ADDR$path" | grep -o 'data-execution=' | wc -l)
    printf '| `%s` | %d | %s |\n' "$path" "$rows" "$(median_ms "$path")"
done
printf '\nfirst page: %d bytes\n' "$bytes"
