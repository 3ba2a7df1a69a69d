#!/usr/bin/env bash
# Packs what the GPU checks (tools/device_check.sh) need on a lent GPU machine, which has the CUDA
# driver, cuBLAS, PyTorch and transformers but no OpenBLAS and no network: the Release CUDA build
# of `headmap`, the three GPU suites and the CUDA module libheadmap_cuda.so (lib/, where they look
# for it beside bin/), stripped, with the shared libraries they need beyond glibc
# and cuBLAS (OpenBLAS, gfortran, the CUDA runtime...), in .devpack/headmap-device.tar.xz (xz: the
# device tool carries at most 64 MiB with the working tree). Then, from the device tool:
#   run(command="bash tools/device_check.sh", carry=[".devpack"], timeout_s=540)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${HEADMAP_DEVICE_BUILD:-build}
suites=(test_cuda_kernels test_cuda_head_stats test_cuda_engine)
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHEADMAP_CUDA=ON >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target headmap headmap_cuda "${suites[@]}"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib"
for exe in headmap "${suites[@]}"; do
    strip -o "$stage/bin/$exe" "$build_dir/bin/$exe"
done
strip -o "$stage/lib/libheadmap_cuda.so" "$build_dir/lib/libheadmap_cuda.so"
# Every library the loader resolves for them, except glibc's own and cuBLAS (hundreds of MB; the
# device has it, and device_check.sh finds it).
# OpenBLAS is opened at run time (kernels/cpu/blas.h), so ldd does not list it: add it by hand.
openblas=$(ldconfig -p | awk '$1 == "libopenblas.so.0" {print $NF; exit}')
for exe in bin/headmap "${suites[@]/#/bin/}" lib/libheadmap_cuda.so; do
    ldd "$build_dir/$exe" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'
done | { cat; echo "$openblas"; ldd "$openblas" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'; } | sort -u | while read -r lib; do
    case "$(basename "$lib")" in
    libc.so.* | libm.so.* | libpthread.so.* | libdl.so.* | librt.so.* | ld-linux* | libcublas*) ;;
    *) cp -L "$lib" "$stage/lib/" ;;
    esac
done
# The suites read fixtures by the absolute paths of this checkout; device_check.sh recreates it.
pwd >"$stage/source_dir"
git rev-parse HEAD >"$stage/commit"
git status --porcelain --untracked-files=no | grep -q . && echo "(uncommitted changes)" >>"$stage/commit"
mkdir -p .devpack
tar -C "$stage" -cJf .devpack/headmap-device.tar.xz .
echo "wrote .devpack/headmap-device.tar.xz ($(du -h .devpack/headmap-device.tar.xz | cut -f1)):" \
    "$(ls "$stage/bin" | tr '\n' ' ')+ $(ls "$stage/lib" | tr '\n' ' ')"
