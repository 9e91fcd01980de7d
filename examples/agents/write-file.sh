#!/bin/sh
# Stands in for a developer agent: writes KIND.txt into the execution's workspace (its working
# directory) with the task and the inputs it received, and outputs the file's path as JSON.
# Usage (as an agent): dowf agent add tom -- ./examples/agents/write-file.sh backend
set -eu
kind=${1:?usage: write-file.sh KIND}
file="$kind.txt"
{
    echo "task: $DO_TASK"
    echo "inputs: $DO_INPUT"
} > "$file"
echo "wrote $PWD/$file" >&2
printf '{"kind":"%s","file":"%s/%s"}\n' "$kind" "$PWD" "$file"
