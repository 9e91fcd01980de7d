#!/usr/bin/env bash
# Daemon CPU per step: runs one parallel step of N `/bin/true` children for each N given
# (default 1000 4000 8000) on a fresh daemon and prints the wall time and the CPU time the
# daemon itself used (utime + stime from /proc, 10 ms ticks), per step. A cost that grows with
# N shows up as a per-step figure that grows. See docs/benchmarks.md.
#
#   scripts/daemon-cpu.sh                  # release build, then 1000 4000 8000
#   scripts/daemon-cpu.sh 500 2000         # other sizes
#   DO_BIN=/path/to/do scripts/daemon-cpu.sh   # measure another build, no cargo
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
if [[ -z ${DO_BIN:-} ]]; then
    cargo build --quiet --release -p do-cli
fi
DO=${DO_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/release/do}
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(1000 4000 8000)

dir=$(mktemp -d "${TMPDIR:-/tmp}/do-cpu.XXXXXX")
export DO_DATA_DIR=$dir/data DO_SOCKET=$dir/do.sock
trap '"$DO" daemon stop --now >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
"$DO" daemon start >/dev/null
"$DO" agent add t -- /bin/true >/dev/null
pid=$("$DO" --json daemon status | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

printf '| children | wall | daemon CPU | daemon CPU per step |\n|---|---|---|---|\n'
for n in "${sizes[@]}"; do
    python3 - "$dir/fan-$n.json" "$n" <<'PY'
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
steps = [{"id": f"s{i}", "agent": "t", "task": "x"} for i in range(n)]
json.dump({"name": f"fan-{n}", "steps": [{"id": "p", "type": "parallel", "steps": steps}]}, open(path, "w"))
PY
    workflow=$("$DO" --json workflow create "$dir/fan-$n.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["workflowId"])')
    before=$(ticks)
    start=$EPOCHREALTIME
    "$DO" -q workflow execute "$workflow" --wait
    end=$EPOCHREALTIME
    after=$(ticks)
    cpu_ms=$(( (after - before) * 10 ))
    awk -v n="$n" -v s="$start" -v e="$end" -v c="$cpu_ms" \
        'BEGIN { printf "| %d | %.2f s | %d ms | %.3f ms |\n", n, e - s, c, c / n }'
done
