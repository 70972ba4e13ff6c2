#!/usr/bin/env bash
# Benchmark: `suit ingest` against yek, code2prompt, repomix and gitingest, and
# against simply reading the same files, on one large source tree.
#
#   bash bench/ingest/run.sh            # install peers if needed, then measure
#   BENCH_REPO=/path/to/tree bash bench/ingest/run.sh
#
# Environment:
#   BENCH_REPO        source tree to ingest (copied into a temp git repository);
#                     default: the llama.cpp sources shipped in the cargo registry
#   SUIT_BENCH_CACHE  where peers are installed (default ~/.cache/suit-bench)
#   SUIT_INGEST_BIN   the ingest command (default: `suit ingest` from a release
#                     build of the suit binary)
#   RUNS              hyperfine runs per tool (default 5)
#   SKIP_INSTALL      set to use only the peers already installed
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="${SUIT_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/suit-bench}"
RUNS="${RUNS:-5}"
export SUIT_BENCH_CACHE="$CACHE"

command -v hyperfine >/dev/null || { apt-get install -y hyperfine >/dev/null 2>&1 || true; }
command -v hyperfine >/dev/null || { echo "hyperfine is needed: apt-get install hyperfine" >&2; exit 1; }
[ -x /usr/bin/time ] || { apt-get install -y time >/dev/null 2>&1 || true; }

if [ -z "${SKIP_INSTALL:-}" ]; then
  bash "$HERE/install-peers.sh" || echo "some peers failed to install; they are left out" >&2
fi

# The binary under test: a release build.
if [ -z "${SUIT_INGEST_BIN:-}" ]; then
  (cd "$ROOT" && cargo build --release -q -p suit-cli)
  TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
  SUIT_INGEST_BIN="$TARGET/release/suit ingest"
fi

# The input: a large source tree in a fresh git repository.
if [ -z "${BENCH_REPO:-}" ]; then
  BENCH_REPO="$(ls -d "$HOME"/.cargo/registry/src/*/llama-cpp-sys-2-*/llama.cpp 2>/dev/null | sort -V | tail -n 1 || true)"
fi
[ -d "${BENCH_REPO:-}" ] || { echo "no input tree: set BENCH_REPO to a large source directory" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
REPO="$WORK/$(basename "$BENCH_REPO")"
cp -r "$BENCH_REPO" "$REPO"
rm -rf "$REPO/.git"
git -C "$REPO" init -q
git -C "$REPO" add -A
git -C "$REPO" -c user.name=bench -c user.email=bench@example.com commit -q -m snapshot
FILES=$(git -C "$REPO" ls-files | wc -l)
BYTES=$(git -C "$REPO" ls-files -z | (cd "$REPO" && xargs -0 cat) | wc -c)
echo "input: $(basename "$REPO"), $FILES files, $((BYTES / 1024 / 1024)) MiB" >&2

# Fidelity on this tree: the files suit ingests are git's, minus binaries and default ignores.
if (cd "$ROOT" && SUIT_FIDELITY_REPO="$REPO" cargo test --release -q -p suit-ingest --test fidelity -- --ignored large_tree_matches_git > "$WORK/fidelity.log" 2>&1); then
  echo "fidelity: the ingested files equal git ls-files minus binaries and default ignores" >&2
else
  echo "fidelity check FAILED:" >&2; tail -n 20 "$WORK/fidelity.log" >&2
fi

OUT="$WORK/out"
mkdir -p "$OUT"
declare -a NAMES CMDS
add() { NAMES+=("$1"); CMDS+=("$2"); }
add read "cd '$REPO' && git ls-files -z | xargs -0 cat > /dev/null"
# Reading and writing the same bytes to a file, as every tool below does.
add read-write "cd '$REPO' && git ls-files -z | xargs -0 cat > '$OUT/read-write.out'"
# suit keeps token counts per file content in its cache: "suit" is a repeat
# run on the same tree (the cache warmed by hyperfine's warm-up run),
# "suit-cold" counts every file afresh (--no-cache).
add suit "SUIT_CACHE_DIR='$WORK/cache' $SUIT_INGEST_BIN '$REPO' -o '$OUT/suit.txt'"
add suit-cold "$SUIT_INGEST_BIN '$REPO' --no-cache -o '$OUT/suit-cold.txt'"
# The digest to stdout, discarded: the cost of the work without the file write.
add suit-stdout "SUIT_CACHE_DIR='$WORK/cache' $SUIT_INGEST_BIN '$REPO' > /dev/null"
# yek caps its output at 10 MB by default: lift the cap so it emits the whole
# tree. By default it counts no tokens; yek-tokens is yek counting tokens too.
[ -x "$CACHE/cargo/bin/yek" ] && add yek "cd '$REPO' && '$CACHE/cargo/bin/yek' --max-size 1GB . > '$OUT/yek.txt'"
[ -x "$CACHE/cargo/bin/yek" ] && add yek-tokens "cd '$REPO' && '$CACHE/cargo/bin/yek' --max-size 1GB --tokens 1000000000 . > '$OUT/yek-tokens.txt'"
[ -x "$CACHE/cargo/bin/code2prompt" ] && add code2prompt "'$CACHE/cargo/bin/code2prompt' '$REPO' --no-clipboard --output-file '$OUT/c2p.txt' > /dev/null"
[ -x "$CACHE/npm/node_modules/.bin/repomix" ] && add repomix "'$CACHE/npm/node_modules/.bin/repomix' '$REPO' --quiet -o '$OUT/repomix.xml'"
[ -x "$CACHE/venv/bin/gitingest" ] && add gitingest "'$CACHE/venv/bin/gitingest' '$REPO' -o '$OUT/gitingest.txt' > /dev/null"

# Each tool must work before it is timed.
for i in "${!NAMES[@]}"; do
  if ! bash -c "${CMDS[$i]}" > "$OUT/${NAMES[$i]}.log" 2>&1; then
    echo "${NAMES[$i]} failed, left out: $(tail -n 3 "$OUT/${NAMES[$i]}.log")" >&2
    NAMES[$i]=""
  fi
done

HF_ARGS=()
for i in "${!NAMES[@]}"; do
  [ -n "${NAMES[$i]}" ] || continue
  runs=$RUNS
  # The slow peers get fewer runs; their time is long enough to be stable.
  case "${NAMES[$i]}" in repomix|gitingest) runs=2 ;; esac
  hyperfine --warmup 1 --runs "$runs" --export-json "$OUT/${NAMES[$i]}.json" -n "${NAMES[$i]}" "${CMDS[$i]}" > /dev/null
  /usr/bin/time -f "%M %U %S" -o "$OUT/${NAMES[$i]}.mem" bash -c "${CMDS[$i]}" > /dev/null 2>&1 || true
done

python3 - "$OUT" "${NAMES[@]}" <<'PY'
import json, os, sys
out, names = sys.argv[1], [n for n in sys.argv[2:] if n]
rows = {}
for n in names:
    try:
        mean = json.load(open(f"{out}/{n}.json"))["results"][0]["mean"]
    except Exception:
        continue
    try:
        fields = open(f"{out}/{n}.mem").read().split()[-3:]
        mem = int(fields[0]) / 1024
        cpu = float(fields[1]) + float(fields[2])
    except Exception:
        mem, cpu = float("nan"), float("nan")
    size = 0
    for f in os.listdir(out):
        if f.startswith({"code2prompt": "c2p"}.get(n, n) + ".") and f.split(".")[-1] in ("txt", "xml"):
            size = os.path.getsize(f"{out}/{f}")
    rows[n] = (mean, mem, size, cpu)
suit, cold = rows.get("suit"), rows.get("suit-cold")
print(f"{'tool':<12} {'wall (s)':>9} {'suit/tool':>10} {'cold/tool':>10} {'CPU (s)':>8} {'peak RSS (MiB)':>15} {'output (MiB)':>13}")
for n, (mean, mem, size, cpu) in rows.items():
    ratio = f"{suit[0] / mean:.3f}x" if suit else "-"
    ratio_cold = f"{cold[0] / mean:.3f}x" if cold else "-"
    print(f"{n:<12} {mean:>9.3f} {ratio:>10} {ratio_cold:>10} {cpu:>8.2f} {mem:>15.1f} {size / 1048576:>13.1f}")
rw, yek = rows.get("read-write"), rows.get("yek")
if rw and yek:
    print()
    print(f"floor: reading the files and writing one digest takes {rw[0] / yek[0]:.3f}x yek's time")
    if cold:
        print(f"a first run adds counting every token exactly: {cold[0] - rw[0]:.3f} s over that floor")
targets = {"yek": 0.5, "yek-tokens": 0.5, "repomix": 0.05, "gitingest": 0.02, "read": 2.0, "read-write": 2.0}
for label, row in (("suit (repeat run)", suit), ("suit-cold", cold), ("suit-stdout", rows.get("suit-stdout"))):
    if not row:
        continue
    print()
    for n, t in targets.items():
        if n in rows:
            r = row[0] / rows[n][0]
            verdict = "meets" if r <= t else "misses"
            print(f"target {label} <= {t}x {n}: {r:.3f}x, {verdict}")
PY
