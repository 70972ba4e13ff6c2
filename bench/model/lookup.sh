#!/usr/bin/env bash
# Prompt-lookup decoding: decode speed of edit-shaped replies (whole-file
# rewrites of real Python files) and of free-form chat, with lookup off and
# on, next to llama-bench's tg128 on the same model and flags. See README.md
# ("Prompt lookup").
#
# usage: bench/model/lookup.sh [MODEL]   (catalog name or .gguf path;
#                                         default: the 1.5B default model)
# environment:
#   FILES=20           how many files to rewrite
#   SOURCE_DIR=...     where to take them from (default: this machine's Python
#                      standard library, code no one here wrote)
#   LLAMA_BENCH=1      also run bench/model/run.sh for llama-bench's tg128 (0: skip)
#   THREADS=2
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
model="${1:-qwen2.5-coder-1.5b-instruct-q4_k_m}"
count="${FILES:-20}"
source_dir="${SOURCE_DIR:-$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')}"
cd "$repo"
cargo build --release --example bench_lookup -p suit-model >&2
# What the `suit` binary sets for itself (crates/cli/src/main.rs): a short
# OpenMP spin, fast on an idle machine and safe on a busy one.
if [ -z "${OMP_WAIT_POLICY+set}" ]; then export GOMP_SPINCOUNT="${GOMP_SPINCOUNT:-10000}"; fi

# Files of 30-150 lines with a function, spread evenly over the sorted list.
mapfile -t files < <(python3 - "$source_dir" "$count" <<'PY'
import pathlib, sys
root, count = pathlib.Path(sys.argv[1]), int(sys.argv[2])
ok = []
for p in sorted(root.rglob("*.py")):
    if "test" in p.parts or "site-packages" in p.parts or "dist-packages" in p.parts:
        continue
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        continue
    lines = text.count("\n")
    if 30 <= lines <= 150 and "\ndef " in "\n" + text.replace("\n    def ", "\ndef "):
        ok.append(p)
step = max(1, len(ok) // count)
for p in ok[::step][:count]:
    print(p)
PY
)
[ "${#files[@]}" -gt 0 ] || { echo "lookup.sh: no Python files of 30-150 lines under $source_dir" >&2; exit 1; }
echo "== ${#files[@]} files from $source_dir" >&2

if [ "${LLAMA_BENCH:-1}" = 1 ]; then
    TTFT=0 ROUNDS=1 REPS="${REPS:-3}" THREADS="${THREADS:-2}" "$here/run.sh" "$model"
fi
"${CARGO_TARGET_DIR:-target}/release/examples/bench_lookup" \
    --model "$model" --threads "${THREADS:-2}" "${files[@]}"
