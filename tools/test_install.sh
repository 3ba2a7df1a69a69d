#!/usr/bin/env bash
# Installs a build into a temporary prefix and builds and runs the examples against the installed
# package (not the build tree): through CMake's find_package(headmap) and through pkg-config.
# usage: tools/test_install.sh BUILD_DIR        (ctest runs it as test_install_examples)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
passed=0 failed=0
check() {  # check NAME COMMAND...: one result line per step
  if "${@:2}" >"$work/out" 2>&1; then passed=$((passed + 1)); echo "ok: $1"
  else failed=$((failed + 1)); echo "FAILED: $1"; sed 's/^/  /' "$work/out"; fi
}
cmake --install "$build" --prefix "$prefix" >/dev/null
check "headers, libraries, package files and the default model are installed" test -f \
  "$prefix/include/headmap/headmap.h" -a -f "$prefix/include/headmap/headmap.hpp" \
  -a -f "$prefix/lib/libheadmap.a" -a -f "$prefix/lib/libheadmap.so" \
  -a -f "$prefix/lib/cmake/headmap/headmapConfig.cmake" \
  -a -f "$prefix/lib/cmake/headmap/headmapConfigVersion.cmake" \
  -a -f "$prefix/lib/pkgconfig/headmap.pc" -a -x "$prefix/bin/headmap" \
  -a -f "$prefix/share/headmap/weights/gpt2-tiny-headmap/config.json"

# Run from an empty folder with no HEADMAP_WEIGHTS: the default model must be found beside the
# installed library and CLI, not in this checkout.
run_dir=$work/run
mkdir -p "$run_dir"
unset HEADMAP_WEIGHTS
check "find_package(headmap): configure and build the examples" bash -c \
  "cmake -S '$root/examples/consumer' -B '$work/consumer' -G Ninja \
     -DCMAKE_PREFIX_PATH='$prefix' && cmake --build '$work/consumer'"
check "the C example (find_package) prints a word per line" bash -c \
  "cd '$run_dir' && '$work/consumer/attends_most' 'The cat sat on the mat' | tee '$work/words' \
   && test \$(grep -c -- '->' '$work/words') -eq 6"
check "the C example links the installed library" bash -c \
  "ldd '$work/consumer/attends_most' | grep -q '$prefix/lib/libheadmap.so'"
check "the C++ example (find_package) writes heat.png and last_layer.npz" bash -c \
  "cd '$run_dir' && '$work/consumer/last_layer' 'A new sentence' '$run_dir' \
   && head -c 4 heat.png | grep -q PNG && head -c 2 last_layer.npz | grep -q PK"
check "pkg-config: one cc line builds the C example" bash -c \
  "cc -std=c11 -Wall -Wextra -pedantic '$root/examples/c/attends_most.c' -o '$work/attends_pc' \
     \$(PKG_CONFIG_PATH='$prefix/lib/pkgconfig' pkg-config --cflags --libs headmap)"
check "the pkg-config build runs against the installed library" bash -c \
  "cd '$run_dir' && LD_LIBRARY_PATH='$prefix/lib' '$work/attends_pc' 'Hello there world' -2 \
   | grep -c -- '->' | grep -qx 3"
# A static program lies beside no share/headmap: it names the weights folder.
check "pkg-config: the static library links too" bash -c \
  "cc -std=c11 '$root/examples/c/attends_most.c' -o '$work/attends_static' \
     \$(PKG_CONFIG_PATH='$prefix/lib/pkgconfig' pkg-config --static --cflags --libs headmap | \
       sed 's/-lheadmap/-l:libheadmap.a/') -DHEADMAP_STATIC \
   && cd '$run_dir' && HEADMAP_WEIGHTS='$prefix/share/headmap/weights' \
      '$work/attends_static' 'Hello world' | grep -q -- '->'"
check "the installed CLI finds its default model" bash -c \
  "cd '$run_dir' && '$prefix/bin/headmap' tokenize --text 'hi there' | grep -q '[0-9]'"
echo "$passed passed, $failed failed"
test "$failed" -eq 0
