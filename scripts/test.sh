#!/usr/bin/env bash
# Runs suit's whole test suite: installs what the build needs, then
# `cargo test --workspace`. Tests that need a model use small real models from
# the catalog, downloaded once into a cache all test runs share
# (SUIT_TEST_MODELS, default: target/test-models).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
# The reference llms.txt parser, which the docs tests check suit's output with.
python3 -c "import llms_txt" 2>/dev/null ||
  python3 -m pip install --quiet --disable-pip-version-check "llms-txt==0.0.7"
# The official `openai` and `anthropic` Python clients, which the server tests
# point at a live `suit serve` (crates/server/tests/openai_client.rs and
# anthropic_client.rs), and Selenium, which drives Chromium through the
# review page (crates/server/tests/sessions.rs), in a venv of their own.
venv=target/test-venv
openai_version=3.63.0
anthropic_version=2.17.0
selenium_version=4.51.0
# Deque's axe-core accessibility engine (4.4.3), which the browser test runs
# on the review page.
axe_version=0.1.0
if ! "$venv/bin/python" -c "import openai, anthropic, selenium, sys, importlib.metadata as m; sys.exit(openai.__version__ != '$openai_version' or anthropic.__version__ != '$anthropic_version' or selenium.__version__ != '$selenium_version' or m.version('axe-core-python') != '$axe_version')" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "openai==$openai_version" "anthropic==$anthropic_version" "selenium==$selenium_version" \
    "axe-core-python==$axe_version"
fi
export SUIT_TEST_PYTHON="$PWD/$venv/bin/python"
# Tests run models in parallel on few cores: OpenMP threads that spin while
# their partner is descheduled make decoding 3-20x slower (bench/model).
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
export SUIT_TEST_MODELS="${SUIT_TEST_MODELS:-$PWD/target/test-models}"
cargo test --workspace --all-targets "$@"
