#!/usr/bin/env bash
# The GPU checks of the CUDA backend in one run, on a lent GPU machine (see tools/device_pack.sh,
# which must have packed this commit): the three GPU suites, `headmap bench --device cuda` on
# GPT-2 small at S = 1024, exact and --fast, and PyTorch eager on the same GPU
# (tools/reference/bench_cuda_torch.py). Logs and bench.jsonl go to $OUT (the device tool's
# folder that comes back). Exits 1 if a suite failed or skipped, 2 if the pack is missing.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/headmap-device-out}
mkdir -p "$out"
pack=.devpack/headmap-device.tar.xz
if [ ! -f "$pack" ]; then
    echo "device_check: no $pack (expected: tools/device_pack.sh run first, .devpack carried)" >&2
    exit 2
fi
root=$(mktemp -d /tmp/headmap-device.XXXXXX)
if command -v xz >/dev/null; then
    tar -C "$root" -xJf "$pack"
else  # an image without xz-utils: Python's lzma reads it too
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$pack" "$root"
fi
src=$(cat "$root/source_dir")
# The suites hold the packing checkout's absolute paths (fixtures, weights): make that path this.
if [ "$(realpath "$src" 2>/dev/null)" != "$(realpath .)" ]; then
    if [ -e "$src" ]; then
        echo "device_check: $src exists and is not this checkout (expected it free)" >&2
        exit 2
    fi
    mkdir -p "$(dirname "$src")" && ln -s "$PWD" "$src"
fi
cublas=$(find -H /usr/local/cuda*/lib64 /usr/local/cuda*/targets /usr/lib/x86_64-linux-gnu /opt \
    -name 'libcublas.so.13*' 2>/dev/null | head -n 1)
export LD_LIBRARY_PATH="$root/lib:${cublas:+$(dirname "$cublas"):}${LD_LIBRARY_PATH:-}"
{
    echo "packed from commit: $(cat "$root/commit")"
    echo "cuBLAS: ${cublas:-not found}"
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem \
        --format=csv
    date -u
} 2>&1 | tee "$out/device.txt"
status=0
: >"$out/summary.txt"
for suite in test_cuda_kernels test_cuda_head_stats test_cuda_engine; do
    timeout 300 "$root/bin/$suite" 2>&1 | tee "$out/$suite.log"
    rc=${PIPESTATUS[0]}
    echo "$suite: exit $rc" | tee -a "$out/summary.txt"
    [ "$rc" -eq 0 ] || status=1
done
bench=("$root/bin/headmap" bench --config gpt2 --seq 1024 --device cuda --runs 10)
"${bench[@]}" 2>&1 | tee "$out/bench.jsonl"
"${bench[@]}" --fast 2>&1 | tee -a "$out/bench.jsonl"
# PyTorch eager on the same GPU, with the device's own libraries.
for tf32 in "" --tf32; do
    env -u LD_LIBRARY_PATH PYTHONUNBUFFERED=1 python3 tools/reference/bench_cuda_torch.py \
        --config gpt2 --seq 1024 --runs 10 $tf32 2>&1 | tee -a "$out/bench.jsonl"
done
cat "$out/summary.txt"
exit "$status"
