#!/bin/sh
# Registers the agents the SaaS launch example (examples/saas-launch.json) names, using the
# stand-in scripts next to this file. Run it from anywhere; pass `--replace` to re-register.
# DOWF may name the program to use (default: dowf).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dowf=${DOWF:-dowf}
"$dowf" agent add mira "$@" --description "market research" -- "$here/research.sh"
"$dowf" agent add priya "$@" --description "product strategy" --shell 'echo "Strategy built on: $DO_INPUT"'
"$dowf" agent add tom "$@" --description "backend developer" -- "$here/write-file.sh" backend
"$dowf" agent add rae "$@" --description "frontend developer" -- "$here/write-file.sh" frontend
"$dowf" agent add quinn "$@" --description "QA" -- "$here/run-tests.sh"
"$dowf" agent add dev "$@" --description "deployment" -- "$here/deploy.sh"
# For examples/ci-pipeline.yaml:
"$dowf" agent add checker "$@" --description "checks one component" -- "$here/check.sh"
"$dowf" team create engineering "$@" --members tom,rae --strategy round-robin
