#!/usr/bin/env bash
# Runs one libFuzzer target over its committed corpus and then RUNS
# generated inputs (bounded: it stops by itself), with a 10 s limit per
# input. New inputs and any crash go to a scratch directory; a crash fails
# the test and its input is kept under build-fuzz/fuzz-findings/ to be
# turned into a regression seed (tests/fuzz/corpus/<target>/).
#   run-fuzzer.sh FUZZER CORPUS_DIR [RUNS]
set -euo pipefail
fuzzer=$1 corpus=$2 runs=${3:-20000}
name=$(basename "$fuzzer")
findings=$(dirname "$fuzzer")/../../fuzz-findings/$name
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$findings"
[[ -d $corpus ]] || { echo "no corpus at $corpus" >&2; exit 2; }
"$fuzzer" -runs="$runs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
  -artifact_prefix="$findings/" "$scratch" "$corpus"
