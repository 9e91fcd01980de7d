#!/bin/sh
# Generates a Python client from docs/openapi.json with openapi-python-client (PyPI, in a
# throw-away venv under /tmp) and checks that it has typed models for each step type of a
# workflow document and for an execution's steps. Not part of CI: it needs PyPI.
set -eu
cd "$(dirname "$0")/.."
version=0.29.1
python=${PYTHON:-python3}
venv=${VENV:-/tmp/do-python-client-venv}
if ! "$venv/bin/openapi-python-client" --version 2>/dev/null | grep -q "$version"; then
    "$python" -m venv "$venv"
    "$venv/bin/pip" install -q "openapi-python-client==$version"
fi
out=$(mktemp -d /tmp/do-python-client.XXXXXX)
trap 'rm -rf "$out"' EXIT INT TERM
# No post hooks: they would format the code with ruff, which the venv does not have.
echo '{"post_hooks": []}' >"$out/config.json"
"$venv/bin/openapi-python-client" generate --path docs/openapi.json --config "$out/config.json" \
    --output-path "$out/client" --meta none
"$venv/bin/python" - "$out" <<'PY'
import sys

sys.path.insert(0, sys.argv[1])
import client.models as models  # the generated package

def fields(name):
    """The model's fields and their annotations, as written (they name other models)."""
    return {field: str(annotation) for field, annotation in getattr(models, name).__annotations__.items()}

expected = {
    "TaskStep": ["agent", "task", "input_", "output"],
    "ParallelStep": ["steps", "max_concurrency"],
    "ConditionalStep": ["condition", "then", "else_"],
    "LoopStep": ["items", "step", "max_concurrency", "output"],
    "TeamStep": ["team_id", "task", "input_", "output"],
    "ErrorHandling": ["strategy", "max_retries", "backoff", "fallback", "notify_on_error"],
    "Workflow": ["workflow_id", "name", "steps", "status", "version"],
    "Execution": ["execution_id", "status", "progress", "steps", "estimated_completion", "tracking_url"],
    "ExecutionStep": ["id", "type_", "status", "agent", "output", "attempts", "progress", "steps"],
    "Attempt": ["attempt", "status", "agent", "started_at", "exit_code"],
    "Progress": ["completed", "total", "percentage"],
}
failures = []
for model, names in expected.items():
    hints = fields(model)
    missing = [n for n in names if n not in hints]
    if missing:
        failures.append(f"{model} lacks {missing}")
    print(f"{model}: " + ", ".join(f"{n}: {hints.get(n)}" for n in names))
steps = str(fields("Execution")["steps"])
if "ExecutionStep" not in steps:
    failures.append(f"Execution.steps is {steps}, not a list of ExecutionStep")
if failures:
    sys.exit("python-client: " + "; ".join(failures))
print(f"python-client: {len(expected)} typed models checked")
PY
