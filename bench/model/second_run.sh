#!/usr/bin/env bash
# Time to first token of a first and a second `suit run` in the same repository: the second
# restores the prompt's head from the prompt cache the first one saved.
#
#   bench/model/second_run.sh                      # python3's own json package, the default model
#   MODEL=qwen2.5-coder-0.5b-instruct-q4_k_m bench/model/second_run.sh
#   REPO=path/to/project FILE=src/lib.rs TASK="..." bench/model/second_run.sh
#
# Each run is a fresh process on a fresh copy of the repository, at `auto` with one step, one
# candidate and no checks; the time to first token is from the step's `context_summary` event (the
# request is sent) to its first `reply_delta` event, read from `suit run --json`. The prompt cache
# lives in a temporary SUIT_HOME (models are linked from the usual models directory), so the first
# run is cold whatever ran before. RUNS (default 3) second runs follow the first.
set -euo pipefail
cd "$(dirname "$0")/../.."

SUIT=${SUIT:-target/release/suit}
MODEL=${MODEL:-qwen2.5-coder-1.5b-instruct-q4_k_m}
RUNS=${RUNS:-3}
if [ ! -x "$SUIT" ]; then
  cargo build --release -p suit-cli >&2
fi
SUIT="$(cd "$(dirname "$SUIT")" && pwd)/$(basename "$SUIT")"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
models=${SUIT_HOME:+$SUIT_HOME/models}
models=${models:-${XDG_CACHE_HOME:-$HOME/.cache}/suit/models}
mkdir -p "$work/home"
ln -s "$models" "$work/home/models"

if [ -z "${REPO:-}" ]; then
  REPO=$(python3 -c 'import json, os; print(os.path.dirname(json.__file__))')
  FILE=${FILE:-decoder.py}
  TASK=${TASK:-"JSONObject builds the pairs list even when object_pairs_hook is None; build a dict directly in that case."}
fi
: "${FILE:?set FILE to the file to work on}"
: "${TASK:?set TASK to the request}"

one_run() {
  rm -rf "$work/repo"
  cp -r "$REPO" "$work/repo"
  find "$work/repo" -name __pycache__ -prune -exec rm -rf {} +
  local start end
  start=$(date +%s.%N)
  (cd "$work/repo" && SUIT_HOME="$work/home" OMP_WAIT_POLICY=PASSIVE "$SUIT" run "$TASK" \
    --file "$FILE" --autonomy auto --max-steps 1 --candidates 1 --max-output-tokens 48 \
    --max-reflections 0 --model "$MODEL" --json) >"$work/events.jsonl" 2>"$work/stderr" || true
  end=$(date +%s.%N)
  python3 - "$work/events.jsonl" "$start" "$end" <<'EOF'
import json, sys
sent = first = None
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "context_summary" and sent is None:
        sent = e["ts_ms"]
    if e["event"] == "reply_delta" and first is None:
        first = e["ts_ms"]
    if e["event"] == "usage" and "usage" not in globals():
        usage = e
if sent is None or first is None:
    sys.exit("no reply: see the run's stderr")
print(f"{(first - sent) / 1000:.2f} {float(sys.argv[3]) - float(sys.argv[2]):.1f} "
      f"{usage['prompt_tokens']} {usage['cached_tokens']}")
EOF
}

echo "repository: $REPO, file: $FILE, model: $MODEL"
printf '%-8s %10s %10s %14s %14s\n' run "TTFT s" "wall s" "prompt tokens" "restored"
read -r ttft wall prompt cached < <(one_run) || { cat "$work/stderr" >&2; exit 1; }
printf '%-8s %10s %10s %14s %14s\n' first "$ttft" "$wall" "$prompt" "$cached"
cold=$ttft
warm=()
for i in $(seq 1 "$RUNS"); do
  read -r ttft wall prompt cached < <(one_run) || { cat "$work/stderr" >&2; exit 1; }
  printf '%-8s %10s %10s %14s %14s\n' "second" "$ttft" "$wall" "$prompt" "$cached"
  warm+=("$ttft")
done
python3 - "$cold" "${warm[@]}" <<'EOF'
import statistics, sys
cold, warm = float(sys.argv[1]), [float(x) for x in sys.argv[2:]]
m = statistics.median(warm)
print(f"time to first token: first run {cold:.2f} s, second runs median {m:.2f} s: {cold / m:.1f}x faster")
EOF
