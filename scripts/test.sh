#!/usr/bin/env bash
# Runs suit's whole test suite: installs what the build needs, then
# `cargo test --workspace`. Tests that need a model use small real models from
# the catalog, downloaded once into a cache all test runs share
# (SUIT_TEST_MODELS, default: target/test-models).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The reference llms.txt parser, which the docs tests check suit's output with.
python3 -c "import llms_txt" 2>/dev/null ||
  python3 -m pip install --quiet --disable-pip-version-check "llms-txt==0.0.7"
# Tests run models in parallel on few cores: OpenMP threads that spin while
# their partner is descheduled make decoding 3-20x slower (bench/model).
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
export SUIT_TEST_MODELS="${SUIT_TEST_MODELS:-$PWD/target/test-models}"
cargo test --workspace --all-targets "$@"
