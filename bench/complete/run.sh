#!/usr/bin/env bash
# Where `suit complete` stops: for function bodies taken out of real Python
# files, does the completion end inside the function's block, and how long
# does it take? See README.md.
#
# usage: bench/complete/run.sh [MODEL]   (catalog name or .gguf path;
#                                         default: the default 1.5B model)
# environment:
#   CURSORS=20        how many functions to complete
#   SOURCE_DIR=...    where to take them from (default: this machine's Python
#                     standard library, code no one here wrote)
#   MAX_TOKENS=128    suit complete --max-tokens
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
model="${1:-qwen2.5-coder-1.5b-instruct-q4_k_m}"
source_dir="${SOURCE_DIR:-$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')}"
cd "$repo"
cargo build --release -p suit-cli >&2
export SUIT_BIN="${CARGO_TARGET_DIR:-$repo/target}/release/suit"
exec python3 "$here/complete.py" "$source_dir" "$model" "${CURSORS:-20}" "${MAX_TOKENS:-128}"
