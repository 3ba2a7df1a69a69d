#!/usr/bin/env bash
# The rooms' one-way arrows (ARCHITECTURE.md), checked on the #include lines. Prints each arrow
# that points the wrong way and exits 1 if there is any. ctest runs it as test_import_graph.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0
# allowed ROOM_GLOB PREFIX...: files of the room may include project headers under these only.
allowed() {
  local files=$1; shift
  local pattern
  pattern=$(printf '|%s' "$@"); pattern=${pattern:1}
  while IFS= read -r line; do
    echo "wrong arrow: $line"; bad=1
  done < <(grep -Hn '^#include "' $files 2>/dev/null | grep -Ev "#include \"($pattern)" || true)
}
# forbidden ROOM_GLOB PREFIX...: files of the room must not include these.
forbidden() {
  local files=$1; shift
  local pattern
  pattern=$(printf '|%s' "$@"); pattern=${pattern:1}
  while IFS= read -r line; do
    echo "wrong arrow: $line"; bad=1
  done < <(grep -HnE "^#include \"($pattern)" $files 2>/dev/null || true)
}
shopt -s nullglob globstar
allowed "include/headmap/*" "headmap/"
allowed "tokenizer/**/*.h tokenizer/**/*.cpp" "tokenizer/" "headmap/"
allowed "kernels/**/*.h kernels/**/*.cpp kernels/**/*.cu" "kernels/" "headmap/"
allowed "viz/**/*.h viz/**/*.cpp" "viz/" "headmap/"
forbidden "engine/**/*.h engine/**/*.cpp" "viz/" "tools/"
# The forward pass (the engine's core files) knows nothing of analysis, capture or the C API.
core="engine/engine.* engine/attention_ring.* engine/forward_schedule.h engine/cuda_forward.*
      engine/cuda_module.h engine/cuda/*
      engine/model_weights.* engine/architecture.* engine/config.* engine/cuda_kernel_bench.*"
forbidden "$core" "engine/analysis/" \
  "engine/capture/" "engine/api/"
# Analysis and the capture pipeline never reach up into the C API.
forbidden "engine/capture/* engine/analysis/*" "engine/api/"
# Analysis works on maps and numbers: never on the capture pipeline that feeds it.
forbidden "engine/analysis/*" "engine/capture/"
if [ "$bad" -ne 0 ]; then echo "1 failed: import graph"; exit 1; fi
echo "import graph: every arrow points down"
echo "1 passed, 0 failed"
