#!/usr/bin/env bash
# HTML → markdown, side by side on the same pages: suit-docs vs htmd
# (crates.io) vs turndown (npm). Reports throughput (one thread each),
# output size in tokens (o200k, via the gpt-tokenizer npm package) and
# fenced code blocks kept, then the ratios.
#
# Pages: the Rust Book chapters and std pages shipped with the toolchain
# (`rustup component add rust-docs`; SUIT_RUST_DOCS overrides the folder).
# Peers are installed into a cache folder, never into the repo.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="${SUIT_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/suit-bench}/docs"
ITER="${ITER:-5}"
DOCS="${SUIT_RUST_DOCS:-$(rustc --print sysroot)/share/doc/rust/html}"
HERE="$ROOT/bench/docs"
mkdir -p "$CACHE"

[ -f "$DOCS/book/index.html" ] || { echo "no Rust docs at $DOCS: rustup component add rust-docs" >&2; exit 1; }
PAGES="$CACHE/pages.txt"
{
  ls "$DOCS"/book/ch*.html "$DOCS"/book/appendix-*.html
  for p in vec/struct.Vec.html collections/index.html string/struct.String.html iter/trait.Iterator.html \
           option/enum.Option.html result/enum.Result.html fs/index.html io/index.html; do
    echo "$DOCS/std/$p"
  done
} | while read -r f; do grep -q "<main" "$f" && echo "$f"; done > "$PAGES"
mapfile -t FILES < "$PAGES"
echo "pages: ${#FILES[@]} ($(cat "${FILES[@]}" | wc -c) bytes), iterations: $ITER" >&2

# suit-docs
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
(cd "$ROOT" && cargo build -q --release -p suit-docs --example bench_convert)
OURS="$CARGO_TARGET_DIR/release/examples/bench_convert"

# htmd: a tiny bench binary depending on htmd from crates.io.
HTMD_DIR="$CACHE/htmd-bench"
if [ ! -x "$HTMD_DIR/target/release/htmd-bench" ]; then
  echo "building the htmd bench binary (crates.io)" >&2
  mkdir -p "$HTMD_DIR/src"
  cp "$HERE/htmd_main.rs" "$HTMD_DIR/src/main.rs"
  cat > "$HTMD_DIR/Cargo.toml" <<'TOML'
[package]
name = "htmd-bench"
version = "0.1.0"
edition = "2021"
[dependencies]
htmd = "0.5"
[profile.release]
debug = false
[workspace]
TOML
  (cd "$HTMD_DIR" && CARGO_TARGET_DIR="$HTMD_DIR/target" cargo build -q --release)
fi

# turndown (+ GFM tables) and the tokenizer, from npm.
if [ ! -d "$CACHE/npm/node_modules/turndown" ] || [ ! -d "$CACHE/npm/node_modules/gpt-tokenizer" ]; then
  echo "installing turndown, turndown-plugin-gfm and gpt-tokenizer with npm" >&2
  npm install --silent --prefix "$CACHE/npm" turndown@7 turndown-plugin-gfm gpt-tokenizer@2 >/dev/null
fi
export NODE_PATH="$CACHE/npm/node_modules"

OUT="$CACHE/out"
rm -rf "$OUT"
mkdir -p "$OUT"
run() { # name, command...
  local name="$1"; shift
  local line
  line="$("$@")"
  echo "$name $line"
}
{
  run suit-docs "$OURS" "$OUT/suit-docs" "$ITER" "${FILES[@]}"
  SUIT_BENCH_WHOLE_PAGE=1 run suit-docs-whole-page "$OURS" "$OUT/suit-docs-whole-page" "$ITER" "${FILES[@]}"
  run htmd "$HTMD_DIR/target/release/htmd-bench" "$OUT/htmd" "$ITER" "${FILES[@]}"
  run turndown node "$HERE/turndown.js" "$OUT/turndown" "$ITER" "${FILES[@]}"
} > "$CACHE/results.txt"
node "$HERE/report.js" "$CACHE/results.txt" "$OUT"
