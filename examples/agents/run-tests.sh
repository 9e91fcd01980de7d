#!/bin/sh
# Stands in for a QA agent: "tests" the files named by its inputs and reports what it received.
set -eu
echo "checking inputs: $DO_INPUT" >&2
printf '{"passed":true,"received":%s}\n' "$DO_INPUT"
