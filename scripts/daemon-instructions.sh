#!/usr/bin/env bash
# Instructions the daemon executes (valgrind's callgrind) for N executions of a 1,000-step
# workflow: a count that does not move with the machine's load, unlike CPU or wall time. It
# includes the daemon's start, `agent add`, `workflow create` and the final status documents
# the `--wait` clients ask for. See docs/benchmarks.md.
#
#   scripts/daemon-instructions.sh target/release/do fanout      # also: chain, loop
#   scripts/daemon-instructions.sh target/release/do loop 2      # N executions (default 2)
#   KEEP=1 scripts/daemon-instructions.sh …                      # keep callgrind.out, path printed
#
# Needs valgrind and python3. Compare builds with the same N; `callgrind_annotate
# --inclusive=yes FILE` shows where the instructions go.
set -euo pipefail
DO=${1:?usage: daemon-instructions.sh BINARY chain|fanout|loop [N]}
WORKFLOW=${2:?usage: daemon-instructions.sh BINARY chain|fanout|loop [N]}
N=${3:-2}
command -v valgrind >/dev/null || { echo "daemon-instructions.sh needs valgrind" >&2; exit 2; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/do-ir.XXXXXX")
export DO_DATA_DIR=$dir/data DO_SOCKET=$dir/do.sock
cleanup() { "$DO" daemon stop >/dev/null 2>&1 || true; [[ -n ${KEEP:-} ]] || rm -rf "$dir"; }
trap cleanup EXIT

valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" "$DO" daemon run \
    >/dev/null 2>"$dir/valgrind.log" &
vg=$!
for _ in $(seq 600); do "$DO" daemon status >/dev/null 2>&1 && break; sleep 0.1; done
"$DO" agent add t -- /bin/true >/dev/null
python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
task = lambda i: {"id": f"s{i}", "agent": "t", "task": "x"}
docs = {
    "chain": {"name": "chain", "steps": [task(i) for i in range(1000)]},
    "fanout": {"name": "fanout", "steps": [{"id": "p", "type": "parallel",
                                            "steps": [task(i) for i in range(1000)]}]},
    "loop": {"name": "loop", "steps": [{"id": "l", "type": "loop", "items": "input.items",
                                        "maxConcurrency": 2, "step": task(0)}]},
}
for name, doc in docs.items():
    json.dump(doc, open(f"{d}/{name}.json", "w"))
json.dump({"items": list(range(1000))}, open(f"{d}/input.json", "w"))
PY
[[ -f $dir/$WORKFLOW.json ]] || { echo "unknown workflow '$WORKFLOW': chain, fanout or loop" >&2; exit 2; }
workflow=$("$DO" -q workflow create "$dir/$WORKFLOW.json")
for _ in $(seq "$N"); do
    "$DO" workflow execute "$workflow" --input-file "$dir/input.json" --wait >/dev/null 2>&1
done
"$DO" daemon stop >/dev/null 2>&1 || true
wait "$vg" || true
awk -v w="$WORKFLOW" -v n="$N" '/^totals:/ {printf "%s, %s executions: %\047d instructions\n", w, n, $2}' "$dir/callgrind.out"
[[ -z ${KEEP:-} ]] || echo "kept $dir/callgrind.out"
