#!/bin/sh
# Property-based check of the HTTP API against docs/openapi.json: starts a daemon with the HTTP
# listener in a temp dir, creates the ids the operations need (a workflow, a finished and a
# failed execution, a team), then runs schemathesis (PyPI, in a throw-away venv under /tmp) with
# every check. Exits non-zero on any failure. Not part of CI: it needs PyPI and takes minutes.
#   scripts/api-check.sh            # defaults: 100 examples per operation
#   EXAMPLES=20 scripts/api-check.sh
# The workflow documents' size health check is off (a document has required steps, each with
# required fields), and so is the one on filtered examples (the step schema is recursive, with
# if/then per step type, which Hypothesis can only meet by filtering).
set -eu
cd "$(dirname "$0")/.."
repo=$(pwd)
version=4.32.5

cargo build -q -p do-cli
bin="${CARGO_TARGET_DIR:-$repo/target}/debug/do"

work=$(mktemp -d /tmp/do-api-check.XXXXXX)
export HOME="$work/home" DO_DATA_DIR="$work/data" DO_SOCKET="$work/run/do.sock"
mkdir -p "$HOME/.config/do" "$work/run"
cleanup() {
    "$bin" daemon stop --now >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# The API document's execute example names #product-launches: map it (to a dead port).
cat >"$HOME/.config/do/config.toml" <<'EOF'
[notifications.slack]
"#product-launches" = "http://127.0.0.1:9/"
EOF

# Python 3.12 or later: under 3.11, Hypothesis fails on the recursive step schema ("AST
# constructor recursion depth mismatch"). PYTHON=… picks one.
python=${PYTHON:-}
if [ -z "$python" ]; then
    for candidate in python3.13 python3.12 /root/.pyenv/versions/3.13*/bin/python3 \
        /root/.pyenv/versions/3.12*/bin/python3 python3; do
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            python=$candidate
            break
        fi
    done
fi
if [ -z "$python" ]; then
    echo "api-check: needs Python 3.12 or later (set PYTHON)" >&2
    exit 2
fi
venv=${VENV:-/tmp/do-api-check-venv}
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
    "$python" -m venv "$venv"
    "$venv/bin/pip" install -q "schemathesis==$version"
fi

"$bin" daemon start --http 127.0.0.1:0 >/dev/null
base="http://$(cat "$DO_DATA_DIR/http.addr")"
key=$("$bin" daemon api-key)

# The ids: agents that only echo, the API document's workflow run to its end, one that fails.
for agent in mira priya tom rae quinn dev; do
    "$bin" agent add "$agent" --shell "echo $agent-done" >/dev/null
done
"$bin" agent add bad --shell 'echo broken >&2; exit 1' >/dev/null
"$bin" team create engineering --members tom,rae --strategy round-robin >/dev/null
# Executes a workflow to its end; prints the execution's id.
run_to_end() {
    "$bin" --json workflow execute "$1" --wait |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["executionId"])'
}
workflow=$("$bin" workflow create examples/saas-launch.json -q)
execution=$(run_to_end "$workflow")
printf '{"name": "fails", "steps": [{"id": "fragile", "agent": "bad", "task": "t"}]}' >"$work/fails.json"
failing=$("$bin" workflow create "$work/fails.json" -q)
failed=$(run_to_end "$failing")
# deleteWorkflow gets a workflow of its own, so that the others outlive a `force=true`.
printf '{"name": "doomed", "steps": [{"id": "s", "agent": "mira", "task": "t"}]}' >"$work/doomed.json"
doomed=$("$bin" workflow create "$work/doomed.json" -q)

# Ids per operation; what a schema cannot say is in docs/http-api.md ("API check").
cat >"$work/schemathesis.toml" <<EOF
[[operations]]
include-operation-id = ["getWorkflow", "updateWorkflow", "executeWorkflow"]
parameters = { "path.id" = "$workflow" }

[[operations]]
include-operation-id = "deleteWorkflow"
parameters = { "path.id" = "$doomed" }

[[operations]]
include-operation-id = ["getExecution", "cancelExecution", "pauseExecution", "resumeExecution", "streamExecutionEvents"]
parameters = { "path.id" = "$execution" }

[[operations]]
include-operation-id = "retryStep"
parameters = { "path.id" = "$failed", "path.stepId" = "fragile" }

# What a schema cannot say: a document's inputs must name earlier outputs, a team's members and
# a workflow's agents must be registered, a Slack #channel must be mapped in config.toml. A
# request that breaks one of these rules is valid by the schema and still answered 400.
[[operations]]
include-operation-id = ["createWorkflow", "updateWorkflow", "executeWorkflow", "createTeam"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409"]
EOF

status=0
"$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run docs/openapi.json \
    --url "$base" -H "Authorization: Bearer $key" --checks all \
    --max-examples "${EXAMPLES:-100}" --workers 2 --seed 17 \
    --suppress-health-check large_base_example,filter_too_much \
    --report har --report-har-path "$work/requests.har" || status=$?
requests=$("$python" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["log"]["entries"]))' \
    "$work/requests.har" 2>/dev/null || echo "?")
echo "api-check: $requests requests; schemathesis exited with $status"
exit "$status"
