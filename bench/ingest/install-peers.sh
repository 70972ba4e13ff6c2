#!/usr/bin/env bash
# Installs the peer tools compared by run.sh into a cache directory (never the repo).
# Each peer comes from its own package registry with its ordinary client.
set -uo pipefail
CACHE="${SUIT_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/suit-bench}"
mkdir -p "$CACHE"
status=0
install_cargo() {
  local crate="$1"
  if [ -x "$CACHE/cargo/bin/$crate" ]; then return 0; fi
  echo "installing $crate with cargo (this compiles for minutes)" >&2
  nice -n 10 cargo install --locked --root "$CACHE/cargo" "$crate" >"$CACHE/install-$crate.log" 2>&1 \
    || { echo "cargo install $crate failed, see $CACHE/install-$crate.log" >&2; status=1; }
}
install_npm() {
  if [ -x "$CACHE/npm/node_modules/.bin/repomix" ]; then return 0; fi
  echo "installing repomix with npm" >&2
  mkdir -p "$CACHE/npm"
  npm install --prefix "$CACHE/npm" repomix >"$CACHE/install-repomix.log" 2>&1 \
    || { echo "npm install repomix failed, see $CACHE/install-repomix.log" >&2; status=1; }
}
install_pip() {
  if [ -x "$CACHE/venv/bin/gitingest" ]; then return 0; fi
  echo "installing gitingest with pip" >&2
  python3 -m venv "$CACHE/venv" && "$CACHE/venv/bin/pip" install -q gitingest >"$CACHE/install-gitingest.log" 2>&1 \
    || { echo "pip install gitingest failed, see $CACHE/install-gitingest.log" >&2; status=1; }
}
install_npm
install_pip
install_cargo yek
install_cargo code2prompt
exit $status
