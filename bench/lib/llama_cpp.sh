# Shared by the benchmarks that build llama.cpp's own tools to compare with
# suit: the ggml CPU flags of suit's build, and llama.cpp's sources from the
# llama-cpp-python sdist on PyPI. Source it, then call the functions.

# Sets `sys_cache` (the CMakeCache.txt of llama-cpp-sys-2's newest build
# under $1, a cargo profile directory such as target/release), `sys_out`,
# `build_type`, `cmake_flags` (-DGGML_...=ON/OFF), `march` and `flags_text`.
# Refuses a GGML_NATIVE=ON build.
suit_ggml_flags() {
    local profile_dir="$1"
    local sys_lib
    sys_lib="$(ls -t "$profile_dir"/build/llama-cpp-sys-2-*/out/lib/libllama.a 2>/dev/null | head -n1)"
    sys_cache="${sys_lib%/lib/libllama.a}/build/CMakeCache.txt"
    [ -n "$sys_lib" ] && [ -f "$sys_cache" ] \
        || { echo "no CMakeCache.txt of llama-cpp-sys-2 under $profile_dir/build; build suit first" >&2; return 1; }
    sys_out="$(dirname "$(dirname "$sys_cache")")"
    build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$sys_cache")"
    local cpu_vars=(GGML_NATIVE GGML_AVX GGML_AVX2 GGML_AVX512 GGML_AVX512_VBMI GGML_AVX512_VNNI
        GGML_AVX512_BF16 GGML_AVX_VNNI GGML_AMX_TILE GGML_AMX_INT8 GGML_AMX_BF16 GGML_BMI2
        GGML_FMA GGML_F16C GGML_SSE42 GGML_OPENMP GGML_LLAMAFILE GGML_CPU_REPACK)
    cmake_flags=()
    flags_text=""
    local var value
    for var in "${cpu_vars[@]}"; do
        value="$(sed -n "s/^$var:BOOL=//p" "$sys_cache")"
        [ -n "$value" ] || { echo "$var not found in $sys_cache" >&2; return 1; }
        if [ "$var" = GGML_NATIVE ] && [ "$value" = ON ]; then
            # -march=native picks ggml's AMX kernels on some CPUs, which crash.
            echo "suit's llama.cpp was built with GGML_NATIVE=ON (target-cpu=native); rebuild without it" >&2
            return 1
        fi
        cmake_flags+=("-D$var=$value")
        [ "$value" = ON ] && flags_text+="${var#GGML_} "
    done
    march="$(sed -n 's/^CMAKE_C_FLAGS:STRING=.*\(-march=[^ ]*\).*/\1/p' "$sys_cache")"
}

# Downloads (once) the llama-cpp-python sdist of version $2 into $1 and
# unpacks it; sets `llama_src` to its vendored llama.cpp and `sdist`.
llama_sdist() {
    local cache="$1" version="$2"
    mkdir -p "$cache"
    sdist="$cache/llama_cpp_python-$version.tar.gz"
    if [ ! -f "$sdist" ]; then
        echo "== downloading the llama-cpp-python $version sdist from PyPI" >&2
        pip download --quiet --no-deps --no-binary=llama-cpp-python \
            "llama-cpp-python==$version" -d "$cache" >&2
    fi
    llama_src="$cache/llama_cpp_python-$version/vendor/llama.cpp"
    if [ ! -f "$llama_src/CMakeLists.txt" ]; then
        tar -xzf "$sdist" -C "$cache"
    fi
    [ -f "$llama_src/CMakeLists.txt" ] || { echo "no llama.cpp sources in $sdist" >&2; return 1; }
}
