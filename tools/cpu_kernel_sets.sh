#!/usr/bin/env bash
# The CPU kernel sets (kernels/cpu/isa.h) this machine can run, widest first, one per line: what
# HEADMAP_CPU accepts here. x86-64 only knows avx512 and avx2 besides the portable set.
set -euo pipefail
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
has() { [[ " $flags " == *" $1 "* ]]; }
if [[ $(uname -m) == x86_64 ]]; then
  has avx512f && has avx512vl && has avx512bw && has avx512dq && has avx2 && has fma && echo avx512
  has avx2 && has fma && echo avx2
fi
echo scalar
