#!/bin/sh
# Load test: CLIENTS concurrent clients (default 50), each making REQUESTS requests (default
# 100: create, execute, status, list in turn) against one daemon while the executions run.
# Prints p50/p99/max request latency; fails if any request fails or any execution does not
# complete. Pass --release for an optimised build (docs/robustness.md says which was used).
set -eu
cd "$(dirname "$0")/.."
profile=""
if [ "${1:-}" = "--release" ]; then profile="--release"; fi
DO_LOAD_CLIENTS="${CLIENTS:-50}" DO_LOAD_REQUESTS="${REQUESTS:-100}" \
    cargo test $profile -p do-cli --test e2e test_load -- --nocapture 2>&1 |
    grep -E 'clients x|test result|panicked|failures'
