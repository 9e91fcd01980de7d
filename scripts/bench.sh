#!/usr/bin/env bash
# Benchmarks of issue 6: each figure against a floor measured in the same run, interleaved,
# median of BENCH_RUNS runs (default 5). See docs/benchmarks.md for the figures and the machine.
#
#   scripts/bench.sh                 # build (release), run everything, print a markdown table
#   BENCH_RUNS=9 scripts/bench.sh    # more runs per figure
#   BENCH_NO_BUILD=1 scripts/bench.sh   # reuse target/release/do as it is
#   BENCH_KEEP=1 scripts/bench.sh    # keep the temporary data dir (its path is printed)
#   TMPDIR=/dev/shm scripts/bench.sh # data dir on tmpfs: takes the file system out of the figures
#
# Needs bash, python3 (with its sqlite3 module), coreutils, seq, xargs. hyperfine is not used.
# Performance is never asserted here: the script prints figures and targets, and exits 0 unless
# a command of `do` failed or hung (then it says which).

set -euo pipefail
export LC_ALL=C # EPOCHREALTIME and printf use '.' as the decimal point

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${BENCH_RUNS:-5}
CPUS=$(nproc)
ITER_RT=${BENCH_RT_ITERATIONS:-50} # round trips per sample
ITER_LIST=${BENCH_LIST_ITERATIONS:-10}
N_STEPS=1000
N_EXECUTIONS=100000
N_QUEUED=1000

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_RUNS must be a positive integer" >&2; exit 2; }
command -v python3 >/dev/null || { echo "bench.sh needs python3" >&2; exit 2; }

log() { printf '%s\n' "$*" >&2; }
die() { log "bench.sh: $*"; exit 1; }

# ---- build -------------------------------------------------------------------------------

TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
if [[ -z ${BENCH_NO_BUILD:-} ]]; then
    log "== cargo build --release -p do-cli (in $ROOT)"
    (cd "$ROOT" && cargo build --release -p do-cli)
fi
DO=$TARGET_DIR/release/do
[[ -x $DO ]] || die "$DO not found (build failed?)"

# ---- clock -------------------------------------------------------------------------------

# clock: sets REPLY to the wall clock in microseconds, without forking when bash has
# EPOCHREALTIME (bash >= 5).
if [[ -n ${EPOCHREALTIME:-} ]]; then
    clock() { REPLY=${EPOCHREALTIME/./}; }
else
    clock() { REPLY=$(($(date +%s%N) / 1000)); }
fi

# timed CMD…: runs CMD, sets ELAPSED (µs) and STATUS (its exit status).
timed() {
    local start
    clock; start=$REPLY
    STATUS=0
    "$@" || STATUS=$?
    clock; ELAPSED=$((REPLY - start))
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.0f\n", (a[NR/2]+a[NR/2+1])/2}'; }
ms() { awk -v us="$1" 'BEGIN {printf "%.1f", us / 1000}'; }    # µs -> "12.3"
ms2() { awk -v us="$1" 'BEGIN {printf "%.2f", us / 1000}'; }   # µs -> "1.23"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}'; }

# ---- the daemon, in a temporary data dir ---------------------------------------------------

TMP=$(mktemp -d "${TMPDIR:-/tmp}/dobench.XXXXXX")
if ((${#TMP} > 80)); then
    rmdir "$TMP"
    TMP=$(mktemp -d /tmp/dobench.XXXXXX)
fi
export DO_DATA_DIR=$TMP/data
export DO_SOCKET=$TMP/do.sock
mkdir -p "$DO_DATA_DIR"
RUN_PID= # a daemon started here with `do daemon run … &`

daemon_pid() { "$DO" --json daemon status 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])' 2>/dev/null; }

# stop_daemon [--now]: `do daemon stop` waits for running steps; --now ends them.
stop_daemon() {
    local pid
    pid=$(daemon_pid || true)
    if [[ -n $pid ]]; then
        timeout 60 "$DO" daemon stop "$@" >/dev/null 2>&1 || log "bench.sh: \`do daemon stop $*\` failed or hung (pid $pid)"
        # stop returns when the daemon closed its connections; wait for the process too.
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            log "bench.sh: the daemon (pid $pid) still runs 10 s after \`do daemon stop\`; killing it"
            kill "$pid" 2>/dev/null || true
        fi
    fi
    if [[ -n $RUN_PID ]]; then
        wait "$RUN_PID" 2>/dev/null || true
        RUN_PID=
    fi
}

cleanup() {
    local rc=$?
    stop_daemon || true
    if [[ -n ${BENCH_KEEP:-} ]]; then
        log "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_ready() {
    for _ in $(seq 200); do
        "$DO" daemon status >/dev/null 2>&1 && return 0
        if [[ -n $RUN_PID ]] && ! kill -0 "$RUN_PID" 2>/dev/null; then
            tail -n 20 "$TMP/daemon-run.log" >&2 || true
            die "the daemon exited at start (its log is above)"
        fi
        sleep 0.05
    done
    die "the daemon did not answer within 10 s"
}

# run_daemon N: (re)starts the daemon in the background with --max-parallel N.
run_daemon() {
    stop_daemon
    "$DO" daemon run --max-parallel "$1" >>"$TMP/daemon-run.log" 2>&1 &
    RUN_PID=$!
    wait_ready
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
mb() { awk -v kb="$1" 'BEGIN {printf "%.1f", kb / 1024}'; }

# ---- the machine -------------------------------------------------------------------------

CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
log "== machine: $CPUS CPUs ($CPU_MODEL), kernel $(uname -r), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
log "== load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
log "== $("$DO" --version), runs per figure: $RUNS, data dir: $TMP"

RESULTS=() # "figure|subject|floor|ratio|target" rows of the final table

"$DO" daemon start >/dev/null
sleep 0.5
PID=$(daemon_pid)
IDLE_RSS=$(rss_kb "$PID")
log "memory idle (fresh daemon, empty database): $(mb "$IDLE_RSS") MB"

# ---- documents ---------------------------------------------------------------------------

"$DO" agent add t -- /bin/true >/dev/null

python3 - "$TMP" "$N_STEPS" "$CPUS" <<'EOF'
import json, sys
tmp, n, cpus = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
chain = {"name": "bench-chain",
         "steps": [{"id": f"s{i}", "type": "task", "agent": "t", "task": "x"} for i in range(1, n + 1)]}
fanout = {"name": "bench-fanout",
          "steps": [{"id": "p", "type": "parallel",
                     "steps": [{"id": f"c{i}", "type": "task", "agent": "t", "task": "x"}
                               for i in range(1, n + 1)]}]}
loop = {"name": "bench-loop",
        "steps": [{"id": "l", "type": "loop", "items": f"input.items", "maxConcurrency": cpus,
                   "step": {"id": "i", "type": "task", "agent": "t", "task": "x"}}]}
block = {"name": "bench-block", "steps": [{"id": "b", "type": "task", "agent": "blocker", "task": "x"}]}
small = {"name": "bench-small", "steps": [{"id": "a", "type": "task", "agent": "t", "task": "x"}]}
for name, doc in (("chain", chain), ("fanout", fanout), ("loop", loop), ("block", block), ("small", small)):
    with open(f"{tmp}/{name}.json", "w") as f:
        json.dump(doc, f)
EOF

create() { "$DO" --json workflow create "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["workflowId"])'; }
WF_CHAIN=$(create "$TMP/chain.json")
WF_FANOUT=$(create "$TMP/fanout.json")
WF_LOOP=$(create "$TMP/loop.json")
LOOP_INPUT=$(python3 -c "import json,sys; print(json.dumps({'items': list(range(int(sys.argv[1])))}))" "$N_STEPS")

# execute_wait WF: one execution, waited for; a hang is cut at 30 minutes.
execute_wait() { timeout 1800 "$DO" workflow execute "$1" --wait >/dev/null 2>&1; }
check() { # check WHAT: after `timed`, stops the script if the command failed
    ((STATUS == 0)) && return 0
    if ((STATUS == 124)); then die "$1 hung (cut after 30 minutes)"; fi
    die "$1 failed with exit status $STATUS"
}

floor_chain() { for _ in $(seq "$N_STEPS"); do /bin/true; done; }
floor_fanout() { seq "$N_STEPS" | xargs -P"$CPUS" -n1 /bin/true; }

# CPU accounting, for the analysis (clock ticks, 10 ms each): the daemon's own CPU time, the
# CPU time of the processes it reaped (the agents), this shell's reaped children (the `do`
# client), and the machine's steal time (CPU taken by the hypervisor, when virtualised).
CLK_TCK=$(getconf CLK_TCK)
proc_ticks() { # proc_ticks PID: sets OWN and REAPED (utime+stime, cutime+cstime)
    local stat
    read -r stat <"/proc/$1/stat"
    stat=${stat##*) }
    local -a f
    read -r -a f <<<"$stat"
    OWN=$((f[11] + f[12])) REAPED=$((f[13] + f[14]))
}
machine_ticks() { # BUSY: every CPU's non-idle time; STEAL: the hypervisor's share
    local -a f
    read -r -a f </proc/stat
    BUSY=$((f[1] + f[2] + f[3] + f[6] + f[7] + f[8])) STEAL=${f[8]}
}
tms() { awk -v t="$1" -v hz="$CLK_TCK" -v n="${2:-1}" 'BEGIN {printf "%.0f", t * 1000 / hz / n}'; }

# interleave NAME SUBJECT_FN FLOOR_FN: RUNS runs of each, alternating which goes first;
# sets SUBJECT_US and FLOOR_US to the medians, DAEMON_CPU_MS, AGENTS_CPU_MS and
# CLIENT_CPU_MS (means per subject run), and OTHER_LOAD: the CPU time the machine spent on
# processes that are not this benchmark's, as a share of its capacity during the figure
# (other builds running at the same time make the figures noisy; this says when).
interleave() {
    local name=$1 subject=$2 floor=$3 i s f pid d0 a0 c0 st0 b0 w0 own0 dm0
    local -a subjects=() floors=()
    local d=0 a=0 c=0
    pid=$(daemon_pid)
    machine_ticks; st0=$STEAL b0=$BUSY
    proc_ticks $$; own0=$((OWN + REAPED))
    proc_ticks "$pid"; dm0=$((OWN + REAPED))
    clock; w0=$REPLY
    for ((i = 1; i <= RUNS; i++)); do
        ((i % 2)) || { timed "$floor"; f=$ELAPSED; }
        proc_ticks "$pid"; d0=$OWN a0=$REAPED
        proc_ticks $$; c0=$REAPED
        timed "$subject"; check "$name run $i"; s=$ELAPSED
        proc_ticks "$pid"; d=$((d + OWN - d0)) a=$((a + REAPED - a0))
        proc_ticks $$; c=$((c + REAPED - c0))
        ((i % 2 == 0)) || { timed "$floor"; f=$ELAPSED; }
        subjects+=("$s"); floors+=("$f")
        log "  $name run $i: $(ms "$s") ms vs floor $(ms "$f") ms ($(ratio "$s" "$f"))"
    done
    clock; w0=$((REPLY - w0))
    machine_ticks
    proc_ticks $$; own0=$((OWN + REAPED - own0))
    proc_ticks "$pid"; dm0=$((OWN + REAPED - dm0))
    local other=$((BUSY - b0 - own0 - dm0))
    ((other > 0)) || other=0
    OTHER_LOAD=$(awk -v t="$other" -v hz="$CLK_TCK" -v us="$w0" -v n="$CPUS" 'BEGIN {printf "%.0f%%", 100 * t / hz / (us / 1e6 * n)}')
    SUBJECT_US=$(median "${subjects[@]}")
    FLOOR_US=$(median "${floors[@]}")
    DAEMON_CPU_MS=$(tms "$d" "$RUNS") AGENTS_CPU_MS=$(tms "$a" "$RUNS") CLIENT_CPU_MS=$(tms "$c" "$RUNS")
    log "  CPU per subject run: daemon $DAEMON_CPU_MS ms, its agents $AGENTS_CPU_MS ms, client $CLIENT_CPU_MS ms"
    log "  other processes on the machine during the figure: $(tms "$other") ms of CPU = $OTHER_LOAD of its capacity; steal $(tms $((STEAL - st0))) ms"
}

# ---- chain -------------------------------------------------------------------------------

log "== chain: $N_STEPS sequential steps of agent t (/bin/true), --wait; floor: a shell loop"
chain() { execute_wait "$WF_CHAIN"; }
timed chain; check "chain warm-up"
log "  warm-up: $(ms "$ELAPSED") ms"
interleave chain chain floor_chain
r=$(ratio "$SUBJECT_US" "$FLOOR_US")
per_step=$(awk -v s="$SUBJECT_US" -v f="$FLOOR_US" -v n="$N_STEPS" 'BEGIN {printf "%.2f", (s - f) / n / 1000}')
log "chain: $(ms "$SUBJECT_US") ms vs $(ms "$FLOOR_US") ms = $r (target <= 1.25); overhead per step: $per_step ms"
RESULTS+=("chain of $N_STEPS / bare loop|$(ms "$SUBJECT_US") ms|$(ms "$FLOOR_US") ms|$r|≤ 1.25|$OTHER_LOAD")
log "  per step: daemon CPU $(awk -v x="$DAEMON_CPU_MS" -v n="$N_STEPS" 'BEGIN {printf "%.2f", x / n}') ms, client CPU $(awk -v x="$CLIENT_CPU_MS" -v n="$N_STEPS" 'BEGIN {printf "%.2f", x / n}') ms"
CHAIN_PER_STEP=$per_step

# ---- fan-out -----------------------------------------------------------------------------

log "== fan-out: one parallel step of $N_STEPS children, daemon run --max-parallel $CPUS; floor: xargs -P$CPUS"
run_daemon "$CPUS"
fanout() { execute_wait "$WF_FANOUT"; }
timed fanout; check "fan-out warm-up"
log "  warm-up: $(ms "$ELAPSED") ms"
interleave fan-out fanout floor_fanout
r=$(ratio "$SUBJECT_US" "$FLOOR_US")
log "fan-out: $(ms "$SUBJECT_US") ms vs $(ms "$FLOOR_US") ms = $r (target <= 1.25)"
RESULTS+=("fan-out of $N_STEPS / xargs -P$CPUS|$(ms "$SUBJECT_US") ms|$(ms "$FLOOR_US") ms|$r|≤ 1.25|$OTHER_LOAD")
log "  per child: daemon CPU $(awk -v x="$DAEMON_CPU_MS" -v n="$N_STEPS" 'BEGIN {printf "%.2f", x / n}') ms, client CPU $(awk -v x="$CLIENT_CPU_MS" -v n="$N_STEPS" 'BEGIN {printf "%.2f", x / n}') ms"
log "== loop: $N_STEPS items, maxConcurrency $CPUS; floor: xargs -P$CPUS"
loop_run() { timeout 1800 "$DO" workflow execute "$WF_LOOP" --input "$LOOP_INPUT" --wait >/dev/null 2>&1; }
timed loop_run; check "loop warm-up"
interleave loop loop_run floor_fanout
r=$(ratio "$SUBJECT_US" "$FLOOR_US")
log "loop: $(ms "$SUBJECT_US") ms vs $(ms "$FLOOR_US") ms = $r (target <= 1.25)"
RESULTS+=("loop of $N_STEPS, maxConcurrency $CPUS / xargs -P$CPUS|$(ms "$SUBJECT_US") ms|$(ms "$FLOOR_US") ms|$r|≤ 1.25|$OTHER_LOAD")

# ---- round trip --------------------------------------------------------------------------

log "== round trip: do workflow list --json --limit 1 (warm daemon) vs do --version, $ITER_RT per sample"
# The list returns whole documents: the newest workflow is made a one-step one, so that the
# figure is the round trip and not the printing of the 1,000-step fan-out document (measured
# once below, for information, with --offset 1).
create "$TMP/small.json" >/dev/null
rt_list() { for ((k = 0; k < ITER_RT; k++)); do "$DO" workflow list --json --limit 1 >/dev/null || return 1; done; }
rt_version() { for ((k = 0; k < ITER_RT; k++)); do "$DO" --version >/dev/null; done; }
timed rt_list; check "round trip warm-up"
interleave "round trip ($ITER_RT calls)" rt_list rt_version
RT_US=$((SUBJECT_US / ITER_RT))
VERSION_US=$((FLOOR_US / ITER_RT))
r=$(ratio "$SUBJECT_US" "$FLOOR_US")
log "round trip: $(ms2 "$RT_US") ms vs do --version $(ms2 "$VERSION_US") ms = $r (target <= 1.5 and <= 3 ms)"
RESULTS+=("round trip / \`do --version\`|$(ms2 "$RT_US") ms|$(ms2 "$VERSION_US") ms|$r|≤ 1.5, and ≤ 3 ms|$OTHER_LOAD")
rt_big() { for ((k = 0; k < ITER_RT; k++)); do "$DO" workflow list --json --limit 1 --offset 1 >/dev/null || return 1; done; }
timed rt_big; check "do workflow list --json --limit 1 --offset 1"
RT_BIG_US=$((ELAPSED / ITER_RT))
log "  (for information: the same list returning the $N_STEPS-step fan-out document: $(ms2 "$RT_BIG_US") ms)"

# ---- memory after work -------------------------------------------------------------------

PID=$(daemon_pid)
WARM_RSS=$(rss_kb "$PID")
WARM_HWM=$(hwm_kb "$PID")
log "memory idle after the runs above: $(mb "$WARM_RSS") MB (peak so far $(mb "$WARM_HWM") MB)"

# ---- list at scale -----------------------------------------------------------------------

log "== list at scale: $N_EXECUTIONS executions inserted into do.db by a generator"
stop_daemon
timed python3 - "$DO_DATA_DIR/do.db" "$N_EXECUTIONS" <<'EOF'
import json, random, sqlite3, string, sys, time
path, n = sys.argv[1], int(sys.argv[2])
alphabet = string.ascii_lowercase + string.digits
rng = random.Random(6)
def new_id(prefix, seen):
    while True:
        i = prefix + "_" + "".join(rng.choice(alphabet) for _ in range(12))
        if i not in seen:
            seen.add(i)
            return i
now = int(time.time() * 1000)
base = now - n * 1000
doc = {"name": "g", "steps": [{"id": "a", "type": "task", "agent": "t", "task": "x"}]}
db = sqlite3.connect(path)
db.execute("PRAGMA foreign_keys = ON")
wf = new_id("wf", set())
with db:
    db.execute("INSERT INTO workflows (id, name, description, category, status, version, created_at,"
               " updated_at) VALUES (?, 'g', NULL, NULL, 'active', 1, ?, ?)", (wf, base - 1, base - 1))
    db.execute("INSERT INTO workflow_versions (workflow_id, version, document, created_at)"
               " VALUES (?, 1, ?, ?)", (wf, json.dumps(doc), base - 1))
    seen = set(r[0] for r in db.execute("SELECT id FROM executions"))
    rows = []
    for k in range(n):
        created = base + k * 10
        rows.append((new_id("exec", seen), wf, created, created + 1, created + 5))
    db.executemany(
        "INSERT INTO executions (id, workflow_id, workflow_version, workflow_name, status, priority,"
        " input, notifications, current_step, steps_completed, steps_total, error, cancel_reason,"
        " created_at, started_at, completed_at)"
        " VALUES (?, ?, 1, 'g', 'completed', 'normal', '{}', NULL, NULL, 1, 1, NULL, NULL, ?, ?, ?)",
        rows)
total = db.execute("SELECT count(*) FROM executions").fetchone()[0]
db.close()
print(f"  executions stored: {total}", file=sys.stderr)
EOF
((STATUS == 0)) || die "the generator failed"
log "  generator: $(ms "$ELAPSED") ms"
run_daemon "$CPUS"
list_50() { for ((k = 0; k < ITER_LIST; k++)); do "$DO" workflow executions --limit 50 >/dev/null || return 1; done; }
version_n() { for ((k = 0; k < ITER_LIST; k++)); do "$DO" --version >/dev/null; done; }
timed list_50; check "do workflow executions --limit 50 (warm-up)"
interleave "list ($ITER_LIST calls)" list_50 version_n
LIST_US=$((SUBJECT_US / ITER_LIST))
VERSION_US=$((FLOOR_US / ITER_LIST))
r=$(ratio "$SUBJECT_US" "$FLOOR_US")
log "list at scale: $(ms2 "$LIST_US") ms per call (do --version $(ms2 "$VERSION_US") ms; $r) (target <= 10 ms)"
RESULTS+=("list, 50 of $N_EXECUTIONS executions|$(ms2 "$LIST_US") ms|$(ms2 "$VERSION_US") ms (\`do --version\`)|$r|≤ 10 ms|$OTHER_LOAD")

# ---- memory with queued executions --------------------------------------------------------

log "== memory: $N_QUEUED executions queued behind a blocking step, --max-parallel 1"
run_daemon 1
"$DO" agent add blocker -- /bin/sleep 599.25 >/dev/null
WF_BLOCK=$(create "$TMP/block.json")
PID=$(daemon_pid)
QUEUE_BEFORE=$(rss_kb "$PID")
queue() { for ((k = 0; k < N_QUEUED; k++)); do "$DO" workflow execute "$WF_BLOCK" >/dev/null || return 1; done; }
timed queue; check "do workflow execute (without --wait)"
log "  $N_QUEUED executes without --wait: $(ms "$ELAPSED") ms ($(ms2 $((ELAPSED / N_QUEUED))) ms each)"
sleep 1
QUEUED_RSS=$(rss_kb "$PID")
QUEUED_HWM=$(hwm_kb "$PID")
counts=$("$DO" --json workflow executions --workflow "$WF_BLOCK" --limit 2000 | python3 -c '
import collections, json, sys
c = collections.Counter(e["status"] for e in json.load(sys.stdin))
print(", ".join(f"{k} {v}" for k, v in sorted(c.items())))')
log "  executions of the blocking workflow: $counts"
log "memory with $N_QUEUED queued: $(mb "$QUEUED_RSS") MB (before queueing $(mb "$QUEUE_BEFORE") MB, peak $(mb "$QUEUED_HWM") MB)"
RESULTS+=("daemon RSS idle (fresh) / after the runs|$(mb "$IDLE_RSS") MB / $(mb "$WARM_RSS") MB||–|≤ 15 MB|")
RESULTS+=("daemon RSS, $N_QUEUED queued (limit 1)|$(mb "$QUEUED_RSS") MB||–|≤ 60 MB|")
# `daemon stop` would wait for the 599 s step: --now ends it (it would run again at the next start).
timed stop_daemon --now
log "  daemon stop --now with 1 running and $((N_QUEUED - 1)) queued: $(ms "$ELAPSED") ms"
sleep 0.5
left=$(pgrep -f 'sleep 599.25' || true)
if [[ -n $left ]]; then
    log "bench.sh: agent processes left after \`do daemon stop\`: $left (killing them)"
    kill $left 2>/dev/null || true
fi

# ---- the table ---------------------------------------------------------------------------

log "== load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "$CPUS CPUs ($CPU_MODEL), Linux $(uname -r), $(date -u +%Y-%m-%d), medians of $RUNS runs; chain overhead per step: $CHAIN_PER_STEP ms"
echo
echo "| figure | subject (median) | floor (median) | ratio | target | other load |"
echo "|---|---|---|---|---|---|"
for row in "${RESULTS[@]}"; do
    IFS='|' read -r a b c d e g <<<"$row"
    echo "| $a | $b | $c | $d | $e | $g |"
done
echo
echo "other load: CPU time of processes outside this benchmark during the figure, as a share of the machine."
