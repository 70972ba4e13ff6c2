#!/usr/bin/env bash
# Verifies the eval suite: for every task, the check must fail on repo/ and
# pass once solution.diff is applied (with the protected files restored, as
# `suit eval` does). Prints one line per task; exits 1 if any task is wrong.
#
#   evals/verify.sh              all tasks
#   evals/verify.sh py-roman     only the named tasks
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if [ "$#" -gt 0 ]; then
  tasks=("$@")
else
  tasks=()
  for d in "$here"/*/; do
    [ -f "$d/task.toml" ] && tasks+=("$(basename "$d")")
  done
fi

# Reads task.toml, checks its shape, prints the check command on the first
# line and the protected files on the following lines.
read_task() {
  python3 - "$1" <<'PY'
import os, sys, tomllib
task_dir = sys.argv[1]
with open(os.path.join(task_dir, "task.toml"), "rb") as f:
    t = tomllib.load(f)
problems = []
for key in ("task", "check", "protected", "language", "kind"):
    if key not in t:
        problems.append(f"missing `{key}`")
if t.get("language") not in ("python", "rust", "javascript"):
    problems.append("language must be python, rust or javascript")
if t.get("kind") not in ("bug", "feature"):
    problems.append("kind must be bug or feature")
if "set" in t and t["set"] != "holdout":
    problems.append("set must be holdout (or left out for the tuning set)")
repo = os.path.join(task_dir, "repo")
for f in t.get("files", []) + t.get("protected", []):
    if not os.path.isfile(os.path.join(repo, f)):
        problems.append(f"{f} is not in repo/")
diff = open(os.path.join(task_dir, "solution.diff")).read()
for f in t.get("protected", []):
    if f"+++ b/{f}\n" in diff:
        problems.append(f"solution.diff edits protected {f}")
if problems:
    print("; ".join(problems), file=sys.stderr)
    sys.exit(1)
print(t["check"])
for f in t.get("protected", []):
    print(f)
PY
}

# Runs the check in the current directory, with a time limit when `timeout` exists.
run_check() {
  if command -v timeout >/dev/null 2>&1; then
    timeout 300 bash -c "$1"
  else
    bash -c "$1"
  fi
}

failed=0
start=$(date +%s)
for name in "${tasks[@]}"; do
  dir="$here/$name"
  t0=$(date +%s)
  verdict=""
  detail=""
  if [ ! -f "$dir/task.toml" ] || [ ! -d "$dir/repo" ] || [ ! -f "$dir/solution.diff" ]; then
    verdict="WRONG: needs task.toml, repo/ and solution.diff"
  elif ! info="$(read_task "$dir" 2>"$tmp/err")"; then
    verdict="WRONG: task.toml: $(cat "$tmp/err")"
  else
    check="$(printf '%s\n' "$info" | head -n 1)"
    work="$tmp/$name/repo"
    mkdir -p "$tmp/$name"
    cp -R "$dir/repo" "$work"
    export CARGO_TARGET_DIR="$tmp/$name/target"
    log="$tmp/$name/log"
    if (cd "$work" && run_check "$check") >"$log" 2>&1; then
      verdict="WRONG: check passes on repo/ before the fix"
    elif ! (cd "$work" && GIT_CEILING_DIRECTORIES="$tmp/$name" git apply "$dir/solution.diff") >>"$log" 2>&1; then
      verdict="WRONG: solution.diff does not apply"
    else
      # restore protected files, as suit eval does before the final check
      while IFS= read -r f; do
        if [ -n "$f" ]; then cp "$dir/repo/$f" "$work/$f"; fi
      done < <(printf '%s\n' "$info" | tail -n +2)
      if (cd "$work" && run_check "$check") >"$log" 2>&1; then
        verdict="ok"
      else
        verdict="WRONG: check fails with solution.diff applied"
        detail="$(tail -n 15 "$log" | sed 's/^/    /')"
      fi
    fi
  fi
  printf '%-28s %s (%ss)\n' "$name" "$verdict" "$(( $(date +%s) - t0 ))"
  [ -z "$detail" ] || printf '%s\n' "$detail"
  [ "$verdict" = "ok" ] || failed=$((failed + 1))
done

echo "${#tasks[@]} tasks, $failed wrong, $(( $(date +%s) - start ))s"
[ "$failed" -eq 0 ]
