#!/usr/bin/env bash
# Daemon CPU (utime + stime from /proc, 10 ms ticks) and wall time per 1,000-step execution
# (`--wait`, measured around the client) for two builds side by side: both daemons run at
# once, each in its own temporary data dir, and their executions alternate, so that a change
# of the machine's speed falls on both. Prints every run and the medians for the fan-out, the
# loop (1,000 input items, maxConcurrency 2) and the chain. See docs/benchmarks.md.
#
#   scripts/daemon-cpu-ab.sh OLD_BINARY NEW_BINARY
#   RUNS=9 scripts/daemon-cpu-ab.sh …      # runs per workflow and build (default 5)
set -euo pipefail
A=${1:?usage: daemon-cpu-ab.sh BINARY_A BINARY_B}
B=${2:?usage: daemon-cpu-ab.sh BINARY_A BINARY_B}
RUNS=${RUNS:-5}
root=$(mktemp -d "${TMPDIR:-/tmp}/do-cpu-ab.XXXXXX")
as() { local side=$1; shift; DO_DATA_DIR=$root/$side/data DO_SOCKET=$root/$side/do.sock "$@"; }
bin() { if [[ $1 == A ]]; then echo "$A"; else echo "$B"; fi; }
cleanup() { for side in A B; do as "$side" "$(bin "$side")" daemon stop >/dev/null 2>&1 || true; done; rm -rf "$root"; }
trap cleanup EXIT

python3 - "$root" <<'PY'
import json, sys
d = sys.argv[1]
task = lambda i: {"id": f"s{i}", "agent": "t", "task": "x"}
json.dump({"name": "fanout", "steps": [{"id": "p", "type": "parallel",
                                         "steps": [task(i) for i in range(1000)]}]},
          open(f"{d}/fanout.json", "w"))
json.dump({"name": "loop", "steps": [{"id": "l", "type": "loop", "items": "input.items",
                                       "maxConcurrency": 2, "step": task(0)}]},
          open(f"{d}/loop.json", "w"))
json.dump({"name": "chain", "steps": [task(i) for i in range(1000)]}, open(f"{d}/chain.json", "w"))
json.dump({"items": list(range(1000))}, open(f"{d}/input.json", "w"))
PY
declare -A workflow pid
for side in A B; do
    do_bin=$(bin "$side")
    mkdir -p "$root/$side"
    as "$side" "$do_bin" daemon run --max-parallel 2 >/dev/null 2>&1 &
    for _ in $(seq 100); do as "$side" "$do_bin" daemon status >/dev/null 2>&1 && break; sleep 0.05; done
    pid[$side]=$(as "$side" "$do_bin" --json daemon status | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
    as "$side" "$do_bin" agent add t -- /bin/true >/dev/null
    for w in fanout loop chain; do
        workflow[$side$w]=$(as "$side" "$do_bin" -q workflow create "$root/$w.json")
    done
done
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
us() { echo "${EPOCHREALTIME/./}"; }
run() { # run SIDE WORKFLOW: prints the daemon's CPU ms and the wall ms of one execution
    local side=$1 w=$2 before after start end
    before=$(ticks "${pid[$side]}")
    start=$(us)
    as "$side" "$(bin "$side")" workflow execute "${workflow[$side$w]}" \
        --input-file "$root/input.json" --wait >/dev/null 2>&1
    end=$(us)
    after=$(ticks "${pid[$side]}")
    echo "$(((after - before) * 10)) $(((end - start) / 1000))"
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
for w in fanout loop chain; do run A "$w" >/dev/null; run B "$w" >/dev/null; done # warm-up
for w in fanout loop chain; do
    cpu_a=() cpu_b=() wall_a=() wall_b=()
    for _ in $(seq "$RUNS"); do
        read -r cpu wall < <(run A "$w"); cpu_a+=("$cpu"); wall_a+=("$wall")
        read -r cpu wall < <(run B "$w"); cpu_b+=("$cpu"); wall_b+=("$wall")
    done
    echo "$w, daemon CPU ms per execution: A ${cpu_a[*]} | B ${cpu_b[*]}" \
        "(medians $(median "${cpu_a[@]}") | $(median "${cpu_b[@]}"))"
    echo "$w, wall ms per execution:       A ${wall_a[*]} | B ${wall_b[*]}" \
        "(medians $(median "${wall_a[@]}") | $(median "${wall_b[@]}"))"
done
