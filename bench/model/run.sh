#!/usr/bin/env bash
# Compares suit's embedded llama.cpp backend with llama.cpp's own llama-bench
# on the same GGUF, thread count and ggml CPU flags. See README.md.
#
# usage: bench/model/run.sh [MODEL ...]      (catalog names or .gguf paths;
#                                             default: the 1.5B default model)
# environment:
#   THREADS=2            threads for both engines
#   REPS=3               repetitions of each measure per round
#   ROUNDS=2             rounds; each runs llama-bench then suit, back to back
#   TTFT=1               also measure turn-2 time to first token (0: skip)
#   TTFT_PROMPT=2000     turn-1 prompt size in tokens for that measure
#   MAX_LOAD=1.5         wait until the 1-minute load average is below this ...
#   WAIT_LOAD_SECS=600   ... for at most this long, then measure anyway
#   PROFILE=release      cargo profile of suit's build (release or dev; the dev
#                        profile builds llama.cpp as Release -O3, see README.md)
#   LLAMA_BENCH_LINK=crate   crate: compile llama-bench's two sources from the sdist
#                        and link them against the very llama.cpp libraries of
#                        suit's build (same code, same flags; seconds to build);
#                        sdist: build the sdist's whole llama.cpp with the same
#                        ggml CPU flags (an independent build; ~300 files)
#   LLAMA_CPP_PYTHON_VERSION=0.3.36   sdist whose vendored llama.cpp is used
#   SUIT_BENCH_CACHE=~/.cache/suit-bench   downloads and the llama-bench build
#   CARGO_TARGET_DIR     as usual
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
threads="${THREADS:-2}"
reps="${REPS:-3}"
rounds="${ROUNDS:-2}"
ttft="${TTFT:-1}"
ttft_prompt="${TTFT_PROMPT:-2000}"
max_load="${MAX_LOAD:-1.5}"
wait_load="${WAIT_LOAD_SECS:-600}"
lcp_version="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
profile="${PROFILE:-release}"
link="${LLAMA_BENCH_LINK:-crate}"
case "$profile" in release) profile_dir=release; profile_flag=(--release) ;;
    dev) profile_dir=debug; profile_flag=() ;;
    *) echo "run.sh: PROFILE must be release or dev, not $profile" >&2; exit 2 ;; esac
case "$link" in crate|sdist) ;;
    *) echo "run.sh: LLAMA_BENCH_LINK must be crate or sdist, not $link" >&2; exit 2 ;; esac
cache="${SUIT_BENCH_CACHE:-$HOME/.cache/suit-bench}/llama-bench"
target="${CARGO_TARGET_DIR:-$repo/target}"
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(qwen2.5-coder-1.5b-instruct-q4_k_m)

die() { echo "run.sh: $*" >&2; exit 1; }
for tool in cargo cmake pip python3 jq; do
    command -v "$tool" >/dev/null || die "needs $tool on PATH"
done

# 1. suit's benchmark, built the way users build suit (no rustflags).
echo "== building bench_embedded ($profile)" >&2
(cd "$repo" && cargo build "${profile_flag[@]}" --example bench_embedded -p suit-model) >&2
bench_embedded="$target/$profile_dir/examples/bench_embedded"
[ -x "$bench_embedded" ] || die "no $bench_embedded after the build"

# 2. The ggml CPU flags that llama-cpp-sys-2 used for that build.
. "$here/../lib/llama_cpp.sh"
suit_ggml_flags "$target/$profile_dir" || die "cannot read the flags of suit's llama.cpp build"
echo "== llama.cpp of suit's build: $build_type, ggml CPU flags ${flags_text}${march}" >&2

# 3. llama-bench from the llama.cpp vendored in the llama-cpp-python sdist.
llama_sdist "$cache" "$lcp_version" || die "cannot get the llama-cpp-python sdist"
src="$llama_src"
[ -f "$src/tools/llama-bench/llama-bench.cpp" ] || die "no llama-bench sources in $sdist"
if [ "$link" = crate ]; then
    # The crate ships llama.cpp without its tools; llama-bench's sources are
    # the sdist's (identical but for a README line), its libraries suit's own.
    crate_src="$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$sys_cache")"
    [ -f "$crate_src/include/llama.h" ] || die "no llama.cpp sources at $crate_src"
    libs_id="$(cat "$sys_out"/lib/*.a "$sys_out"/build/common/libllama-common-base.a | sha256sum | cut -c1-12)"
    build="$cache/linked-$lcp_version-$libs_id"
    llama_bench="$build/llama-bench"
    if [ ! -x "$llama_bench" ]; then
        echo "== compiling llama-bench against suit's llama.cpp ($build)" >&2
        mkdir -p "$build"
        lb_src="$src/tools/llama-bench"
        openmp=(); [ "$(sed -n 's/^GGML_OPENMP:BOOL=//p' "$sys_cache")" = ON ] && openmp=(-fopenmp)
        c++ -O3 -DNDEBUG $march -std=c++17 "${openmp[@]}" \
            -I"$crate_src/include" -I"$crate_src/ggml/include" -I"$crate_src/common" \
            -I"$crate_src/vendor" -I"$lb_src" "$lb_src/llama-bench.cpp" "$lb_src/main.cpp" \
            -L"$sys_out/lib" -L"$sys_out/build/common" -L"$sys_out/build/vendor/hash" \
            -L"$sys_out/build/vendor/cpp-httplib" -Wl,--start-group -lllama-common \
            -lllama-common-base -lcpp-httplib -lvendor-hash -lllama -lggml -lggml-cpu \
            -lggml-base -Wl,--end-group -lssl -lcrypto -lpthread -ldl -o "$build/llama-bench.tmp"
        mv "$build/llama-bench.tmp" "$llama_bench"
    fi
else
    flags_id="$(printf '%s ' "${cmake_flags[@]}" "$march" | sha256sum | cut -c1-12)"
    build="$cache/build-$lcp_version-$flags_id"
    llama_bench="$build/bin/llama-bench"
    if [ ! -x "$llama_bench" ]; then
        echo "== building llama-bench ($build)" >&2
        cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF \
            -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
            -DBUILD_SHARED_LIBS=OFF "${cmake_flags[@]}" \
            ${march:+-DCMAKE_C_FLAGS="$march" -DCMAKE_CXX_FLAGS="$march"} >&2
        cmake --build "$build" --target llama-bench -j2 >&2
    fi
fi

# 4. Measure, alternating the two engines so both see the same conditions.
wait_for_quiet() {
    local waited=0
    while :; do
        local load
        load="$(cut -d' ' -f1 /proc/loadavg)"
        if python3 -c "import sys; sys.exit(0 if $load < $max_load else 1)"; then
            echo "$load"
            return
        fi
        if [ "$waited" -ge "$wait_load" ]; then
            echo "== load still $load after ${waited}s; measuring anyway" >&2
            echo "$load"
            return
        fi
        sleep 15
        waited=$((waited + 15))
    done
}

cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for model in "${models[@]}"; do
    gguf="$("$bench_embedded" --model "$model" --print-path)"
    echo "== $model: $gguf" >&2
    loads=()
    for round in $(seq 1 "$rounds"); do
        loads+=("$(wait_for_quiet)")
        echo "== round $round/$rounds: llama-bench (load ${loads[-1]})" >&2
        "$llama_bench" -m "$gguf" -t "$threads" -p 512 -n 128 -r "$reps" -o json \
            >"$out/llama-$round.json"
        loads+=("$(cut -d' ' -f1 /proc/loadavg)")
        echo "== round $round/$rounds: suit (load ${loads[-1]})" >&2
        "$bench_embedded" --model "$gguf" --threads "$threads" --reps "$reps" --skip-ttft \
            | tail -n1 >"$out/suit-$round.json"
    done
    if [ "$ttft" = 1 ]; then
        loads+=("$(wait_for_quiet)")
        echo "== turn-2 time to first token (load ${loads[-1]})" >&2
        "$bench_embedded" --model "$gguf" --threads "$threads" --reps 1 --pp 64 --tg 8 \
            --ttft-prompt "$ttft_prompt" | tail -n1 >"$out/ttft.json"
    else
        echo null >"$out/ttft.json"
    fi
    python3 - "$out" "$model" "$threads" "$cpu" "llama.cpp $build_type, ${flags_text}${march}, OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset}" "${loads[*]}" <<'EOF'
import glob, json, statistics, sys
out, model, threads, cpu, flags, loads = sys.argv[1:]
def stats(xs):
    return (statistics.mean(xs), statistics.stdev(xs) if len(xs) > 1 else 0.0)
llama = {"pp": [], "tg": []}
for f in sorted(glob.glob(f"{out}/llama-*.json")):
    for row in json.load(open(f)):
        key = "pp" if row["n_gen"] == 0 else "tg"
        llama[key] += row["samples_ts"]
        commit, fa = row.get("build_commit"), row.get("flash_attn")
suit = {"pp": [], "tg": []}
for f in sorted(glob.glob(f"{out}/suit-*.json")):
    row = json.load(open(f))
    suit["pp"] += row["pp512"]["samples"]
    suit["tg"] += row["tg128"]["samples"]
ttft = json.load(open(f"{out}/ttft.json"))
print(f"\n{model} — {threads} threads — {cpu} — {flags}")
print(f"llama-bench build {commit}, flash_attn {fa}; load averages at the runs: {loads}\n")
print("| measure | llama-bench tok/s | suit tok/s | suit / llama-bench |")
print("|---|---|---|---|")
for key, name in (("pp", "pp512"), ("tg", "tg128")):
    (lm, ls), (sm, ss) = stats(llama[key]), stats(suit[key])
    print(f"| {name} | {lm:.2f} ± {ls:.2f} (n={len(llama[key])}) | {sm:.2f} ± {ss:.2f} (n={len(suit[key])}) | {sm / lm:.3f} |")
if ttft and ttft.get("ttft_turn2"):
    t = ttft["ttft_turn2"]
    print(f"\nturn 2 after a {t['turn1_prompt_tokens']}-token turn 1 ({t['turn2_prompt_tokens']} tokens): "
          f"warm {t['warm_ms']['mean']:.0f} ± {t['warm_ms']['stddev']:.0f} ms "
          f"(evaluated {t['warm_evaluated_tokens']} tokens), "
          f"cold {t['cold_ms']['mean']:.0f} ± {t['cold_ms']['stddev']:.0f} ms, "
          f"cold / warm = {t['speedup']:.1f}x")
print("\nraw:", json.dumps({"llama_bench": llama, "suit": suit, "ttft": ttft}))
EOF
done
