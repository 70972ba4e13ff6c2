#!/usr/bin/env bash
# Verified candidates: the wall time of N replies to one edit-shaped prompt
# decoded together (as `suit run` asks for them at `auto`) against one reply,
# on the embedded backend. See README.md ("Candidates").
#
# usage: bench/model/candidates.sh [MODEL]   (catalog name or .gguf path;
#                                             default: the 1.5B default model)
# environment: THREADS=2 REPS=2 CANDIDATES=4 MAX_TOKENS=400
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
model="${1:-qwen2.5-coder-1.5b-instruct-q4_k_m}"
cd "$repo"
cargo build --release --example bench_candidates -p suit-model >&2
# What the `suit` binary sets for itself (crates/cli/src/main.rs): a short
# OpenMP spin, fast on an idle machine and safe on a busy one.
if [ -z "${OMP_WAIT_POLICY+set}" ]; then export GOMP_SPINCOUNT="${GOMP_SPINCOUNT:-10000}"; fi
"${CARGO_TARGET_DIR:-target}/release/examples/bench_candidates" \
    --model "$model" --threads "${THREADS:-2}" --reps "${REPS:-2}" \
    --candidates "${CANDIDATES:-4}" --max-tokens "${MAX_TOKENS:-400}"
