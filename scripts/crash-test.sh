#!/usr/bin/env bash
# Crash test: runs 20 executions of a workflow with sequential, parallel and loop steps while
# the daemon is killed with SIGKILL N times at random moments (and restarted each time), then
# checks that every execution completed and that no output was lost or stored twice.
# Each step's agent runs for STEP_SECONDS (default 0.3), so that executions are in flight at
# every kill: after each restart the script prints how many running attempts that kill
# interrupted, and fails if one interrupted none (it would have proved nothing).
#
#   scripts/crash-test.sh [N]        # N kills, default 5; EXECUTIONS=20 overrides the count
set -euo pipefail
kills=${1:-5}
executions=${EXECUTIONS:-20}
step_seconds=${STEP_SECONDS:-0.3}
cd "$(dirname "$0")/.."
cargo build --quiet --release -p do-cli
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/do

dir=$(mktemp -d "${TMPDIR:-/tmp}/do-crash.XXXXXX")
export DO_DATA_DIR=$dir/data DO_SOCKET=$dir/do.sock
trap '"$bin" daemon stop --now >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
ledger=$dir/ledger

"$bin" agent add work --shell "sleep $step_seconds; echo \"\$DO_EXECUTION_ID \$DO_STEP_ID\" >> '$ledger'; echo \"\$DO_STEP_ID\"" >/dev/null
"$bin" agent add items --shell "echo '[1, 2, 3]'" >/dev/null
workflow=$("$bin" --json workflow create - <<'JSON' | python3 -c 'import json,sys; print(json.load(sys.stdin)["workflowId"])'
{"name": "crash-test", "steps": [
  {"id": "a", "agent": "work", "task": "t"},
  {"id": "par", "type": "parallel", "steps": [
    {"id": "b", "agent": "work", "task": "t"}, {"id": "c", "agent": "work", "task": "t"}]},
  {"id": "items", "agent": "items", "task": "t", "output": "list"},
  {"id": "each", "type": "loop", "items": "list", "maxConcurrency": 2,
   "step": {"id": "d", "agent": "work", "task": "{{ item }}"}},
  {"id": "e", "agent": "work", "task": "t"}
]}
JSON
)
ids=()
for _ in $(seq "$executions"); do
    ids+=("$("$bin" --json workflow execute "$workflow" | python3 -c 'import json,sys; print(json.load(sys.stdin)["executionId"])')")
done
# Attempts that a restart found running and marked interrupted, so far. The daemon marks them
# before it accepts connections, so once `daemon start` returns they are counted.
interrupted() {
    python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM attempts WHERE status = ?", ("interrupted",)).fetchone()[0])' "$DO_DATA_DIR/do.db"
}
before=0
idle_kills=0
for i in $(seq "$kills"); do
    sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
    pid=$("$bin" --json daemon status | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
    kill -9 "$pid"
    while [ -S "$DO_SOCKET" ] && "$bin" daemon status >/dev/null 2>&1; do :; done
    "$bin" daemon start >/dev/null
    now=$(interrupted)
    echo "kill $i/$kills: interrupted $((now - before)) running attempt(s)" >&2
    if [ "$now" -eq "$before" ]; then
        idle_kills=$((idle_kills + 1))
    fi
    before=$now
done

completed=0
for id in "${ids[@]}"; do
    if "$bin" workflow execution "$id" --wait >/dev/null 2>&1; then
        completed=$((completed + 1))
    fi
done
"$bin" daemon stop --now >/dev/null
verdict=0
python3 - "$DO_DATA_DIR/do.db" "$ledger" "$completed" "${#ids[@]}" <<'PY' || verdict=1
import sqlite3, sys
db, ledger, completed, total = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
con = sqlite3.connect(db)
steps = ["a", "b", "c", "items", "d[0]", "d[1]", "d[2]", "e"]
lost = duplicated = 0
for (execution,) in con.execute("SELECT id FROM executions"):
    for step in steps:
        # A step's output is in its row; a row in `outputs` under its id would be a second copy.
        n = con.execute("SELECT COUNT(*) FROM steps WHERE execution_id = ? AND step_id = ? AND output IS NOT NULL", (execution, step)).fetchone()[0]
        n += con.execute("SELECT COUNT(*) FROM outputs WHERE execution_id = ? AND name = ?", (execution, step)).fetchone()[0]
        lost += n == 0
        duplicated += max(n - 1, 0)
seen = {tuple(line.split()[:2]) for line in open(ledger)}
never_ran = sum((e, s) not in seen for (e,) in con.execute("SELECT id FROM executions") for s in steps if s != "items")
print(f"executions: {completed} completed / {total}, lost: {lost + never_ran}, duplicated outputs: {duplicated}")
sys.exit(0 if completed == total and lost + never_ran == 0 and duplicated == 0 else 1)
PY
if [ "$idle_kills" -gt 0 ]; then
    echo "$idle_kills of $kills kills interrupted no running attempt: they tested nothing; raise STEP_SECONDS or EXECUTIONS" >&2
    verdict=1
fi
exit "$verdict"
