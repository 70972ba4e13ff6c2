#!/usr/bin/env bash
# Builds the servers `throughput.py` compares suit with, from PyPI's
# llama-cpp-python sdist (whose vendor/llama.cpp is llama.cpp itself), with
# the ggml CPU flags of suit's own release build:
#   - llama.cpp's `llama-server`, with cmake;
#   - llama-cpp-python's server, `pip install llama-cpp-python[server]` into a
#     venv (it compiles the same llama.cpp).
# Prints the two paths, for --llama-server and --llama-cpp-python.
#
#   bench/serve/peers.sh
#   JOBS=1 LLAMA_CPP_PYTHON_VERSION=0.3.36 bench/serve/peers.sh
#
# Both land under ~/.cache/suit-bench (SUIT_BENCH_CACHE moves it) and are
# built once per version and flags. Needs cmake, a C++ compiler, pip.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
version="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
jobs="${JOBS:-2}"
cache="${SUIT_BENCH_CACHE:-$HOME/.cache/suit-bench}"
die() { echo "peers.sh: $*" >&2; exit 1; }
for tool in cmake pip python3; do
    command -v "$tool" >/dev/null || die "needs $tool on PATH"
done

. "$here/../lib/llama_cpp.sh"
suit_ggml_flags "$target/release" || die "cannot read the flags of suit's llama.cpp build"
llama_sdist "$cache/llama-bench" "$version" || die "cannot get the llama-cpp-python sdist"
flags_id="$(printf '%s ' "${cmake_flags[@]}" "$march" | sha256sum | cut -c1-12)"
echo "== ggml CPU flags of suit's build: ${flags_text}${march}" >&2

build="$cache/llama-server-$version-$flags_id"
if [ ! -x "$build/bin/llama-server" ]; then
    echo "== building llama-server ($build)" >&2
    cmake -S "$llama_src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON \
        -DBUILD_SHARED_LIBS=OFF "${cmake_flags[@]}" \
        ${march:+-DCMAKE_C_FLAGS="$march" -DCMAKE_CXX_FLAGS="$march"} >&2
    cmake --build "$build" --target llama-server -j"$jobs" >&2
fi

venv="$cache/llama-cpp-python-$version-$flags_id"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import llama_cpp.server" 2>/dev/null; then
    echo "== installing llama-cpp-python[server] $version ($venv)" >&2
    python3 -m venv "$venv"
    CMAKE_ARGS="${cmake_flags[*]}${march:+ -DCMAKE_C_FLAGS=$march -DCMAKE_CXX_FLAGS=$march}" \
        CMAKE_BUILD_PARALLEL_LEVEL="$jobs" \
        "$venv/bin/pip" install --quiet "$sdist[server]" >&2
fi
echo "--llama-server $build/bin/llama-server --llama-cpp-python $venv/bin/python"
