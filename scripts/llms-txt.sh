#!/usr/bin/env bash
# Builds docs/llms.txt and docs/llms-full.txt, suit's own docs for agents,
# from the Markdown files named below (in this order). Run it after changing
# one of them; the tests check that both files are current
# (crates/cli/tests/llms_txt_docs.rs).
#
#   scripts/llms-txt.sh              # with target/debug/suit
#   SUIT=target/release/suit scripts/llms-txt.sh
set -euo pipefail
cd "$(dirname "$0")/.."
suit="${SUIT:-target/debug/suit}"
"$suit" llms-txt build \
    README.md docs/decisions.md evals/README.md bench/model/README.md bench/serve/README.md \
    -o docs --title suit \
    --summary "A local-first partial-autonomy assistant for software work: an embedded llama.cpp model or any OpenAI-compatible or Anthropic server, an autonomy slider, small verified diffs, exact undo, and tools that turn repositories and HTML docs into text for LLMs."
