#!/usr/bin/env bash
# Runs each cargo-fuzz target of fuzz/ for SECONDS, one after another, and prints one summary
# line per target. Exits non-zero when any target crashed; the input that crashed it is in
# fuzz/artifacts/<target>/ (reproduce with `cargo +nightly fuzz run <target> <that file>`).
#
#   scripts/fuzz.sh SECONDS [TARGET...]     targets: document expression request (default: all)
#
# Needs a nightly toolchain (libFuzzer instrumentation); installs cargo-fuzz if it is missing.
# The corpus grows in fuzz/corpus/<target>/ (not checked in), seeded from fuzz/seeds/<target>/.
set -euo pipefail

usage() {
    echo "usage: $0 SECONDS [TARGET...]   (targets: document expression request)" >&2
    exit 2
}

[[ $# -ge 1 && $1 =~ ^[1-9][0-9]*$ ]] || usage
seconds=$1
shift
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(document expression request)

cd "$(dirname "$0")/../fuzz"
fuzz_dir=$PWD

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "$0: a nightly toolchain is needed: rustup toolchain install nightly" >&2
    exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz" >&2
    cargo install --locked cargo-fuzz
fi

# Build every target first, so that each one's SECONDS are spent fuzzing.
cargo +nightly fuzz build -O

crashed=0
for target in "${targets[@]}"; do
    [[ -f fuzz_targets/$target.rs ]] || { echo "$0: no fuzz target \`$target\` in fuzz/fuzz_targets/" >&2; exit 2; }
    mkdir -p "corpus/$target" "artifacts/$target"
    log=$(mktemp "${TMPDIR:-/tmp}/fuzz-$target.XXXXXX")
    started=$(mktemp "${TMPDIR:-/tmp}/fuzz-$target-started.XXXXXX")
    # Inputs up to 8 KB: a workflow document of a dozen steps is longer than libFuzzer's default.
    options=(-max_total_time="$seconds" -max_len=8192 -timeout=10 -print_final_stats=1)
    [[ -f dict/$target.dict ]] && options+=(-dict="$fuzz_dir/dict/$target.dict")
    echo "fuzzing $target for ${seconds}s (log: $log)" >&2
    status=0
    cargo +nightly fuzz run -O "$target" "corpus/$target" "seeds/$target" -- "${options[@]}" \
        >"$log" 2>&1 || status=$?
    crashes=$(find "artifacts/$target" -type f -newer "$started" | wc -l)
    # libFuzzer exits non-zero on a crash, a timeout or running out of memory, each leaving an
    # artifact; an exit without one (a build error, a bad option) counts as a crash too.
    if [[ $status -ne 0 && $crashes -eq 0 ]]; then
        crashes=1
        tail -20 "$log" >&2
    fi
    if [[ $crashes -ne 0 ]]; then
        crashed=1
        find "artifacts/$target" -type f -newer "$started" -printf "fuzz/%p\n" >&2
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    features=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    rm -f "$started"
    corpus=$(find "corpus/$target" -type f | wc -l)
    printf '%-10s seconds: %s, executions: %s, exec/s: %s, coverage: %s edges, %s features, corpus: %s, crashes: %s\n' \
        "$target" "$seconds" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${features:-?}" "$corpus" "$crashes"
done

if [[ $crashed -ne 0 ]]; then
    echo "crashes found: the inputs listed above; the logs say what failed" >&2
    exit 1
fi
